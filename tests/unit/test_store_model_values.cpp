// Column types, JSON/text conversions with pydantic-style errors, and value rendering.
#include <doctest/doctest.h>

#include <cmath>

#include "store/model/iso_time.hpp"
#include "store/model/values.hpp"

using namespace pxt;

namespace {

Converted from_json(const char* json, ColumnType t, Coercion mode = Coercion::strict) {
  rapidjson::Document d;
  d.Parse(json);
  REQUIRE_FALSE(d.HasParseError());
  return value_from_json(d, t, mode);
}

Converted lax_json(const char* json, ColumnType t) { return from_json(json, t, Coercion::lax); }

ValueError error_of(const Converted& c) {
  REQUIRE(std::holds_alternative<ValueError>(c));
  return std::get<ValueError>(c);
}

Value value_of(const Converted& c) {
  if (auto* e = std::get_if<ValueError>(&c)) FAIL("unexpected error: " << e->type << ": " << e->msg);
  return std::get<Value>(c);
}

std::string to_json(const Value& v, std::optional<ColumnType> t, std::string_view prefix = "/media/") {
  JsonBuffer buf;
  JsonWriter w(buf);
  write_value_json(w, v, t, prefix);
  return buf.GetString();
}

}  // namespace

TEST_CASE("type names parse case-insensitively and unknown ones suggest the nearest") {
  CHECK(*parse_column_type("string") == ColumnType::String);
  CHECK(*parse_column_type("DOCUMENT") == ColumnType::Document);
  CHECK(type_name(ColumnType::Timestamp) == "Timestamp");
  CHECK(all_type_names().size() == 13);  // ... Document, Vector
  auto bad = parse_column_type("Strng");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
  CHECK(bad.error().message.find("unknown column type 'Strng', did you mean 'String'?") == 0);
  CHECK(is_media(ColumnType::Image));
  CHECK_FALSE(is_media(ColumnType::Json));
}

TEST_CASE("value_from_json is strict by default, as Pixeltable's insert()") {
  auto e = error_of(from_json("\"42\"", ColumnType::Int));
  CHECK(e.type == "int_type");
  CHECK(e.msg == "Input should be a valid integer");
  CHECK(error_of(from_json("true", ColumnType::Int)).type == "int_type");
  CHECK(error_of(from_json("\"1.5\"", ColumnType::Float)).type == "float_type");
  CHECK(error_of(from_json("1", ColumnType::Bool)).type == "bool_type");
  CHECK(error_of(from_json("12", ColumnType::Timestamp)).type == "datetime_type");
  CHECK(error_of(from_json("12", ColumnType::Date)).type == "date_type");
}

TEST_CASE("value_from_json's lax mode converts like pydantic v2 (FastAPI's default)") {
  CHECK(std::get<int64_t>(value_of(lax_json("42", ColumnType::Int))) == 42);
  CHECK(std::get<int64_t>(value_of(lax_json("3.0", ColumnType::Int))) == 3);
  CHECK(is_null(value_of(lax_json("null", ColumnType::Int))));
  CHECK(std::get<int64_t>(value_of(lax_json("\"42\"", ColumnType::Int))) == 42);
  CHECK(std::get<int64_t>(value_of(lax_json("\" -7 \"", ColumnType::Int))) == -7);
  CHECK(std::get<int64_t>(value_of(lax_json("true", ColumnType::Int))) == 1);
  auto e = error_of(lax_json("\"4x\"", ColumnType::Int));
  CHECK(e.type == "int_parsing");
  CHECK(e.msg == "Input should be a valid integer, unable to parse string as an integer");
  e = error_of(lax_json("2.5", ColumnType::Int));
  CHECK(e.type == "int_from_float");
  CHECK(e.msg == "Input should be a valid integer, got a number with a fractional part");
  e = error_of(lax_json("[1]", ColumnType::Int));
  CHECK(e.type == "int_type");
  CHECK(e.msg == "Input should be a valid integer");
  CHECK(error_of(lax_json("18446744073709551615", ColumnType::Int)).type == "int_parsing_size");
  CHECK(std::get<int64_t>(value_of(lax_json("-9223372036854775808", ColumnType::Int))) == INT64_MIN);

  CHECK(std::get<double>(value_of(lax_json("7", ColumnType::Float))) == 7.0);
  CHECK(std::get<double>(value_of(lax_json("0.25", ColumnType::Float))) == 0.25);
  CHECK(std::get<double>(value_of(lax_json("\"1.5\"", ColumnType::Float))) == 1.5);
  CHECK(std::get<double>(value_of(lax_json("false", ColumnType::Float))) == 0.0);
  CHECK(error_of(lax_json("\"high\"", ColumnType::Float)).type == "float_parsing");
  e = error_of(lax_json("{}", ColumnType::Float));
  CHECK(e.type == "float_type");
  CHECK(e.msg == "Input should be a valid number");

  CHECK(std::get<bool>(value_of(lax_json("true", ColumnType::Bool))));
  CHECK(std::get<bool>(value_of(lax_json("1", ColumnType::Bool))));
  CHECK_FALSE(std::get<bool>(value_of(lax_json("0.0", ColumnType::Bool))));
  CHECK(std::get<bool>(value_of(lax_json("\"yes\"", ColumnType::Bool))));
  CHECK_FALSE(std::get<bool>(value_of(lax_json("\"off\"", ColumnType::Bool))));
  CHECK(error_of(lax_json("2", ColumnType::Bool)).type == "bool_parsing");
  CHECK(error_of(lax_json("\"maybe\"", ColumnType::Bool)).type == "bool_parsing");
  e = error_of(lax_json("[]", ColumnType::Bool));
  CHECK(e.type == "bool_type");
  CHECK(e.msg == "Input should be a valid boolean");

  CHECK(std::get<std::string>(value_of(lax_json("\"hi\"", ColumnType::String))) == "hi");
  e = error_of(lax_json("5", ColumnType::String));  // never lax in pydantic
  CHECK(e.type == "string_type");
  CHECK(e.msg == "Input should be a valid string");
}

// Timestamps come out in their stored form: UTC, fixed width (doc/timestamps.md).
TEST_CASE("numbers for a Timestamp or Date count seconds (or milliseconds) since the epoch") {
  CHECK(std::get<std::string>(value_of(lax_json("0", ColumnType::Timestamp))) ==
        "1970-01-01T00:00:00.000000Z");
  CHECK(std::get<std::string>(value_of(lax_json("1700000000.5", ColumnType::Timestamp))) ==
        "2023-11-14T22:13:20.500000Z");
  // Past 2e10 the number is milliseconds, as speedate reads it.
  CHECK(std::get<std::string>(value_of(lax_json("1700000000123", ColumnType::Timestamp))) ==
        "2023-11-14T22:13:20.123000Z");
  CHECK(std::get<std::string>(value_of(lax_json("-1.5", ColumnType::Timestamp))) ==
        "1969-12-31T23:59:58.500000Z");
  CHECK(error_of(lax_json("1e300", ColumnType::Timestamp)).type == "datetime_parsing");
  CHECK(std::get<std::string>(value_of(lax_json("86400", ColumnType::Date))) == "1970-01-02");
  CHECK(error_of(lax_json("86401", ColumnType::Date)).type == "date_from_datetime_inexact");
  CHECK(error_of(lax_json("true", ColumnType::Date)).type == "date_type");
}

TEST_CASE("value_from_json validates timestamps, dates, JSON and arrays") {
  CHECK(std::get<std::string>(value_of(from_json("\"2024-02-29T12:30:00Z\"", ColumnType::Timestamp))) ==
        "2024-02-29T12:30:00.000000Z");
  CHECK(std::get<std::string>(value_of(from_json("\"2024-02-29 14:30:00+02:00\"", ColumnType::Timestamp))) ==
        "2024-02-29T12:30:00.000000Z");
  CHECK(std::get<std::string>(value_of(from_json("\"2024-02-29\"", ColumnType::Timestamp))) ==
        "2024-02-29T00:00:00.000000Z");
  CHECK(std::get<std::string>(value_of(from_json("\"1709209800\"", ColumnType::Timestamp))) ==
        "2024-02-29T12:30:00.000000Z");
  CHECK(std::holds_alternative<Value>(
      from_json("\"2024-02-29 12:30:00.123456+02:00\"", ColumnType::Timestamp)));
  CHECK(std::holds_alternative<Value>(from_json("\"2024-02-29\"", ColumnType::Timestamp)));
  auto e = error_of(from_json("\"2023-02-29T00:00:00\"", ColumnType::Timestamp));
  CHECK(e.type == "datetime_parsing");
  CHECK(e.msg == "Input should be a valid datetime, day value is outside expected range");
  CHECK(error_of(from_json("\"2023-01-01T25:00\"", ColumnType::Timestamp)).msg ==
        "Input should be a valid datetime, hour value is outside expected range of 0-23");
  CHECK(error_of(from_json("12", ColumnType::Timestamp)).type == "datetime_type");

  CHECK(std::holds_alternative<Value>(from_json("\"2000-12-31\"", ColumnType::Date)));
  e = error_of(from_json("\"2000-13-01\"", ColumnType::Date));
  CHECK(e.type == "date_parsing");
  CHECK(
      e.msg ==
      "Input should be a valid date in the format YYYY-MM-DD, month value is outside expected range of 1-12");
  CHECK(error_of(from_json("\"2000-01-01T00:00\"", ColumnType::Date)).type == "date_parsing");
  CHECK(error_of(from_json("[]", ColumnType::Date)).type == "date_type");

  CHECK(std::get<std::string>(value_of(from_json("{ \"a\" : [1, 2] }", ColumnType::Json))) ==
        "{\"a\":[1,2]}");
  CHECK(std::get<std::string>(value_of(from_json("\"s\"", ColumnType::Json))) == "\"s\"");
  CHECK(std::get<std::string>(value_of(from_json("[1, 2.5]", ColumnType::Array))) == "[1,2.5]");
  e = error_of(from_json("{}", ColumnType::Array));
  CHECK(e.type == "list_type");
  CHECK(e.msg == "Input should be a valid list");

  e = error_of(from_json("\"a.png\"", ColumnType::Image));
  CHECK(e.type == "value_error");
  CHECK(e.msg.find("must be a data: URI") != std::string::npos);
  // A data: URI is kept as text; the serving layer turns it into a file.
  CHECK(std::get<std::string>(value_of(from_json("\"data:image/png;base64,AA==\"", ColumnType::Image))) ==
        "data:image/png;base64,AA==");
}

TEST_CASE("value_from_text parses query-string and form text") {
  CHECK(std::get<int64_t>(value_of(value_from_text(" 12 ", ColumnType::Int))) == 12);
  CHECK(std::get<int64_t>(value_of(value_from_text("+7", ColumnType::Int))) == 7);
  auto e = error_of(value_from_text("12abc", ColumnType::Int));
  CHECK(e.type == "int_parsing");
  CHECK(e.msg == "Input should be a valid integer, unable to parse string as an integer");
  CHECK(error_of(value_from_text("", ColumnType::Int)).type == "int_parsing");
  CHECK(error_of(value_from_text("99999999999999999999", ColumnType::Int)).type == "int_parsing_size");
  CHECK(std::get<double>(value_of(value_from_text("1e3", ColumnType::Float))) == 1000.0);
  e = error_of(value_from_text("x1", ColumnType::Float));
  CHECK(e.type == "float_parsing");
  CHECK(e.msg == "Input should be a valid number, unable to parse string as a number");
  // pydantic v2's float takes inf and nan (allow_inf_nan defaults to True), as Python's float().
  for (const char* text : {"inf", "+inf", "Infinity", "-INF", "-infinity", "1e400", " inf "}) {
    INFO(text);
    double d = std::get<double>(value_of(value_from_text(text, ColumnType::Float)));
    CHECK(std::isinf(d));
    CHECK((d < 0) == (std::string_view(text).find('-') != std::string_view::npos));
  }
  for (const char* text : {"nan", "NaN", "-nan"}) {
    INFO(text);
    CHECK(std::isnan(std::get<double>(value_of(value_from_text(text, ColumnType::Float)))));
  }
  CHECK(std::get<double>(value_of(value_from_text("1e-400", ColumnType::Float))) == 0.0);
  CHECK(error_of(value_from_text("nan(1)", ColumnType::Float)).type == "float_parsing");
  CHECK(error_of(value_from_text("infinit", ColumnType::Float)).type == "float_parsing");
  // Text is never an infinite Int: pydantic parses it as an integer and fails.
  CHECK(error_of(value_from_text("inf", ColumnType::Int)).type == "int_parsing");
  CHECK(std::get<bool>(value_of(value_from_text("YES", ColumnType::Bool))));
  CHECK_FALSE(std::get<bool>(value_of(value_from_text("0", ColumnType::Bool))));
  e = error_of(value_from_text("maybe", ColumnType::Bool));
  CHECK(e.type == "bool_parsing");
  CHECK(e.msg == "Input should be a valid boolean, unable to interpret input");
  CHECK(std::get<std::string>(value_of(value_from_text("plain text", ColumnType::String))) == "plain text");
  CHECK(std::get<std::string>(value_of(value_from_text("[1, 2]", ColumnType::Array))) == "[1,2]");
  e = error_of(value_from_text("{bad", ColumnType::Json));
  CHECK(e.type == "json_invalid");
  CHECK(e.msg.rfind("Invalid JSON: ", 0) == 0);
  CHECK(error_of(value_from_text("2020-1-1", ColumnType::Date)).type == "date_parsing");
  // A NUL (`%00` in a query string) ends nothing: what follows it is still part of the value.
  using namespace std::string_literals;
  CHECK(error_of(value_from_text("[1]\0junk"s, ColumnType::Array)).type == "json_invalid");
  CHECK(error_of(value_from_text("{}\0"s, ColumnType::Json)).type == "json_invalid");
  CHECK(error_of(value_from_text("12\0 3"s, ColumnType::Int)).type == "int_parsing");
  CHECK(error_of(value_from_text("1.5\0"s, ColumnType::Float)).type == "float_parsing");
}

TEST_CASE("write_value_json renders each type") {
  CHECK(to_json(Value(), ColumnType::Int) == "null");
  CHECK(to_json(Value(int64_t(5)), ColumnType::Int) == "5");
  CHECK(to_json(Value(int64_t(1)), ColumnType::Bool) == "true");
  CHECK(to_json(Value(true), ColumnType::Bool) == "true");
  CHECK(to_json(Value(0.5), ColumnType::Float) == "0.5");
  CHECK(to_json(Value(int64_t(2)), ColumnType::Float) == "2.0");
  CHECK(to_json(Value(std::string("a\"b")), ColumnType::String) == "\"a\\\"b\"");
  CHECK(to_json(Value(std::string("{\"k\":[1]}")), ColumnType::Json) == "{\"k\":[1]}");
  CHECK(to_json(Value(std::string("not json")), ColumnType::Json) == "\"not json\"");
  CHECK(to_json(Value(std::string("img/a.png")), ColumnType::Image) == "\"/media/img/a.png\"");
  CHECK(to_json(Value(std::string("x")), std::nullopt) == "\"x\"");
  CHECK(to_json(Value(std::numeric_limits<double>::infinity()), ColumnType::Float) == "null");
}

TEST_CASE("value_to_text gives plain text") {
  CHECK(value_to_text(Value(), ColumnType::String) == "");
  CHECK(value_to_text(Value(true), ColumnType::Bool) == "true");
  CHECK(value_to_text(Value(int64_t(0)), ColumnType::Bool) == "false");
  CHECK(value_to_text(Value(0.1), ColumnType::Float) == "0.1");
  CHECK(value_to_text(Value(int64_t(-3)), ColumnType::Int) == "-3");
  CHECK(value_to_text(Value(std::string("p/q.jpg")), ColumnType::Image) == "p/q.jpg");
}

TEST_CASE("ISO date and time checks give pydantic's reasons") {
  CHECK_FALSE(check_date("2024-02-29"));
  CHECK(*check_date("2023-02-29") == "day value is outside expected range");
  CHECK(*check_date("2023/02/01") == "invalid date separator, expected `-`");
  CHECK(*check_date("20x3-02-01") == "invalid character in year");
  CHECK(*check_date("2023-02") == "input is too short");
  CHECK_FALSE(check_timestamp("2023-02-01T10:20"));
  CHECK_FALSE(check_timestamp("2023-02-01t10:20:30,5-0530"));
  CHECK(*check_timestamp("2023-02-01X10:20") ==
        "invalid datetime separator, expected `T`, `t`, `_` or space");
  CHECK(*check_timestamp("2023-02-01T10:61") == "minute value is outside expected range of 0-59");
  CHECK(*check_timestamp("2023-02-01T10:20:30Q") == "invalid timezone sign");
  CHECK(*check_timestamp("2023-02-01T10:20:30+01:00x") ==
        "unexpected extra characters at the end of the input");
}
