// Access log lines (text and JSON), secret redaction, and the start banner.
#include <doctest/doctest.h>

#include "serve/http/access_log.hpp"
#include "serve/http/banner.hpp"

using namespace pxt;

namespace {
AccessRecord access_record() {
  AccessRecord r;
  r.remote_addr = "127.0.0.1";
  r.method = "POST";
  r.path = "/v1/insert";
  r.status = 200;
  r.duration_ms = 1.23456;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  return r;
}
}  // namespace

TEST_CASE("text line: time, client, method, path, status, duration") {
  CHECK(format_access_line(LogFormat::Text, access_record()) ==
        "2023-11-14T22:13:20.123Z 127.0.0.1 POST /v1/insert 200 1.23ms\n");
}

TEST_CASE("json line is one object with the same fields") {
  AccessRecord r = access_record();
  r.error = "boom";
  CHECK(format_access_line(LogFormat::Json, r) ==
        R"({"time":"2023-11-14T22:13:20.123Z","remote":"127.0.0.1","method":"POST","path":"/v1/insert",)"
        R"("status":200,"duration_ms":1.235,"error":"boom"})"
        "\n");
}

TEST_CASE("control characters in a path cannot forge a log line") {
  AccessRecord r = access_record();
  r.path = "/a\nGET /fake 200";
  std::string line = format_access_line(LogFormat::Text, r);
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find("/a\\x0aGET") != std::string::npos);
}

TEST_CASE("secrets are redacted from error notes") {
  CHECK(redact_secrets("connect postgresql://bob:hunter2@db:5432/x failed") ==
        "connect postgresql://bob:***@db:5432/x failed");
  CHECK(redact_secrets("no auth http://host/path") == "no auth http://host/path");
  CHECK(redact_secrets("header Authorization: Bearer abc.def") == "header Authorization: Bearer ***");
  AccessRecord r = access_record();
  r.error = "export to mysql://u:pw@h/db failed";
  CHECK(format_access_line(LogFormat::Text, r).find("pw@") == std::string::npos);
}

TEST_CASE("banner: wildcard host shown as localhost, route count, docs URL; or JSON") {
  ServiceSpec s;
  s.name = "svc";
  s.host = "0.0.0.0";
  CHECK(banner_text(s, 8000, 3, false) ==
        "Service 'svc' running on http://localhost:8000 with 3 routes; docs at http://localhost:8000/docs\n");
  s.prefix = "/v1";
  s.host = "127.0.0.1";
  CHECK(
      banner_text(s, 9000, 1, false) ==
      "Service 'svc' running on http://127.0.0.1:9000/v1 with 1 route; docs at http://127.0.0.1:9000/docs\n");
  std::string json = banner_text(s, 9000, 1, true);
  CHECK(json.find(
            R"("url":"http://127.0.0.1:9000/v1","host":"127.0.0.1","port":9000,"prefix":"/v1","routes":1,)"
            R"("docs_url":"http://127.0.0.1:9000/docs")") != std::string::npos);
  CHECK(display_host("::") == "localhost");
  CHECK(display_host("::1") == "[::1]");
}
