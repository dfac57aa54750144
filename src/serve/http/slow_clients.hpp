#pragma once
// Slow-client guard ([service] read_timeout_s). cpp-httplib only bounds each single recv(), so a
// client that sends one header byte every few seconds (slowloris) could hold a worker thread for
// hours. The guard gives every request a deadline: its line and headers must arrive within
// read_timeout_s, and its body within read_timeout_s plus one second per 64 KiB. A watchdog thread
// shuts down the socket of a connection past its deadline, which ends the blocked read.
//
// httplib 0.11.4 hands each accepted socket to the task queue as a closure and has no accept hook,
// so SlowClientPool finds the socket number inside that closure, checks that it really is a
// connection accepted on our port (else that connection is simply not guarded), and watches a
// dup() of it, so the watchdog never touches a descriptor number that httplib closed and the
// kernel gave to someone else.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace pxt {

class SlowClientPool : public httplib::TaskQueue {
 public:
  // `server` is the httplib::Server whose accept loop enqueues here; `port` the port it listens on.
  SlowClientPool(size_t threads, const httplib::Server* server, int port, std::chrono::seconds read_timeout);
  ~SlowClientPool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // Phase changes of the request on the calling worker thread (no-ops on other threads).
  static void on_headers_read();        // handling: no deadline
  static void on_body_start();          // body: read_timeout + 1 s per 64 KiB
  static void on_body_bytes(size_t n);  //
  static void on_response_written();    // the next request's headers: a fresh deadline
  // The request's body was abandoned part-way (over its size limit): once the answer is written,
  // the connection is shut down instead of parsing the unread rest as a next request.
  static void close_after_response();

  // Connections closed for being too slow, process-wide (also in /metrics).
  static uint64_t closed_total();

  struct Conn;  // one guarded connection (serve/http/slow_clients.cpp)

 private:
  void watch();
  int socket_in(const std::function<void()>& fn) const;

  httplib::ThreadPool pool_;
  const httplib::Server* server_;
  int port_;
  std::chrono::nanoseconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::shared_ptr<Conn>> conns_;
  bool stopping_ = false;
  std::atomic<bool> shut_down_{false};
  std::thread watchdog_;
};

}  // namespace pxt
