#pragma once
// One HTTP/1.1 connection's protocol, without sockets. The connection layer (reactor.hpp)
// appends the bytes it receives to input(), calls process() and sends output(); the HTTP fuzz
// target and the unit tests drive it the same way with bytes in memory.
//
// process() reads each request head strictly (wire.hpp), then runs the gate before any body
// byte is read: rate limit, CORS preflight and auth (ServeApp::admit), endpoints that take no
// body (answered at once, /healthz included), the route's body limit on a declared length; only
// then is "100 Continue" sent. The body goes through its sink (body.hpp), ServeApp::handle
// answers, and the answer is queued (writer.hpp). Pipelined requests are answered in order. An
// answer that closes the connection (a refused body, a handler's "Connection: close", framing
// the layer cannot trust) ends the session: nothing the client sent after it is read as a request.
//
// Not thread-safe: the connection layer runs a session on one thread at a time (possibly a
// different one on each call).
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "serve/http/access_log.hpp"
#include "serve/http/body.hpp"
#include "serve/http/wire.hpp"
#include "serve/http/writer.hpp"

namespace pxt {

class ServeApp;

struct Peer {
  std::string remote_addr;
  int remote_port = 0;
  std::string local_addr;
  int local_port = 0;
};

// What all sessions of one server share. Set up before serving; the atomics change while serving.
struct SessionShared {
  SessionShared(const ServeApp& app, LogFormat format);
  const ServeApp& app;
  LogFormat log_format;
  int64_t read_timeout_ns;  // a head, or a body's first part, must arrive within it
  int64_t keep_alive_ns;    // an idle connection is closed after it
  BodyBudget budget;
  std::atomic<bool> stopping{false};     // graceful stop: finish in-flight requests, then close
  std::atomic<bool> trim_wanted{false};  // a large buffer was freed: give memory back to the OS
  std::atomic<uint64_t> slow_closed{0};  // connections cut for being too slow
  std::atomic<uint64_t> answered{0};     // requests answered: the watchdog tells quiet times by it
};

class Session {
 public:
  enum class Next { Read, Write, Close };
  enum class Phase { Idle, Head, Body, Writing, Closing };

  Session(SessionShared& shared, Peer peer, int64_t now_ns);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The bytes received and not consumed yet; the connection layer appends to it.
  std::string& input() { return in_; }
  // The client will send nothing more (it may still read).
  void on_eof() { eof_ = true; }
  // Runs the protocol as far as the input allows. Read: more input is needed (after the output
  // is sent). Write: send the output, then call again. Close: send the output, then close.
  Next process(int64_t now_ns);
  OutQueue& output() { return out_; }
  // The connection layer sent bytes at `now_ns` (a slow reader is judged by its progress).
  void on_sent(int64_t now_ns) { write_progress_ = now_ns; }
  // An answer left the output (sent in full or dropped): writes its access-log line.
  void on_answer_done(OutItem& item, bool sent);
  // For the watchdog, while no thread runs the session: what it waits for and until when
  // (steady-clock ns; 0 means no deadline).
  Phase phase() const;
  int64_t deadline() const;
  // The watchdog cut the connection: a request under way is logged (408, with the client's
  // address and what was missing) and counted in shared().slow_closed.
  void on_timeout(int64_t now_ns);
  // The client closed the connection with a request part-way: logged (400) when a head was read.
  void on_lost();
  // Nothing under way: no partial request, no queued answer.
  bool idle() const { return state_ == State::Head && in_.empty() && out_.empty(); }
  const Peer& peer() const { return peer_; }

 private:
  enum class State { Head, Body, Closing };
  bool read_head();
  void begin_request();
  bool read_body();
  void refuse_body();
  void dispatch();
  void reject(int status, const std::string& detail);
  void answer(bool close);
  void fill_request();
  bool skip_buffered_body();
  void log_line(int status, std::string_view method, std::string_view path, int64_t start_ns,
                std::string note);

  SessionShared& shared_;
  Peer peer_;
  std::string in_;
  OutQueue out_;
  State state_ = State::Head;
  bool eof_ = false;
  int64_t now_ = 0;
  int64_t idle_since_ = 0, head_start_ = 0, body_start_ = 0, write_progress_ = 0;
  bool served_ = false;  // at least one answer: the keep-alive timeout applies while idle
  wire::HeadScan scan_;
  wire::Head head_;
  // The request under way.
  httplib::Request req_;
  std::unique_ptr<httplib::Response> res_;
  std::chrono::steady_clock::time_point started_;
  std::string note_;
  std::unique_ptr<Uploads> uploads_;
  std::unique_ptr<BodySink> sink_;
  size_t limit_ = 0;
  uint64_t remaining_ = 0;  // of a Content-Length body
  uint64_t body_bytes_ = 0;
  wire::ChunkedDecoder chunked_;
  bool close_after_ = false;
};

}  // namespace pxt
