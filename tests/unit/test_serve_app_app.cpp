// ServeApp against a scripted store: every route kind, what reaches the store, status mapping
// for every Errc, reserved endpoints, 404/405/307, and that no exception escapes.
#include <doctest/doctest.h>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

struct AppHarness {
  FakeStore store;
  ServiceSpec service;
  std::vector<BoundRoute> routes;
  std::unique_ptr<ServeApp> app;

  AppHarness() {
    service.title = "Test <API>";
    service.prefix = "/v1";
    routes = {table_route(RouteType::Insert, "/users", "/v1"),
              table_route(RouteType::Update, "/users/update", "/v1"),
              table_route(RouteType::Delete, "/users/delete", "/v1"),
              table_route(RouteType::Compute, "/preview", "/v1"),
              query_route("/v1/search", "POST", false),
              query_route("/v1/lookup", "GET", true)};
    auto created = ServeApp::create(store, service, routes);
    REQUIRE(created.ok());
    app = std::move(created).value();
  }

  httplib::Response call(const std::string& method, const std::string& path, const std::string& body = "") {
    httplib::Request req = json_request(method, path, body);
    httplib::Response res;
    log_request_start();
    app->handle(req, res);
    return res;
  }
  httplib::Response get(const std::string& path,
                        std::initializer_list<std::pair<std::string, std::string>> params) {
    httplib::Request req;
    req.method = "GET";
    req.path = path;
    for (const auto& p : params) req.params.emplace(p.first, p.second);
    httplib::Response res;
    log_request_start();
    app->handle(req, res);
    return res;
  }
};

}  // namespace

TEST_CASE("insert: all fields go to the store in field order; the stored row's outputs come back") {
  AppHarness h;
  h.store.rows = {user_row(7, "ann")};
  auto res = h.call("POST", "/v1/users", R"({"id": 7, "name": "ann"})");
  CHECK(res.status == 200);
  CHECK(res.body == R"({"id":7,"name":"ann","photo":"/v1/media/img/1.png","shout":"SHOUT"})");
  CHECK(h.store.last_call == "insert");
  CHECK(h.store.last_columns == std::vector<std::string>{"id", "name", "score", "tags"});
  REQUIRE(h.store.last_rows.size() == 1);
  CHECK(std::get<int64_t>(h.store.last_rows[0][0]) == 7);
  CHECK(is_null(h.store.last_rows[0][2]));
}

TEST_CASE("a request that fails validation never reaches the store") {
  AppHarness h;
  auto res = h.call("POST", "/v1/users", R"({"name": "ann"})");
  CHECK(res.status == 422);
  CHECK(h.store.calls == 0);
}

TEST_CASE("update: key filters, only given inputs are set, explicit null sets null, 404 when no row") {
  AppHarness h;
  h.store.rows = {user_row(3, "bob")};
  auto res = h.call("POST", "/v1/users/update", R"({"id": 3, "score": null})");
  CHECK(res.status == 200);
  CHECK(res.body == R"({"id":3,"name":"bob","shout":"SHOUT"})");
  CHECK(h.store.last_call == "update");
  REQUIRE(h.store.last_filter.equals.size() == 1);
  CHECK(h.store.last_filter.equals[0].first == "id");
  REQUIRE(h.store.last_set.size() == 1);
  CHECK(h.store.last_set[0].first == "score");
  CHECK(is_null(h.store.last_set[0].second));

  h.store.rows.clear();
  auto missing = h.call("POST", "/v1/users/update", R"({"id": 4, "name": "x"})");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"detail":"row not found"})");

  // Only the key: nothing to change, the current row (or 404) is answered without writing.
  auto none = h.call("POST", "/v1/users/update", R"({"id": 4})");
  CHECK(h.store.last_call == "select");
  CHECK(none.status == 404);
  h.store.rows = {user_row(4, "dee")};
  CHECK(h.call("POST", "/v1/users/update", R"({"id": 4})").body ==
        R"({"id":4,"name":"dee","shout":"SHOUT"})");

  // The key is required; inputs are not.
  auto no_key = h.call("POST", "/v1/users/update", R"({"name": "x"})");
  CHECK(no_key.status == 422);
  CHECK(no_key.body.find(R"("loc":["body","id"])") != std::string::npos);
}

TEST_CASE("delete: match columns filter, num_rows answered, 0 is not an error") {
  AppHarness h;
  h.store.removed = 2;
  auto res = h.call("POST", "/v1/users/delete", R"({"id": 9})");
  CHECK(res.status == 200);
  CHECK(res.body == R"({"num_rows":2})");
  CHECK(h.store.last_filter.equals.size() == 1);
  h.store.removed = 0;
  CHECK(h.call("POST", "/v1/users/delete", R"({"id": 9})").body == R"({"num_rows":0})");
}

TEST_CASE("compute: evaluates without storing and answers the outputs") {
  AppHarness h;
  h.store.computed = user_row(1, "cy");
  auto res = h.call("POST", "/v1/preview", R"({"id": 1, "name": "cy"})");
  CHECK(res.status == 200);
  CHECK(h.store.last_call == "compute");
  CHECK(res.body == R"({"id":1,"name":"cy","photo":"/v1/media/img/1.png","shout":"SHOUT"})");
}

TEST_CASE("query: rows with defaults applied; one_row answers the row, 404 for none, 409 for several") {
  AppHarness h;
  Row r1 = {Value(int64_t{1}), Value(std::string("a")), Value(std::string("p/1.png")), Value(2.5)};
  Row r2 = {Value(int64_t{2}), Value(), Value(), Value(int64_t{3})};
  h.store.rows = {r1, r2};
  auto res = h.call("POST", "/v1/search", R"({"q": "x"})");
  CHECK(res.status == 200);
  CHECK(
      res.body ==
      R"({"rows":[{"id":1,"name":"a","photo":"/v1/media/p/1.png","n":2.5},{"id":2,"name":null,"photo":null,"n":3}]})");
  REQUIRE(h.store.last_params.size() == 2);
  CHECK(std::get<int64_t>(h.store.last_params[1]) == 10);

  h.store.rows.clear();
  CHECK(h.call("POST", "/v1/search", R"({"q": "x"})").body == R"({"rows":[]})");

  auto none = h.get("/v1/lookup", {{"q", "x"}, {"limit", "5"}});
  CHECK(none.status == 404);
  CHECK(none.body == R"({"detail":"query returned no rows"})");
  CHECK(std::get<int64_t>(h.store.last_params[1]) == 5);
  h.store.rows = {r1};
  CHECK(h.get("/v1/lookup", {{"q", "x"}}).body ==
        R"({"id":1,"name":"a","photo":"/v1/media/p/1.png","n":2.5})");
  h.store.rows = {r1, r2, r1};
  auto many = h.get("/v1/lookup", {{"q", "x"}});
  CHECK(many.status == 409);
  CHECK(
      many.body ==
      R"({"detail":"Query returned 3 rows; expected exactly 1 for one_row=True. Change the query to return exactly one row."})");
  auto bad = h.get("/v1/lookup", {{"limit", "x"}});
  CHECK(bad.status == 422);
  CHECK(bad.body.find(R"("loc":["query","q"])") != std::string::npos);
}

TEST_CASE("store errors answer Pixeltable's error body with their code's status; internals stay in the log") {
  AppHarness h;
  auto answer = [&](Error e) {
    h.store.fail = std::move(e);
    return h.call("POST", "/v1/users", R"({"id": 1})");
  };
  auto status_for = [&](Errc code, const std::string& msg) { return answer(make_error(code, msg)); };
  // An Errc alone gets its default code.
  auto bad = status_for(Errc::invalid_argument, "column 'x': bad value");
  CHECK(bad.status == 400);
  CHECK(
      bad.body ==
      R"({"detail":{"error_code":"GENERIC_USER_ERROR","message":"column 'x': bad value","retryable":false}})");
  CHECK(status_for(Errc::not_found, "nope").body.find(R"("error_code":"PATH_NOT_FOUND")") !=
        std::string::npos);
  CHECK(status_for(Errc::not_found, "nope").status == 404);
  CHECK(status_for(Errc::already_exists, "dup").status == 409);
  auto lib = status_for(Errc::unsupported, "resize() needs libvips.so.42: apt-get install libvips42");
  CHECK(lib.status == 500);  // the server's to fix, and the message says how
  CHECK(lib.body.find(R"("error_code":"INTERNAL_ERROR","message":"resize() needs libvips.so.42)") !=
        std::string::npos);
  // A code set by the store wins: a duplicate key is 422 CONSTRAINT_VIOLATION, Pixeltable's words.
  auto dup = answer(
      with_code(make_error(Errc::already_exists, "Duplicate primary key value: Key (id)=(1) already exists."),
                ErrorCode::constraint_violation));
  CHECK(dup.status == 422);
  CHECK(
      dup.body ==
      R"({"detail":{"error_code":"CONSTRAINT_VIOLATION","message":"Duplicate primary key value: Key (id)=(1) already exists.","retryable":false}})");
  // The route-level plain answers keep their shape.
  auto changed = status_for(Errc::schema_changed, "version 3 != 2");
  CHECK(changed.status == 409);
  CHECK(changed.body ==
        R"({"detail":"table schema changed since route was registered; please restart the service"})");
  auto conflict = status_for(Errc::conflict, "two writers");
  CHECK(conflict.status == 409);
  CHECK(conflict.body == R"({"detail":"two writers"})");
  auto busy = status_for(Errc::busy, "locked");
  CHECK(busy.status == 503);
  CHECK(busy.get_header_value("Retry-After") == "1");
  CHECK(
      busy.body ==
      R"({"detail":{"error_code":"STORE_UNAVAILABLE","message":"the store is busy; retry shortly","retryable":true,"retry_after":1.0}})");
  auto full = status_for(Errc::no_space, "write failed: ENOSPC");
  CHECK(full.status == 507);
  CHECK(full.body.find(R"({"detail":{"error_code":"FILE_CACHE_FULL","message":"insufficient storage)") == 0);
  CHECK(current_error_note() == "write failed: ENOSPC");
  auto internal = status_for(Errc::internal, "sqlite said: disk I/O error at /secret/path");
  CHECK(internal.status == 500);
  CHECK(internal.body == R"({"detail":"internal server error"})");
  CHECK(current_error_note() == "sqlite said: disk I/O error at /secret/path");
  CHECK(status_for(Errc::io, "read failed").status == 500);
}

TEST_CASE("a model provider's error reaches the client with its code, cause, retry_after and provider") {
  AppHarness h;
  // What the store returns when a computed column's model call was rate-limited past its retries.
  Error e = make_error(ErrorCode::rate_limited, "computed column 'answer' failed: chat(): rate limited");
  e.cause = "chat(): rate limited";
  e.retry_after = 2.5;
  e.provider = "openai";
  e.provider_status = 429;
  h.store.fail = e;
  auto res = h.call("POST", "/v1/users", R"({"id": 1})");
  CHECK(res.status == 429);
  CHECK(res.get_header_value("Retry-After") == "3");
  CHECK(
      res.body ==
      R"({"detail":{"error_code":"RATE_LIMITED","message":"computed column 'answer' failed: chat(): rate limited","retryable":true,"cause":"chat(): rate limited","retry_after":2.5,"provider":"openai","provider_http_status_code":429}})");
  for (auto [code, status] : {std::pair{ErrorCode::provider_error, 502},
                              {ErrorCode::provider_auth_error, 401},
                              {ErrorCode::provider_bad_request, 400},
                              {ErrorCode::provider_timeout, 504},
                              {ErrorCode::provider_overloaded, 503}}) {
    h.store.fail = make_error(code, "x");
    CHECK(h.call("POST", "/v1/users", R"({"id": 1})").status == status);
  }
  // Secrets in a message are redacted.
  h.store.fail = make_error(ErrorCode::store_unavailable, "lost postgresql://app:hunter2@db/x");
  auto lost = h.call("POST", "/v1/users", R"({"id": 1})");
  CHECK(lost.status == 503);
  CHECK(lost.body.find("hunter2") == std::string::npos);
}

TEST_CASE("an exception inside a handler becomes a 500 without details") {
  AppHarness h;
  h.store.throw_bad = true;
  auto res = h.call("POST", "/v1/users", R"({"id": 1})");
  CHECK(res.status == 500);
  CHECK(res.body == R"({"detail":"internal server error"})");
  CHECK(current_error_note().find("boom") != std::string::npos);
}

TEST_CASE("unknown path 404, wrong method 405 with Allow, trailing slash redirected") {
  AppHarness h;
  auto nf = h.call("POST", "/nope");
  CHECK(nf.status == 404);
  CHECK(nf.body == R"({"detail":"Not Found"})");
  auto wrong = h.call("GET", "/v1/users");
  CHECK(wrong.status == 405);
  CHECK(wrong.body == R"({"detail":"Method Not Allowed"})");
  CHECK(wrong.get_header_value("Allow") == "POST");
  CHECK(h.call("PUT", "/docs").get_header_value("Allow") == "GET, HEAD");
  CHECK(h.call("HEAD", "/healthz").status == 200);
  CHECK(h.call("HEAD", "/v1/lookup").status == 405);
  httplib::Request req = json_request("GET", "/docs/", "");
  req.target = "/docs/?x=1";
  httplib::Response res;
  h.app->handle(req, res);
  CHECK(res.status == 307);
  CHECK(res.get_header_value("Location") == "/docs?x=1");
}

TEST_CASE("reserved endpoints: openapi, docs, redoc, assets, healthz, media not yet, unknown jobs") {
  AppHarness h;
  auto api = h.call("GET", "/openapi.json");
  CHECK(api.status == 200);
  CHECK(api.body == h.app->openapi_json());
  CHECK(api.body.find(R"("title":"Test <API>")") != std::string::npos);
  auto docs = h.call("GET", "/docs");
  CHECK(docs.status == 200);
  CHECK(docs.get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(docs.body.find("Test &lt;API&gt; - Swagger UI") != std::string::npos);
  CHECK(docs.body.find(R"(url: "openapi.json")") != std::string::npos);
  CHECK(docs.body.find("docs/assets/swagger-ui-bundle.js") != std::string::npos);
  CHECK(h.call("GET", "/redoc").body.find("docs/assets/redoc.standalone.js") != std::string::npos);
  auto css = h.call("GET", "/docs/assets/swagger-ui.css");
  CHECK(css.status == 200);
  CHECK(css.get_header_value("Content-Type") == "text/css");
  CHECK(h.call("GET", "/docs/assets/nothing.js").status == 404);
  CHECK(h.call("GET", "/healthz").body == R"({"status":"ok"})");
  h.store.ping_ok = false;
  CHECK(h.call("GET", "/healthz").status == 503);
  auto media = h.call("GET", "/v1/media/a.png");
  CHECK(media.status == 404);
  CHECK(media.body == R"({"detail":"Not Found"})");
  CHECK(h.call("GET", "/v1/jobs/abc").body == R"({"detail":"unknown job id"})");
  CHECK(h.call("GET", "/media/a.png").status == 404);
}

TEST_CASE("a body over max_body_mb is 413") {
  AppHarness h;
  auto res = h.call("POST", "/v1/users", std::string(h.app->max_body_bytes() + 1, ' '));
  CHECK(res.status == 413);
  CHECK(res.body.find("limit is 32 MB") != std::string::npos);  // the default: a pasted document fits
}

TEST_CASE("two routes on the same method and path are refused at start") {
  FakeStore store;
  ServiceSpec service;
  std::vector<BoundRoute> routes = {table_route(RouteType::Insert, "/a"),
                                    table_route(RouteType::Delete, "/a")};
  auto app = ServeApp::create(store, service, routes);
  REQUIRE_FALSE(app.ok());
  CHECK(app.error().message == "route already registered: POST '/a'");
}
