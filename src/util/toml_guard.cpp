#include "util/toml_guard.hpp"

#include <toml.hpp>

#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

namespace pxt {

namespace {

Error at(const std::string& file, int line, const std::string& what) {
  return make_error(Errc::invalid_argument, file + ":" + std::to_string(line) + ": " + what);
}

// toml11 saturates a decimal integer past 64 bits to the largest one instead of refusing it, which
// would silently change a value. text[i] starts a value (after '=', '[' or ','): when it is a
// decimal integer that does not fit, returns its text.
std::optional<std::string> overflowing_integer(std::string_view text, size_t i) {
  size_t j = i;
  bool negative = false;
  if (j < text.size() && (text[j] == '+' || text[j] == '-')) negative = text[j++] == '-';
  std::string digits;
  while (j < text.size() && (is_ascii_digit(text[j]) || text[j] == '_')) {
    if (text[j] != '_') digits += text[j];
    ++j;
  }
  if (digits.empty()) return std::nullopt;
  // A float, a date or a time continues with one of these: not an integer.
  if (j < text.size() && std::string_view(".eE:-xob").find(text[j]) != std::string_view::npos)
    return std::nullopt;
  size_t lead = digits.find_first_not_of('0');
  std::string_view mag =
      lead == std::string::npos ? std::string_view() : std::string_view(digits).substr(lead);
  std::string_view max = negative ? "9223372036854775808" : "9223372036854775807";
  if (mag.size() < max.size() || (mag.size() == max.size() && mag <= max)) return std::nullopt;
  return std::string(text.substr(i, j - i));
}

// TOML text must be UTF-8; toml11's own check inside strings reports its error through an
// iterator of another buffer (a heap overflow found by fuzzing), so it must never see bad bytes.
Result<void> check_utf8(std::string_view text, const std::string& file) {
  auto p = reinterpret_cast<const unsigned char*>(text.data());
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_sequence_length(p + i, text.size() - i);
    if (n == 0) return at(file, line, "the file is not valid UTF-8 (byte " + std::to_string(p[i]) + ")");
    if (p[i] == '\n') ++line;
    i += n;
  }
  return {};
}

}  // namespace

Result<void> check_toml_shape(std::string_view text, const std::string& file) {
  if (text.size() > kMaxTomlBytes) {
    return at(file, 1, "the file is larger than " + std::to_string(kMaxTomlBytes >> 20) + " MB");
  }
  if (auto ok = check_utf8(text, file); !ok) return ok;
  enum class In { code, comment, basic, literal, ml_basic, ml_literal };
  In in = In::code;
  int line = 1;
  int depth = 0;
  int dots = 0;             // dots in the key being read: reset by anything that ends a key
  bool value_next = false;  // the next token starts a value (after '=', '[' or ',')
  auto starts = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      if (in == In::comment || in == In::basic || in == In::literal) in = In::code;
      dots = 0;
      continue;
    }
    switch (in) {
      case In::comment:
        break;
      case In::basic:
        if (c == '\\') {
          ++i;
          if (i < text.size() && text[i] == '\n') ++line;
        } else if (c == '"') {
          in = In::code;
        }
        break;
      case In::literal:
        if (c == '\'') in = In::code;
        break;
      case In::ml_basic:
        if (c == '\\') {
          ++i;
          if (i < text.size() && text[i] == '\n') ++line;
        } else if (starts(i, "\"\"\"")) {
          in = In::code;
          i += 2;
        }
        break;
      case In::ml_literal:
        if (starts(i, "'''")) {
          in = In::code;
          i += 2;
        }
        break;
      case In::code:
        if (value_next && c != ' ' && c != '\t' && c != '\r') {
          value_next = false;
          if (auto big = overflowing_integer(text, i)) {
            return at(file, line, "the integer " + *big + " does not fit in 64 bits");
          }
        }
        if (c == '=' || c == '[' || c == ',') value_next = true;
        if (c == '#') {
          in = In::comment;
        } else if (c == '"') {
          in = starts(i, "\"\"\"") ? In::ml_basic : In::basic;
          if (in == In::ml_basic) i += 2;
        } else if (c == '\'') {
          in = starts(i, "'''") ? In::ml_literal : In::literal;
          if (in == In::ml_literal) i += 2;
        } else if (c == '[' || c == '{') {
          dots = 0;
          if (++depth > kMaxTomlDepth) {
            return at(
                file, line,
                "arrays or inline tables nested deeper than " + std::to_string(kMaxTomlDepth) + " levels");
          }
        } else if (c == ']' || c == '}') {
          dots = 0;
          if (depth > 0) --depth;
        } else if (c == '=' || c == ',') {
          dots = 0;
        } else if (c == '.') {
          if (++dots >= kMaxTomlKeyParts) {
            return at(file, line,
                      "a dotted key with more than " + std::to_string(kMaxTomlKeyParts) + " parts");
          }
        }
        break;
    }
  }
  return {};
}

Result<std::string> read_text_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(Errc::io, "cannot read '" + file + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error(Errc::io, "cannot read '" + file + "': read failed");
  return ss.str();
}

namespace {

// toml11's what(): "[error] toml::parse_x: what\n --> file\n ...\n 3 | text\n   |  ^--- hint".
// Returns the message part of the first line, the hint after the caret ("" when none) and the
// caret's offset in the quoted line (npos when there is none).
struct TomlMessage {
  std::string what, hint;
  size_t caret = std::string::npos;
};

TomlMessage split_toml_message(const std::string& what) {
  std::string first = what.substr(0, what.find('\n'));
  if (first.starts_with("[error] ")) first = first.substr(8);
  if (first.starts_with("toml::") && first.find(": ") != std::string::npos)
    first = first.substr(first.find(": ") + 2);
  TomlMessage m{first, "", std::string::npos};
  for (const auto& line : split(what, '\n')) {
    size_t mark = line.find_first_of("^~");
    size_t bar = line.find(" | ");
    if (mark == std::string::npos || bar == std::string::npos || mark < bar + 3) continue;
    // toml11 aligns its caret line's bar with the quoted line's: the offset is the column.
    m.caret = mark - (bar + 3);
    size_t text = line.find_first_not_of("^~-", mark);
    m.hint = text == std::string::npos ? std::string() : std::string(trim(line.substr(text)));
  }
  return m;
}

}  // namespace

std::string toml_syntax_error(const std::string& file, const toml::exception& e) {
  const toml::source_location& loc = e.location();
  auto [what, hint, caret] = split_toml_message(e.what());
  std::string num = std::to_string(loc.line());
  std::string msg = file + ":" + num + ": TOML syntax error: " + what;
  const std::string& text = loc.line_str();
  if (text.empty() || text.size() > 500) return hint.empty() ? msg : msg + " (" + hint + ")";
  if (caret == std::string::npos) caret = loc.column() > 0 ? loc.column() - 1 : 0;
  // The caret goes under the column's character: pad with the line's own tabs, one space per
  // other character (UTF-8 continuation bytes take no column).
  std::string pad;
  size_t upto = std::min(caret, text.size());
  for (size_t i = 0; i < upto; ++i) {
    if (text[i] == '\t') {
      pad += '\t';
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      pad += ' ';
    }
  }
  std::string gutter(num.size(), ' ');
  return msg + "\n  " + num + " | " + text + "\n  " + gutter + " | " + pad + "^" +
         (hint.empty() ? "" : " " + hint);
}

}  // namespace pxt
