#pragma once
// The error statuses each operation of the document can answer, with their body schemas: what
// the handlers, the gate before them (auth, rate limit, body limit, body decoding) and the error
// writer (serve/http/response.hpp: reply_error, Pixeltable's error contract) answer for the
// route, nothing more. A handler that starts answering a new status declares it here. Pure.
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "serve/openapi/json_out.hpp"

namespace pxt::openapi {

// Shared error components.
inline constexpr const char* kHttpError = "HTTPError";                  // {"detail": "text"}
inline constexpr const char* kValidationError = "HTTPValidationError";  // FastAPI's 422 list
inline constexpr const char* kValidationItem = "ValidationError";
// Pixeltable's error body: {"detail": {"error_code", "message", "retryable", ...}}.
inline constexpr const char* kPixeltableError = "PixeltableError";
inline constexpr const char* kPixeltableErrorDetail = "PixeltableErrorDetail";

struct ResponseDoc {
  int status = 0;
  std::vector<std::string> whens;    // the cases it is answered in, for its description
  std::vector<std::string> schemas;  // body components: several mean any of them
  bool retry_after = false;          // carries Retry-After (seconds)
  bool authenticate = false;         // carries WWW-Authenticate
};

// Where the gate and the error writer apply: what every operation of the service shares.
struct ServiceDoc {
  bool auth = false;        // 401 with WWW-Authenticate
  bool rate_limit = false;  // 429 with Retry-After
};

// The non-2xx answers of a route's operation, sorted by status.
std::vector<ResponseDoc> route_errors(const BoundRoute& route, const ServiceDoc& service);
// The non-2xx answers of GET <prefix>/jobs/{job_id} and GET <prefix>/media/{path}.
std::vector<ResponseDoc> job_status_errors(const ServiceDoc& service);
std::vector<ResponseDoc> media_errors(const ServiceDoc& service);

// Writes each as a member of "responses". Adds the component names used to `used`.
void write_error_responses(Out& o, const std::vector<ResponseDoc>& errors, std::vector<std::string>& used);

}  // namespace pxt::openapi
