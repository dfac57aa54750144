#pragma once
// A pre-parse check of TOML text, so hostile or broken files cannot crash the loaders: toml11
// parses nested arrays and inline tables by recursion, and keeps dotted keys as nested tables
// that are destroyed by recursion, so deep nesting overflows the stack. Real files are shallow.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace toml {
struct exception;
}

namespace pxt {

inline constexpr int kMaxTomlDepth = 64;          // arrays and inline tables inside each other
inline constexpr int kMaxTomlKeyParts = 64;       // parts of one dotted key or table header
inline constexpr size_t kMaxTomlBytes = 8 << 20;  // 8 MB: far past any service or module file

// Checks size, nesting depth and dotted-key length. Error: invalid_argument "FILE:LINE: ..."
// naming the first line past a limit. Thread-safe.
Result<void> check_toml_shape(std::string_view text, const std::string& file);

// toml11's parse error in pxt's words, for both TOML loaders: "FILE:LINE: TOML syntax error: WHAT",
// then the line itself and a caret under the place toml11 points at (with its hint, if any):
//     3 | name = "demo
//       |        ^ here
std::string toml_syntax_error(const std::string& file, const toml::exception& e);

// Reads a whole file. Error: io "cannot read 'FILE': reason". Thread-safe.
Result<std::string> read_text_file(const std::string& file);

}  // namespace pxt
