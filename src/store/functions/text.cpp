// Text functions with Python's semantics (Pixeltable's string functions are Python's str
// methods): upper() and lower() with Unicode's full case mapping ('ß' -> 'SS', 'İ' -> 'i̇', a
// final 'Σ' -> 'ς'), trim()/ltrim()/rtrim() removing what str.strip() removes (every Unicode
// space, not only ' '), replace() with an empty pattern as str.replace does. SQLite's own
// upper/lower map ASCII only and its trim removes spaces only; length, substr and instr already
// count characters. The tables come from Python itself (scripts/gen-unicode-case).
// LIKE is made case-sensitive on every connection (store/sqlite/db.cpp), as PostgreSQL's LIKE
// and Python's comparisons are: SQLite's folded ASCII only, so 'E' LIKE 'e' matched and 'É' LIKE
// 'é' did not.
#include <algorithm>
#include <iterator>
#include <string>

#include "store/functions/builtins.hpp"
#include "store/model/iso_time.hpp"
#include "store/model/values.hpp"

namespace pxt {

namespace {

struct CaseMapping {
  char32_t from;
  int n;
  char32_t to[3];
};
struct CharRange {
  char32_t first, last;
};

#include "store/functions/unicode_case_data.inc"

template <size_t N>
const CaseMapping* find_mapping(const CaseMapping (&table)[N], char32_t c) {
  auto it = std::lower_bound(std::begin(table), std::end(table), c,
                             [](const CaseMapping& m, char32_t v) { return m.from < v; });
  return it != std::end(table) && it->from == c ? it : nullptr;
}

template <size_t N>
bool in_ranges(const CharRange (&table)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(table), std::end(table), c,
                             [](char32_t v, const CharRange& r) { return v < r.first; });
  return it != std::begin(table) && std::prev(it)->last >= c;
}

// Decodes UTF-8 leniently: a byte that starts no valid sequence is taken as U+FFFD's stand-in
// and copied through unchanged by the callers (SQLite may hold such text).
struct Decoded {
  char32_t cp;
  size_t len;
  bool valid;
};
Decoded decode(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return {b, 1, true};
  size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return {0xFFFD, 1, false};
  char32_t cp = b & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return {0xFFFD, 1, false};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, n, true};
}

void encode(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Python's final-sigma rule for the capital sigma at byte offset i (CPython's
// handle_capital_sigma): preceded by a cased letter (case-ignorable ones skipped) and not followed
// by one, it lowers to 'ς'.
bool final_sigma(std::string_view s, size_t i, size_t len) {
  auto cased = [](char32_t c) { return in_ranges(kCasedNotIgnorable, c); };
  auto ignorable = [](char32_t c) { return in_ranges(kCaseIgnorable, c); };
  // Backwards: step to the start of the previous character each time.
  size_t j = i;
  bool found = false;
  while (j > 0) {
    size_t k = j - 1;
    while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    Decoded d = decode(s, k);
    j = k;
    if (!ignorable(d.cp)) {
      found = cased(d.cp);
      break;
    }
  }
  if (!found) return false;
  for (size_t k = i + len; k < s.size();) {
    Decoded d = decode(s, k);
    if (!ignorable(d.cp)) return !cased(d.cp);
    k += d.len;
  }
  return true;
}

std::string change_case(std::string_view s, bool to_upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {  // ASCII: no table lookup
      out += static_cast<char>(to_upper ? (b >= 'a' && b <= 'z' ? b - 32 : b)
                                        : (b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
      continue;
    }
    Decoded d = decode(s, i);
    if (!d.valid) {
      out += s[i];
      ++i;
      continue;
    }
    if (!to_upper && d.cp == 0x3A3) {
      encode(out, final_sigma(s, i, d.len) ? 0x3C2 : 0x3C3);
    } else if (const CaseMapping* m = to_upper ? find_mapping(kUpper, d.cp) : find_mapping(kLower, d.cp)) {
      for (int k = 0; k < m->n; ++k) encode(out, m->to[k]);
    } else {
      out.append(s.substr(i, d.len));
    }
    i += d.len;
  }
  return out;
}

// str.strip() / lstrip() / rstrip() with no argument: every character str.isspace() accepts.
std::string strip(std::string_view s, bool left, bool right) {
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end) {
      Decoded d = decode(s, begin);
      if (!d.valid || !in_ranges(kSpace, d.cp)) break;
      begin += d.len;
    }
  }
  if (right) {
    while (end > begin) {
      size_t k = end - 1;
      while (k > begin && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
      Decoded d = decode(s, k);
      if (!d.valid || k + d.len != end || !in_ranges(kSpace, d.cp)) break;
      end = k;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

// str.replace(old, new): with an empty `old`, `new` goes before every character and at the end.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) {
    out.reserve(s.size() + to.size() * (s.size() + 1));
    for (size_t i = 0; i < s.size();) {
      out.append(to);
      size_t n = decode(s, i).len;
      out.append(s.substr(i, n));
      i += n;
    }
    out.append(to);
    return out;
  }
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(s.substr(pos));
  return out;
}

// SQLite's own conversion of a non-text argument: numbers become their text.
std::string as_text(const Value& v) { return value_to_text(v, std::nullopt); }

SqlFunction text_fn(const char* name, int arity,
                    std::function<Result<Value>(const std::vector<Value>&)> body) {
  SqlFunction f{name, arity, ColumnType::String, true, nullptr};
  f.impl = [body = std::move(body)](const std::vector<Value>& a) -> Result<Value> {
    for (const auto& v : a) {
      if (is_null(v)) return Value();
    }
    return body(a);
  };
  return f;
}

}  // namespace

std::string python_upper(std::string_view s) { return change_case(s, true); }
std::string python_lower(std::string_view s) { return change_case(s, false); }
std::string python_strip(std::string_view s, bool left, bool right) { return strip(s, left, right); }

std::vector<SqlFunction> text_functions() {
  std::vector<SqlFunction> out;
  out.push_back(text_fn("upper", 1, [](const auto& a) { return Value(change_case(as_text(a[0]), true)); }));
  out.push_back(text_fn("lower", 1, [](const auto& a) { return Value(change_case(as_text(a[0]), false)); }));
  out.push_back(text_fn("trim", 1, [](const auto& a) { return Value(strip(as_text(a[0]), true, true)); }));
  out.push_back(text_fn("ltrim", 1, [](const auto& a) { return Value(strip(as_text(a[0]), true, false)); }));
  out.push_back(text_fn("rtrim", 1, [](const auto& a) { return Value(strip(as_text(a[0]), false, true)); }));
  out.push_back(text_fn("replace", 3, [](const auto& a) {
    return Value(replace_all(as_text(a[0]), as_text(a[1]), as_text(a[2])));
  }));
  // pxt_timestamp(x): any spelling of an instant in its stored form (doc/timestamps.md), so a
  // query can compare a Timestamp column with a literal: WHERE ts >= pxt_timestamp('2024-01-02').
  SqlFunction ts{"pxt_timestamp", 1, ColumnType::Timestamp, true, nullptr};
  ts.impl = [](const std::vector<Value>& a) -> Result<Value> {
    if (is_null(a[0])) return Value();
    std::string text = as_text(a[0]);
    auto r = parse_instant(text, default_time_zone());
    if (const auto* why = std::get_if<std::string>(&r)) {
      return make_error(Errc::invalid_argument, "'" + text + "' is not a valid timestamp: " + *why);
    }
    return Value(stored_instant(std::get<int64_t>(r)));
  };
  // Deterministic for one process's time zone, which only changes at start-up.
  out.push_back(std::move(ts));
  return out;
}

}  // namespace pxt
