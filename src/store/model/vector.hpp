#pragma once
// Vector values: the column type of embeddings. A Vector is a fixed number of float32 values (the
// dimension, learned from the first value stored and kept in the catalog). In a Value it is a
// std::string holding the floats' bytes, little-endian, 4 per element (what SQLite stores as a
// BLOB); on the wire it is a JSON array of numbers.
// Pure functions, thread-safe.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace pxt::vec {

// floats -> the Value's bytes.
std::string pack(std::span<const float> v);
// The number of elements of packed bytes, or nullopt when the size is not a multiple of 4 or is 0.
std::optional<size_t> dimension(std::string_view bytes);
// bytes -> floats. Precondition: dimension(bytes) has a value.
std::vector<float> unpack(std::string_view bytes);
// Reads the i-th element of packed bytes (no alignment needed).
float at(std::string_view bytes, size_t i);

// A JSON array of finite numbers -> packed bytes. Error: invalid_argument saying what was wrong
// ("element 3 is a string", "an empty array", "element 2 is out of float32 range").
Result<std::string> from_json(const rapidjson::Value& v);
// The same for JSON text ("[0.1, 0.2]").
Result<std::string> from_json_text(std::string_view text);
// Writes packed bytes as a JSON array (shortest float32 round-trip text per element).
void write_json(JsonWriter& w, std::string_view bytes);
std::string to_json_text(std::string_view bytes);

// Metrics over two vectors of the same dimension (checked by the caller).
float dot(const float* a, const float* b, size_t n);
float cosine(const float* a, const float* b, size_t n);  // 0 when either is all zeros; exactly 1 for a with a
float l2_distance(const float* a, const float* b, size_t n);  // Euclidean, not squared
// v scaled to unit length (unchanged when all zeros).
void normalize(std::vector<float>& v);

}  // namespace pxt::vec
