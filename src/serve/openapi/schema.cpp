#include "serve/openapi/schema.hpp"

#include <cctype>

#include "store/model/values.hpp"
#include "util/error_code.hpp"

namespace pxt::openapi {

namespace {

constexpr const char* kRefPrefix = "#/components/schemas/";

// The members of a schema for values of type t (nothing for "any").
void write_type_members(JsonWriter& w, std::optional<ColumnType> t, MediaForm media) {
  if (!t) return;
  auto type = [&](const char* name) {
    write_key(w, "type");
    write_string(w, name);
  };
  auto format = [&](const char* name) {
    write_key(w, "format");
    write_string(w, name);
  };
  switch (*t) {
    case ColumnType::String:
      return type("string");
    case ColumnType::Int:
      return type("integer");
    case ColumnType::Float:
      return type("number");
    case ColumnType::Bool:
      return type("boolean");
    case ColumnType::Timestamp:
      type("string");
      return format("date-time");
    case ColumnType::Date:
      type("string");
      return format("date");
    case ColumnType::Json:
      return;
    case ColumnType::Array:
      type("array");
      write_key(w, "items");
      w.StartObject();
      w.EndObject();
      return;
    case ColumnType::Image:
    case ColumnType::Video:
    case ColumnType::Audio:
    case ColumnType::Document:
      type("string");
      format(media == MediaForm::Url ? "uri-reference" : "uri");
      write_key(w, "contentMediaType");
      write_string(w, media_range(*t));
      return;
    case ColumnType::Vector:  // JSON on the wire: an array of float32 values
      type("array");
      write_key(w, "items");
      w.StartObject();
      write_key(w, "type");
      write_string(w, "number");
      w.EndObject();
      return;
  }
}

bool is_any(std::optional<ColumnType> t) { return !t || *t == ColumnType::Json; }

}  // namespace

std::string_view media_range(ColumnType t) {
  switch (t) {
    case ColumnType::Image:
      return "image/*";
    case ColumnType::Video:
      return "video/*";
    case ColumnType::Audio:
      return "audio/*";
    case ColumnType::Document:
      return "application/octet-stream";
    default:
      return "";
  }
}

std::vector<std::string_view> file_content_types(ColumnType t) {
  if (t == ColumnType::Document) return {"application/pdf", "text/html", "text/markdown", "text/plain"};
  std::string_view range = media_range(t);
  if (range.empty()) return {"application/octet-stream"};
  return {range};
}

// pydantic's field title: "first_name" -> "First Name".
std::string title_case(std::string_view name) {
  std::string out;
  bool start = true;
  for (char c : name) {
    if (c == '_') {
      out.push_back(' ');
      start = true;
    } else {
      out.push_back(start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                          : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      start = false;
    }
  }
  return out;
}

void write_ref(JsonWriter& w, const std::string& component) {
  w.StartObject();
  write_key(w, "$ref");
  write_string(w, kRefPrefix + component);
  w.EndObject();
}

// A property schema: {"type": ...} or {"anyOf": [{...}, {"type": "null"}]}, with title and
// default. An "any" schema already admits null.
void write_schema(JsonWriter& w, std::optional<ColumnType> t, bool nullable, std::string_view name,
                  const std::optional<Value>& default_value, bool default_null, MediaForm media) {
  w.StartObject();
  if (nullable && !is_any(t)) {
    write_key(w, "anyOf");
    w.StartArray();
    w.StartObject();
    write_type_members(w, t, media);
    w.EndObject();
    w.StartObject();
    write_key(w, "type");
    write_string(w, "null");
    w.EndObject();
    w.EndArray();
  } else {
    write_type_members(w, t, media);
  }
  write_key(w, "title");
  write_string(w, title_case(name));
  if (media == MediaForm::DataUri && t && is_media(*t)) {
    write_key(w, "description");
    write_string(w, "The file as a data: URI (data:<type>;base64,<bytes>)");
  }
  if (default_value) {
    write_key(w, "default");
    write_value_json(w, *default_value, t, "");
  } else if (default_null) {
    write_key(w, "default");
    w.Null();
  }
  w.EndObject();
}

void write_row_object(JsonWriter& w, const std::vector<ResultColumn>& columns, const std::string& title,
                      std::string_view description) {
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  for (const auto& c : columns) {
    write_key(w, c.name);
    write_schema(w, c.type, c.nullable, c.name, std::nullopt, false);
  }
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  if (!columns.empty()) {
    write_key(w, "required");
    w.StartArray();
    for (const auto& c : columns) write_string(w, c.name);
    w.EndArray();
  }
  write_key(w, "title");
  write_string(w, title);
  if (!description.empty()) {
    write_key(w, "description");
    write_string(w, description);
  }
  w.EndObject();
}

namespace {

// {"detail": {"error_code", "message", "retryable", "cause"?, "retry_after"?, "provider"?,
// "provider_http_status_code"?}} as serve/http/response.cpp's reply_error writes it.
void write_pixeltable_error(JsonWriter& w) {
  auto prop = [&](const char* name, const char* type, const char* title, const char* description) {
    write_key(w, name);
    w.StartObject();
    write_key(w, "type");
    write_string(w, type);
    write_key(w, "title");
    write_string(w, title);
    write_key(w, "description");
    write_string(w, description);
    w.EndObject();
  };
  auto required = [&](std::initializer_list<const char*> names) {
    write_key(w, "required");
    w.StartArray();
    for (const char* n : names) write_string(w, n);
    w.EndArray();
  };
  write_key(w, "PixeltableError");
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  write_key(w, "detail");
  write_ref(w, "PixeltableErrorDetail");
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  required({"detail"});
  write_key(w, "title");
  write_string(w, "PixeltableError");
  write_key(w, "description");
  write_string(w, "An error raised by the catalog, the store or a model provider, in Pixeltable's shape");
  w.EndObject();

  write_key(w, "PixeltableErrorDetail");
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  write_key(w, "error_code");
  w.StartObject();
  write_key(w, "type");
  write_string(w, "string");
  write_key(w, "enum");
  w.StartArray();
  for (const ErrorCodeInfo& c : error_codes()) write_string(w, c.name);
  w.EndArray();
  write_key(w, "title");
  write_string(w, "Error Code");
  write_key(w, "description");
  write_string(w, "Pixeltable's ErrorCode name; it decides the HTTP status and whether a retry may succeed");
  w.EndObject();
  prop("message", "string", "Message", "What went wrong");
  prop("retryable", "boolean", "Retryable", "Whether the same request may succeed later");
  prop("cause", "string", "Cause", "The message of the error that caused this one");
  prop("retry_after", "number", "Retry After", "Seconds to wait before retrying");
  prop("provider", "string", "Provider", "The model provider that failed");
  prop("provider_http_status_code", "integer", "Provider Http Status Code", "The provider's HTTP status");
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  required({"error_code", "message", "retryable"});
  write_key(w, "title");
  write_string(w, "PixeltableErrorDetail");
  w.EndObject();
}

}  // namespace

void write_error_components(JsonWriter& w, bool validation, bool pixeltable) {
  if (pixeltable) write_pixeltable_error(w);
  auto prop = [&](const char* name, const char* type, const char* title) {
    write_key(w, name);
    w.StartObject();
    if (type != nullptr) {
      write_key(w, "type");
      write_string(w, type);
    }
    write_key(w, "title");
    write_string(w, title);
    w.EndObject();
  };
  write_key(w, "HTTPError");
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  prop("detail", "string", "Detail");
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  write_key(w, "required");
  w.StartArray();
  write_string(w, "detail");
  w.EndArray();
  write_key(w, "title");
  write_string(w, "HTTPError");
  w.EndObject();
  if (!validation) return;

  write_key(w, "HTTPValidationError");
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  write_key(w, "detail");
  w.StartObject();
  write_key(w, "items");
  write_ref(w, "ValidationError");
  write_key(w, "type");
  write_string(w, "array");
  write_key(w, "title");
  write_string(w, "Detail");
  w.EndObject();
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  write_key(w, "title");
  write_string(w, "HTTPValidationError");
  w.EndObject();

  write_key(w, "ValidationError");
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  write_key(w, "loc");
  w.StartObject();
  write_key(w, "items");
  w.StartObject();
  write_key(w, "anyOf");
  w.StartArray();
  w.StartObject();
  write_key(w, "type");
  write_string(w, "string");
  w.EndObject();
  w.StartObject();
  write_key(w, "type");
  write_string(w, "integer");
  w.EndObject();
  w.EndArray();
  w.EndObject();
  write_key(w, "type");
  write_string(w, "array");
  write_key(w, "title");
  write_string(w, "Location");
  w.EndObject();
  prop("msg", "string", "Message");
  prop("type", "string", "Error Type");
  prop("input", nullptr, "Input");
  prop("ctx", "object", "Context");
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  write_key(w, "required");
  w.StartArray();
  for (const char* r : {"loc", "msg", "type"}) write_string(w, r);
  w.EndArray();
  write_key(w, "title");
  write_string(w, "ValidationError");
  w.EndObject();
}

}  // namespace pxt::openapi
