// TableDef helpers and path normalisation.
#include <doctest/doctest.h>

#include "store/model/schema.hpp"

using namespace pxt;

TEST_CASE("normalize_path accepts dots and slashes alike") {
  CHECK(*normalize_path("a/b/t") == "a.b.t");
  CHECK(*normalize_path("a.b.t") == "a.b.t");
  CHECK(*normalize_path(" t ") == "t");
}

TEST_CASE("normalize_path names the bad part and why") {
  auto e = normalize_path("a/1b/t");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == Errc::invalid_argument);
  CHECK(
      e.error().message ==
      "invalid path 'a/1b/t': '1b' is not an identifier (letters, digits and _, not starting with a digit)");
  CHECK(normalize_path("a..t").error().message == "invalid path 'a..t': part 2 is empty");
  CHECK(normalize_path("").error().message == "invalid path '': the path is empty");
  CHECK(normalize_path("a/b.c").error().message.find("not both") != std::string::npos);
  CHECK(normalize_path("my-dir.t").error().message.find("'my-dir' is not an identifier") !=
        std::string::npos);
}

TEST_CASE("parent_path") {
  CHECK(parent_path("a.b.t") == "a.b");
  CHECK(parent_path("t").empty());
}

TEST_CASE("TableDef lookups ignore case like SQL") {
  TableDef t;
  t.columns = {{"id", ColumnType::Int}, {"Name", ColumnType::String}};
  t.primary_key = {"id"};
  CHECK(t.index_of("name") == 1);
  CHECK(t.index_of("nope") == -1);
  CHECK(t.find("ID")->type == ColumnType::Int);
  CHECK(t.find("x") == nullptr);
  CHECK(t.column_names() == std::vector<std::string>{"id", "Name"});
  CHECK(t.is_pk("Id"));
  CHECK_FALSE(t.is_pk("name"));
  QueryDef q;
  q.module = "m.q";
  q.name = "f";
  CHECK(q.qualified_name() == "m.q.f");
  q.module.clear();
  CHECK(q.qualified_name() == "f");
}
