#pragma once
// Small string helpers shared by every layer. All functions are pure and thread-safe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pxt {

// The candidate closest to `bad` by edit distance (case-insensitive), or "" when none is close
// enough to be a plausible typo.
std::string closest_match(std::string_view bad, const std::vector<std::string>& candidates);
// ", did you mean 'x'?" or "" — append to an "unknown ..." message.
std::string did_you_mean(std::string_view bad, const std::vector<std::string>& candidates);
// The same for catalog paths ("a.b.t"): a whole-path match first, else one whose last part is
// near `bad`'s last part, so `promts` (the directory left out) suggests 'demo.prompts'.
std::string did_you_mean_path(std::string_view bad, const std::vector<std::string>& paths);

// True for [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(std::string_view s);
// True for '0'..'9' only (std::isdigit depends on the locale and takes an int).
inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// "a", "b" -> 'a', 'b' : for error messages listing names.
std::string quoted_list(const std::vector<std::string>& names);
// Length of the valid UTF-8 sequence starting at p[0] (left bytes available), or 0 when it is
// not one: overlong forms, UTF-16 surrogates and code points past U+10FFFF included.
size_t utf8_sequence_length(const unsigned char* p, size_t left);
// SQL identifier quoting with double quotes ("a""b").
std::string quote_ident(std::string_view name);
// SQL string literal quoting with single quotes.
std::string quote_literal(std::string_view s);
// Replaces ${VAR} from the environment ("$${" stays a literal "${"). Errors: invalid_argument for
// a malformed reference, not_found naming a variable that is not set.
Result<std::string> substitute_env(std::string_view s);

}  // namespace pxt
