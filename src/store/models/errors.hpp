#pragma once
// Failed model calls, in Pixeltable's terms (pixeltable/exceptions.py, util/error_code.hpp): a
// request whose model call fails stores nothing and answers {"detail": {"error_code", "message",
// "retryable", "retry_after"?, "provider"?, "provider_http_status_code"?}} with the code's status.
// The message names the provider, the model and the upstream status, never the API key.
// Pure functions, thread-safe.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pxt::models {

enum class Failure {
  provider_error,  // PROVIDER_ERROR 502, retryable: connection errors, 5xx, malformed answers
  rate_limited,    // RATE_LIMITED 429, retryable, with retry_after
  auth,            // PROVIDER_AUTH_ERROR 401: 401/403 upstream
  bad_request,     // PROVIDER_BAD_REQUEST 400: other 4xx upstream (unknown model, bad options)
  timeout,         // PROVIDER_TIMEOUT 504, retryable: no answer within timeout_s, or 408
  overloaded,      // PROVIDER_OVERLOADED 503, retryable: 503 / 529 upstream
};

ErrorCode error_code_of(Failure f);

// The kind an upstream HTTP status maps to once retries are spent (or for a final 4xx).
Failure failure_for_status(int status);

// The Error a failed call returns: "model provider 'p' (model 'm'): <what>" with the code,
// retry_after (seconds, < 0: none), the provider and the upstream status (0: no answer).
Error model_error(Failure f, std::string_view provider, std::string_view model, const std::string& what,
                  double retry_after_s = -1, int upstream_status = 0);

// `text` with every occurrence of `secret` replaced by "***" (no-op for an empty secret): upstream
// error messages may echo the key they were sent.
std::string redact(std::string text, std::string_view secret);

}  // namespace pxt::models
