#include "serve/security/cors.hpp"

#include <strings.h>
#include <algorithm>

#include <cctype>

#include "serve/http/response.hpp"

namespace pxt {

namespace {

// The methods pxt serves (API routes are GET or POST; docs also answer HEAD).
constexpr const char* kAllowMethods = "GET, HEAD, POST, OPTIONS";
// Preflight answers may be cached by the browser for this long (seconds).
constexpr const char* kMaxAge = "600";
// Headers a script may read from our answers beyond the CORS-safelisted ones.
constexpr const char* kExposeHeaders = "Retry-After, WWW-Authenticate";

const std::string* find_header(const httplib::Request& req, const char* name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? nullptr : &it->second;
}

// A requested header list is echoed back only when it is a plain comma-separated token list,
// so nothing a client sends can inject into our response headers.
bool is_header_list(std::string_view s) {
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != ',' && c != ' ') return false;
  return true;
}

bool varies_on_origin(const httplib::Response& res) {
  auto range = res.headers.equal_range("Vary");
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view v = it->second;
    for (size_t i = 0; i + 6 <= v.size(); ++i)
      if (strncasecmp(v.data() + i, "origin", 6) == 0) return true;
  }
  return false;
}

}  // namespace

std::string cors_origin_problem(std::string_view origin) {
  if (origin == "*") return "";
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return "is not an origin: expected scheme://host[:port] (e.g. \"https://app.example.com\") or \"*\"";
  std::string_view scheme = origin.substr(0, sep), rest = origin.substr(sep + 3);
  if (!std::all_of(scheme.begin(), scheme.end(), [](unsigned char c) { return std::isalpha(c); }))
    return "is not an origin: the scheme must be letters (e.g. https)";
  if (rest.empty()) return "is not an origin: the host is missing";
  if (rest.find('/') != std::string_view::npos)
    return "is not an origin: remove the path" + std::string(rest.back() == '/' ? " (the trailing '/')" : "");
  for (unsigned char c : rest)
    if (!std::isalnum(c) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']')
      return "is not an origin: unexpected character in the host";
  return "";
}

Cors::Cors(std::vector<std::string> origins) {
  for (auto& o : origins) {
    if (o == "*")
      any_ = true;
    else
      origins_.push_back(std::move(o));
  }
}

bool Cors::allows(std::string_view origin) const {
  if (any_) return true;
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool Cors::is_preflight(const httplib::Request& req) {
  return req.method == "OPTIONS" && find_header(req, "Origin") &&
         find_header(req, "Access-Control-Request-Method");
}

void Cors::answer_preflight(const httplib::Request& req, httplib::Response& res) const {
  const std::string* origin = find_header(req, "Origin");
  put_header(res, "Vary", "Origin");
  if (!origin || !allows(*origin)) return reply_detail(res, 400, "Disallowed CORS origin");
  res.status = 200;
  res.body = "OK";
  put_header(res, "Content-Type", "text/plain; charset=utf-8");
  put_header(res, "Access-Control-Allow-Origin", any_ ? "*" : *origin);
  put_header(res, "Access-Control-Allow-Methods", kAllowMethods);
  const std::string* asked = find_header(req, "Access-Control-Request-Headers");
  if (asked && is_header_list(*asked)) put_header(res, "Access-Control-Allow-Headers", *asked);
  put_header(res, "Access-Control-Max-Age", kMaxAge);
}

void Cors::decorate(const httplib::Request& req, httplib::Response& res) const {
  if (!enabled()) return;
  // On the hot path: no temporary key strings, and an answer decorated twice keeps a single copy
  // of each header. Another Vary a handler set stays: the connection layer sends one Vary header
  // listing them all (serve/http/writer.cpp).
  static const std::string kVary = "Vary", kOrigin = "Origin", kAllowOrigin = "Access-Control-Allow-Origin",
                           kExpose = "Access-Control-Expose-Headers", kStar = "*";
  if (!varies_on_origin(res)) res.headers.emplace(kVary, kOrigin);
  auto origin = req.headers.find(kOrigin);
  if (origin == req.headers.end() || !allows(origin->second) || res.has_header(kAllowOrigin)) return;
  res.headers.emplace(kAllowOrigin, any_ ? kStar : origin->second);
  res.headers.emplace(kExpose, kExposeHeaders);
}

}  // namespace pxt
