// The streaming multipart/form-data parser (serve/http/multipart.hpp): parts and their data
// whatever the split of the input, the boundary parameter, and malformed bodies refused.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "serve/http/multipart.hpp"

using namespace pxt;

namespace {

struct Collected {
  std::vector<PartInfo> parts;
  std::vector<std::string> data;
  bool ok = true;
  bool done = false;
};

Collected parse(const std::string& body, size_t step, const std::string& boundary = "XyZ") {
  Collected c;
  MultipartParser p(
      boundary,
      [&](const PartInfo& part) {
        c.parts.push_back(part);
        c.data.emplace_back();
        return true;
      },
      [&](const char* d, size_t n) {
        c.data.back().append(d, n);
        return true;
      });
  for (size_t pos = 0; pos < body.size() && c.ok;) {
    size_t n = step == 0 ? body.size() : std::min(step, body.size() - pos);
    c.ok = p.feed(body.data() + pos, n);
    pos += n;
  }
  c.done = p.done();
  return c;
}

const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"id\"\r\n\r\n"
    "7\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"img\"; filename=\"a \\\"b\\\";c.png\"\r\n"
    "Content-Type: image/png\r\n\r\n"
    "\x89PNG\r\n--X not a boundary\r\n--XyZZ still data\r\n"
    "--XyZ--\r\n"
    "epilogue";

}  // namespace

TEST_CASE("parts and data come out the same for every split of the input") {
  for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
    CAPTURE(step);
    Collected c = parse(kBody, step);
    REQUIRE(c.ok);
    CHECK(c.done);
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].name == "id");
    CHECK(c.parts[0].filename.empty());
    CHECK(c.data[0] == "7");
    CHECK(c.parts[1].name == "img");
    CHECK(c.parts[1].filename == "a \"b\";c.png");
    CHECK(c.parts[1].content_type == "image/png");
    // A delimiter must be followed by CRLF or "--"; a longer look-alike stays data.
    CHECK(c.data[1] == "\x89PNG\r\n--X not a boundary\r\n--XyZZ still data");
  }
}

TEST_CASE("a preamble, a part without headers' extras, an RFC 5987 filename") {
  Collected c = parse(
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=f; "
      "filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n\r\n"
      "x\r\n--XyZ--",
      5);
  REQUIRE(c.ok);
  CHECK(c.done);
  REQUIRE(c.parts.size() == 1);
  CHECK(c.parts[0].filename == "\xc3\xa9t\xc3\xa9.txt");
  CHECK(c.data[0] == "x");
}

TEST_CASE("malformed bodies are refused") {
  // No Content-Disposition.
  CHECK_FALSE(parse("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", 0).ok);
  // Whitespace after a delimiter, then garbage.
  CHECK_FALSE(parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ  junk", 0).ok);
  // A look-alike of the delimiter is data: the body never ends.
  Collected alike = parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZjunk", 0);
  CHECK(alike.ok);
  CHECK_FALSE(alike.done);
  // Part headers that never end.
  CHECK_FALSE(parse("--XyZ\r\nContent-Disposition: form-data; name=a" + std::string(10000, 'a'), 100).ok);
  // Cut short: parsed so far without error, but not done.
  Collected c = parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz", 0);
  CHECK(c.ok);
  CHECK_FALSE(c.done);
}

TEST_CASE("a callback that refuses stops the parser") {
  MultipartParser p(
      "b", [](const PartInfo&) { return false; }, [](const char*, size_t) { return true; });
  std::string body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--";
  CHECK_FALSE(p.feed(body.data(), body.size()));
}

TEST_CASE("the boundary parameter") {
  CHECK(multipart_boundary("multipart/form-data; boundary=abc") == "abc");
  CHECK(multipart_boundary("Multipart/Form-Data;boundary=\"a b;c\"") == "a b;c");
  CHECK(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x") == "x");
  CHECK(multipart_boundary("multipart/form-data") == "");
  CHECK(multipart_boundary("multipart/form-data; boundary=") == "");
  CHECK(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')) == "");
  CHECK(multipart_boundary("application/json; boundary=x") == "");
}
