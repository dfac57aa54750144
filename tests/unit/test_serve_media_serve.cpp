#include <doctest/doctest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "serve/media/serve.hpp"
#include "test_store_fixture.hpp"

namespace pxt {

namespace fs = std::filesystem;

namespace {

struct Root {
  std::string home = test::temp_home("media-serve");
  fs::path dir = fs::path(home) / "media";
  std::unique_ptr<MediaRoot> root;
  Root() {
    fs::create_directories(dir / "ab");
    std::ofstream(dir / "ab" / "f.txt") << "0123456789";
    std::ofstream(dir / "ab" / "e.txt");
    std::ofstream(fs::path(home) / "secret.txt") << "secret";
    fs::create_symlink(fs::path(home) / "secret.txt", dir / "ab" / "link.txt");
    root = std::make_unique<MediaRoot>(dir.string());
  }
  ~Root() { fs::remove_all(home); }
};

// The body a content provider would send.
std::string body_of(httplib::Response& res) {
  if (!res.content_provider_) return res.body;
  std::string out;
  httplib::DataSink sink;
  sink.write = [&](const char* d, size_t n) {
    out.append(d, n);
    return true;
  };
  size_t off = 0;
  while (off < res.content_length_) {
    size_t before = out.size();
    if (!res.content_provider_(off, res.content_length_ - off, sink)) break;
    off += out.size() - before;
  }
  return out;
}

httplib::Response get(const Root& r, const std::string& rel, const std::string& range = "") {
  httplib::Request req;
  req.method = "GET";
  if (!range.empty()) req.headers.emplace("Range", range);
  httplib::Response res;
  r.root->serve(rel, req, res);
  return res;
}

}  // namespace

TEST_CASE("media files are served whole, by range, or refused with 416") {
  Root r;
  auto whole = get(r, "ab/f.txt");
  CHECK(whole.status == 200);
  CHECK(body_of(whole) == "0123456789");
  CHECK(whole.get_header_value("Content-Type") == "text/plain; charset=utf-8");
  CHECK(whole.get_header_value("Accept-Ranges") == "bytes");
  struct Case {
    const char* range;
    int status;
    const char* body;
    const char* content_range;
  };
  for (const Case& c :
       {Case{"bytes=2-4", 206, "234", "bytes 2-4/10"}, Case{"bytes=7-", 206, "789", "bytes 7-9/10"},
        Case{"bytes=-3", 206, "789", "bytes 7-9/10"}, Case{"bytes=-30", 206, "0123456789", "bytes 0-9/10"},
        Case{"bytes=8-100", 206, "89", "bytes 8-9/10"}, Case{"bytes=10-", 416, "", "bytes */10"},
        Case{"bytes=-0", 416, "", "bytes */10"}, Case{"bytes=4-2", 200, "0123456789", ""},
        Case{"bytes=0-1,4-5", 200, "0123456789", ""}, Case{"items=0-1", 200, "0123456789", ""},
        Case{"bytes=x-1", 200, "0123456789", ""}}) {
    INFO(c.range);
    auto res = get(r, "ab/f.txt", c.range);
    CHECK(res.status == c.status);
    if (c.status != 416) CHECK(body_of(res) == c.body);
    CHECK(res.get_header_value("Content-Range") == c.content_range);
  }
  CHECK(get(r, "ab/e.txt").status == 200);
  CHECK(get(r, "ab/e.txt", "bytes=0-").status == 416);
}

TEST_CASE("conditional requests get 304") {
  Root r;
  auto first = get(r, "ab/f.txt");
  std::string etag = first.get_header_value("ETag");
  REQUIRE(etag.size() > 2);
  httplib::Request req;
  req.headers.emplace("If-None-Match", "\"x\", " + etag);
  httplib::Response res;
  r.root->serve("ab/f.txt", req, res);
  CHECK(res.status == 304);
  httplib::Request since;
  since.headers.emplace("If-Modified-Since", first.get_header_value("Last-Modified"));
  httplib::Response res2;
  r.root->serve("ab/f.txt", since, res2);
  CHECK(res2.status == 304);
  httplib::Request old;
  old.headers.emplace("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT");
  httplib::Response res3;
  r.root->serve("ab/f.txt", old, res3);
  CHECK(res3.status == 200);
}

TEST_CASE("nothing outside the media folder is reachable") {
  Root r;
  for (const char* bad : {"../secret.txt", "ab/../../secret.txt", "/etc/passwd", "ab/link.txt", "ab", "", ".",
                          "ab//f.txt", "./ab/f.txt", "ab\\f.txt"}) {
    INFO(bad);
    auto res = get(r, bad);
    CHECK(res.status == 404);
    CHECK(res.body == R"({"detail":"Not Found"})");
  }
  CHECK(r.root->open_beneath("../secret.txt") == -1);
  httplib::Response res;
  CHECK_FALSE(r.root->send("ab/link.txt", res));
  CHECK(r.root->send("ab/f.txt", res));
  CHECK(body_of(res) == "0123456789");
}

}  // namespace pxt
