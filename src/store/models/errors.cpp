#include "store/models/errors.hpp"

namespace pxt::models {

ErrorCode error_code_of(Failure f) {
  switch (f) {
    case Failure::provider_error:
      return ErrorCode::provider_error;
    case Failure::rate_limited:
      return ErrorCode::rate_limited;
    case Failure::auth:
      return ErrorCode::provider_auth_error;
    case Failure::bad_request:
      return ErrorCode::provider_bad_request;
    case Failure::timeout:
      return ErrorCode::provider_timeout;
    case Failure::overloaded:
      return ErrorCode::provider_overloaded;
  }
  return ErrorCode::provider_error;
}

Failure failure_for_status(int status) {
  if (status == 401 || status == 403) return Failure::auth;
  if (status == 408) return Failure::timeout;
  if (status == 429) return Failure::rate_limited;
  if (status == 503 || status == 529) return Failure::overloaded;
  if (status >= 400 && status < 500) return Failure::bad_request;
  return Failure::provider_error;
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
  return text;
}

Error model_error(Failure f, std::string_view provider, std::string_view model, const std::string& what,
                  double retry_after_s, int upstream_status) {
  std::string msg = "model provider '" + std::string(provider) + "'";
  if (!model.empty()) msg += " (model '" + std::string(model) + "')";
  msg += ": " + what;
  Error e = make_error(error_code_of(f), std::move(msg));
  e.retry_after = retry_after_s;
  e.provider = std::string(provider);
  e.provider_status = upstream_status;
  return e;
}

}  // namespace pxt::models
