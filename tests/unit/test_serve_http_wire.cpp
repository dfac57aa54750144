// Strict HTTP/1.1 framing (serve/http/wire.hpp): the head scanned while it arrives with its caps,
// every framing a proxy could read differently refused, chunk sizes in plain hex only, and
// Accept-Encoding weights.
#include <doctest/doctest.h>

#include <string>

#include "serve/http/wire.hpp"

using namespace pxt::wire;

namespace {

// Parses a whole head; the status of the failure, or 0.
int status_of(const std::string& head, Head* out = nullptr) {
  HeadScan scan;
  size_t end = 0;
  pxt::wire::Failure fail;
  Scan s = scan_head(head, scan, end, fail);
  if (s == Scan::Failed) return fail.status;
  REQUIRE(s == Scan::Complete);
  Head h;
  if (!parse_head(std::string_view(head).substr(0, end), h, fail)) return fail.status;
  if (out != nullptr) *out = std::move(h);
  return 0;
}

std::string req(const std::string& fields, const std::string& line = "POST /t HTTP/1.1") {
  return line + "\r\n" + fields + "\r\n";
}

// Decodes a chunked body fed `step` bytes at a time: the decoded text, or "FAIL".
std::string dechunk(const std::string& body, size_t step = 0) {
  ChunkedDecoder d;
  std::string out;
  pxt::wire::Failure fail;
  auto sink = [&](const char* p, size_t n) {
    out.append(p, n);
    return true;
  };
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = step == 0 ? body.size() - pos : std::min(step, body.size() - pos);
    std::string_view piece(body.data() + pos, n);
    size_t used = 0;
    auto st = d.feed(piece, used, sink, fail);
    if (st == ChunkedDecoder::Status::Failed) return "FAIL";
    if (st == ChunkedDecoder::Status::Done) return out;
    // Unconsumed bytes stay in front of the next piece.
    pos += used;
    if (used < n && step != 0) return "STUCK";
  }
  return "INCOMPLETE:" + out;
}

}  // namespace

TEST_CASE("a plain request parses: method, target, headers, framing") {
  Head h;
  REQUIRE(status_of(req("Host: x\r\nContent-Length: 12\r\nX-A:  b \r\n"), &h) == 0);
  CHECK(h.method == "POST");
  CHECK(h.target == "/t");
  CHECK(h.minor == 1);
  CHECK(h.body == BodyFraming::Length);
  CHECK(h.length == 12);
  CHECK(h.keep_alive);
  CHECK(h.headers.find("x-a")->second == "b");
  REQUIRE(status_of(req("Host: x\r\nTransfer-Encoding: Chunked\r\n"), &h) == 0);
  CHECK(h.body == BodyFraming::Chunked);
  REQUIRE(status_of(req("Host: x\r\nContent-Length: 0\r\n"), &h) == 0);
  CHECK(h.body == BodyFraming::None);
  // LF-only lines are read like CRLF lines (as nginx does); the framing rules stay the same.
  REQUIRE(status_of("GET / HTTP/1.1\nHost: x\n\n", &h) == 0);
  CHECK(h.method == "GET");
}

TEST_CASE("Content-Length and Transfer-Encoding that a proxy could read differently are refused") {
  CHECK(status_of(req("Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: 0, 70\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: 12abc\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: +12\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: -1\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: \r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nContent-Length: 99999999999999999999999\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\nTransfer-Encoding: gzip, chunked\r\n")) == 501);
  CHECK(status_of(req("Host: x\r\nTransfer-Encoding: identity\r\n")) == 501);
  CHECK(status_of(req("Host: x\r\nTransfer-Encoding: chunked, chunked\r\n")) == 501);
  CHECK(status_of(req("Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")) == 501);
  CHECK(status_of(req("Host: x\r\nTransfer-Encoding: chunked\r\n", "POST /t HTTP/1.0")) == 400);
}

TEST_CASE("malformed fields and Host rules") {
  CHECK(status_of(req("Host: x\r\nContent-Length : 5\r\n")) == 400);  // space before the colon
  CHECK(status_of(req("Host: x\r\nX-A\t: b\r\n")) == 400);
  CHECK(status_of(req(std::string("Host: x\r\nX-A: a\0b\r\n", 19))) == 400);  // NUL
  CHECK(status_of(req("Host: x\r\nX-A: a\rb\r\n")) == 400);                   // bare CR
  CHECK(status_of(req("Host: x\r\nX-A: a\r\n folded\r\n")) == 400);           // obs-fold
  CHECK(status_of(req("Host: x\r\nno colon here\r\n")) == 400);
  CHECK(status_of(req("Host: x\r\n: empty name\r\n")) == 400);
  CHECK(status_of(req("X-A: b\r\n")) == 400);  // HTTP/1.1 without Host
  CHECK(status_of(req("Host: a\r\nHost: b\r\n")) == 400);
  CHECK(status_of(req("Host: a b\r\n")) == 400);
  CHECK(status_of(req("Host: a/b\r\n")) == 400);
  CHECK(status_of(req("Host:\r\n")) == 0);  // empty is allowed (RFC 9110 7.2)
  CHECK(status_of(req("Host: [::1]:8000\r\n")) == 0);
  Head h;
  REQUIRE(status_of(req("X-A: b\r\n", "GET / HTTP/1.0"), &h) == 0);  // HTTP/1.0 needs no Host
  CHECK_FALSE(h.keep_alive);
  REQUIRE(status_of(req("Connection: Keep-Alive\r\n", "GET / HTTP/1.0"), &h) == 0);
  CHECK(h.keep_alive);
  REQUIRE(status_of(req("Host: x\r\nConnection: foo, close\r\n"), &h) == 0);
  CHECK_FALSE(h.keep_alive);
}

TEST_CASE("request line: methods, targets, versions") {
  CHECK(status_of(req("Host: x\r\n", "GET /a b HTTP/1.1")) == 400);
  CHECK(status_of(req("Host: x\r\n", "GET  /a HTTP/1.1")) == 400);
  CHECK(status_of(req("Host: x\r\n", "G@T /a HTTP/1.1")) == 400);
  CHECK(status_of(req("Host: x\r\n", "GET a HTTP/1.1")) == 400);
  CHECK(status_of(req("Host: x\r\n", "GET /\x7f HTTP/1.1")) == 400);
  CHECK(status_of(req("Host: x\r\n", "GET /\xc3\xa9 HTTP/1.1")) == 0);  // raw UTF-8, as curl sends it
  CHECK(status_of(req("Host: x\r\n", "GET / HTTP/2.0")) == 505);
  CHECK(status_of(req("Host: x\r\n", "GET / HTTP/1.2")) == 505);
  CHECK(status_of(req("Host: x\r\n", "GET / HTTX/1.1")) == 400);
  CHECK(status_of(req("Host: x\r\n", "OPTIONS * HTTP/1.1")) == 0);
  Head h;
  REQUIRE(status_of(req("Host: x\r\n", "GET http://example.com/a?b=1 HTTP/1.1"), &h) == 0);
  CHECK(h.target == "/a?b=1");
  REQUIRE(status_of(req("Host: x\r\n", "GET http://example.com HTTP/1.1"), &h) == 0);
  CHECK(h.target == "/");
  CHECK(status_of(req("Host: x\r\nExpect: 100-continue\r\n"), &h) == 0);
  CHECK(h.expect_continue);
  CHECK(status_of(req("Host: x\r\nExpect: something\r\n")) == 417);
}

TEST_CASE("the head is capped while it arrives: field count, total size, request line") {
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 99; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(status_of(head + "\r\n") == 0);  // 100 fields
  CHECK(status_of(head + "X-Last: v\r\n\r\n") == 431);
  // Scanned in pieces, the flood is refused once the cap is passed, long before it ends.
  HeadScan scan;
  size_t end = 0;
  pxt::wire::Failure fail;
  std::string flood = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ";
  Scan s = Scan::Incomplete;
  while (s == Scan::Incomplete && flood.size() < 10 * kMaxHeadBytes) {
    flood += std::string(1000, 'a');
    s = scan_head(flood, scan, end, fail);
  }
  CHECK(s == Scan::Failed);
  CHECK(fail.status == 431);
  CHECK(flood.size() <= kMaxHeadBytes + 1000);
  CHECK(status_of("GET /" + std::string(kMaxRequestLine, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n") == 414);
  scan = HeadScan{};
  std::string line = "GET /" + std::string(kMaxRequestLine + 10, 'a');
  CHECK(scan_head(line, scan, end, fail) == Scan::Failed);
  CHECK(fail.status == 414);
}

TEST_CASE("chunked bodies: plain hex sizes only, CRLF after every chunk, trailers skipped") {
  const std::string body = "5\r\nhello\r\nA;name=v\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
  CHECK(dechunk(body) == "hello0123456789");
  CHECK(dechunk(body, 1) == "hello0123456789");
  CHECK(dechunk(body, 7) == "hello0123456789");
  CHECK(dechunk("5 ;x\r\nhello\r\n0\r\n\r\n") == "hello");
  CHECK(dechunk("0x5\r\nhello\r\n0\r\n\r\n") == "FAIL");
  CHECK(dechunk(" 5\r\nhello\r\n0\r\n\r\n") == "FAIL");
  CHECK(dechunk("+5\r\nhello\r\n0\r\n\r\n") == "FAIL");
  CHECK(dechunk("-1\r\nhello\r\n0\r\n\r\n") == "FAIL");
  CHECK(dechunk("5 \r\nhello\r\n0\r\n\r\n") == "FAIL");  // padding without an extension
  CHECK(dechunk("5\nhello\r\n0\r\n\r\n") == "FAIL");     // bare LF
  CHECK(dechunk("5\r\nhelloXX0\r\n\r\n") == "FAIL");     // data longer than its size
  CHECK(dechunk("1000000000000000\r\n") == "FAIL");      // 16 hex digits: past any body
  CHECK(dechunk("5\r\nhello\r\n0\r\n") == "INCOMPLETE:hello");
}

TEST_CASE("Accept-Encoding: gzip only with a weight above zero") {
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("gzip, deflate, br"));
  CHECK(accepts_gzip("GZIP;q=0.5"));
  CHECK(accepts_gzip("gzip;q=0.001"));
  CHECK(accepts_gzip("*"));
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip; q=0.000, br"));
  CHECK_FALSE(accepts_gzip("br, deflate"));
  CHECK_FALSE(accepts_gzip("*, gzip;q=0"));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip(""));
}
