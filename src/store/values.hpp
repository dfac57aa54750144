#pragma once
// Conversions between column values and JSON / text, with the checks every write applies.
// Pure functions, thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "store/types.hpp"
#include "util/json.hpp"

namespace pxt {

// A conversion failure in pydantic v2 terms, so the HTTP layer can answer FastAPI's 422:
// type e.g. "int_type", msg e.g. "Input should be a valid integer".
struct ValueError {
  std::string type;
  std::string msg;
};
using Converted = std::variant<Value, ValueError>;

// Strict JSON -> value for a column of type t (a JSON string for an Int column is an error).
// JSON null gives a null Value; nullability is checked by the caller (it knows `required`).
Converted value_from_json(const rapidjson::Value& v, ColumnType t);
// Text from a query string, form field or `--set col=value` -> value (numbers parsed from text).
Converted value_from_text(std::string_view s, ColumnType t);

// Writes v as JSON. Media paths are written as `media_url_prefix + path` (e.g. "/media/").
// Json and Array values are embedded as raw JSON. A column of unknown type (nullopt) is
// written according to the Value's own alternative.
void write_value_json(JsonWriter& w, const Value& v, std::optional<ColumnType> t,
                      std::string_view media_url_prefix);
// Plain text for table/CSV output: null -> "", Bool -> true/false, floats shortest round-trip.
std::string value_to_text(const Value& v, std::optional<ColumnType> t);

}  // namespace pxt
