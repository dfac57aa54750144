#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "cli/json_rows.hpp"

using namespace pxt;

namespace {
TableDef items() {
  TableDef t;
  t.path = "demo.items";
  t.columns = {{"id", ColumnType::Int, true},
               {"name", ColumnType::String},
               {"score", ColumnType::Float},
               {"shout", ColumnType::String, false, "upper(name)"}};
  return t;
}

Result<void> convert(JsonRowConverter& conv, const char* json, Row& row) {
  rapidjson::Document d;
  d.Parse(json);
  REQUIRE_FALSE(d.HasParseError());
  return conv.convert(d, row);
}

// A FILE* over a string, the way `pxt insert -` sees a pipe.
struct MemFile {
  explicit MemFile(const std::string& text) : f(std::tmpfile()) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::rewind(f);
  }
  ~MemFile() { std::fclose(f); }
  std::FILE* f;
};
}  // namespace

TEST_CASE("JSON object -> row over the input columns") {
  TableDef t = items();
  JsonRowConverter conv(t);
  CHECK(conv.columns() == std::vector<std::string>{"id", "name", "score"});
  Row row;
  REQUIRE(convert(conv, R"({"id": 1, "name": "a", "score": 2.5})", row));
  REQUIRE(row.size() == 3);
  CHECK(std::get<int64_t>(row[0]) == 1);
  CHECK(std::get<std::string>(row[1]) == "a");
  CHECK(std::get<double>(row[2]) == 2.5);

  // Keys in any order; missing and null keys give null; the row's old values are cleared.
  REQUIRE(convert(conv, R"({"score": null, "id": 2})", row));
  CHECK(std::get<int64_t>(row[0]) == 2);
  CHECK(is_null(row[1]));
  CHECK(is_null(row[2]));
}

TEST_CASE("JSON row errors name the column, type and value") {
  TableDef t = items();
  JsonRowConverter conv(t);
  Row row;
  auto wrong = convert(conv, R"({"id": "7"})", row);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message.find("column 'id' (Int)") != std::string::npos);
  CHECK(wrong.error().message.find("\"7\"") != std::string::npos);

  auto unknown = convert(conv, R"({"id": 1, "nam": "x"})", row);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "unknown column 'nam' in table 'demo.items', did you mean 'name'?");

  auto computed = convert(conv, R"({"id": 1, "shout": "X"})", row);
  REQUIRE_FALSE(computed);
  CHECK(computed.error().message == "'shout' is a computed column and cannot be inserted");

  auto missing = convert(conv, R"({"name": "x"})", row);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("column 'id' is required") != std::string::npos);
  CHECK_FALSE(convert(conv, R"({"id": null})", row));

  auto not_object = convert(conv, "[1, 2]", row);
  REQUIRE_FALSE(not_object);
  CHECK(not_object.error().message.find("expected a JSON object") != std::string::npos);
}

TEST_CASE("JSON Lines reader") {
  TableDef t = items();
  JsonRowConverter conv(t);
  SUBCASE("rows, blank lines, CRLF and a last line without newline") {
    MemFile in("{\"id\": 1, \"name\": \"a\"}\n\n  \r\n{\"id\": 2}\r\n{\"id\": 3, \"name\": \"c\"}");
    JsonlReader r(in.f, "rows.jsonl", conv);
    Row row;
    std::vector<int64_t> ids;
    while (true) {
      auto more = r.next(row);
      REQUIRE(more);
      if (!*more) break;
      ids.push_back(std::get<int64_t>(row[0]));
    }
    CHECK(ids == std::vector<int64_t>{1, 2, 3});
    CHECK(r.line() == 5);
  }
  SUBCASE("a bad line reports file:line") {
    MemFile in("{\"id\": 1}\n{\"id\": \"x\"}\n");
    JsonlReader r(in.f, "rows.jsonl", conv);
    Row row;
    REQUIRE(*r.next(row));
    auto bad = r.next(row);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.rfind("rows.jsonl:2: column 'id' (Int)", 0) == 0);
  }
  SUBCASE("invalid JSON reports file:line and the parser's reason") {
    MemFile in("{\"id\": 1}\n{\"id\": 2,}\n");
    JsonlReader r(in.f, "in.jsonl", conv);
    Row row;
    REQUIRE(*r.next(row));
    auto bad = r.next(row);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.rfind("in.jsonl:2: invalid JSON: ", 0) == 0);
  }
  SUBCASE("a NUL byte is refused, not taken for the end of the line") {
    MemFile in(std::string("{\"id\": 1}\n{\"id\": 2}\0{\"id\": 3}\n", 30));
    JsonlReader r(in.f, "nul.jsonl", conv);
    Row row;
    REQUIRE(*r.next(row));
    auto bad = r.next(row);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "nul.jsonl:2: invalid JSON: a NUL byte (at column 10)");
  }
  SUBCASE("lines longer than the read buffer, many rows") {
    std::string big(5 << 20, 'x');
    std::string text = "{\"id\": 1, \"name\": \"" + big + "\"}\n";
    for (int i = 2; i <= 20000; ++i) text += "{\"id\": " + std::to_string(i) + ", \"name\": \"n\"}\n";
    MemFile in(text);
    JsonlReader r(in.f, "big.jsonl", conv);
    Row row;
    REQUIRE(*r.next(row));
    CHECK(std::get<std::string>(row[1]).size() == big.size());
    int64_t n = 1, last = 0;
    while (*r.next(row)) {
      ++n;
      last = std::get<int64_t>(row[0]);
    }
    CHECK(n == 20000);
    CHECK(last == 20000);
  }
}
