#pragma once
// The connection layer of pxt serve: sockets read and written without blocking, so an idle or
// slow connection costs a socket and a Session (serve/http/session.hpp), never a thread.
//
// Why not cpp-httplib's server (Debian's 0.11.4, a compiled library whose behaviour cannot be
// changed by macros): it parks one pool thread per connection in a blocking read, so 80 idle or
// slowloris connections starve every other client; it rebuilds its read buffer per request, so
// pipelined requests that arrive in one read are lost; and it reads framing loosely (two
// Content-Lengths, a length beside a Transfer-Encoding, no Host) and ignores a handler's
// "Connection: close". cpp-httplib keeps what it does well: the Request/Response types the
// handlers use and the HTTP client of the model providers.
//
// Design: leader/followers on one epoll set. Every pool thread waits in epoll_wait; each
// connection is registered EPOLLONESHOT, so one thread at a time runs it. The thread woken for a
// connection reads what has arrived, and if that completes a request it handles it right there
// and writes the answer (no hand-off between threads, so a keep-alive request costs what it cost
// with a thread per connection: one wake-up, a read, a write, plus one epoll_ctl to re-arm). A
// partial head or body is kept in the Session and the thread goes back to epoll_wait.
//
// Only a few of the threads take events at once (`ReactorTuning::active`, about two per core);
// the others are parked. With all of them in epoll_wait (80 on 2 cores), each event woke a thread
// that often found it taken by one already running, and each wake-up preempted a thread in the
// middle of a request: 1.6 context switches per lookup instead of 0.1, 40% more CPU per request
// and a longer p99 at 64 connections (bench/RESULTS.md, issue 18.11). The parked threads are
// there for handlers that block (a model call, a write waiting for the writer lock): a monitor
// thread sees a handler running longer than `blocked_ns` and hands its place to a parked thread,
// so blocked handlers never hold up the other connections for longer than that. A handler that
// knows it is about to wait (a model call: about_to_block(), util/blocking.hpp) gives its place
// itself, at once: with the monitor alone, 64 connections waiting on a model went through the
// places at one per blocked_ns each (bench/RESULTS.md, "Model functions"). A watchdog
// thread applies the deadlines (read_timeout_s for a head or a body's start, a minimum body rate,
// the keep-alive timeout, a slow reader's progress); a connection with bytes waiting unread is
// never cut, since then the server is behind, not the client.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "serve/http/session.hpp"

namespace pxt {

struct ReactorTuning {
  size_t active = 0;               // threads taking events at once; 0: two per core, at least 4
  int64_t blocked_ns = 5'000'000;  // a handler running longer than this counts as blocked
  int64_t monitor_tick_ns = 2'000'000;
};

class Reactor {
 public:
  // `listen_fd` is a bound, listening socket (the reactor makes it non-blocking and closes it).
  // `threads` handle connections, `tuning.active` of them at once; `shared` must outlive the reactor.
  Reactor(SessionShared& shared, int listen_fd, size_t threads, ReactorTuning tuning = {});
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Starts the threads. False (errno set) when epoll or a thread cannot be created.
  bool start();
  // Graceful stop, from any thread: no new connection is accepted, idle connections are closed,
  // requests under way are answered (with "Connection: close") and their connections closed.
  // Returns at once; wait() returns when all of it is done.
  void stop();
  // Blocks until stop() was called and every connection is closed, then joins the threads.
  void wait();

  // Open connections and slow-client closes, process-wide (also in /metrics).
  static uint64_t open_connections();
  static uint64_t slow_closed_total();

  struct Conn;  // one connection (reactor.cpp)
  struct Worker;

 private:
  void worker(Worker& me);
  bool take_place();
  void give_place();
  // The blocking hook of pool threads (util/blocking.hpp): the calling thread's handler is about
  // to wait for a model, so its place goes to a parked thread now.
  static void hand_over_place();
  void monitor();
  void watchdog();
  void accept_all();
  void run(Conn* c, uint32_t events);
  void linger(Conn* c, int64_t now);
  void arm(Conn* c, uint32_t direction);
  void close_conn(Conn* c);
  void cut(Conn* c);

  SessionShared& shared_;
  int listen_fd_;
  size_t thread_count_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd, level-triggered: wakes every thread to exit
  std::vector<std::thread> threads_;
  std::unique_ptr<Worker[]> workers_;
  std::thread watchdog_;
  std::thread monitor_;
  ReactorTuning tuning_;
  // Places for threads taking events: `places_taken_` of `tuning_.active`, guarded by place_mu_.
  std::mutex place_mu_;
  std::condition_variable place_cv_;
  size_t places_taken_ = 0;
  std::mutex monitor_mu_;
  std::condition_variable monitor_cv_;
  std::atomic<bool> monitor_idle_{false};  // no handler was running at its last look
  std::mutex mu_;  // conns_ and closing a socket (so the watchdog never touches a reused fd)
  std::condition_variable cv_;
  std::unordered_set<Conn*> conns_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> exit_{false};
  std::atomic<bool> accept_paused_{false};  // out of file descriptors: the watchdog resumes
  int64_t accept_resume_ = 0;
};

// Whether the watchdog ends a connection no thread is running: on stop, when it is idle or
// closing; otherwise once its deadline (steady ns, 0: none) has passed, except while it waits for
// input and has bytes the server has not read (`unread()`, asked only then): the server is
// behind, not the client, so time a request waits for a thread never counts against it. Pure
// apart from calling `unread`.
bool watchdog_cuts(Session::Phase phase, int64_t deadline, int64_t now, bool stopping,
                   const std::function<int()>& unread);

// Process-wide memory settings for a long-running server with many threads: fewer malloc
// arenas and a fixed mmap threshold, so memory freed after a large request goes back to the
// system instead of staying in per-thread arenas. Call once, before threads start.
void tune_allocator();

// Tells the watchdog when a burst of traffic has been followed by a quiet window, the time to
// give caches back. Used by one thread.
class QuietWatch {
 public:
  // answered: requests answered so far; now: steady nanoseconds. True once per quiet window
  // that follows traffic.
  bool due(uint64_t answered, int64_t now);

 private:
  int64_t window_start_ = 0;
  uint64_t window_answered_ = 0;
  uint64_t released_answered_ = 0;
};

// Raises the soft limit on open files to the hard limit (thousands of idle keep-alive clients
// are each a socket). Returns the new soft limit.
uint64_t raise_open_files_limit();

}  // namespace pxt
