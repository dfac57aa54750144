#pragma once
// Schema building blocks for the OpenAPI document (serve/openapi/openapi.cpp): JSON Schema for column types
// the way pydantic v2 writes them, and FastAPI's error components. Pure functions.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model/schema.hpp"
#include "util/json.hpp"

namespace pxt::openapi {

// pydantic's field title: "first_name" -> "First Name".
std::string title_case(std::string_view name);
// {"$ref": "#/components/schemas/<component>"}
void write_ref(JsonWriter& w, const std::string& component);

// How a media value is written in JSON. Answers carry the URL pxt serves it at, relative to the
// service ("/media/ab/cd.jpg", as Pixeltable's serving doc shows it): a URI reference. A JSON
// request carries the file itself as a data: URI (an absolute URI).
enum class MediaForm { Url, DataUri };
// The contentMediaType of a media column's values, as Pixeltable declares them: "image/*",
// "video/*", "audio/*", and "application/octet-stream" for documents. "" for other types.
std::string_view media_range(ColumnType t);
// The content types a file response of a column of type t can carry (the media-type keys of its
// 200 response): a range for images, video and audio, the four document types pxt stores.
std::vector<std::string_view> file_content_types(ColumnType t);

// A property schema: {"type": ...} or {"anyOf": [{...}, {"type": "null"}]}, with title and
// default (default_null: an explicit "default": null). Json and unknown types are "any".
void write_schema(JsonWriter& w, std::optional<ColumnType> t, bool nullable, std::string_view name,
                  const std::optional<Value>& default_value, bool default_null,
                  MediaForm media = MediaForm::Url);
// An object schema with one required, typed property per column.
void write_row_object(JsonWriter& w, const std::vector<ResultColumn>& columns, const std::string& title,
                      std::string_view description = {});
// The HTTPError component; with `validation`, FastAPI's HTTPValidationError and ValidationError;
// with `pixeltable`, PixeltableError and PixeltableErrorDetail (Pixeltable's error body, its
// error_code one of util/error_code.hpp's names). As members of "schemas".
void write_error_components(JsonWriter& w, bool validation, bool pixeltable);

}  // namespace pxt::openapi
