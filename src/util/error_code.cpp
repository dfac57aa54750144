#include "util/error_code.hpp"

#include <algorithm>

#include "util/result.hpp"

namespace pxt {

const std::vector<ErrorCodeInfo>& error_codes() {
  using E = ErrorCode;
  static const std::vector<ErrorCodeInfo> table = {
      {E::internal_error, "INTERNAL_ERROR", 500, false},
      {E::generic_user_error, "GENERIC_USER_ERROR", 400, false},
      {E::column_not_found, "COLUMN_NOT_FOUND", 404, false},
      {E::path_not_found, "PATH_NOT_FOUND", 404, false},
      {E::table_not_found, "TABLE_NOT_FOUND", 404, false},
      {E::directory_not_found, "DIRECTORY_NOT_FOUND", 404, false},
      {E::index_not_found, "INDEX_NOT_FOUND", 404, false},
      {E::function_not_found, "FUNCTION_NOT_FOUND", 404, false},
      {E::row_not_found, "ROW_NOT_FOUND", 404, false},
      {E::storage_not_found, "STORAGE_NOT_FOUND", 404, false},
      {E::service_not_found, "SERVICE_NOT_FOUND", 404, false},
      {E::deployment_not_found, "DEPLOYMENT_NOT_FOUND", 404, false},
      {E::column_already_exists, "COLUMN_ALREADY_EXISTS", 409, false},
      {E::path_already_exists, "PATH_ALREADY_EXISTS", 409, false},
      {E::index_already_exists, "INDEX_ALREADY_EXISTS", 409, false},
      {E::function_already_exists, "FUNCTION_ALREADY_EXISTS", 409, false},
      {E::invalid_column_name, "INVALID_COLUMN_NAME", 422, false},
      {E::invalid_path, "INVALID_PATH", 422, false},
      {E::invalid_expression, "INVALID_EXPRESSION", 422, false},
      {E::invalid_type, "INVALID_TYPE", 422, false},
      {E::invalid_schema, "INVALID_SCHEMA", 422, false},
      {E::invalid_argument, "INVALID_ARGUMENT", 422, false},
      {E::invalid_data_format, "INVALID_DATA_FORMAT", 422, false},
      {E::missing_required, "MISSING_REQUIRED", 422, false},
      {E::type_mismatch, "TYPE_MISMATCH", 422, false},
      {E::constraint_violation, "CONSTRAINT_VIOLATION", 422, false},
      {E::unsupported_operation, "UNSUPPORTED_OPERATION", 400, false},
      {E::invalid_state, "INVALID_STATE", 400, false},
      {E::invalid_configuration, "INVALID_CONFIGURATION", 422, false},
      {E::not_bound, "NOT_BOUND", 400, false},
      {E::already_bound, "ALREADY_BOUND", 400, false},
      {E::schema_mismatch, "SCHEMA_MISMATCH", 422, false},
      {E::file_cache_full, "FILE_CACHE_FULL", 507, false},
      {E::destructive_schema_change, "DESTRUCTIVE_SCHEMA_CHANGE", 422, false},
      {E::insufficient_privileges, "INSUFFICIENT_PRIVILEGES", 403, false},
      {E::missing_credentials, "MISSING_CREDENTIALS", 403, false},
      {E::provider_error, "PROVIDER_ERROR", 502, true},
      {E::rate_limited, "RATE_LIMITED", 429, true},
      {E::provider_auth_error, "PROVIDER_AUTH_ERROR", 401, false},
      {E::provider_bad_request, "PROVIDER_BAD_REQUEST", 400, false},
      {E::provider_timeout, "PROVIDER_TIMEOUT", 504, true},
      {E::provider_overloaded, "PROVIDER_OVERLOADED", 503, true},
      {E::database_unavailable, "DATABASE_UNAVAILABLE", 503, true},
      {E::store_unavailable, "STORE_UNAVAILABLE", 503, true},
      {E::serialization_failure, "SERIALIZATION_FAILURE", 409, true},
      {E::concurrent_modification, "CONCURRENT_MODIFICATION", 409, true},
  };
  return table;
}

const ErrorCodeInfo* error_code_info(ErrorCode code) {
  if (code == ErrorCode::none) return nullptr;
  const auto& t = error_codes();
  auto it = std::find_if(t.begin(), t.end(), [code](const ErrorCodeInfo& i) { return i.code == code; });
  return it == t.end() ? nullptr : &*it;
}

std::optional<ErrorCode> error_code_named(std::string_view name) {
  for (const auto& i : error_codes())
    if (i.name == name) return i.code;
  return std::nullopt;
}

Errc errc_of(ErrorCode code) {
  if (code == ErrorCode::file_cache_full) return Errc::no_space;
  switch (static_cast<int>(code) / 1000) {
    case 0:
      return code == ErrorCode::generic_user_error ? Errc::invalid_argument : Errc::internal;
    case 1:
      return Errc::not_found;
    case 2:
      return Errc::already_exists;
    case 3:
    case 4:
      return Errc::invalid_argument;
    case 5:
      return Errc::io;
    case 6:
      return Errc::busy;
    case 7:
      return Errc::conflict;
    default:
      return Errc::internal;
  }
}

ErrorCode default_error_code(Errc errc) {
  switch (errc) {
    case Errc::invalid_argument:
      return ErrorCode::generic_user_error;
    case Errc::not_found:
      return ErrorCode::path_not_found;
    case Errc::already_exists:
      return ErrorCode::path_already_exists;
    case Errc::busy:
      return ErrorCode::store_unavailable;
    case Errc::unsupported:
      // A library the server lacks (libvips, libpq): the server's to fix, with the message naming
      // the package to install; not the client's UNSUPPORTED_OPERATION (400).
      return ErrorCode::internal_error;
    case Errc::no_space:
      return ErrorCode::file_cache_full;
    case Errc::conflict:
    case Errc::schema_changed:
    case Errc::io:
    case Errc::internal:
      return ErrorCode::none;
  }
  return ErrorCode::none;
}

}  // namespace pxt
