#include "util/json_numbers.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/strings.hpp"

namespace pxt {

namespace {

size_t skip_digits(std::string_view s, size_t i) {
  while (i < s.size() && is_ascii_digit(s[i])) ++i;
  return i;
}

}  // namespace

size_t json_number_prefix(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !is_ascii_digit(s[i])) return 0;
  i = s[i] == '0' ? i + 1 : skip_digits(s, i);
  if (i + 1 < s.size() && s[i] == '.' && is_ascii_digit(s[i + 1])) i = skip_digits(s, i + 1);
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    if (j < s.size() && is_ascii_digit(s[j])) i = skip_digits(s, j);
  }
  return i;
}

JsonNumberCheck check_json_number(std::string_view literal) {
  JsonNumberCheck r;
  bool fraction_or_exponent = literal.find_first_of(".eE") != std::string_view::npos;
  if (!fraction_or_exponent) {
    size_t digits = literal.size() - (literal.front() == '-' ? 1 : 0);
    if (digits <= 20) return r;  // RapidJSON's exact 64-bit integer path (or a double near 2^64)
  } else if (literal.size() <= 15 && literal.find_first_of("eE") == std::string_view::npos) {
    return r;
  }
  std::string copy(literal);
  double d = std::strtod(copy.c_str(), nullptr);
  r.rewrite = true;
  if (std::isinf(d)) {
    r.overflow = true;
    // Parsed only so that syntax errors elsewhere in the body still win. The sign must stay: the
    // replacement may directly follow another literal (`1e-60-1e999`), and a leading digit would
    // extend that literal's exponent into one RapidJSON crashes on.
    d = std::copysign(0.0, d);
  }
  // Always "[-]d.ddd…e±XX", with a '-' exactly when the literal has one: a maximal literal can
  // only be followed by '.', 'e', '+' or '-' (a digit would have continued it), and this form can
  // absorb none of them, so text that was invalid JSON after the literal stays invalid at the
  // same place; and it can only start with a digit where the original did, so it never extends
  // the literal before it.
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%.16e", d);
  r.replacement.assign(buf, static_cast<size_t>(n));
  return r;
}

void JsonNumberPatch::add(size_t pos, size_t len, std::string text) {
  edits_.push_back({pos, len, std::move(text)});
}

std::string JsonNumberPatch::apply(std::string_view original) const {
  std::string out;
  out.reserve(original.size() + 24 * edits_.size());
  size_t at = 0;
  for (const Edit& e : edits_) {
    out.append(original.substr(at, e.pos - at));
    out += e.text;
    at = e.pos + e.len;
  }
  out.append(original.substr(at));
  return out;
}

size_t JsonNumberPatch::original_offset(size_t patched) const {
  // Walk the edits keeping the running difference between patched and original positions.
  size_t shift_in = 0;   // bytes added by earlier edits (patched side)
  size_t shift_out = 0;  // bytes they replaced (original side)
  for (const Edit& e : edits_) {
    size_t start = e.pos - shift_out + shift_in;  // the edit's position in the patched text
    if (patched < start) break;
    if (patched < start + e.text.size()) return e.pos;
    shift_in += e.text.size();
    shift_out += e.len;
  }
  return patched + shift_out - shift_in;
}

}  // namespace pxt
