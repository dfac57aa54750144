#pragma once
// Column types and cell values. A Value's meaning depends on its column's type:
//   String, Timestamp (ISO 8601 text), Date (YYYY-MM-DD), Json and Array (JSON text),
//   Image/Video/Audio/Document (path relative to the home's media/ folder) -> std::string;
//   Vector (float32 values, packed little-endian: store/model/vector.hpp) -> std::string;
//   Int -> int64_t; Float -> double; Bool -> bool; SQL NULL -> std::monostate.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace pxt {

enum class ColumnType {
  String,
  Int,
  Float,
  Bool,
  Timestamp,
  Date,
  Json,
  Array,
  Image,
  Video,
  Audio,
  Document,
  Vector  // float32 embedding of a fixed dimension (store/model/vector.hpp)
};

// "String", "Int", ...: the spelling used in TOML, the CLI and error messages.
std::string_view type_name(ColumnType t);
// Case-insensitive; an unknown name is invalid_argument with "did you mean".
Result<ColumnType> parse_column_type(std::string_view name);
const std::vector<std::string>& all_type_names();
bool is_media(ColumnType t);

using Value = std::variant<std::monostate, int64_t, double, bool, std::string>;
using Row = std::vector<Value>;

inline bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }

}  // namespace pxt
