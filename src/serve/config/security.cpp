// Validation of the [service] security and limit keys: auth_tokens, cors_origins, rate_limit,
// read_timeout_s, forwarded_allow_ips.
#include "serve/config/detail.hpp"
#include "serve/http/forwarded.hpp"
#include "serve/security/auth.hpp"
#include "serve/security/cors.hpp"
#include "serve/security/rate_limit.hpp"

namespace pxt::config_detail {

namespace {
constexpr int64_t kMaxReadTimeoutS = 3600;
}

void check_security_keys(const ServiceSpec& s, Errors& errs) {
  for (size_t i = 0; i < s.auth_tokens.size(); ++i) {
    std::string problem = bearer_token_problem(s.auth_tokens[i]);
    if (!problem.empty())
      errs.add(location_of(s, "auth_tokens"), "auth_tokens",
               "token " + std::to_string(i + 1) + " " + problem);
  }
  bool star = false;
  for (const auto& o : s.cors_origins) {
    std::string problem = cors_origin_problem(o);
    if (!problem.empty()) errs.add(location_of(s, "cors_origins"), "cors_origins", "'" + o + "' " + problem);
    star = star || o == "*";
  }
  if (star && s.cors_origins.size() > 1)
    errs.add(location_of(s, "cors_origins"), "cors_origins",
             "\"*\" already allows every origin; list origins or \"*\", not both");
  if (!s.rate_limit.empty()) {
    auto r = parse_rate_limit(s.rate_limit);
    if (!r) errs.add(location_of(s, "rate_limit"), "rate_limit", r.error().message);
  }
  for (const auto& ip : s.forwarded_allow_ips) {
    std::string problem = TrustedProxies::problem(ip);
    if (!problem.empty())
      errs.add(location_of(s, "forwarded_allow_ips"), "forwarded_allow_ips", "'" + ip + "' " + problem);
  }
  if (s.read_timeout_s < 1 || s.read_timeout_s > kMaxReadTimeoutS)
    errs.add(location_of(s, "read_timeout_s"), "read_timeout_s",
             "must be between 1 and " + std::to_string(kMaxReadTimeoutS) + ", got " +
                 std::to_string(s.read_timeout_s));
}

}  // namespace pxt::config_detail
