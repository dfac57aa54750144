// Bearer auth: constant-time comparison, header parsing, token checks, the gate in ServeApp
// (which endpoints are public), the OpenAPI scheme, and the exposure warning.
#include <doctest/doctest.h>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"
#include "serve/http/banner.hpp"
#include "serve/security/auth.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

httplib::Request with_auth(const std::string& path, const std::string& authorization) {
  httplib::Request req = json_request("GET", path, "");
  if (!authorization.empty()) req.headers.emplace("Authorization", authorization);
  return req;
}

struct Gate {
  FakeStore store;
  ServiceSpec service;
  std::vector<BoundRoute> routes;
  std::unique_ptr<ServeApp> app;
  explicit Gate(std::vector<std::string> tokens, bool docs_public = false) {
    service.auth_tokens = std::move(tokens);
    service.docs_public = docs_public;
    routes = {table_route(RouteType::Insert, "/users", "")};
    app = ServeApp::create(store, service, routes).take();
  }
  // The status admit() answers with, or 0 when it lets the request through.
  int admit(const std::string& path, const std::string& authorization = "") {
    httplib::Request req = with_auth(path, authorization);
    httplib::Response res;
    return app->admit(req, res) ? 0 : res.status;
  }
};

}  // namespace

TEST_CASE("tokens_equal: equal only for identical strings, prefixes and extensions included") {
  CHECK(tokens_equal("abc", "abc"));
  CHECK_FALSE(tokens_equal("abd", "abc"));
  CHECK_FALSE(tokens_equal("ab", "abc"));
  CHECK_FALSE(tokens_equal("abcd", "abc"));
  CHECK_FALSE(tokens_equal("", "abc"));
  CHECK_FALSE(tokens_equal("abc", ""));
  CHECK(tokens_equal("", ""));
  // A byte that differs only in the high bit, and a NUL, still count.
  CHECK_FALSE(tokens_equal(std::string("ab\xe3", 3), "abc"));
  CHECK_FALSE(tokens_equal(std::string("ab\0", 3), "abc"));
}

TEST_CASE("bearer_token_problem: token68 characters only, never quoting the token") {
  CHECK(bearer_token_problem("abc-DEF_123.~+/==") == "");
  CHECK(bearer_token_problem("").find("is empty") == 0);
  CHECK(bearer_token_problem("===") != "");
  std::string p = bearer_token_problem("secret value");
  CHECK(p.find("cannot carry") != std::string::npos);
  CHECK(p.find("secret") == std::string::npos);
  CHECK(bearer_token_problem("a=b") != "");  // '=' only at the end
}

TEST_CASE("BearerAuth::check: scheme is case-insensitive; other schemes and no header are Missing") {
  BearerAuth auth({"tok1", "tok2"});
  CHECK(auth.check(with_auth("/x", "Bearer tok1")) == AuthResult::Ok);
  CHECK(auth.check(with_auth("/x", "bearer tok2")) == AuthResult::Ok);
  CHECK(auth.check(with_auth("/x", "BEARER  tok1 ")) == AuthResult::Ok);
  CHECK(auth.check(with_auth("/x", "Bearer tok3")) == AuthResult::Invalid);
  CHECK(auth.check(with_auth("/x", "Bearer ")) == AuthResult::Missing);
  CHECK(auth.check(with_auth("/x", "Basic tok1")) == AuthResult::Missing);
  CHECK(auth.check(with_auth("/x", "")) == AuthResult::Missing);
  CHECK_FALSE(BearerAuth().enabled());
}

TEST_CASE("401 answers are FastAPI-shaped with WWW-Authenticate") {
  httplib::Response res;
  reply_unauthorized(res, AuthResult::Missing);
  CHECK(res.status == 401);
  CHECK(res.body == R"({"detail":"Not authenticated"})");
  CHECK(res.get_header_value("WWW-Authenticate") == "Bearer");
  httplib::Response bad;
  reply_unauthorized(bad, AuthResult::Invalid);
  CHECK(bad.body == R"({"detail":"Invalid authentication credentials"})");
  CHECK(bad.get_header_value("WWW-Authenticate") == "Bearer error=\"invalid_token\"");
}

TEST_CASE("admit: every endpoint but /healthz and the docs pages needs the token") {
  Gate g({"tok"});
  CHECK(g.admit("/healthz") == 0);
  CHECK(g.admit("/docs") == 0);
  CHECK(g.admit("/redoc") == 0);
  CHECK(g.admit("/docs/assets/swagger-ui.css") == 0);
  for (const char* p : {"/users", "/openapi.json", "/media/a.png", "/jobs/1", "/unknown", "/metrics"}) {
    CAPTURE(p);
    CHECK(g.admit(p) == 401);
    CHECK(g.admit(p, "Bearer nope") == 401);
    CHECK(g.admit(p, "Bearer tok") == 0);
  }
}

TEST_CASE("admit: docs_public opens /openapi.json only") {
  Gate g({"tok"}, true);
  CHECK(g.admit("/openapi.json") == 0);
  CHECK(g.admit("/users") == 401);
}

TEST_CASE("admit: without tokens everything passes") {
  Gate g({});
  CHECK(g.admit("/users") == 0);
  CHECK(g.admit("/openapi.json") == 0);
}

TEST_CASE("the docs pages ask for the token only when the spec is protected") {
  CHECK(Gate({"tok"}).app->openapi_json().find(R"("securitySchemes":{"HTTPBearer")") != std::string::npos);
  CHECK(Gate({"tok"}).app->openapi_json().find(R"("security":[{"HTTPBearer":[]}])") != std::string::npos);
  CHECK(Gate({}).app->openapi_json().find("securitySchemes") == std::string::npos);
  Gate g({"tok"});
  httplib::Request req = with_auth("/docs", "");
  httplib::Response res;
  g.app->handle(req, res);
  CHECK(res.body.find("pxt-token") != std::string::npos);
  Gate open({"tok"}, true);
  httplib::Response res2;
  open.app->handle(req, res2);
  CHECK(res2.body.find("pxt-token") == std::string::npos);
}

TEST_CASE("exposure warning: one line, only without auth on a non-loopback address") {
  ServiceSpec s;
  s.host = "0.0.0.0";
  std::string w = exposure_warning(s);
  CHECK(w.rfind("pxt: warning: serving without authentication on 0.0.0.0", 0) == 0);
  CHECK(w.find('\n') == w.size() - 1);
  for (const char* h : {"127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"}) {
    s.host = h;
    CHECK(exposure_warning(s) == "");
  }
  s.host = "192.168.1.5";
  CHECK(exposure_warning(s) != "");
  s.auth_tokens = {"t"};
  CHECK(exposure_warning(s) == "");
}
