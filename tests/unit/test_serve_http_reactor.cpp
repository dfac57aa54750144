// The connection layer on loopback (serve/http/reactor.hpp): the watchdog's rule, and a request
// that waits for a busy server is answered rather than cut by read_timeout_s (the time it waits
// for a thread is the server's, not the client's).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "serve/app/app.hpp"
#include "serve/http/reactor.hpp"
#include "serve_test_support.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

// Its queries wait until released: one request keeps the reactor's only thread busy.
class BlockingStore : public FakeStore {
 public:
  std::atomic<bool> entered{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Result<void> run_query(const QueryDef& q, const std::vector<Value>& params,
                         const RowCallback& cb) override {
    entered = true;
    released.wait();
    return FakeStore::run_query(q, params, cb);
  }
};

int listen_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 64) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(int fd, const std::string& s) {
  REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
}

// Reads until a whole JSON answer (ending in '}') or the end of the connection, 10 s at most.
std::string read_answer(int fd) {
  std::string out;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until && (out.empty() || out.back() != '}')) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

template <class F>
bool wait_for(F done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

}  // namespace

TEST_CASE("watchdog: deadlines, and unread bytes mean the server is behind, not the client") {
  using P = Session::Phase;
  auto none = [] { return 0; };
  auto some = [] { return 5; };
  CHECK_FALSE(watchdog_cuts(P::Head, 100, 50, false, none));
  CHECK(watchdog_cuts(P::Head, 100, 150, false, none));
  CHECK(watchdog_cuts(P::Body, 100, 150, false, none));
  CHECK(watchdog_cuts(P::Idle, 100, 150, false, none));
  CHECK_FALSE(watchdog_cuts(P::Head, 100, 150, false, some));
  CHECK_FALSE(watchdog_cuts(P::Body, 100, 150, false, some));
  CHECK_FALSE(watchdog_cuts(P::Idle, 100, 150, false, some));
  CHECK(watchdog_cuts(P::Writing, 100, 150, false, some));  // a reader too slow: input does not help
  CHECK_FALSE(watchdog_cuts(P::Head, 0, 150, false, none));
  CHECK(watchdog_cuts(P::Idle, 0, 0, true, some));  // stopping: idle connections go at once,
  CHECK(watchdog_cuts(P::Closing, 0, 0, true, none));
  CHECK_FALSE(watchdog_cuts(P::Body, 0, 0, true, none));  // requests under way finish
}

TEST_CASE("a request that waits for a busy server is answered, not cut by read_timeout_s") {
  BlockingStore store;
  ServiceSpec service;
  service.read_timeout_s = 1;
  std::vector<BoundRoute> routes = {query_route("/slow", "GET", false)};
  auto app = ServeApp::create(store, service, routes).take();
  SessionShared shared(*app, LogFormat::Off);
  int port = 0;
  int listen_fd = listen_loopback(port);
  const uint64_t before = Reactor::open_connections();
  Reactor reactor(shared, listen_fd, 1);
  REQUIRE(reactor.start());
  // B connects first and is accepted while the server is idle: its read deadline starts.
  int b = connect_to(port);
  REQUIRE(wait_for([&] { return Reactor::open_connections() >= before + 1; }));
  // A's request takes the only thread.
  int a = connect_to(port);
  send_all(a, "GET /slow?q=x HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(wait_for([&] { return store.entered.load(); }));
  // B's whole request arrives while no thread is free, and waits past B's deadline (1 s).
  send_all(b, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  store.release.set_value();
  std::string answer_b = read_answer(b);
  CHECK(answer_b.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer_b.find(R"({"status":"ok"})") != std::string::npos);
  CHECK(read_answer(a).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  ::close(a);
  ::close(b);
  reactor.stop();
  reactor.wait();
  CHECK(Reactor::open_connections() == before);
}
