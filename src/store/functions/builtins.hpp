#pragma once
// The built-in media functions, registered by store/functions/registry.cpp's registry (every store connection
// gets them). Image functions (store/functions/image.cpp, libvips): resize, thumbnail, crop, rotate,
// grayscale, convert (each stores its result as a new media file and returns its relative name),
// width and height. Document functions (store/functions/document_text.cpp): document_text.
// Arguments that are SQL NULL give NULL. Errors name the function's argument and the bad value.
// Thread-safety: the functions may run on many threads at once.
#include <filesystem>
#include <string>
#include <vector>

#include "store/functions/registry.hpp"

namespace pxt {

std::vector<SqlFunction> image_functions();
std::vector<SqlFunction> document_functions();
// similarity (cosine), inner_product, l2_distance over Vectors (store/functions/vector_fns.cpp).
std::vector<SqlFunction> vector_functions();
// Text functions with Python's semantics (store/functions/text.cpp): upper, lower, trim, ltrim,
// rtrim (one argument), replace; and pxt_timestamp(x).
std::vector<SqlFunction> text_functions();
// Python's str.upper(), str.lower() and str.strip()/lstrip()/rstrip() on UTF-8 text (exposed
// for tests).
std::string python_upper(std::string_view s);
std::string python_lower(std::string_view s);
std::string python_strip(std::string_view s, bool left, bool right);
// Functions for the end-to-end tests, registered only with PXT_TEST_FUNCTIONS=1
// (store/functions/test_functions.cpp): pxt_sleep_ms(ms), pxt_sleep_ahead_ms(ms) and the gates
// pxt_gate(path, value), pxt_gate_ahead(path, value), which note their start in PATH.started and
// return value once PATH exists.
std::vector<SqlFunction> test_functions();

// The text of a document file: plain text and Markdown as they are, HTML without tags, scripts,
// styles and comments and with entities decoded, PDF through poppler (pages separated by a form
// feed). Error: invalid_argument when the file cannot be read or is not one of these kinds.
Result<std::string> extract_document_text(const std::filesystem::path& file);
// Visible text of an HTML document (exposed for tests).
std::string html_to_text(std::string_view html);

}  // namespace pxt
