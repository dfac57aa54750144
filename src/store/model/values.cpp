#include "store/model/values.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>

#include <rapidjson/error/en.h>

#include "store/model/iso_time.hpp"
#include "store/model/vector.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

ValueError err(const char* type, std::string msg) { return ValueError{type, std::move(msg)}; }

std::string compact_json(const rapidjson::Value& v) {
  JsonBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// Stored as the instant it names (doc/timestamps.md): a naive value is in the process's time zone.
Converted timestamp_from_string(std::string_view s) {
  auto r = parse_instant(s, default_time_zone());
  if (const auto* reason = std::get_if<std::string>(&r))
    return err("datetime_parsing", "Input should be a valid datetime, " + *reason);
  return Value(stored_instant(std::get<int64_t>(r)));
}

Converted date_from_string(std::string_view s) {
  if (auto reason = check_date(s)) {
    return err("date_parsing", "Input should be a valid date in the format YYYY-MM-DD, " + *reason);
  }
  return Value(std::string(s));
}

// A JSON media value is a data: URI, kept as text here: the serving layer decodes, validates and
// stores it as a file (store/media/media.hpp, adopt_data_uri) before the row is written.
Converted media_from_json(const rapidjson::Value& v) {
  if (v.IsString() && std::string_view(v.GetString(), v.GetStringLength()).substr(0, 5) == "data:")
    return Value(std::string(v.GetString(), v.GetStringLength()));
  return err("value_error",
             "Value error, a media value in JSON must be a data: URI (data:<type>;base64,<data>); "
             "or upload the file");
}

Converted int_from_double(double d) {
  if (!std::isfinite(d)) return err("finite_number", "Input should be a finite number");
  if (d != std::trunc(d)) {
    return err("int_from_float", "Input should be a valid integer, got a number with a fractional part");
  }
  // 2^63 is exactly representable; anything at or beyond it does not fit. -2^63 itself is refused
  // too: an integer literal below it (which JSON parsers hand over as a double) rounds to it, and
  // storing it would silently change the value; -2^63 written as an integer never gets here.
  if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0) {
    return err("int_parsing_size", "Input should be a valid integer, the number is too large for 64 bits");
  }
  return Value(static_cast<int64_t>(d));
}

Converted json_text(std::string_view s, bool want_array) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  if (d.HasParseError()) {
    return err("json_invalid",
               std::string("Invalid JSON: ") + rapidjson::GetParseError_En(d.GetParseError()));
  }
  // RapidJSON stops at a NUL as if the text ended there; one that parsed is after the value.
  if (s.find('\0') != std::string_view::npos) {
    return err("json_invalid",
               std::string("Invalid JSON: ") +
                   rapidjson::GetParseError_En(rapidjson::kParseErrorDocumentRootNotSingular));
  }
  if (want_array && !d.IsArray()) return err("list_type", "Input should be a valid list");
  return Value(compact_json(d));
}

// A Vector from a JSON array of numbers: float32 values, packed (store/model/vector.hpp).
Converted vector_from_json(const rapidjson::Value& v) {
  if (!v.IsArray()) return err("list_type", "Input should be a valid list");
  auto packed = vec::from_json(v);
  if (!packed) return err("value_error", "Value error, " + packed.error().message);
  return Value(std::move(*packed));
}

Converted bool_from_text(std::string_view s) {
  static const char* kTrue[] = {"true", "1", "yes", "on", "t", "y"};
  static const char* kFalse[] = {"false", "0", "no", "off", "f", "n"};
  std::string_view t = trim(s);
  for (const char* w : kTrue)
    if (iequals(t, w)) return Value(true);
  for (const char* w : kFalse)
    if (iequals(t, w)) return Value(false);
  return err("bool_parsing", "Input should be a valid boolean, unable to interpret input");
}

Converted int_from_text(std::string_view s) {
  std::string_view t = trim(s);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec == std::errc::result_out_of_range) {
    return err("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size");
  }
  if (ec != std::errc() || p != t.data() + t.size() || t.empty()) {
    return err("int_parsing", "Input should be a valid integer, unable to parse string as an integer");
  }
  return Value(out);
}

// pydantic v2's float allows inf and nan by default (allow_inf_nan): "nan", "inf", "-Infinity"
// and a decimal past the double range (inf) are numbers; the store refuses them for a Float
// column (TYPE_MISMATCH), a query parameter takes them.
Converted float_from_text(std::string_view s) {
  std::string_view t = trim(s);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  double out = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  // Out of range: past the double range is +-inf, below it (1e-400) 0, as Python's float().
  bool overflow = ec == std::errc::result_out_of_range;
  if (overflow) out = std::strtod(std::string(t).c_str(), nullptr);
  // from_chars also reads C's "nan(chars)", which neither Python nor pydantic accept.
  if ((ec != std::errc() && !overflow) || p != t.data() + t.size() || t.empty() ||
      t.find('(') != std::string_view::npos) {
    return err("float_parsing", "Input should be a valid number, unable to parse string as a number");
  }
  return Value(out);
}

// Lax bool from a JSON number: only 0 and 1 (pydantic's int_as_bool / float_as_bool).
Converted bool_from_number(double d) {
  if (d == 0.0) return Value(false);
  if (d == 1.0) return Value(true);
  return err("bool_parsing", "Input should be a valid boolean, unable to interpret input");
}

// speedate's rule for a number given as a datetime: beyond 2e10 in magnitude it counts
// milliseconds, else seconds. Returns UTC microseconds since the epoch.
std::optional<int64_t> epoch_micros(double d) {
  if (!std::isfinite(d)) return std::nullopt;
  double seconds = std::fabs(d) > 2e10 ? d / 1000.0 : d;
  // Years 1..9999, the range pydantic's datetime accepts.
  if (seconds < -62135596800.0 || seconds > 253402300799.0) return std::nullopt;
  return static_cast<int64_t>(std::llround(seconds * 1e6));
}

std::string iso_utc(int64_t micros, bool date_only) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  if (date_only) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  }
  return buf;
}

Converted timestamp_from_number(double d) {
  auto us = instant_from_number(d);
  if (!us)
    return err("datetime_parsing", "Input should be a valid datetime, dates after 9999 are not supported");
  return Value(stored_instant(*us));
}

Converted date_from_number(double d) {
  auto us = epoch_micros(d);
  if (!us) return err("date_parsing", "Input should be a valid date, dates after 9999 are not supported");
  if (*us % (86400LL * 1000000) != 0) {
    return err("date_from_datetime_inexact",
               "Datetimes provided to dates should have zero time - e.g. be exact dates");
  }
  return Value(iso_utc(*us, true));
}

std::string_view text_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

double number_of(const rapidjson::Value& v) {
  return v.IsInt64() ? static_cast<double>(v.GetInt64()) : v.GetDouble();
}

}  // namespace

Converted value_from_json(const rapidjson::Value& v, ColumnType t, Coercion mode) {
  if (v.IsNull()) return Value();
  const bool lax = mode == Coercion::lax;
  switch (t) {
    case ColumnType::String:
      if (!v.IsString()) return err("string_type", "Input should be a valid string");
      return Value(std::string(v.GetString(), v.GetStringLength()));
    case ColumnType::Int:
      if (v.IsInt64()) return Value(v.GetInt64());
      if (v.IsUint64()) {
        return err("int_parsing_size",
                   "Input should be a valid integer, the number is too large for 64 bits");
      }
      if (v.IsDouble()) return int_from_double(v.GetDouble());
      if (lax && v.IsBool()) return Value(static_cast<int64_t>(v.GetBool() ? 1 : 0));
      if (lax && v.IsString()) return int_from_text(text_of(v));
      return err("int_type", "Input should be a valid integer");
    case ColumnType::Float:
      if (v.IsNumber()) return Value(number_of(v));
      if (lax && v.IsBool()) return Value(v.GetBool() ? 1.0 : 0.0);
      if (lax && v.IsString()) return float_from_text(text_of(v));
      return err("float_type", "Input should be a valid number");
    case ColumnType::Bool:
      if (v.IsBool()) return Value(v.GetBool());
      if (lax && v.IsString()) return bool_from_text(text_of(v));
      if (lax && v.IsNumber()) return bool_from_number(number_of(v));
      return err("bool_type", "Input should be a valid boolean");
    case ColumnType::Timestamp:
      if (v.IsString()) return timestamp_from_string(text_of(v));
      if (lax && v.IsNumber()) return timestamp_from_number(number_of(v));
      return err("datetime_type", "Input should be a valid datetime");
    case ColumnType::Date:
      if (v.IsString()) return date_from_string(text_of(v));
      if (lax && v.IsNumber()) return date_from_number(number_of(v));
      return err("date_type", "Input should be a valid date");
    case ColumnType::Json:
      if (has_non_finite(v)) return err("finite_number", "Input should be a finite number");
      return Value(compact_json(v));
    case ColumnType::Array:
      if (!v.IsArray()) return err("list_type", "Input should be a valid list");
      if (has_non_finite(v)) return err("finite_number", "Input should be a finite number");
      return Value(compact_json(v));
    case ColumnType::Image:
    case ColumnType::Video:
    case ColumnType::Audio:
    case ColumnType::Document:
      return media_from_json(v);
    case ColumnType::Vector:
      return vector_from_json(v);
  }
  return err("value_error", "Value error, unknown column type");
}

Converted value_from_text(std::string_view s, ColumnType t) {
  switch (t) {
    case ColumnType::String:
      return Value(std::string(s));
    case ColumnType::Int:
      return int_from_text(s);
    case ColumnType::Float:
      return float_from_text(s);
    case ColumnType::Bool:
      return bool_from_text(s);
    case ColumnType::Timestamp:
      return timestamp_from_string(s);
    case ColumnType::Date:
      return date_from_string(s);
    case ColumnType::Json:
      return json_text(s, false);
    case ColumnType::Array:
      return json_text(s, true);
    case ColumnType::Image:
    case ColumnType::Video:
    case ColumnType::Audio:
    case ColumnType::Document:
      return err("value_error", "Value error, media values cannot be given as text; upload the file instead");
    case ColumnType::Vector: {
      rapidjson::Document d;
      d.Parse(s.data(), s.size());
      if (d.HasParseError()) return err("list_type", "Input should be a valid list of numbers");
      return vector_from_json(d);
    }
  }
  return err("value_error", "Value error, unknown column type");
}

namespace {

// Stored Json may come from a computed expression that produced plain text; embedding that raw
// would corrupt the response, so it is checked and written as a string when it is not JSON.
bool is_valid_json(const std::string& s) {
  rapidjson::Reader reader;
  rapidjson::BaseReaderHandler<> handler;
  rapidjson::StringStream ss(s.c_str());
  return !s.empty() && !reader.Parse(ss, handler).IsError();
}

}  // namespace

void write_value_json(JsonWriter& w, const Value& v, std::optional<ColumnType> t,
                      std::string_view media_url_prefix) {
  switch (v.index()) {
    case 0:
      w.Null();
      return;
    case 1: {
      int64_t i = std::get<int64_t>(v);
      if (t == ColumnType::Bool) {
        w.Bool(i != 0);
      } else if (t == ColumnType::Float) {
        w.Double(static_cast<double>(i));
      } else {
        w.Int64(i);
      }
      return;
    }
    case 2: {
      double d = std::get<double>(v);
      if (std::isfinite(d)) {
        w.Double(d);
      } else {
        w.Null();
      }
      return;
    }
    case 3:
      w.Bool(std::get<bool>(v));
      return;
    default:
      break;
  }
  const std::string& s = std::get<std::string>(v);
  if (t == ColumnType::Vector && vec::dimension(s)) {
    vec::write_json(w, s);
  } else if (t == ColumnType::Timestamp) {
    write_string(w, answer_timestamp_text(s, default_time_zone()));
  } else if (t && is_media(*t)) {
    std::string url;
    url.reserve(media_url_prefix.size() + s.size());
    url.append(media_url_prefix).append(s);
    write_string(w, url);
  } else if ((t == ColumnType::Json || t == ColumnType::Array) && is_valid_json(s)) {
    w.RawValue(s.data(), s.size(), rapidjson::kObjectType);
  } else {
    write_string(w, s);
  }
}

std::string value_to_text(const Value& v, std::optional<ColumnType> t) {
  switch (v.index()) {
    case 0:
      return "";
    case 1: {
      int64_t i = std::get<int64_t>(v);
      if (t == ColumnType::Bool) return i ? "true" : "false";
      return std::to_string(i);
    }
    case 2: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(v));
      return std::string(buf, r.ptr);
    }
    case 3:
      return std::get<bool>(v) ? "true" : "false";
    default:
      if (t == ColumnType::Vector && vec::dimension(std::get<std::string>(v)))
        return vec::to_json_text(std::get<std::string>(v));
      if (t == ColumnType::Timestamp)
        return answer_timestamp_text(std::get<std::string>(v), default_time_zone());
      return std::get<std::string>(v);
  }
}

}  // namespace pxt
