#pragma once
// Request decoding and validation, answering exactly like FastAPI + pydantic v2 would for a body
// model (POST) or query parameters (GET): 422 {"detail": [{"type", "loc", "msg", "input"}, ...]}
// listing every bad field, in field order. Unknown fields are ignored, as FastAPI does.
#include <httplib.h>

#include <string_view>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "serve/http/response.hpp"
#include "store/model/types.hpp"

namespace pxt {

struct DecodedFields {
  std::vector<Value> values;  // aligned with the fields; an absent field holds its default or null
  std::vector<char> present;  // 1 when the request gave the field (explicit null included)
};

// Nesting deeper than this is refused the way Python's json module refuses it (RecursionError
// -> FastAPI's 400 "There was an error parsing the body"), so nothing downstream recurses deeply.
inline constexpr int kMaxJsonDepth = 512;

// Decodes the JSON body of `req` into `fields`. Content-Type follows FastAPI: absent or
// application/json (or application/*+json) is parsed as JSON; anything else is validated as raw
// bytes (422 model_attributes_type). An empty body or JSON null is a missing body. Returns true
// on success; otherwise `res` holds the 422 (or 400) answer. Thread-safe.
bool decode_json_body(const std::vector<RequestField>& fields, const httplib::Request& req,
                      DecodedFields& out, httplib::Response& res);

// Decodes query-string parameters (GET routes); errors have loc ["query", name]. Repeated
// parameters: the last one wins, as in Starlette. Returns true on success; otherwise `res` holds
// the 422 answer. Thread-safe.
bool decode_query_params(const std::vector<RequestField>& fields, const httplib::Request& req,
                         DecodedFields& out, httplib::Response& res);

// Whether v (a decoded value of field f) is below f.minimum; then the issue is pydantic's
// greater_than_equal, filled into `issue` (its type, msg and ctx). Thread-safe.
bool below_minimum(const RequestField& f, const Value& v, ValidationIssue& issue);

// True when a Content-Type header value selects JSON parsing in FastAPI ("" included).
bool is_json_content_type(std::string_view content_type);

// Python's json.JSONDecodeError message for a RapidJSON parse error code.
std::string_view python_json_error(int rapidjson_code);

}  // namespace pxt
