#pragma once
// FastAPI-shaped responses: {"detail": "..."} errors, FastAPI's 422 validation list, Pixeltable's
// {"detail": {"error_code", ...}} error body (reply_error: the writer of the error contract,
// util/error_code.hpp), and a reusable per-thread JSON buffer so handlers do not allocate a fresh
// one per request.
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
// Pixeltable's detail for a route whose table changed (or was dropped) after registration.
inline constexpr const char* kSchemaChangedDetail =
    "table schema changed since route was registered; please restart the service";

// This thread's scratch buffer, cleared. Valid until the next call on the same thread.
JsonBuffer& scratch_json();

// Sets a header, replacing any previous value (httplib's set_header appends a duplicate).
void put_header(httplib::Response& res, const std::string& key, std::string value);
// res := status + the buffer's JSON (copied into res.body).
void set_json(httplib::Response& res, int status, const JsonBuffer& buf);
// res := status + {"detail": detail}.
void reply_detail(httplib::Response& res, int status, std::string_view detail);

// The HTTP status an error is answered with: its Pixeltable code's (util/error_code.hpp), else
// 409 for conflict / schema_changed and 500 for io / internal.
int http_status(const Error& error);
// Answers an error raised while a route ran (store, catalog, model provider): the one writer of
// Pixeltable's error body. With a Pixeltable code (effective_code: its own, else the default for
// its Errc) the answer is the code's status and
//   {"detail": {"error_code": NAME, "message": TEXT, "retryable": BOOL, "cause"?: TEXT,
//               "retry_after"?: SECONDS, "provider"?: NAME, "provider_http_status_code"?: N}}
// (optional keys only when known; Retry-After is set with retry_after, and for STORE_UNAVAILABLE).
// Without one: schema_changed answers 409 {"detail": "table schema changed since route was
// registered; please restart the service"}, conflict 409 {"detail": message}, io / internal 500
// {"detail": "internal server error"} (the message goes to the access log only). A busy store's
// and a full disk's own wording is replaced by a fixed message (the cause goes to the log).
// Messages pass through redact_secrets. Thread-safe.
void reply_error(httplib::Response& res, const Error& error);
// 500 {"detail": "internal server error"}; `why` goes to the access log.
void reply_internal(httplib::Response& res, std::string_view why);
// 507 FILE_CACHE_FULL (Pixeltable's body) saying the disk is full and nothing was stored;
// `cause` (which write failed) goes to the access log.
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
