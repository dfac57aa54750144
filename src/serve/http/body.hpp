#pragma once
// Request bodies as they arrive, with their limits applied while reading (a body over its limit
// is abandoned at the first byte past it): into memory (JSON and form bodies, multipart fields),
// or a multipart upload whose file parts are streamed to temp files under media/.tmp, so an
// upload never sits in memory.
//
// Bodies held in memory are also counted against a budget shared by all connections: the
// connection layer reads bodies without tying up a thread, so the number of connections no
// longer bounds the memory they hold; past the budget a new byte is refused (503, try again).
#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include "serve/http/multipart.hpp"
#include "serve/http/uploads.hpp"

namespace pxt {

class ServeApp;

// Bytes of request bodies held in memory, all connections. Thread-safe.
class BodyBudget {
 public:
  explicit BodyBudget(size_t cap) : cap_(cap) {}
  bool take(size_t n);
  void give(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  std::atomic<size_t> used_{0};
  size_t cap_;
};

enum class BodyError { None, TooLarge, Malformed, TooManyFiles, NoSpace, Io, Busy };

// Receives a body's bytes (after Content-Length or chunked framing is removed). Not thread-safe;
// one per request.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // False stops reading; error() says why.
  virtual bool write(const char* data, size_t n) = 0;
  // The whole body was received. False: it is malformed (a multipart body cut short).
  virtual bool finish() { return true; }
  BodyError error() const { return error_; }
  int io_errno() const { return errno_; }

 protected:
  BodyError error_ = BodyError::None;
  int errno_ = 0;
};

// Each file part becomes a temp file; a route has a handful of upload inputs.
inline constexpr size_t kMaxFileParts = 64;

// A plain body into `body` (at most `limit` bytes).
std::unique_ptr<BodySink> memory_body(std::string& body, size_t limit, BodyBudget& budget);
// A multipart body parsed into `files` (text and file parts in memory, at most `limit` bytes).
std::unique_ptr<BodySink> multipart_in_memory(httplib::MultipartFormDataMap& files, std::string boundary,
                                              size_t limit, BodyBudget& budget);
// A multipart upload: file parts to temp files under the app's media/.tmp (listed in `uploads`,
// which removes them unless adopted), text fields into `files` (at most the app's max_body
// bytes); `limit` counts every byte of the body.
std::unique_ptr<BodySink> multipart_to_disk(const ServeApp& app, httplib::MultipartFormDataMap& files,
                                            Uploads& uploads, std::string boundary, size_t limit,
                                            BodyBudget& budget);

}  // namespace pxt
