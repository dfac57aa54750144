#pragma once
// RapidJSON aliases used across layers. Writers emit compact UTF-8.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
