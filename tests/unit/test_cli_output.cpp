#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "cli/output.hpp"

using namespace pxt;

namespace {
// Runs `fill` against an Out writing to a temporary file and returns what it wrote.
template <class F>
std::string capture(F&& fill) {
  std::FILE* f = std::tmpfile();
  {
    Out out(f);
    fill(out);
  }
  std::string text;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

TableDef films() {
  TableDef t;
  t.path = "demo.films";
  t.columns = {{"id", ColumnType::Int},
               {"title", ColumnType::String},
               {"poster", ColumnType::Image},
               {"meta", ColumnType::Json}};
  return t;
}

std::vector<Row> sample_rows() {
  return {{int64_t{1}, std::string("Alien, \"the\" film"), std::string("p/1.jpg"), std::string(R"({"a":1})")},
          {int64_t{2}, std::monostate{}, std::monostate{}, std::monostate{}}};
}

std::string print(RowFormat format, std::vector<std::string> columns = {}) {
  TableDef t = films();
  return capture([&](Out& out) {
    RowPrinter p(out, format, out_columns(t, columns), "/home/media/");
    for (const auto& r : sample_rows()) {
      if (columns.empty()) {
        p.row(r);
      } else {
        p.row(Row{r[0], r[1]});
      }
    }
    CHECK(p.finish() == 2);
  });
}
}  // namespace

TEST_CASE("row formats") {
  CHECK(print(RowFormat::Jsonl) ==
        "{\"id\":1,\"title\":\"Alien, \\\"the\\\" "
        "film\",\"poster\":\"/home/media/p/1.jpg\",\"meta\":{\"a\":1}}\n"
        "{\"id\":2,\"title\":null,\"poster\":null,\"meta\":null}\n");
  CHECK(print(RowFormat::Json, {"id", "title"}) ==
        "[{\"id\":1,\"title\":\"Alien, \\\"the\\\" film\"},\n{\"id\":2,\"title\":null}]\n");
  CHECK(print(RowFormat::Csv, {"id", "title"}) == "id,title\n1,\"Alien, \"\"the\"\" film\"\n2,\n");
  CHECK(print(RowFormat::Table, {"id", "title"}) ==
        "id  title\n"
        "--  -----------------\n"
        "1   Alien, \"the\" film\n"
        "2\n");
}

TEST_CASE("empty results") {
  TableDef t = films();
  auto json = capture([&](Out& out) {
    RowPrinter p(out, RowFormat::Json, out_columns(t, {}), "");
    CHECK(p.finish() == 0);
  });
  CHECK(json == "[]\n");
  auto jsonl = capture([&](Out& out) { RowPrinter(out, RowFormat::Jsonl, out_columns(t, {}), "").finish(); });
  CHECK(jsonl.empty());
}

TEST_CASE("format names") {
  CHECK(*parse_row_format("jsonl") == RowFormat::Jsonl);
  auto bad = parse_row_format("jsonn");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("did you mean 'json'?") != std::string::npos);
}

TEST_CASE("render_table cuts long cells and flattens newlines") {
  std::string long_cell(100, 'a');
  std::string out = render_table({"k", "v"}, {{"x", long_cell}, {"y", "two\nlines"}}, 10);
  CHECK(out ==
        "k  v\n"
        "-  ----------\n"
        "x  aaaaaaa...\n"
        "y  two lines\n");
  // Width counts characters, not UTF-8 bytes.
  CHECK(render_table({"name"}, {{"\xC3\xA9t\xC3\xA9"}}) == "name\n----\n\xC3\xA9t\xC3\xA9\n");
}

TEST_CASE("csv fields") {
  std::string s;
  append_csv_field(s, "plain");
  s += ',';
  append_csv_field(s, "a\nb");
  CHECK(s == "plain,\"a\nb\"");
}

TEST_CASE("large outputs are flushed in chunks and complete") {
  std::string text = capture([](Out& out) {
    for (int i = 0; i < 200000; ++i) out.write("0123456789\n");
  });
  CHECK(text.size() == 200000u * 11);
}
