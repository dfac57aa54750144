#pragma once
// Answers on the wire. serialize_answer() turns an httplib::Response into the bytes pxt sends:
// the status line, the handler's headers, then the ones this layer owns (Content-Length,
// Content-Encoding and Vary, Connection, Date), and the body, gzip-compressed when the client
// accepts it and the type is text. OutQueue holds the answers a socket has not taken yet, in
// order (pipelined requests are answered in the order they came), pulling a streamed body
// (a content provider: media files, docs assets) chunk by chunk as the socket drains, so a slow
// reader holds memory for one chunk and no thread.
#include <httplib.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace pxt {

struct WireOptions {
  bool head = false;           // a HEAD request: headers only, Content-Length as for GET
  bool close = false;          // the connection ends after this answer: "Connection: close"
  bool keep_alive_10 = false;  // an HTTP/1.0 client that asked to keep the connection
  bool gzip = false;           // the request's Accept-Encoding allows gzip
};

// What the access log says about an answer once it is sent.
struct AnswerNote {
  std::string method;
  std::string path;
  int status = 0;
  std::chrono::steady_clock::time_point start{};
  std::string error;
};

struct OutItem {
  std::string bytes;  // ready to send, from `sent` on
  size_t sent = 0;
  // A body streamed from the response's content provider after `bytes`.
  std::unique_ptr<httplib::Response> streamed;
  size_t stream_offset = 0, stream_length = 0;
  bool has_note = false;
  AnswerNote note;
};

// Appends the answer to `item`: head and in-memory body to item.bytes; a content provider's
// response is moved into item.streamed. A status of -1 (never set) is sent as 200. Thread-safe
// (compression uses a per-thread zlib stream).
void serialize_answer(httplib::Response& res, const WireOptions& options, OutItem& item);

// The reason phrase of a status line ("Not Found"); "Unknown" for statuses without one.
const char* reason_phrase(int status);

class OutQueue {
 public:
  // Sends what it can; returns the bytes the socket took (>= 0), -1 when the socket would block
  // (EAGAIN) with answers still queued, -2 on a socket error or a failed content provider.
  using SendFn = std::function<ssize_t(const char* data, size_t n)>;
  // Called when an answer leaves the queue: sent in full (true) or dropped (false).
  using DoneFn = std::function<void(OutItem& item, bool sent)>;

  bool empty() const { return items_.empty(); }
  // Bytes queued and not sent (streamed bodies count one chunk).
  size_t backlog() const { return backlog_; }
  void push(OutItem item);
  // Adds raw bytes (an interim "100 Continue") after the queued answers.
  void push_raw(std::string bytes);
  // Sends until the queue is empty (returns 0), the socket blocks (-1) or fails (-2). `sent`
  // gets the number of bytes the socket took.
  int flush(const SendFn& send, const DoneFn& done, size_t& sent);
  // Drops everything still queued (the connection is gone), reporting each answer as not sent.
  void drop(const DoneFn& done);

 private:
  bool refill(OutItem& item);
  std::deque<OutItem> items_;
  size_t backlog_ = 0;
};

}  // namespace pxt
