#include "store/models/errors.hpp"

namespace pxt::models {

std::string_view failure_code(Failure f) {
  switch (f) {
    case Failure::provider_error:
      return "PROVIDER_ERROR";
    case Failure::rate_limited:
      return "RATE_LIMITED";
    case Failure::auth:
      return "PROVIDER_AUTH_ERROR";
    case Failure::bad_request:
      return "PROVIDER_BAD_REQUEST";
    case Failure::timeout:
      return "PROVIDER_TIMEOUT";
    case Failure::overloaded:
      return "PROVIDER_OVERLOADED";
  }
  return "PROVIDER_ERROR";
}

int failure_status(Failure f) {
  switch (f) {
    case Failure::provider_error:
      return 502;
    case Failure::rate_limited:
      return 429;
    case Failure::auth:
      return 401;
    case Failure::bad_request:
      return 400;
    case Failure::timeout:
      return 504;
    case Failure::overloaded:
      return 503;
  }
  return 502;
}

bool failure_retryable(Failure f) {
  return f == Failure::provider_error || f == Failure::rate_limited || f == Failure::timeout ||
         f == Failure::overloaded;
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
                  double retry_after_s) {
  std::string msg = "model provider '" + std::string(provider) + "'";
  if (!model.empty()) msg += " (model '" + std::string(model) + "')";
  msg += ": " + what;
  Error e = make_error(Errc::io, std::move(msg));
  e.pxt_code = std::string(failure_code(f));
  e.http_status = failure_status(f);
  e.retryable = failure_retryable(f);
  e.retry_after_s = retry_after_s;
  return e;
}

}  // namespace pxt::models
