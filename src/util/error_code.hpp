#pragma once
// Pixeltable's error codes (pixeltable/exceptions.py, class ErrorCode): each has a stable number, the
// HTTP status a route answers it with, and whether retrying the same request may succeed.
//
// How a code travels from where a failure happens to the HTTP answer (the error contract):
//   1. The failing layer sets it on the Error it returns: make_error(ErrorCode::constraint_violation,
//      msg) (Errc follows from the code's group), or with_code(e, code) on an Error built with an
//      Errc. A model-calling function returns make_error(ErrorCode::rate_limited, msg) and sets
//      retry_after (and provider / provider_status) on it. Errors built with an Errc only get
//      default_error_code(errc) later, so low layers that know no better need not change.
//   2. The Error travels unchanged through Result<T>: the SQLite backend keeps a function's whole
//      Error across sqlite3_result_error (store/sqlite/db.cpp, function_fault), and a computed
//      column's failure keeps the function's code, retry_after and provider (its message becomes
//      the cause). A backend maps its own failures at its boundary: SQLite's busy -> Errc::busy
//      (STORE_UNAVAILABLE), a duplicate primary key -> CONSTRAINT_VIOLATION; PostgreSQL's
//      unique_violation -> CONSTRAINT_VIOLATION, a lost connection -> STORE_UNAVAILABLE.
//   3. serve/http/response.cpp's reply_error is the one writer: it answers
//      {"detail": {"error_code", "message", "retryable", "cause"?, "retry_after"?, "provider"?,
//      "provider_http_status_code"?}} with the code's status (+ Retry-After when retry_after is
//      known). Errors whose code resolves to ErrorCode::none keep the plain {"detail": "..."}
//      answers: schema_changed (409, restart message), conflict (409), io/internal (500 "internal
//      server error", the message in the log only). A background job stores the same detail
//      object (as JSON text) in its "error" field.
// Thread-safety: everything here is pure.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace pxt {

enum class Errc;

enum class ErrorCode : int16_t {
  none = -1,  // not a Pixeltable error: the route's plain {"detail": "..."} answer
  // Error (0xxx)
  internal_error = 0,
  generic_user_error = 1,
  // NotFoundError (1xxx), 404
  column_not_found = 1000,
  path_not_found = 1001,
  table_not_found = 1002,
  directory_not_found = 1003,
  index_not_found = 1004,
  function_not_found = 1005,
  row_not_found = 1006,
  storage_not_found = 1007,
  service_not_found = 1008,
  deployment_not_found = 1009,
  // AlreadyExistsError (2xxx), 409
  column_already_exists = 2000,
  path_already_exists = 2001,
  index_already_exists = 2002,
  function_already_exists = 2003,
  // RequestError (3xxx), 422 / 400 / 507
  invalid_column_name = 3000,
  invalid_path = 3001,
  invalid_expression = 3002,
  invalid_type = 3003,
  invalid_schema = 3004,
  invalid_argument = 3005,
  invalid_data_format = 3006,
  missing_required = 3007,
  type_mismatch = 3008,
  constraint_violation = 3009,
  unsupported_operation = 3010,
  invalid_state = 3011,
  invalid_configuration = 3013,
  not_bound = 3014,
  already_bound = 3015,
  schema_mismatch = 3016,
  file_cache_full = 3017,
  destructive_schema_change = 3018,
  // AuthorizationError (4xxx), 403
  insufficient_privileges = 4000,
  missing_credentials = 4001,
  // ExternalServiceError (5xxx): model providers
  provider_error = 5000,
  rate_limited = 5001,
  provider_auth_error = 5002,
  provider_bad_request = 5003,
  provider_timeout = 5004,
  provider_overloaded = 5005,
  // ServiceUnavailableError (6xxx), 503
  database_unavailable = 6000,
  store_unavailable = 6001,
  // ConcurrencyError (7xxx), 409
  serialization_failure = 7000,
  concurrent_modification = 7001,
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;  // Pixeltable's spelling: "CONSTRAINT_VIOLATION"
  int http_status;
  bool retryable;
};

// Every code, in Pixeltable's order (OpenAPI enumerates the names from it).
const std::vector<ErrorCodeInfo>& error_codes();
// The code's row; nullptr for ErrorCode::none.
const ErrorCodeInfo* error_code_info(ErrorCode code);
// The code named `name` ("RATE_LIMITED"), if any.
std::optional<ErrorCode> error_code_named(std::string_view name);
// The pxt Errc an error with this code carries (its group: 1xxx not_found, 2xxx already_exists,
// 3xxx invalid_argument (file_cache_full: no_space), 5xxx io, 6xxx busy, 7xxx conflict, ...).
Errc errc_of(ErrorCode code);
// The code an error built with only an Errc is answered with: invalid_argument GENERIC_USER_ERROR,
// not_found PATH_NOT_FOUND, already_exists PATH_ALREADY_EXISTS, busy STORE_UNAVAILABLE,
// unsupported (a library the server lacks) INTERNAL_ERROR, no_space FILE_CACHE_FULL; none for
// conflict, schema_changed, io and internal (their plain answers are route-level or hidden).
ErrorCode default_error_code(Errc errc);

}  // namespace pxt
