// The connection protocol (serve/http/session.hpp) on raw bytes, through serve_bytes(): pipelined
// requests answered in order whatever the split of the input, an answer that closes ends the
// connection (nothing after it is read as a request), the gate before the body (auth, limits,
// 100 Continue, endpoints that take no body), and the headers this layer owns.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "serve/app/app.hpp"
#include "serve/http/setup.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

struct Harness {
  FakeStore store;
  ServiceSpec service;
  std::vector<BoundRoute> routes;
  std::unique_ptr<ServeApp> app;

  explicit Harness(std::vector<std::string> tokens = {}, std::vector<std::string> cors = {}) {
    service.auth_tokens = std::move(tokens);
    service.cors_origins = std::move(cors);
    service.max_body_mb = 1;  // the limit these tests' bodies are sized against (the default is 32)
    routes = {table_route(RouteType::Insert, "/users"), query_route("/lookup", "GET", false)};
    auto created = ServeApp::create(store, service, routes);
    REQUIRE(created.ok());
    app = std::move(created).value();
    store.rows = {user_row(7, "ann")};
  }
  std::string run(const std::string& bytes, size_t chunk = 0) {
    return serve_bytes(*app, bytes, chunk, LogFormat::Off);
  }
};

struct Answer {
  int status = 0;
  std::string head;
  std::string body;
};

// Splits what the server wrote into answers (Content-Length framing; 1xx and 304 have no body).
std::vector<Answer> answers(const std::string& wire) {
  std::vector<Answer> out;
  size_t pos = 0;
  while (pos < wire.size()) {
    size_t end = wire.find("\r\n\r\n", pos);
    REQUIRE(end != std::string::npos);
    Answer a;
    a.head = wire.substr(pos, end + 4 - pos);
    a.status = std::stoi(a.head.substr(9, 3));
    pos = end + 4;
    size_t cl = a.head.find("Content-Length: ");
    if (cl != std::string::npos) {
      size_t n = std::stoul(a.head.substr(cl + 16));
      a.body = wire.substr(pos, n);
      pos += n;
    }
    out.push_back(a);
  }
  return out;
}

const std::string kGet = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

}  // namespace

TEST_CASE("pipelined requests are all answered, in order, for every split of the input") {
  Harness h;
  const std::string bytes = kGet + kGet + kGet + post("/users", R"({"id": 7})") +
                            "GET /lookup?q=ann HTTP/1.1\r\nHost: x\r\n\r\n" + kGet;
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{5}, size_t{64}}) {
    CAPTURE(chunk);
    auto a = answers(h.run(bytes, chunk));
    REQUIRE(a.size() == 6);
    CHECK(a[0].body == R"({"status":"ok"})");
    CHECK(a[2].body == R"({"status":"ok"})");
    CHECK(a[3].status == 200);
    CHECK(a[3].body.find(R"("id":7)") != std::string::npos);
    CHECK(a[4].status == 200);
    CHECK(a[4].body.find("rows") != std::string::npos);
    CHECK(a[5].body == R"({"status":"ok"})");
    for (const auto& x : a) CHECK(x.head.find("Connection") == std::string::npos);
  }
}

TEST_CASE("a chunked body and the next request in the same read") {
  Harness h;
  std::string bytes =
      "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
      "chunked\r\n\r\n"
      "4\r\n{\"id\r\n5\r\n\": 7}\r\n0\r\n\r\n" +
      kGet;
  for (size_t chunk : {size_t{0}, size_t{3}}) {
    auto a = answers(h.run(bytes, chunk));
    REQUIRE(a.size() == 2);
    CHECK(a[0].status == 200);
    CHECK(a[1].body == R"({"status":"ok"})");
  }
}

TEST_CASE("framing the layer cannot trust is answered and the connection ends there") {
  Harness h;
  auto a = answers(h.run(
      "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
      kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 400);
  CHECK(a[0].head.find("Connection: close\r\n") != std::string::npos);
  CHECK(a[0].body.find("both Content-Length and Transfer-Encoding") != std::string::npos);
  a = answers(h.run("POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 70\r\n\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 400);
  a = answers(h.run("POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 501);
  a = answers(h.run("GET /healthz HTTP/1.1\r\n\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 400);
  CHECK(a[0].body.find("missing Host") != std::string::npos);
  a = answers(
      h.run("POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 400);
}

TEST_CASE("a 401 closes: the request smuggled in its body is never answered") {
  Harness h({"sekrit"});
  std::string smuggled = "GET /lookup?q=x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekrit\r\n\r\n";
  // The body has not fully arrived (its declared length is larger): the connection closes.
  std::string bytes = "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n" + smuggled;
  auto a = answers(h.run(bytes));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 401);
  CHECK(a[0].head.find("Connection: close\r\n") != std::string::npos);
  CHECK(a[0].head.find("Keep-Alive") == std::string::npos);
  CHECK(h.store.calls == 0);
  // A body that is all here is skipped as a body, never parsed as a request.
  a = answers(h.run(post("/users", smuggled) + kGet));
  REQUIRE(a.size() == 2);
  CHECK(a[0].status == 401);
  CHECK(a[1].status == 200);
  CHECK(h.store.calls == 0);
}

TEST_CASE("100 Continue only after auth and the size limit pass") {
  Harness h({"sekrit"});
  std::string head =
      "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n";
  auto a = answers(h.run(head + "Content-Length: 9\r\n\r\n"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 401);
  a = answers(h.run(head + "Authorization: Bearer sekrit\r\nContent-Length: 5000000\r\n\r\n"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 413);
  a = answers(h.run(head + "Authorization: Bearer sekrit\r\nContent-Length: 9\r\n\r\n{\"id\": 7}"));
  REQUIRE(a.size() == 2);
  CHECK(a[0].status == 100);
  CHECK(a[1].status == 200);
}

TEST_CASE("/healthz takes GET and HEAD; other methods get 405 without their body being read") {
  Harness h;
  // The body is still on its way (declared 1 MB): answered at once, connection closed.
  auto a = answers(h.run("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 405);
  CHECK(a[0].head.find("Allow: GET, HEAD") != std::string::npos);
  // HEAD: Content-Length as for GET, no body bytes (the next answer follows the head at once).
  std::string wire = h.run("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + kGet);
  size_t end = wire.find("\r\n\r\n");
  CHECK(wire.substr(0, 15) == "HTTP/1.1 200 OK");
  CHECK(wire.substr(0, end).find("Content-Length: 15") != std::string::npos);
  a = answers(wire.substr(end + 4));
  REQUIRE(a.size() == 1);
  CHECK(a[0].body == R"({"status":"ok"})");
}

TEST_CASE("HTTP/1.0: answered with Connection: close only, or kept alive when asked") {
  Harness h;
  auto a = answers(h.run("GET /healthz HTTP/1.0\r\n\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].head.find("Connection: close\r\n") != std::string::npos);
  CHECK(a[0].head.find("Keep-Alive") == std::string::npos);
  a = answers(h.run("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + kGet));
  REQUIRE(a.size() == 2);
  CHECK(a[0].head.find("Connection: keep-alive\r\n") != std::string::npos);
}

TEST_CASE("compression: gzip when accepted with a weight above zero, Vary on negotiable answers") {
  Harness h;
  std::string get = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n";
  auto a = answers(h.run(get + "Accept-Encoding: gzip\r\n\r\n"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].head.find("Content-Encoding: gzip\r\n") != std::string::npos);
  CHECK(a[0].head.find("Vary: Accept-Encoding\r\n") != std::string::npos);
  a = answers(h.run(get + "Accept-Encoding: gzip;q=0\r\n\r\n"));
  CHECK(a[0].head.find("Content-Encoding") == std::string::npos);
  CHECK(a[0].head.find("Vary: Accept-Encoding\r\n") != std::string::npos);
  CHECK(a[0].body.substr(0, 1) == "{");
  CHECK(a[0].head.find("Accept-Ranges") == std::string::npos);
  // With CORS, one Vary lists both.
  Harness cors({}, {"https://app.example"});
  a = answers(cors.run(get + "Origin: https://app.example\r\n\r\n"));
  CHECK(a[0].head.find("Vary: Origin, Accept-Encoding\r\n") != std::string::npos);
}

TEST_CASE("a head over the caps: 431 (fields or size) and 414 (request line), then the end") {
  Harness h;
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  auto a = answers(h.run(many + "\r\n" + kGet));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 431);
  CHECK(a[0].head.find("Connection: close\r\n") != std::string::npos);
  a = answers(h.run("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(200000, 'a') + "\r\n\r\n"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 431);
  a = answers(h.run("GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 414);
}

TEST_CASE("a body over the limit is refused at the first byte past it, and the connection ends") {
  Harness h;
  std::string chunked = "POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string chunk = "100000\r\n" + std::string(0x100000, ' ') + "\r\n";
  auto a = answers(h.run(chunked + chunk + chunk + "0\r\n\r\n" + kGet, 65536));
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 413);
  CHECK(a[0].body.find("the limit is 1 MB") != std::string::npos);
}
