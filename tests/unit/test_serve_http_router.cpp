// The router: exact paths, several methods on one path (Allow), prefixes, duplicates.
#include <doctest/doctest.h>

#include "serve/http/router.hpp"

using namespace pxt;

TEST_CASE("exact paths match by method; another method is 405 with every allowed one") {
  Router r;
  REQUIRE(r.add("POST", "/search", Target{Endpoint::Route, 0}).ok());
  REQUIRE(r.add("GET", "/search", Target{Endpoint::Route, 1}).ok());
  auto post = r.match("POST", "/search");
  REQUIRE(post.kind == RouteMatch::Kind::Found);
  CHECK(post.target->route == 0);
  CHECK(r.match("GET", "/search").target->route == 1);
  auto put = r.match("PUT", "/search");
  CHECK(put.kind == RouteMatch::Kind::MethodNotAllowed);
  CHECK(put.allow == "POST, GET");
  CHECK(r.match("POST", "/search/").kind == RouteMatch::Kind::NotFound);
  CHECK(r.match("POST", "/Search").kind == RouteMatch::Kind::NotFound);
}

TEST_CASE("the same method and path twice is refused") {
  Router r;
  REQUIRE(r.add("POST", "/v1/c", Target{}).ok());
  auto again = r.add("POST", "/v1/c", Target{});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message == "route already registered: POST '/v1/c'");
}

TEST_CASE("prefixes match longer paths only, and exact paths win over them") {
  Router r;
  REQUIRE(r.add_prefix("GET", "/v1/media/", Target{Endpoint::Media}).ok());
  REQUIRE(r.add("GET", "/v1/media/special", Target{Endpoint::Healthz}).ok());
  auto m = r.match("GET", "/v1/media/a/b.png");
  REQUIRE(m.kind == RouteMatch::Kind::Found);
  CHECK(m.target->kind == Endpoint::Media);
  CHECK(m.rest == "a/b.png");
  CHECK(r.match("GET", "/v1/media/").kind == RouteMatch::Kind::NotFound);
  CHECK(r.match("GET", "/v1/media/special").target->kind == Endpoint::Healthz);
  auto post = r.match("POST", "/v1/media/x");
  CHECK(post.kind == RouteMatch::Kind::MethodNotAllowed);
  CHECK(post.allow == "GET");
}

TEST_CASE("knows_path sees exact and prefixed paths whatever the method") {
  Router r;
  REQUIRE(r.add("POST", "/a", Target{}).ok());
  REQUIRE(r.add_prefix("GET", "/jobs/", Target{Endpoint::Jobs}).ok());
  CHECK(r.knows_path("/a"));
  CHECK(r.knows_path("/jobs/123"));
  CHECK_FALSE(r.knows_path("/b"));
}
