#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace pxt {

namespace {
// Optimal string alignment distance: like Levenshtein, but a swap of two adjacent letters
// ("nmae" for "name") counts as one edit, since that is the most common typo.
size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}
}  // namespace

std::string closest_match(std::string_view bad, const std::vector<std::string>& candidates) {
  // Allow about one edit per three characters, at least one, so short names still match.
  size_t limit = std::max<size_t>(1, bad.size() / 3);
  size_t best = limit + 1;
  std::string winner;
  for (const auto& c : candidates) {
    size_t d = edit_distance(bad, c);
    if (d < best) {
      best = d;
      winner = c;
    }
  }
  return winner;
}

std::string did_you_mean(std::string_view bad, const std::vector<std::string>& candidates) {
  std::string m = closest_match(bad, candidates);
  return m.empty() ? std::string() : ", did you mean '" + m + "'?";
}

std::string did_you_mean_path(std::string_view bad, const std::vector<std::string>& paths) {
  if (std::string m = closest_match(bad, paths); !m.empty()) return ", did you mean '" + m + "'?";
  auto leaf = [](std::string_view p) {
    return p.substr(p.rfind('.') == std::string_view::npos ? 0 : p.rfind('.') + 1);
  };
  std::string_view bad_leaf = leaf(bad);
  size_t limit = std::max<size_t>(1, bad_leaf.size() / 3);
  size_t best = limit + 1;
  std::string winner;
  for (const auto& p : paths) {
    size_t d = edit_distance(bad_leaf, leaf(p));
    if (d < best) {
      best = d;
      winner = p;
    }
  }
  return winner.empty() ? std::string() : ", did you mean '" + winner + "'?";
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_literal(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

size_t utf8_sequence_length(const unsigned char* p, size_t left) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || n > left) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((p[k] & 0xc0) != 0x80) return 0;
  uint32_t cp = n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (p[k] & 0x3fu);
  // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

Result<std::string> substitute_env(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || i + 1 >= s.size()) {
      out += s[i];
    } else if (s.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 2;
    } else if (s[i + 1] == '{') {
      size_t end = s.find('}', i + 2);
      if (end == std::string_view::npos)
        return make_error(Errc::invalid_argument, "unterminated '${' (write '$${' for a literal '${')");
      std::string var(s.substr(i + 2, end - i - 2));
      if (!is_identifier(var))
        return make_error(Errc::invalid_argument,
                          "'${" + var + "}' is not a valid environment variable reference");
      const char* value = std::getenv(var.c_str());
      if (!value) return make_error(Errc::not_found, "environment variable '" + var + "' is not set");
      out += value;
      i = end;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace pxt
