#include "serve/security/auth.hpp"

#include <cctype>

#include "serve/http/response.hpp"

namespace pxt {

bool tokens_equal(std::string_view presented, std::string_view expected) {
  // Differences accumulate with OR over the full expected length; the presented length is
  // mixed in too, so a prefix of the token never matches.
  unsigned diff = presented.size() == expected.size() ? 0u : 1u;
  const size_t n = presented.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = n == 0 ? 0 : static_cast<unsigned char>(presented[i < n ? i : n - 1]);
    diff |= static_cast<unsigned>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

std::string bearer_token_problem(std::string_view token) {
  if (token.empty()) return "is empty (an unset or empty environment variable?)";
  size_t end = token.size();
  while (end > 0 && token[end - 1] == '=') --end;
  if (end == 0) return "consists only of '='";
  for (size_t i = 0; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(token[i]);
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~' && c != '+' && c != '/')
      return "contains a character a bearer token cannot carry (allowed: letters, digits, -._~+/ and "
             "trailing '=')";
  }
  return "";
}

AuthResult BearerAuth::check(const httplib::Request& req) const {
  auto it = req.headers.find("Authorization");
  if (it == req.headers.end()) return AuthResult::Missing;
  std::string_view value = it->second;
  // The scheme is case-insensitive (RFC 7235); FastAPI's HTTPBearer treats any other scheme as
  // not authenticated.
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return AuthResult::Missing;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return AuthResult::Missing;
  std::string_view token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  bool ok = false;
  for (const auto& t : tokens_) ok |= tokens_equal(token, t);
  return ok ? AuthResult::Ok : AuthResult::Invalid;
}

void reply_unauthorized(httplib::Response& res, AuthResult why) {
  if (why == AuthResult::Invalid) {
    reply_detail(res, 401, "Invalid authentication credentials");
    put_header(res, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
  } else {
    reply_detail(res, 401, "Not authenticated");
    put_header(res, "WWW-Authenticate", "Bearer");
  }
}

}  // namespace pxt
