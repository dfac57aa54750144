#pragma once
// Safe number literals for RapidJSON 1.1 (the version Debian 12 ships). Its exact parser
// (kParseFullPrecisionFlag) reads outside its table of powers of ten, or returns garbage without
// an error, when a literal's decimal exponent, counting leading zeros, is far below -308:
// `0.<350 zeros>1` crashes the process and `-0.<340 zeros>5` parses as 9.98e+291. Literals just
// past DBL_MAX also come back as garbage. Later RapidJSON versions fixed this; until Debian ships
// one, every request body's long or exponent-bearing literal is rewritten, before RapidJSON sees
// it, as a 17-digit text that round-trips to the same double (glibc's strtod is correctly
// rounded, and RapidJSON parses that form exactly: 2 million random doubles,
// subnormals included, checked when this was written). All functions are pure and thread-safe.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pxt {

// Length of the longest prefix of `s` that is a JSON number (RFC 8259: -?(0|[1-9]\d*)(\.\d+)?
// ([eE][+-]?\d+)?), which is what RapidJSON consumes before it looks at what follows; 0 if none.
size_t json_number_prefix(std::string_view s);

// What to do with one complete JSON number literal.
struct JsonNumberCheck {
  bool overflow = false;    // past the double range (Python's json gives inf; we refuse it)
  bool rewrite = false;     // RapidJSON must see `replacement` instead
  std::string replacement;  // the same double as "%.16e" (exact: 17 significant digits)
};
// Short plain literals (at most 15 characters, no exponent) and integers of at most 20 digits
// are left alone without calling strtod, so the common case costs a length test.
JsonNumberCheck check_json_number(std::string_view literal);

// Replacements at byte positions of an original text, in increasing order.
class JsonNumberPatch {
 public:
  // `pos` and `len` are in the original text; calls must come in increasing, disjoint order.
  void add(size_t pos, size_t len, std::string text);
  bool empty() const { return edits_.empty(); }
  // The original text with every replacement applied.
  std::string apply(std::string_view original) const;
  // The original offset of byte `patched` of apply()'s result (for parse error positions): an
  // offset inside a replacement maps to the start of the literal it replaced.
  size_t original_offset(size_t patched) const;

 private:
  struct Edit {
    size_t pos, len;
    std::string text;
  };
  std::vector<Edit> edits_;
};

}  // namespace pxt
