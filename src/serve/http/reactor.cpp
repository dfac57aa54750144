#include "serve/http/reactor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "serve/app/app.hpp"
#include "serve/http/metrics.hpp"
#include "util/blocking.hpp"

namespace pxt {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Reads per wake-up before the bytes are handed to the session (a large body is consumed as
// it arrives, so the input never holds more than about this).
constexpr int kReadsPerRound = 4;
// Unparsed input (pipelined requests) beyond which the socket is not read until answers leave.
constexpr size_t kMaxInput = 256 * 1024;
// After an answer that closes the connection, what the client still sends is read and dropped
// for this long (or this many bytes), so its unread bytes do not turn our FIN into a reset that
// destroys the answer before the client reads it (nginx's lingering close). A client uploading
// a refused body on a busy machine may send megabytes before it reads its 413; discarding them
// costs no worker, so the bounds are generous (nginx: 30 s, no byte bound).
constexpr int64_t kLingerNs = 5'000'000'000;
constexpr size_t kLingerBytes = size_t{64} << 20;
constexpr auto kTick = std::chrono::milliseconds(100);
// malloc_trim walks every arena: at most once a second, and only after large requests.
constexpr int64_t kTrimIntervalNs = 1'000'000'000;
constexpr int64_t kAcceptPauseNs = 100'000'000;
// Caches are given back after a window of this length with at most kQuietRequests answers (a
// load balancer's health checks leave a server quiet), once per burst of traffic before it.
constexpr int64_t kQuietWindowNs = 5'000'000'000;
constexpr uint64_t kQuietRequests = 10;

std::atomic<uint64_t> g_open{0};
std::atomic<uint64_t> g_slow_closed{0};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Tags for the non-connection entries of the epoll set.
char g_listen_tag, g_wake_tag;

void register_metrics_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    metrics::add_collector([](std::string& out) {
      metrics::append_header(out, "pxt_http_connections", "Open client connections.", "gauge");
      out += "pxt_http_connections " + std::to_string(g_open.load()) + "\n";
      metrics::append_header(out, "pxt_slow_clients_closed_total",
                             "Connections closed because a request did not arrive within read_timeout_s.",
                             "counter");
      out += "pxt_slow_clients_closed_total " + std::to_string(g_slow_closed.load()) + "\n";
    });
  });
}

std::string address_of(const sockaddr_storage& a, int& port) {
  char buf[INET6_ADDRSTRLEN] = "";
  port = 0;
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    port = ntohs(in6->sin6_port);
  }
  return buf;
}

}  // namespace

struct Reactor::Conn {
  int fd = -1;
  std::unique_ptr<Session> session;
  std::atomic<bool> owned{false};  // a thread is running it (the watchdog leaves it alone)
  std::atomic<bool> expired{false};
  std::atomic<int64_t> deadline{0};
  std::atomic<int> phase{0};
  bool eof = false;
  bool lingering = false;
  int64_t linger_until = 0;
  size_t linger_left = 0;
};

// A pool thread's state, as the monitor sees it.
struct Reactor::Worker {
  enum State { Waiting, Busy, Handed };  // Handed: busy, its place given to a parked thread
  std::atomic<int> state{Waiting};
  std::atomic<int64_t> busy_since{0};
};

Reactor::Reactor(SessionShared& shared, int listen_fd, size_t threads, ReactorTuning tuning)
    : shared_(shared), listen_fd_(listen_fd), thread_count_(threads), tuning_(tuning) {
  if (tuning_.active == 0) {
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    tuning_.active = static_cast<size_t>(std::max(4L, 2 * cores));
  }
  tuning_.active = std::max<size_t>(1, std::min(tuning_.active, thread_count_));
  register_metrics_once();
}

Reactor::~Reactor() {
  stop();
  wait();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

uint64_t Reactor::open_connections() { return g_open.load(); }
uint64_t Reactor::slow_closed_total() { return g_slow_closed.load(); }

bool Reactor::start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return false;
  ::fcntl(listen_fd_, F_SETFL, ::fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered, never re-armed: once written, every thread sees it
  ev.data.ptr = &g_wake_tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) return false;
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.ptr = &g_listen_tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) return false;
  workers_ = std::make_unique<Worker[]>(thread_count_);
  try {
    watchdog_ = std::thread([this] { watchdog(); });
    monitor_ = std::thread([this] { monitor(); });
    for (size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this, i] { worker(workers_[i]); });
  } catch (const std::system_error& e) {
    errno = e.code().value();
    stop();
    return false;
  }
  return true;
}

void Reactor::stop() {
  if (stopping_.exchange(true)) return;
  shared_.stopping.store(true);
  // Refuses new connections at once (the kernel resets them); the socket is closed after the
  // threads are joined, so its number cannot be reused under a thread still accepting.
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  cv_.notify_all();
}

void Reactor::wait() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopping_.load() && conns_.empty(); });
  }
  if (!exit_.exchange(true) && wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;
  }
  cv_.notify_all();
  { std::lock_guard<std::mutex> lock(place_mu_); }  // a thread about to park sees exit_
  place_cv_.notify_all();
  { std::lock_guard<std::mutex> lock(monitor_mu_); }
  monitor_cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (watchdog_.joinable()) watchdog_.join();
  if (monitor_.joinable()) monitor_.join();
}

namespace {

// The reactor and pool thread running on this thread, for the blocking hook.
thread_local Reactor* t_reactor = nullptr;
thread_local Reactor::Worker* t_worker = nullptr;

}  // namespace

void Reactor::hand_over_place() {
  if (t_reactor == nullptr || t_worker == nullptr) return;
  // Busy -> Handed, as the monitor does: whichever of the two comes first gives the place, once;
  // the worker loop sees Handed when the handler returns and parks for a new place.
  int busy = Worker::Busy;
  if (t_worker->state.compare_exchange_strong(busy, Worker::Handed)) t_reactor->give_place();
}

void Reactor::worker(Worker& me) {
  // A handler about to wait for a model (util/blocking.hpp) gives its place away at once: with
  // many connections waiting on one, the monitor's 5 ms per hand-over capped them at
  // active / 5 ms (bench/RESULTS.md, "Model functions").
  t_reactor = this;
  t_worker = &me;
  set_blocking_hook(&Reactor::hand_over_place);
  bool placed = false;
  for (;;) {
    if (!placed && !(placed = take_place())) return;
    epoll_event ev{};
    int n = ::epoll_wait(epoll_fd_, &ev, 1, -1);
    if (exit_.load(std::memory_order_relaxed)) return;
    if (n <= 0 || ev.data.ptr == &g_wake_tag) continue;
    me.busy_since.store(now_ns(), std::memory_order_relaxed);
    me.state.store(Worker::Busy);
    if (monitor_idle_.load(std::memory_order_relaxed)) {
      monitor_idle_.store(false, std::memory_order_relaxed);
      monitor_cv_.notify_one();
    }
    if (ev.data.ptr == &g_listen_tag) {
      accept_all();
    } else {
      auto* c = static_cast<Conn*>(ev.data.ptr);
      c->owned.store(true, std::memory_order_relaxed);
      run(c, ev.events);
    }
    int busy = Worker::Busy;
    if (!me.state.compare_exchange_strong(busy, Worker::Waiting)) {
      me.state.store(Worker::Waiting);  // the monitor gave its place away: park for a new one
      placed = false;
    }
  }
}

bool Reactor::take_place() {
  std::unique_lock<std::mutex> lock(place_mu_);
  place_cv_.wait(lock, [this] { return exit_.load() || places_taken_ < tuning_.active; });
  if (exit_.load()) return false;
  ++places_taken_;
  return true;
}

void Reactor::give_place() {
  {
    std::lock_guard<std::mutex> lock(place_mu_);
    --places_taken_;
  }
  place_cv_.notify_one();
}

// Hands the place of a thread whose handler runs past blocked_ns to a parked thread. Looks every
// tick while handlers run; when none did, sleeps until a thread starts one (monitor_idle_).
void Reactor::monitor() {
  std::unique_lock<std::mutex> lock(monitor_mu_);
  bool any_busy = true;
  while (!exit_.load()) {
    if (any_busy) {
      monitor_cv_.wait_for(lock, std::chrono::nanoseconds(tuning_.monitor_tick_ns));
    } else {
      monitor_idle_.store(true);
      monitor_cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    const int64_t now = now_ns();
    any_busy = false;
    for (size_t i = 0; i < thread_count_; ++i) {
      Worker& w = workers_[i];
      if (w.state.load() != Worker::Busy) continue;
      any_busy = true;
      if (now - w.busy_since.load(std::memory_order_relaxed) < tuning_.blocked_ns) continue;
      int busy = Worker::Busy;
      if (w.state.compare_exchange_strong(busy, Worker::Handed)) give_place();
    }
  }
}

void Reactor::accept_all() {
  for (int i = 0; i < 256 && !stopping_.load(); ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: pause accepting (the watchdog resumes) instead of spinning on a
        // listening socket that stays readable.
        static std::atomic<int64_t> last_note{0};
        int64_t now = now_ns();
        if (now - last_note.load() > 60'000'000'000) {
          last_note = now;
          std::fprintf(stderr, "pxt: cannot accept a connection: %s (%llu open); retrying\n",
                       std::strerror(errno), static_cast<unsigned long long>(g_open.load()));
        }
        std::lock_guard<std::mutex> lock(mu_);
        accept_resume_ = now + kAcceptPauseNs;
        accept_paused_ = true;
        return;
      }
      break;  // EAGAIN, or the socket was shut down by stop()
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Peer p;
    p.remote_addr = address_of(peer, p.remote_port);
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0)
      p.local_addr = address_of(local, p.local_port);
    auto* c = new Conn;
    c->fd = fd;
    c->session = std::make_unique<Session>(shared_, std::move(p), now_ns());
    c->deadline = c->session->deadline();
    {
      std::lock_guard<std::mutex> lock(mu_);
      conns_.insert(c);
    }
    g_open.fetch_add(1, std::memory_order_relaxed);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = c;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) close_conn(c);
  }
  if (stopping_.load() || accept_paused_.load()) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.ptr = &g_listen_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

void Reactor::run(Conn* c, uint32_t events) {
  (void)events;
  int64_t now = now_ns();
  Session& s = *c->session;
  auto done = [&s](OutItem& item, bool sent) { s.on_answer_done(item, sent); };
  if (c->expired.load()) {
    if (s.phase() == Session::Phase::Head || s.phase() == Session::Phase::Body) {
      s.on_timeout(now);
      g_slow_closed.fetch_add(1, std::memory_order_relaxed);
    }
    s.output().drop(done);
    return close_conn(c);
  }
  if (c->lingering) return linger(c, now);
  auto send = [c](const char* data, size_t n) { return ::send(c->fd, data, n, MSG_NOSIGNAL); };
  thread_local std::vector<char> buf(kReadChunk);
  for (;;) {
    bool drained = c->eof;
    for (int i = 0; i < kReadsPerRound && !c->eof && s.input().size() < kMaxInput; ++i) {
      ssize_t n = ::recv(c->fd, buf.data(), buf.size(), 0);
      if (n > 0) {
        s.input().append(buf.data(), static_cast<size_t>(n));
        if (static_cast<size_t>(n) < buf.size()) {
          drained = true;  // a short read: most likely nothing more (epoll says so if there is)
          break;
        }
        continue;
      }
      if (n == 0) {
        c->eof = true;
        s.on_eof();
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        s.on_lost();
        s.output().drop(done);
        return close_conn(c);
      }
      drained = true;
      break;
    }
    Session::Next next = s.process(now);
    size_t sent = 0;
    int flushed = s.output().flush(send, done, sent);
    if (sent > 0) s.on_sent(now);
    if (flushed == -2) {
      s.output().drop(done);
      return close_conn(c);
    }
    if (flushed == -1) return arm(c, EPOLLOUT);
    if (next == Session::Next::Close) {
      ::shutdown(c->fd, SHUT_WR);
      c->lingering = true;
      c->linger_until = now + kLingerNs;
      c->linger_left = kLingerBytes;
      return linger(c, now);
    }
    if (next == Session::Next::Write) continue;
    if (c->eof) return close_conn(c);
    if (drained) return arm(c, EPOLLIN);
  }
}

void Reactor::linger(Conn* c, int64_t now) {
  thread_local char sink[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(c->fd, sink, sizeof sink, 0);
    if (n > 0 && static_cast<size_t>(n) < c->linger_left && now < c->linger_until) {
      c->linger_left -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now < c->linger_until) return arm(c, EPOLLIN);
    return close_conn(c);  // the client closed, sent too much, or took too long
  }
}

void Reactor::arm(Conn* c, uint32_t direction) {
  if (c->lingering) {
    c->phase.store(static_cast<int>(Session::Phase::Closing), std::memory_order_relaxed);
    c->deadline.store(c->linger_until, std::memory_order_relaxed);
  } else {
    c->phase.store(static_cast<int>(c->session->phase()), std::memory_order_relaxed);
    c->deadline.store(c->session->deadline(), std::memory_order_relaxed);
  }
  c->owned.store(false, std::memory_order_release);
  epoll_event ev{};
  ev.events = direction | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.ptr = c;
  // From here on another thread may own (and close) the connection: `c` is not touched again.
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
    c->owned.store(true);
    close_conn(c);
  }
}

void Reactor::close_conn(Conn* c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(c);
    ::close(c->fd);
  }
  g_open.fetch_sub(1, std::memory_order_relaxed);
  delete c;
  if (stopping_.load()) cv_.notify_all();
}

// Ends a connection no thread runs: shut down its socket, which wakes a thread (EPOLLHUP) that
// sees `expired` and closes it. Called with mu_ held.
void Reactor::cut(Conn* c) {
  if (c->expired.exchange(true)) return;
  ::shutdown(c->fd, SHUT_RDWR);
}

bool QuietWatch::due(uint64_t answered, int64_t now) {
  if (now - window_start_ < kQuietWindowNs) return false;
  const uint64_t in_window = answered - window_answered_;
  window_start_ = now;
  window_answered_ = answered;
  // Traffic since the last release, and a quiet window now: the caches it filled are not needed.
  if (in_window > kQuietRequests) return false;
  const bool busy_before = answered - released_answered_ > in_window;
  released_answered_ = answered;
  return busy_before;
}

void Reactor::watchdog() {
  int64_t last_trim = 0;
  QuietWatch quiet;
  std::unique_lock<std::mutex> lock(mu_);
  while (!exit_.load()) {
    cv_.wait_for(lock, kTick);
    const int64_t now = now_ns();
    const bool stopping = stopping_.load();
    if (!stopping && quiet.due(shared_.answered.load(std::memory_order_relaxed), now)) {
      // After a load the store's caches (SQLite's page cache per pooled connection: up to
      // 16 MB each) and the freed heap would keep the RSS at its peak (issue 18's soak).
      lock.unlock();
      shared_.app.release_idle_memory();
      malloc_trim(0);
      lock.lock();
      last_trim = now;
    }
    for (Conn* c : conns_) {
      if (c->owned.load(std::memory_order_acquire) || c->expired.load(std::memory_order_relaxed)) continue;
      auto phase = static_cast<Session::Phase>(c->phase.load(std::memory_order_relaxed));
      auto unread = [c] {
        int pending = 0;
        return ::ioctl(c->fd, FIONREAD, &pending) == 0 ? pending : 0;
      };
      if (watchdog_cuts(phase, c->deadline.load(std::memory_order_relaxed), now, stopping, unread)) cut(c);
    }
    if (accept_paused_.load() && now >= accept_resume_ && !stopping) {
      accept_paused_ = false;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLONESHOT;
      ev.data.ptr = &g_listen_tag;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
    }
    if (now - last_trim > kTrimIntervalNs && shared_.trim_wanted.exchange(false)) {
      last_trim = now;
      lock.unlock();
      malloc_trim(0);
      lock.lock();
    }
  }
}

bool watchdog_cuts(Session::Phase phase, int64_t deadline, int64_t now, bool stopping,
                   const std::function<int()>& unread) {
  if (stopping && (phase == Session::Phase::Idle || phase == Session::Phase::Closing)) return true;
  if (deadline == 0 || now < deadline) return false;
  const bool reading =
      phase == Session::Phase::Idle || phase == Session::Phase::Head || phase == Session::Phase::Body;
  return !(reading && unread() > 0);
}

void tune_allocator() {
  // glibc creates up to 8 arenas per core, and a thread keeps memory in its arena after a large
  // request is freed (the header flood of issue 18 left 700 MB there). Two per core serve 80
  // threads on few cores without contention.
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2L, 2 * cores)));
  // A fixed threshold (the default one grows up to 32 MB as large blocks are freed): buffers of
  // 256 KB and up are mapped and unmapped on their own, so they are returned when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 20);
}

uint64_t raise_open_files_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    want.rlim_cur = lim.rlim_max == RLIM_INFINITY ? 1u << 20 : lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return lim.rlim_cur;
}

}  // namespace pxt
