// CORS: origin validation, preflight answers, headers on responses (Starlette's CORSMiddleware
// behaviour), and their place in ServeApp (preflights pass before auth).
#include <doctest/doctest.h>

#include "serve/app/app.hpp"
#include "serve/security/cors.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {
httplib::Request preflight(const std::string& origin, const std::string& headers = "") {
  httplib::Request req;
  req.method = "OPTIONS";
  req.path = "/users";
  req.headers.emplace("Origin", origin);
  req.headers.emplace("Access-Control-Request-Method", "POST");
  if (!headers.empty()) req.headers.emplace("Access-Control-Request-Headers", headers);
  return req;
}
}  // namespace

TEST_CASE("cors_origin_problem: scheme://host[:port] or *") {
  CHECK(cors_origin_problem("*") == "");
  CHECK(cors_origin_problem("https://app.example.com") == "");
  CHECK(cors_origin_problem("http://localhost:3000") == "");
  CHECK(cors_origin_problem("https://app.example.com/").find("trailing '/'") != std::string::npos);
  CHECK(cors_origin_problem("app.example.com") != "");
  CHECK(cors_origin_problem("https://") != "");
  CHECK(cors_origin_problem("https://a b") != "");
}

TEST_CASE("preflight: allowed origin gets methods, echoed headers and max-age; others get 400") {
  Cors cors({"https://a.example"});
  httplib::Response res;
  cors.answer_preflight(preflight("https://a.example", "authorization, content-type"), res);
  CHECK(res.status == 200);
  CHECK(res.get_header_value("Access-Control-Allow-Origin") == "https://a.example");
  CHECK(res.get_header_value("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  CHECK(res.get_header_value("Access-Control-Allow-Headers") == "authorization, content-type");
  CHECK(res.get_header_value("Access-Control-Max-Age") == "600");
  CHECK(res.get_header_value("Vary") == "Origin");
  httplib::Response bad;
  cors.answer_preflight(preflight("https://evil.example"), bad);
  CHECK(bad.status == 400);
  CHECK(bad.body == R"({"detail":"Disallowed CORS origin"})");
  CHECK_FALSE(bad.has_header("Access-Control-Allow-Origin"));
  httplib::Response inject;
  cors.answer_preflight(preflight("https://a.example", "x\r\nSet-Cookie: a=b"), inject);
  CHECK_FALSE(inject.has_header("Access-Control-Allow-Headers"));
}

TEST_CASE("decorate: allowed origins are echoed, * answers *, Vary: Origin always") {
  Cors cors({"https://a.example"});
  httplib::Request req;
  req.headers.emplace("Origin", "https://a.example");
  httplib::Response res;
  cors.decorate(req, res);
  CHECK(res.get_header_value("Access-Control-Allow-Origin") == "https://a.example");
  CHECK(res.get_header_value("Vary") == "Origin");
  httplib::Request other;
  other.headers.emplace("Origin", "https://b.example");
  httplib::Response res2;
  cors.decorate(other, res2);
  CHECK_FALSE(res2.has_header("Access-Control-Allow-Origin"));
  CHECK(res2.get_header_value("Vary") == "Origin");
  Cors any({"*"});
  httplib::Response res3;
  any.decorate(other, res3);
  CHECK(res3.get_header_value("Access-Control-Allow-Origin") == "*");
  Cors off;
  httplib::Response res4;
  off.decorate(req, res4);
  CHECK(res4.headers.empty());
}

TEST_CASE("ServeApp: preflights pass before auth; 401s and normal answers carry CORS headers") {
  FakeStore store;
  ServiceSpec service;
  service.cors_origins = {"https://a.example"};
  service.auth_tokens = {"tok"};
  std::vector<BoundRoute> routes = {table_route(RouteType::Insert, "/users", "")};
  auto app = ServeApp::create(store, service, routes).take();
  httplib::Response pre;
  CHECK_FALSE(app->admit(preflight("https://a.example", "authorization"), pre));
  CHECK(pre.status == 200);
  httplib::Request req = json_request("POST", "/users", "{}");
  req.headers.emplace("Origin", "https://a.example");
  httplib::Response denied;
  CHECK_FALSE(app->admit(req, denied));
  CHECK(denied.status == 401);
  CHECK(denied.get_header_value("Access-Control-Allow-Origin") == "https://a.example");
  req.headers.emplace("Authorization", "Bearer tok");
  httplib::Response ok;
  CHECK(app->admit(req, ok));
  app->handle(req, ok);
  CHECK(ok.get_header_value("Access-Control-Allow-Origin") == "https://a.example");
}

TEST_CASE("decorate: Origin is added beside a Vary the handler set, once") {
  Cors cors({"https://a.example"});
  httplib::Request req;
  req.headers.emplace("Origin", "https://a.example");
  httplib::Response res;
  res.headers.emplace("Vary", "Accept-Encoding");
  cors.decorate(req, res);
  cors.decorate(req, res);
  CHECK(res.get_header_value_count("Vary") == 2);
  CHECK(res.get_header_value("Vary", 1) == "Origin");
}
