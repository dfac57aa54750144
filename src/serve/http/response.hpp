#pragma once
// FastAPI-shaped responses: {"detail": "..."} errors, the status for each Errc, and a reusable
// per-thread JSON buffer so handlers do not allocate a fresh one per request.
#include <httplib.h>
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace pxt {

inline constexpr const char* kJsonType = "application/json";

// This thread's scratch buffer, cleared. Valid until the next call on the same thread.
JsonBuffer& scratch_json();

// Sets a header, replacing any previous value (httplib's set_header appends a duplicate).
void put_header(httplib::Response& res, const std::string& key, std::string value);
// res := status + the buffer's JSON (copied into res.body).
void set_json(httplib::Response& res, int status, const JsonBuffer& buf);
// res := status + {"detail": detail}.
void reply_detail(httplib::Response& res, int status, std::string_view detail);

// The HTTP status for a store error: invalid_argument 400, not_found 404, already_exists /
// conflict / schema_changed 409, busy 503, unsupported 501, no_space 507, io / internal 500.
int http_status(Errc code);
// Answers a store error. schema_changed gets the fixed restart message; busy adds Retry-After;
// io and internal answer {"detail": "internal server error"} and put the message in the access
// log only.
void reply_error(httplib::Response& res, const Error& error);
// 500 {"detail": "internal server error"}; `why` goes to the access log.
void reply_internal(httplib::Response& res, std::string_view why);
// 507 Insufficient Storage with a detail saying the disk is full; `cause` (which write failed)
// goes to the access log.
void reply_no_space(httplib::Response& res, std::string_view cause);

// One entry of FastAPI's 422 detail list: {"type", "loc": [where, field], "msg", "input"}.
// `input` is what pydantic echoes back: a JSON value from the body, a text (a query parameter or a
// form field), or null; a "missing" field echoes the whole body when one is given.
struct ValidationIssue {
  std::string type;
  std::string msg;
  std::string field;                             // "" when the error is about the body as a whole
  const rapidjson::Value* json_input = nullptr;  // must outlive the reply call
  std::string text_input;
  bool has_text = false;
  std::optional<int64_t> ctx_ge;  // "ctx": {"ge": n} of a greater_than_equal issue
};
// res := 422 {"detail": [...]} listing every issue, loc[0] being `where` ("body" or "query").
// `body` is the parsed body a "missing" issue echoes, or nullptr.
void reply_validation(httplib::Response& res, std::string_view where,
                      const std::vector<ValidationIssue>& issues, const rapidjson::Value* body = nullptr);

// The reason phrase FastAPI/Starlette uses as the detail of a bare status ("Not Found").
std::string_view status_phrase(int status);

}  // namespace pxt
