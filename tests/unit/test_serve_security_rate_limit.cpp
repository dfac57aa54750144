// Rate limiter: parsing "N/s|m|h", token-bucket refill, Retry-After, per-client buckets and the
// bounded client table; and the 429 from ServeApp::admit.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "serve/app/app.hpp"
#include "serve/security/rate_limit.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;
using namespace std::chrono_literals;

TEST_CASE("parse_rate_limit: N/s, N/m, N/h; anything else quotes the text") {
  CHECK(parse_rate_limit("100/s")->per_second == doctest::Approx(100));
  CHECK(parse_rate_limit("100/s")->burst == doctest::Approx(100));
  CHECK(parse_rate_limit("120/m")->per_second == doctest::Approx(2));
  CHECK(parse_rate_limit("3600/h")->per_second == doctest::Approx(1));
  for (const char* bad : {"", "100", "/s", "0/s", "-1/s", "10/x", "10/ s", "1e3/s", "ten/s", "10/sec"}) {
    CAPTURE(bad);
    auto r = parse_rate_limit(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("'" + std::string(bad) + "' is not a rate") == 0);
  }
}

TEST_CASE("a bucket allows the burst, then refuses with Retry-After, then refills") {
  RateLimiter rl(*parse_rate_limit("3/s"));
  auto t0 = RateLimiter::Clock::time_point() + 1000s;
  for (int i = 0; i < 3; ++i) CHECK(rl.take("a", t0).allowed);
  RateDecision d = rl.take("a", t0);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_s == 1);
  CHECK(rl.take("b", t0).allowed);          // another client has its own bucket
  CHECK(rl.take("a", t0 + 340ms).allowed);  // one token back after 1/3 s
  CHECK_FALSE(rl.take("a", t0 + 340ms).allowed);
  for (int i = 0; i < 3; ++i) CHECK(rl.take("a", t0 + 10s).allowed);  // refilled, never above burst
  CHECK_FALSE(rl.take("a", t0 + 10s).allowed);
}

TEST_CASE("Retry-After rounds the wait up to whole seconds") {
  RateLimiter rl(*parse_rate_limit("1/m"));
  auto t0 = RateLimiter::Clock::time_point() + 1000s;
  CHECK(rl.take("a", t0).allowed);
  CHECK(rl.take("a", t0).retry_after_s == 60);
  CHECK(rl.take("a", t0 + 30s).retry_after_s == 30);
}

TEST_CASE("the client table is bounded: the least recently seen client is forgotten") {
  RateLimiter rl(*parse_rate_limit("1/h"), 16 * 4);  // 4 per shard
  auto t0 = RateLimiter::Clock::time_point() + 1000s;
  for (int i = 0; i < 10000; ++i)
    rl.take("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), t0);
  CHECK(rl.tracked() <= 64);
  CHECK(rl.tracked() > 0);
}

TEST_CASE("admit answers 429 with Retry-After once a client's bucket is empty; /healthz is exempt") {
  FakeStore store;
  ServiceSpec service;
  service.rate_limit = "2/m";
  std::vector<BoundRoute> routes = {table_route(RouteType::Insert, "/users", "")};
  auto app = ServeApp::create(store, service, routes).take();
  auto admit = [&](const std::string& path, const std::string& client) {
    httplib::Request req = json_request("POST", path, "");
    req.remote_addr = client;
    httplib::Response res;
    return app->admit(req, res) ? std::make_pair(0, std::string()) : std::make_pair(res.status, res.body);
  };
  CHECK(admit("/users", "1.1.1.1").first == 0);
  CHECK(admit("/users", "1.1.1.1").first == 0);
  auto refused = admit("/users", "1.1.1.1");
  CHECK(refused.first == 429);
  CHECK(refused.second.find(R"({"detail":"Rate limit exceeded)") == 0);
  CHECK(admit("/healthz", "1.1.1.1").first == 0);
  CHECK(admit("/users", "2.2.2.2").first == 0);
  httplib::Request req = json_request("POST", "/users", "");
  req.remote_addr = "1.1.1.1";
  httplib::Response res;
  CHECK_FALSE(app->admit(req, res));
  CHECK(std::stoi(res.get_header_value("Retry-After")) >= 1);
}

TEST_CASE("a shared bucket is taken from in chunks and spent locally; unspent tokens expire") {
  int calls = 0;
  std::vector<std::string> clients;
  int64_t left = 25;  // the store's bucket for client "a"
  RateLimiter rl(*parse_rate_limit("100/s"),
                 [&](std::string_view client, int64_t want) -> Result<SharedTake> {
                   ++calls;
                   clients.emplace_back(client);
                   int64_t n = std::min(want, left);
                   left -= n;
                   return SharedTake{n, n > 0 ? 0.0 : 0.25};
                 });
  CHECK(rl.chunk() == 10);  // a tenth of the bucket
  auto t0 = RateLimiter::Clock::time_point() + 1000s;
  for (int i = 0; i < 10; ++i) CHECK(rl.take("a", t0).allowed);
  CHECK(calls == 1);  // one round trip for ten requests
  CHECK(rl.take("a", t0).allowed);
  CHECK(calls == 2);
  // Held longer than a chunk takes to refill (0.1 s here), unspent tokens are dropped: the next
  // request asks the store again, which has 5 left, then none.
  CHECK(rl.take("a", t0 + 200ms).allowed);
  CHECK(calls == 3);
  for (int i = 0; i < 4; ++i) CHECK(rl.take("a", t0 + 200ms).allowed);
  RateDecision d = rl.take("a", t0 + 200ms);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_s == 1);  // 0.25 s, rounded up
  CHECK(clients.front() == "a");
}

TEST_CASE("a shared bucket that cannot answer falls back to a bucket of this process") {
  RateLimiter rl(*parse_rate_limit("2/m"), [](std::string_view, int64_t) -> Result<SharedTake> {
    return make_error(Errc::busy, "the store is down");
  });
  CHECK(rl.chunk() == 1);
  auto t0 = RateLimiter::Clock::time_point() + 1000s;
  CHECK(rl.take("a", t0).allowed);
  CHECK(rl.take("a", t0).allowed);
  CHECK_FALSE(rl.take("a", t0).allowed);  // still limited, per process
}

TEST_CASE("concurrent requests of one client take one chunk between them, not one each") {
  std::atomic<int> chunks{0}, singles{0};
  std::atomic<bool> release{false};
  RateLimiter rl(*parse_rate_limit("1000/s"), [&](std::string_view, int64_t want) -> Result<SharedTake> {
    if (want > 1) {
      // The first chunk is still being taken while the others ask (the code before this rule
      // took a chunk for each: chunks == 6).
      if (++chunks == 1)
        while (!release) std::this_thread::yield();
    } else {
      ++singles;
    }
    return SharedTake{want, 0};
  });
  auto t0 = RateLimiter::Clock::time_point() + 1000s;
  std::thread first([&] { CHECK(rl.take("a", t0).allowed); });
  while (chunks == 0) std::this_thread::yield();
  for (int i = 0; i < 5; ++i) CHECK(rl.take("a", t0).allowed);  // while the chunk is in flight
  release = true;
  first.join();
  CHECK(chunks == 1);
  CHECK(singles == 5);
}
