#pragma once
// Optional bearer-token auth ([service] auth_tokens, --auth-token): "Authorization: Bearer <token>"
// compared in constant time against every configured token.
#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

namespace pxt {

// True when a == b. The time taken depends only on the length of `expected`, never on where the
// strings differ, so a client cannot guess a token byte by byte. Pure; thread-safe.
bool tokens_equal(std::string_view presented, std::string_view expected);

// "" when `token` can travel in an Authorization header as RFC 6750's token68 (letters, digits,
// -._~+/ and trailing '='); otherwise why not. The message never quotes the token.
std::string bearer_token_problem(std::string_view token);

enum class AuthResult { Ok, Missing, Invalid };

class BearerAuth {
 public:
  BearerAuth() = default;
  explicit BearerAuth(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  bool enabled() const { return !tokens_.empty(); }
  // Checks the request's Authorization header. Every configured token is compared (no early
  // exit), so the time does not reveal which one matched. Thread-safe (immutable).
  AuthResult check(const httplib::Request& req) const;

 private:
  std::vector<std::string> tokens_;
};

// 401 in FastAPI's shape ({"detail": "Not authenticated"} / "Invalid authentication credentials")
// with WWW-Authenticate: Bearer.
void reply_unauthorized(httplib::Response& res, AuthResult why);

}  // namespace pxt
