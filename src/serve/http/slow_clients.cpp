#include "serve/http/slow_clients.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "serve/http/metrics.hpp"

namespace pxt {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(100);
// A body must arrive at least this fast once its first read_timeout has passed.
constexpr double kMinBodyBytesPerSecond = 64 * 1024;
// httplib waits this long for the next request on an idle keep-alive connection (serve/http/server.cpp).
constexpr auto kKeepAliveGrace = std::chrono::seconds(2);

std::atomic<uint64_t> g_closed{0};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

int local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

bool is_connected_stream(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return false;
  sockaddr_storage peer{};
  socklen_t plen = sizeof peer;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0;
}

}  // namespace

struct SlowClientPool::Conn {
  int fd = -1;                       // our dup of the connection's socket
  std::atomic<int64_t> deadline{0};  // steady-clock ns; 0: no deadline (handling)
  int64_t body_start = 0;            // touched only by the worker thread
  size_t body_bytes = 0;
  std::chrono::nanoseconds timeout{};
  bool close_after = false;  // touched only by the worker thread
  bool closed = false;       // under the pool's mutex
};

namespace {
thread_local SlowClientPool::Conn* t_conn = nullptr;

void register_metrics_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    metrics::add_collector([](std::string& out) {
      metrics::append_header(out, "pxt_slow_clients_closed_total",
                             "Connections closed because a request did not arrive within read_timeout_s.",
                             "counter");
      out += "pxt_slow_clients_closed_total " + std::to_string(g_closed.load()) + "\n";
    });
  });
}
}  // namespace

SlowClientPool::SlowClientPool(size_t threads, const httplib::Server* server, int port,
                               std::chrono::seconds read_timeout)
    : pool_(threads), server_(server), port_(port), timeout_(read_timeout) {
  register_metrics_once();
  watchdog_ = std::thread([this] { watch(); });
}

SlowClientPool::~SlowClientPool() { shutdown(); }

void SlowClientPool::shutdown() {
  if (shut_down_.exchange(true)) return;
  // Workers finish their connections first (graceful stop); the watchdog keeps cutting slow
  // ones meanwhile, so a slow client cannot delay the stop either.
  pool_.shutdown();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

// The closure is httplib's `[=, this] { process_and_close_socket(sock); }`: 16 bytes stored
// inline in the std::function, one word being the server pointer and the other the socket.
int SlowClientPool::socket_in(const std::function<void()>& fn) const {
  unsigned char raw[sizeof fn];
  std::memcpy(raw, static_cast<const void*>(&fn), sizeof fn);
  const void* server_word = nullptr;
  for (size_t word = 0; word < 2; ++word) {
    std::memcpy(&server_word, raw + word * sizeof(void*), sizeof(void*));
    if (server_word != static_cast<const void*>(server_)) continue;
    int fd = -1;
    std::memcpy(&fd, raw + (1 - word) * sizeof(void*), sizeof fd);
    if (fd > 2 && is_connected_stream(fd) && local_port(fd) == port_) return fd;
  }
  return -1;
}

void SlowClientPool::enqueue(std::function<void()> fn) {
  std::shared_ptr<Conn> conn;
  int fd = socket_in(fn);
  if (fd >= 0) {
    conn = std::make_shared<Conn>();
    conn->fd = ::dup(fd);
    conn->timeout = timeout_;
    conn->deadline.store(now_ns() + timeout_.count(), std::memory_order_relaxed);
    if (conn->fd < 0) {
      conn.reset();
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      conns_.insert(conn);
    }
  }
  pool_.enqueue([this, conn, fn = std::move(fn)] {
    t_conn = conn.get();
    fn();
    t_conn = nullptr;
    if (!conn) return;
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(conn);
    ::close(conn->fd);
  });
}

void SlowClientPool::watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, kTick);
    const int64_t now = now_ns();
    for (const auto& c : conns_) {
      int64_t d = c->deadline.load(std::memory_order_relaxed);
      if (d == 0 || now < d || c->closed) continue;
      // Ends the worker's blocked read; httplib then closes the connection itself.
      ::shutdown(c->fd, SHUT_RDWR);
      c->closed = true;
      g_closed.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void SlowClientPool::on_headers_read() {
  if (t_conn) t_conn->deadline.store(0, std::memory_order_relaxed);
}

void SlowClientPool::on_body_start() {
  if (!t_conn) return;
  t_conn->body_start = now_ns();
  t_conn->body_bytes = 0;
  t_conn->deadline.store(t_conn->body_start + t_conn->timeout.count(), std::memory_order_relaxed);
}

void SlowClientPool::on_body_bytes(size_t n) {
  if (!t_conn) return;
  t_conn->body_bytes += n;
  auto grace = static_cast<int64_t>(static_cast<double>(t_conn->body_bytes) / kMinBodyBytesPerSecond * 1e9);
  t_conn->deadline.store(t_conn->body_start + t_conn->timeout.count() + grace, std::memory_order_relaxed);
}

void SlowClientPool::close_after_response() {
  if (t_conn) t_conn->close_after = true;
}

void SlowClientPool::on_response_written() {
  if (!t_conn) return;
  if (t_conn->close_after) {
    // httplib would read the unread body as the next request (and answer 414 on it). After a
    // shutdown its reads see end-of-file once the bytes already received are gone, so they are
    // discarded here (at most the socket's receive buffer) and it closes the connection.
    t_conn->close_after = false;
    ::shutdown(t_conn->fd, SHUT_RDWR);
    char sink[16384];
    while (::recv(t_conn->fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    return;
  }
  auto grace = std::chrono::duration_cast<std::chrono::nanoseconds>(kKeepAliveGrace).count();
  t_conn->deadline.store(now_ns() + grace + t_conn->timeout.count(), std::memory_order_relaxed);
}

uint64_t SlowClientPool::closed_total() { return g_closed.load(); }

}  // namespace pxt
