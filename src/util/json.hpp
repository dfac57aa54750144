#pragma once
// RapidJSON aliases used across layers. Writers emit compact UTF-8.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string>
#include <string_view>

namespace pxt {
using JsonBuffer = rapidjson::StringBuffer;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// For any RapidJSON writer (Writer, PrettyWriter).
template <class W>
void write_string(W& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
template <class W>
void write_key(W& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
// The member `name` of v, or nullptr when v is not an object or has no such member. Lookups go
// through this rather than `FindMember(k) != MemberEnd()` on a Document: RapidJSON's non-const
// member iterators compare ambiguously under C++20's reversed operators, which clang reports
// (-Wambiguous-reversed-operator, an error in the lint test).
inline const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto m = v.FindMember(name);
  return m == v.MemberEnd() ? nullptr : &m->value;
}
// True when v holds a NaN or an infinite number anywhere (RapidJSON parses NaN, Infinity and
// literals past the double range with kParseNanAndInfFlag, as Python's json module reads them).
inline bool has_non_finite(const rapidjson::Value& v) {
  if (v.IsDouble()) return !std::isfinite(v.GetDouble());
  if (v.IsArray()) {
    for (const auto& e : v.GetArray())
      if (has_non_finite(e)) return true;
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject())
      if (has_non_finite(m.value)) return true;
  }
  return false;
}
// Writes v; a NaN or infinite number, which JSON cannot carry (a RapidJSON writer would stop
// there and leave broken JSON), is written as the text Python shows for it: "nan", "inf", "-inf".
template <class W>
void write_value_finite(W& w, const rapidjson::Value& v) {
  if (v.IsDouble() && !std::isfinite(v.GetDouble())) {
    double d = v.GetDouble();
    write_string(w, std::isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto& e : v.GetArray()) write_value_finite(w, e);
    w.EndArray();
  } else if (v.IsObject()) {
    w.StartObject();
    for (const auto& m : v.GetObject()) {
      w.Key(m.name.GetString(), m.name.GetStringLength());
      write_value_finite(w, m.value);
    }
    w.EndObject();
  } else {
    v.Accept(w);
  }
}
// Opens a column's object with its "name" and "type"; the caller adds its own keys and closes it.
template <class W>
void start_column_object(W& w, std::string_view name, std::string_view type) {
  w.StartObject();
  write_key(w, "name");
  write_string(w, name);
  write_key(w, "type");
  write_string(w, type);
}
}  // namespace pxt
