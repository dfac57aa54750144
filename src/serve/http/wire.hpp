#pragma once
// HTTP/1.1 request framing, read strictly (RFC 9112), for the connection layer
// (serve/http/session.hpp). The request head is scanned while it arrives, so its size and field
// count are capped before it is complete (a header flood costs at most kMaxHeadBytes); it is then
// parsed and checked once; chunked bodies are decoded incrementally.
//
// Every framing a front proxy could read differently from us is refused rather than guessed:
// two Content-Lengths, a Content-Length beside a Transfer-Encoding, a length that is not plain
// digits, a transfer coding other than "chunked", a bare CR, whitespace before a colon, a folded
// line, a chunk size that is not plain hex. Otherwise a request could hide inside another one's
// body (request smuggling).
#include <httplib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pxt::wire {

inline constexpr size_t kMaxRequestLine = 8 * 1024;  // longer: 414
inline constexpr size_t kMaxHeadBytes = 64 * 1024;   // request line and fields; more: 431
inline constexpr size_t kMaxFields = 100;            // header fields; more: 431

// Why a request cannot be served: the status to answer (the connection is closed after it) and
// a detail for the client and the access log.
struct Failure {
  int status = 0;
  std::string detail;
};

// Where the scan of a growing head stands. Reset it for each request.
struct HeadScan {
  size_t pos = 0;         // bytes of the buffer already looked at
  size_t line_start = 0;  // start of the line being scanned
  size_t lines = 0;       // complete lines so far, the request line included
};

enum class Scan { Incomplete, Complete, Failed };

// Looks at the bytes of `buf` not scanned yet (the buffer only grows between calls with the same
// `scan`). Complete: the head is buf[0, end), blank line included. Failed: `fail` holds 414 (the
// request line is too long) or 431 (too many fields, or the head too large). The caller strips
// empty lines before a request line. Cost: linear in the new bytes. Pure; thread-safe.
Scan scan_head(std::string_view buf, HeadScan& scan, size_t& end, Failure& fail);

enum class BodyFraming { None, Length, Chunked };

struct Head {
  std::string method;
  std::string target;  // origin-form ("/p?q"); an absolute-form target is reduced to it
  int minor = 1;       // HTTP/1.<minor>
  httplib::Headers headers;
  BodyFraming body = BodyFraming::None;
  uint64_t length = 0;  // BodyFraming::Length
  bool keep_alive = true;
  bool expect_continue = false;
};

// Parses and checks a complete head (as delimited by scan_head). False: `fail` holds the answer:
// 400 (malformed, conflicting or missing framing, bad or missing Host), 501 (a transfer coding
// other than chunked), 505 (not HTTP/1.x), 417 (an expectation other than 100-continue). Pure;
// thread-safe.
bool parse_head(std::string_view head, Head& out, Failure& fail);

// Decodes a chunked body incrementally: chunk sizes in plain hex (no sign, prefix or padding;
// extensions after ';' are skipped), CRLF after every line and chunk, trailer fields read and
// discarded (bounded like a head). Not thread-safe; one per body.
class ChunkedDecoder {
 public:
  enum class Status { NeedMore, Done, Failed };
  using Sink = std::function<bool(const char* data, size_t n)>;
  // Consumes a prefix of `in` (`consumed` bytes), passing the decoded bytes to `sink`. A sink
  // that returns false stops decoding (NeedMore is returned; the caller knows why). Failed:
  // `fail` holds the 400.
  Status feed(std::string_view in, size_t& consumed, const Sink& sink, Failure& fail);

 private:
  enum class State {
    Size,
    SizeSpace,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    TrailerLf,
    EndLf,
    Done
  };
  State state_ = State::Size;
  uint64_t size_ = 0;
  int digits_ = 0;
  size_t line_bytes_ = 0;     // of the current extension or trailer line
  size_t trailer_bytes_ = 0;  // all trailer lines
  size_t trailer_fields_ = 0;
};

// Whether `value` (a header's value) allows gzip: a "gzip" (or "x-gzip") coding with q > 0, or
// "*" with q > 0 when gzip is not listed. Pure.
bool accepts_gzip(std::string_view value);

// The tokens of a comma-separated header value, trimmed, lower-cased, empty ones dropped. Pure.
std::vector<std::string> header_tokens(std::string_view value);

}  // namespace pxt::wire
