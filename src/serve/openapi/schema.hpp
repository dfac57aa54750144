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
// A property schema: {"type": ...} or {"anyOf": [{...}, {"type": "null"}]}, with title and
// default (default_null: an explicit "default": null). Json and unknown types are "any".
void write_schema(JsonWriter& w, std::optional<ColumnType> t, bool nullable, std::string_view name,
                  const std::optional<Value>& default_value, bool default_null);
// An object schema with one required, typed property per column.
void write_row_object(JsonWriter& w, const std::vector<ResultColumn>& columns, const std::string& title);
// The HTTPError, HTTPValidationError and ValidationError components (as members of "schemas").
void write_error_components(JsonWriter& w);

}  // namespace pxt::openapi
