// /metrics: Prometheus text rendering (counters by route and status, cumulative histogram),
// label escaping, collectors, and ServeApp's slot choice (routes, built-ins, unmatched).
#include <doctest/doctest.h>

#include "serve/app/app.hpp"
#include "serve/http/metrics.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {
bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("render: counters per status, cumulative buckets, sum and count; idle slots add nothing") {
  RequestMetrics m;
  size_t a = m.add_slot("POST", "/users");
  m.add_slot("GET", "/idle");
  m.record(a, 200, 0.0004);
  m.record(a, 200, 0.003);
  m.record(a, 422, 20);
  std::string out;
  m.render(out);
  CHECK(has_line(out, "# TYPE pxt_http_requests_total counter"));
  CHECK(has_line(out, R"(pxt_http_requests_total{method="POST",route="/users",status="200"} 2)"));
  CHECK(has_line(out, R"(pxt_http_requests_total{method="POST",route="/users",status="422"} 1)"));
  CHECK(has_line(out, "# TYPE pxt_http_request_duration_seconds histogram"));
  CHECK(has_line(out,
                 R"(pxt_http_request_duration_seconds_bucket{method="POST",route="/users",le="0.0005"} 1)"));
  CHECK(has_line(out,
                 R"(pxt_http_request_duration_seconds_bucket{method="POST",route="/users",le="0.0025"} 1)"));
  CHECK(has_line(out,
                 R"(pxt_http_request_duration_seconds_bucket{method="POST",route="/users",le="0.005"} 2)"));
  CHECK(has_line(out, R"(pxt_http_request_duration_seconds_bucket{method="POST",route="/users",le="10"} 2)"));
  CHECK(
      has_line(out, R"(pxt_http_request_duration_seconds_bucket{method="POST",route="/users",le="+Inf"} 3)"));
  CHECK(has_line(out, R"(pxt_http_request_duration_seconds_count{method="POST",route="/users"} 3)"));
  CHECK(has_line(out, R"(pxt_http_request_duration_seconds_sum{method="POST",route="/users"} 20.0034)"));
  CHECK(out.find("/idle") == std::string::npos);
  CHECK(out.back() == '\n');
}

TEST_CASE("label values are escaped") {
  CHECK(metrics::escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  RequestMetrics m;
  m.record(m.add_slot("GET", "/we\"ird"), 200, 0.001);
  std::string out;
  m.render(out);
  CHECK(out.find(R"(route="/we\"ird")") != std::string::npos);
}

TEST_CASE("collectors append their own series after the request metrics") {
  int id = metrics::add_collector([](std::string& out) {
    metrics::append_header(out, "pxt_jobs", "Jobs by status.", "gauge");
    out += "pxt_jobs{status=\"done\"} 3\n";
  });
  FakeStore store;
  ServiceSpec service;
  service.prefix = "/v1";
  std::vector<BoundRoute> routes = {table_route(RouteType::Insert, "/users", "/v1")};
  auto app = ServeApp::create(store, service, routes).take();
  auto call = [&](const std::string& method, const std::string& path) {
    httplib::Request req = json_request(method, path, "");
    httplib::Response res;
    app->handle(req, res);
    app->record(req, res.status, 0.002);
    return res;
  };
  call("GET", "/healthz");
  call("GET", "/v1/media/a/b.png");
  call("GET", "/v1/media/c.png");
  call("GET", "/nope/1");
  call("GET", "/nope/2");
  call("POST", "/v1/users");
  httplib::Response res = call("GET", "/metrics");
  metrics::remove_collector(id);
  CHECK(res.status == 200);
  CHECK(res.get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& out = res.body;
  CHECK(has_line(out, R"(pxt_http_requests_total{method="GET",route="/healthz",status="200"} 1)"));
  CHECK(has_line(out, R"(pxt_http_requests_total{method="GET",route="/v1/media/{path}",status="404"} 2)"));
  CHECK(has_line(out, R"(pxt_http_requests_total{method="other",route="unmatched",status="404"} 2)"));
  CHECK(has_line(out, R"(pxt_http_requests_total{method="POST",route="/v1/users",status="422"} 1)"));
  CHECK(has_line(out, "# TYPE pxt_jobs gauge"));
  CHECK(has_line(out, R"(pxt_jobs{status="done"} 3)"));
  CHECK(out.find("pxt_jobs") > out.find("pxt_http_request_duration_seconds_count"));
}
