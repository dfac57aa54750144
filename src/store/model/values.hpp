#pragma once
// Conversions between column values and JSON / text, with the checks every write applies.
// Pure functions, thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "store/model/types.hpp"
#include "util/json.hpp"

namespace pxt {

// A conversion failure in pydantic v2 terms, so the HTTP layer can answer FastAPI's 422:
// type e.g. "int_type", msg e.g. "Input should be a valid integer".
struct ValueError {
  std::string type;
  std::string msg;
};
using Converted = std::variant<Value, ValueError>;

// How a JSON value of another type may be converted to a column's type.
//  strict: only the column's own JSON type (pydantic's strict mode; Pixeltable's insert(), so the
//          CLI's JSON rows): "12" for an Int is an error.
//  lax:    pydantic v2's lax mode, FastAPI's default, for HTTP request bodies (clients of a FastAPI
//          service keep working): "12" or true for an Int, "1.5" or true for a Float, 0/1, 0.0/1.0
//          or "yes"/"off"... for a Bool, seconds or milliseconds since the epoch for a Timestamp or
//          (exact) Date. A number for a String is an error in both, as in pydantic.
enum class Coercion { strict, lax };

// JSON -> value for a column of type t. JSON null gives a null Value; nullability is checked by
// the caller (it knows `required`).
Converted value_from_json(const rapidjson::Value& v, ColumnType t, Coercion mode = Coercion::strict);
// Text from a query string, form field or `--set col=value` -> value (numbers parsed from text).
Converted value_from_text(std::string_view s, ColumnType t);

// Writes v as JSON. Media paths are written as `media_url_prefix + path` (e.g. "/media/");
// Timestamps in their answer form in the process's time zone (store/model/iso_time.hpp).
// Json and Array values are embedded as raw JSON. A column of unknown type (nullopt) is
// written according to the Value's own alternative.
void write_value_json(JsonWriter& w, const Value& v, std::optional<ColumnType> t,
                      std::string_view media_url_prefix);
// Plain text for table/CSV output: null -> "", Bool -> true/false, floats shortest round-trip.
std::string value_to_text(const Value& v, std::optional<ColumnType> t);

}  // namespace pxt
