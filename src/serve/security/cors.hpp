#pragma once
// CORS ([service] cors_origins = ["https://app.example.com"] or ["*"]), shaped like Starlette's
// CORSMiddleware: preflights answered here, Access-Control-Allow-Origin on every response to an
// allowed origin, Vary: Origin on every response.
#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

namespace pxt {

// "" when `origin` is "*" or a valid origin ("scheme://host[:port]", no path); otherwise why not.
std::string cors_origin_problem(std::string_view origin);

class Cors {
 public:
  Cors() = default;
  explicit Cors(std::vector<std::string> origins);

  bool enabled() const { return any_ || !origins_.empty(); }
  bool allows(std::string_view origin) const;
  // OPTIONS with Origin and Access-Control-Request-Method.
  static bool is_preflight(const httplib::Request& req);
  // 200 with the allowed methods and the requested headers for an allowed origin, else 400
  // {"detail": "Disallowed CORS origin"} (Starlette's answer).
  void answer_preflight(const httplib::Request& req, httplib::Response& res) const;
  // Adds Vary: Origin, and Access-Control-Allow-Origin when the request's Origin is allowed.
  void decorate(const httplib::Request& req, httplib::Response& res) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace pxt
