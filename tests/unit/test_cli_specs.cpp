#include <doctest/doctest.h>

#include "cli/specs.hpp"

using namespace pxt;

TEST_CASE("--column specs") {
  auto c = parse_column_spec("id:Int!");
  REQUIRE(c);
  CHECK(c->name == "id");
  CHECK(c->type == ColumnType::Int);
  CHECK(c->required);
  CHECK_FALSE(c->is_computed());

  auto s = parse_column_spec(" prompt : string ");
  REQUIRE(s);
  CHECK(s->name == "prompt");
  CHECK(s->type == ColumnType::String);
  CHECK_FALSE(s->required);

  SUBCASE("missing type") {
    auto r = parse_column_spec("id");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
    CHECK(r.error().message == "invalid --column 'id': expected NAME:TYPE or NAME:TYPE! (e.g. id:Int!)");
  }
  SUBCASE("empty type") { CHECK_FALSE(parse_column_spec("id:")); }
  SUBCASE("only a bang") { CHECK_FALSE(parse_column_spec("id:!")); }
  SUBCASE("empty name") { CHECK_FALSE(parse_column_spec(":Int")); }
  SUBCASE("an expression belongs in --computed") { CHECK_FALSE(parse_column_spec("x:Int=1")); }
  SUBCASE("bad name") {
    auto r = parse_column_spec("my col:Int");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("invalid column name 'my col'") != std::string::npos);
  }
  SUBCASE("unknown type suggests the closest") {
    auto r = parse_column_spec("id:Imt");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("'Imt'") != std::string::npos);
    CHECK(r.error().message.find("did you mean 'Int'?") != std::string::npos);
  }
}

TEST_CASE("--computed specs") {
  auto c = parse_computed_spec("shout=upper(prompt)");
  REQUIRE(c);
  CHECK(c->name == "shout");
  CHECK(c->computed == "upper(prompt)");
  CHECK(c->infer_type);

  auto typed = parse_computed_spec("n:Int = length(prompt) + 1");
  REQUIRE(typed);
  CHECK(typed->name == "n");
  CHECK(typed->type == ColumnType::Int);
  CHECK_FALSE(typed->infer_type);
  CHECK(typed->computed == "length(prompt) + 1");

  // Only the first '=' splits: the expression may hold more.
  auto eq = parse_computed_spec("same=a = b");
  REQUIRE(eq);
  CHECK(eq->computed == "a = b");

  CHECK_FALSE(parse_computed_spec("shout"));
  CHECK_FALSE(parse_computed_spec("shout="));
  CHECK_FALSE(parse_computed_spec("=upper(x)"));
  auto req = parse_computed_spec("n:Int!=1");
  REQUIRE_FALSE(req);
  CHECK(req.error().message.find("cannot be marked required") != std::string::npos);
  auto bad_type = parse_computed_spec("n:Flot=1");
  REQUIRE_FALSE(bad_type);
  CHECK(bad_type.error().message.find("did you mean") != std::string::npos);
}

TEST_CASE("name lists") {
  auto l = parse_name_list("a, b,c", "--columns");
  REQUIRE(l);
  CHECK(*l == std::vector<std::string>{"a", "b", "c"});
  auto bad = parse_name_list("a,,b", "--columns");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "invalid --columns 'a,,b': expected names separated by commas");
  CHECK_FALSE(parse_name_list("", "--columns"));
}

TEST_CASE("build_table_def") {
  auto t = build_table_def("demo/prompts", {"id:Int!", "prompt:String"}, {"shout=upper(prompt)"}, {"id"});
  REQUIRE(t);
  CHECK(t->path == "demo.prompts");
  REQUIRE(t->columns.size() == 3);
  CHECK(t->columns[2].computed == "upper(prompt)");
  CHECK(t->primary_key == std::vector<std::string>{"id"});

  auto two_pk = build_table_def("t", {"a:Int", "b:Int"}, {}, {"a,b"});
  REQUIRE(two_pk);
  CHECK(two_pk->primary_key == std::vector<std::string>{"a", "b"});

  auto dup = build_table_def("t", {"a:Int", "a:String"}, {}, {});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().message == "duplicate column 'a'");
  auto none = build_table_def("t", {}, {}, {});
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("at least one column") != std::string::npos);
  CHECK_FALSE(build_table_def("bad path!", {"a:Int"}, {}, {}));
}

namespace {
TableDef sample_table() {
  TableDef t;
  t.path = "demo.items";
  t.columns = {{"id", ColumnType::Int, true},
               {"name", ColumnType::String},
               {"meta", ColumnType::Json},
               {"shout", ColumnType::String, false, "upper(name)"}};
  t.primary_key = {"id"};
  return t;
}
}  // namespace

TEST_CASE("--set specs") {
  TableDef t = sample_table();
  auto s = parse_set_spec(t, "name=Bob = the builder");
  REQUIRE(s);
  CHECK(s->first == "name");
  CHECK(std::get<std::string>(s->second) == "Bob = the builder");

  auto i = parse_set_spec(t, "id=42");
  REQUIRE(i);
  CHECK(std::get<int64_t>(i->second) == 42);

  auto j = parse_set_spec(t, R"(meta={"a": [1, 2]})");
  REQUIRE(j);
  CHECK(std::holds_alternative<std::string>(j->second));

  auto bad_int = parse_set_spec(t, "id=abc");
  REQUIRE_FALSE(bad_int);
  CHECK(bad_int.error().message.find("column 'id' (Int)") != std::string::npos);
  CHECK(bad_int.error().message.find("'abc'") != std::string::npos);

  auto unknown = parse_set_spec(t, "nam=x");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == Errc::not_found);
  CHECK(unknown.error().message.find("did you mean 'name'?") != std::string::npos);

  auto computed = parse_set_spec(t, "shout=X");
  REQUIRE_FALSE(computed);
  CHECK(computed.error().message.find("computed column") != std::string::npos);

  CHECK_FALSE(parse_set_spec(t, "name"));
  CHECK_FALSE(parse_set_spec(t, "=x"));
}
