// Writes through the Store interface: value checks, computed columns, update, delete, compute,
// bulk loads, and that a failed write stores nothing. Part of the store conformance suite.
#include <cstdlib>

#include "store/functions/registry.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_SUITE_BEGIN("store conformance");

namespace {

struct Prompts : StoreFixture {
  TableDef t;
  Prompts() {
    t = make("prompts",
             {col("id", ColumnType::Int), col("prompt", ColumnType::String), col("score", ColumnType::Float),
              col("flag", ColumnType::Bool), computed("shout", "upper(prompt)"),
              computed("n", "length(shout)"), computed("label", "shout || ':' || id", ColumnType::String)},
             {"id"});
  }
  int64_t count() { return s().count(t, {}).take(); }
};

}  // namespace

TEST_CASE_FIXTURE(Prompts, "create_table fills depends_on and infers computed types") {
  CHECK(t.columns[4].type == ColumnType::String);
  CHECK(t.columns[5].type == ColumnType::Int);
  CHECK(t.columns[5].depends_on == std::vector<std::string>{"shout"});
  CHECK(t.columns[6].depends_on == std::vector<std::string>{"shout", "id"});
  CHECK_FALSE(t.columns[5].infer_type);
  CHECK(s().get_table("prompts").take().columns[5].type == ColumnType::Int);
}

TEST_CASE_FIXTURE(Prompts, "insert returns stored rows with computed values in table order") {
  auto out = s().insert(t, {"prompt", "id", "score", "flag"}, {{S("hi"), I(1), I(2), Value(true)}}).take();
  REQUIRE(out.size() == 1);
  const Row& r = out[0];
  CHECK(num(r[0]) == 1);
  CHECK(str(r[1]) == "hi");
  CHECK(std::get<double>(r[2]) == 2.0);  // an Int for a Float column is stored as a float
  CHECK(std::get<bool>(r[3]));
  CHECK(str(r[4]) == "HI");
  CHECK(num(r[5]) == 2);
  CHECK(str(r[6]) == "HI:1");
  auto again = rows(t);
  REQUIRE(again.size() == 1);
  CHECK(again[0] == r);
}

TEST_CASE_FIXTURE(Prompts, "insert checks values, columns and required columns; failures store nothing") {
  auto err = [&](std::vector<std::string> cols, std::vector<Row> rs) {
    auto r = s().insert(t, cols, rs);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(err({"id", "prompt"}, {{S("7"), S("x")}}) == "column 'id' expects Int, got String \"7\"");
  CHECK(err({"id", "score"}, {{I(1), S("high")}}) == "column 'score' expects Float, got String \"high\"");
  CHECK(err({"id", "flag"}, {{I(1), I(1)}}) == "column 'flag' expects Bool, got Int 1");
  CHECK(err({"id", "promt"}, {{I(1), S("x")}}) ==
        "unknown column 'promt' in table 'prompts', did you mean 'prompt'?");
  CHECK(err({"id", "shout"}, {{I(1), S("x")}}) == "'shout' is a computed column and cannot be given a value");
  CHECK(err({"prompt"}, {{S("x")}}) == "missing value for required column 'id'");
  CHECK(err({"id"}, {{Value()}}) == "column 'id' is required and cannot be null");
  CHECK(err({"id", "id"}, {{I(1), I(2)}}) == "column 'id' is given twice");
  CHECK(err({"id"}, {{I(1), I(2)}}) == "a row has 2 values for 1 columns");
  // The second row is bad: the first must not be stored either.
  CHECK(err({"id", "prompt"}, {{I(1), S("ok")}, {I(2), I(5)}}) ==
        "column 'prompt' expects String, got Int 5");
  s().insert(t, {"id"}, {{I(1)}}).take();
  auto dup = s().insert(t, {"id", "prompt"}, {{I(2), S("a")}, {I(1), S("b")}});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == Errc::already_exists);
  CHECK(dup.error().message == "Duplicate primary key value: Key (id)=(1) already exists.");
  CHECK(dup.error().pxt_code == ErrorCode::constraint_violation);
  CHECK(count() == 1);
}

TEST_CASE_FIXTURE(StoreFixture, "typed columns check their text forms") {
  TableDef t =
      make("typed", {col("ts", ColumnType::Timestamp), col("d", ColumnType::Date), col("j", ColumnType::Json),
                     col("arr", ColumnType::Array), col("img", ColumnType::Image)});
  auto err = [&](const char* c, Value v) { return s().insert(t, {c}, {{v}}).error().message; };
  CHECK(err("ts", S("yesterday!")) ==
        "column 'ts' expects Timestamp, got String \"yesterday!\" (invalid character in year)");
  CHECK(err("d", S("2021-02-30")) ==
        "column 'd' expects Date, got String \"2021-02-30\" (day value is outside expected range)");
  CHECK(err("j", S("{oops")).find("column 'j' expects Json, got String \"{oops\" (invalid JSON: ") == 0);
  CHECK(err("arr", S("{}")) == "column 'arr' expects Array, got String \"{}\" (not a JSON array)");
  CHECK(err("img", S("../etc/passwd")).find("a media value is a path inside the media folder") !=
        std::string::npos);
  auto ok =
      s().insert(t, {"ts", "d", "j", "arr", "img"},
                 {{S("2024-01-02T03:04:05Z"), S("2024-01-02"), S("{\"a\":1}"), S("[1,2]"), S("x/y.png")}});
  REQUIRE(ok.ok());
  CHECK(str((*ok)[0][2]) == "{\"a\":1}");
}

TEST_CASE_FIXTURE(StoreFixture, "computed expressions are checked at definition time") {
  TableDef d;
  d.path = "t";
  d.columns = {col("prompt", ColumnType::String), computed("x", "upper(promt)")};
  auto err = [&] { return s().create_table(d, IfExists::error).error().message; };
  CHECK(err() == "computed column 'x': unknown column 'promt', did you mean 'prompt'?");
  d.columns[1] = computed("x", "uper(prompt)");
  CHECK(err() == "computed column 'x': unknown function 'uper', did you mean 'upper'?");
  d.columns[1] = computed("x", "upper(prompt");
  CHECK(err().find("computed column 'x': invalid expression 'upper(prompt': ") == 0);
  d.columns[1] = computed("x", "prompt) FROM x; DROP TABLE y; SELECT (1");
  CHECK(err().rfind("computed column 'x'", 0) == 0);
  d.columns = {col("a", ColumnType::String), computed("b", "c || a"), computed("c", "upper(b)")};
  CHECK(err() == "computed columns form a cycle: b -> c -> b");
  d.columns = {col("n", ColumnType::Int), computed("x", "n * 2")};
  CHECK(err() == "cannot infer the type of computed column 'x' from 'n * 2'; declare it as x:Type=n * 2");
  d.columns = {col("p", ColumnType::String),
               computed("x", "(SELECT count(*) FROM \"pxt$tables\")", ColumnType::Int)};
  CHECK(err() == "computed column 'x': access to pxt's internal catalog tables is not allowed");
  CHECK(s().list("", true).take().empty());
}

TEST_CASE_FIXTURE(StoreFixture, "the backend's expression dialect works in computed columns") {
  // The same columns in each engine's own SQL (doc/catalog.md, "Where the engines differ").
  TableDef t = make(
      "f",
      {col("p", ColumnType::String), col("x", ColumnType::Float), col("doc", ColumnType::Json),
       computed("a", "lower(substr(p, 1, 3))"),
       computed("b", dialect("round(x, 1)", "round(CAST(x AS numeric), 1)"), ColumnType::Float),
       computed("c", dialect("coalesce(json_extract(doc, '$.k'), 'none')", "coalesce(doc->>'k', 'none')"),
                ColumnType::String),
       computed("d", dialect("printf('%s-%d', p, length(p))", "format('%s-%s', p, length(p))")),
       computed("e", "CASE WHEN x > 1 THEN 'big' ELSE 'small' END", ColumnType::String),
       computed("g", "x > 1")});
  CHECK(t.columns[8].type == ColumnType::Bool);
  auto r = s().insert(t, {"p", "x", "doc"}, {{S("HELLO"), Value(1.26), S("{\"k\":\"v\"}")}}).take()[0];
  CHECK(str(r[3]) == "hel");
  CHECK(std::get<double>(r[4]) == 1.3);
  CHECK(str(r[5]) == "v");
  CHECK(str(r[6]) == "HELLO-5");
  CHECK(str(r[7]) == "big");
  CHECK(std::get<bool>(r[8]) == true);
  r = s().insert(t, {"p"}, {{S("x")}}).take()[0];
  CHECK(str(r[5]) == "none");
  CHECK(is_null(r[8]));
}

TEST_CASE_FIXTURE(StoreFixture, "a failing expression fails the write, names the column and stores nothing") {
  TableDef t = make("j", {col("doc", ColumnType::String), computed("k", "upper(doc)"),
                          computed("v", dialect("json_extract(doc, '$.a')", "CAST(doc AS jsonb)->>'a'"),
                                   ColumnType::String)});
  const std::string bad_json = dialect("malformed JSON", "invalid input syntax for type json");
  auto r = s().insert(t, {"doc"}, {{S("{\"a\":\"ok\"}")}, {S("not json")}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "computed column 'v' failed: " + bad_json);
  CHECK(s().count(t, {}).take() == 0);
  auto stream_rows = std::vector<std::string>{"{\"a\":1}", "{bad"};
  size_t i = 0;
  auto n = s().insert_stream(t, {"doc"}, [&](Row& row) -> Result<bool> {
    if (i == stream_rows.size()) return false;
    row = {S(stream_rows[i++].c_str())};
    return true;
  });
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().message == "row 2: computed column 'v' failed: " + bad_json);
  CHECK(s().count(t, {}).take() == 0);
}

TEST_CASE_FIXTURE(StoreFixture,
                  "a computed value of the wrong type or a null for a required one is refused") {
  // An expression whose type cannot be inferred at create-table (a declared type it cannot give is
  // refused there: test_store_catalog) is checked on every write.
  // PostgreSQL types the expression itself and refuses it at create-table.
  if (on_postgres()) {
    TableDef d;
    d.path = "w";
    d.columns = {col("p", ColumnType::String), computed("n", "coalesce(p, 0)", ColumnType::Int)};
    auto made = s().create_table(d, IfExists::error);
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().message.find("computed column 'n'") == 0);
  } else {
    TableDef t = make("w", {col("p", ColumnType::String), computed("n", "coalesce(p, 0)", ColumnType::Int)});
    CHECK(s().insert(t, {"p"}, {{S("abc")}}).error().message ==
          "computed column 'n' expects Int but 'coalesce(p, 0)' gave a value of another type");
  }
  ColumnDef req = computed("r", "nullif(p, 'none')", ColumnType::String);
  req.required = true;
  TableDef u = make("u", {col("p", ColumnType::String), req});
  CHECK(s().insert(u, {"p"}, {{S("none")}}).error().message ==
        "computed column 'r' is required but 'nullif(p, 'none')' gave null");
  CHECK(s().count(u, {}).take() == 0);
}

TEST_CASE_FIXTURE(Prompts, "update recomputes exactly the dependent computed columns") {
  s().insert(t, {"id", "prompt", "score"}, {{I(1), S("ab"), Value(1.0)}, {I(2), S("cd"), Value(2.0)}}).take();
  auto up = s().update(t, Filter{{{"id", I(1)}}, ""}, {{"prompt", S("xyz")}}).take();
  REQUIRE(up.size() == 1);
  CHECK(str(up[0][1]) == "xyz");
  CHECK(str(up[0][4]) == "XYZ");
  CHECK(num(up[0][5]) == 3);
  CHECK(str(up[0][6]) == "XYZ:1");
  // A change to an unrelated column leaves computed values as stored.
  up = s().update(t, Filter{{{"id", I(2)}}, ""}, {{"score", Value(9.5)}}).take();
  CHECK(std::get<double>(up[0][2]) == 9.5);
  CHECK(str(up[0][4]) == "CD");
  // Changing the key recomputes the label only.
  up = s().update(t, Filter{{}, "id = 2"}, {{"id", I(20)}}).take();
  CHECK(str(up[0][6]) == "CD:20");
  CHECK(s().update(t, Filter{{{"id", I(99)}}, ""}, {{"prompt", S("q")}}).take().empty());
  auto all = rows(t, SelectSpec{{}, {"id", "label"}, "id", -1});
  REQUIRE(all.size() == 2);
  CHECK(str(all[0][1]) == "XYZ:1");
  CHECK(str(all[1][1]) == "CD:20");
}

TEST_CASE_FIXTURE(Prompts, "update errors") {
  s().insert(t, {"id", "prompt"}, {{I(1), S("a")}, {I(2), S("b")}}).take();
  auto err = [&](Filter f, std::vector<std::pair<std::string, Value>> set) {
    return s().update(t, f, set).error().message;
  };
  CHECK(err({{{"id", I(1)}}, ""}, {}) == "nothing to update: no column values given");
  CHECK(err({{{"id", I(1)}}, ""}, {{"shout", S("X")}}) ==
        "'shout' is a computed column and cannot be given a value");
  CHECK(err({{{"id", I(1)}}, ""}, {{"prompt", I(3)}}) == "column 'prompt' expects String, got Int 3");
  CHECK(err({{{"id", I(1)}}, ""}, {{"id", Value()}}) == "column 'id' is required and cannot be null");
  CHECK(err({{{"idd", I(1)}}, ""}, {{"prompt", S("x")}}) ==
        "unknown column 'idd' in table 'prompts', did you mean 'id'?");
  CHECK(err({{}, "promt = 'a'"}, {{"prompt", S("x")}}) ==
        "invalid filter: unknown column 'promt', did you mean 'prompt'?");
  auto dup = s().update(t, Filter{{{"id", I(1)}}, ""}, {{"id", I(2)}});
  CHECK(dup.error().code == Errc::already_exists);
  CHECK(dup.error().pxt_code == ErrorCode::constraint_violation);
  CHECK(dup.error().message == "Duplicate primary key value: Key (id)=(2) already exists.");
  CHECK(str(rows(t)[0][1]) == "a");
}

TEST_CASE_FIXTURE(Prompts, "errors carry Pixeltable's codes (the error contract, util/error_code.hpp)") {
  auto code = [](const auto& r) { return r.error().pxt_code; };
  CHECK(code(s().insert(t, {"id"}, {{Value()}})) == ErrorCode::missing_required);
  CHECK(code(s().insert(t, {"id", "prompt"}, {{I(1), I(5)}})) == ErrorCode::type_mismatch);
  CHECK(code(s().get_table("nope")) == ErrorCode::table_not_found);
  TableDef j = make("j", {col("doc", ColumnType::String),
                          computed("v", dialect("json_extract(doc, '$.a')", "CAST(doc AS jsonb) ->> 'a'"),
                                   ColumnType::String)});
  auto failed = s().insert(j, {"doc"}, {{S("{bad")}});
  CHECK(code(failed) == ErrorCode::unsupported_operation);  // Pixeltable's code for a failing computed column
  CHECK(failed.error().code == Errc::invalid_argument);
  CHECK(effective_code(failed.error()) == ErrorCode::unsupported_operation);
  TableDef two = make("two", {col("a", ColumnType::Int), col("b", ColumnType::String)}, {"a", "b"});
  s().insert(two, {"a", "b"}, {{I(1), S("x y")}}).take();
  CHECK(s().insert(two, {"b", "a"}, {{S("x y"), I(1)}}).error().message ==
        "Duplicate primary key value: Key (a, b)=(1, x y) already exists.");
}

TEST_CASE_FIXTURE(Prompts,
                  "a RowCheck that refuses a row fails the write inside it: nothing stored or changed") {
  RowCheck refuse_b = [](const Row& row) -> Result<void> {
    if (std::get_if<std::string>(&row[1]) && std::get<std::string>(row[1]) == "b")
      return make_error(Errc::invalid_argument, "no b");
    return {};
  };
  auto ok = s().insert(t, {"id", "prompt"}, {{I(1), S("a")}}, refuse_b);
  REQUIRE(ok.ok());
  auto refused = s().insert(t, {"id", "prompt"}, {{I(2), S("c")}, {I(3), S("b")}}, refuse_b);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "no b");
  CHECK(count() == 1);  // the whole write, the good row included
  auto up = s().update(t, Filter{{{"id", I(1)}}, ""}, {{"prompt", S("b")}}, refuse_b);
  REQUIRE_FALSE(up.ok());
  CHECK(str(rows(t)[0][1]) == "a");
  std::vector<Row> seen;
  RowCheck record = [&seen](const Row& row) -> Result<void> {
    seen.push_back(row);
    return {};
  };
  s().update(t, Filter{{{"id", I(1)}}, ""}, {{"prompt", S("z")}}, record).take();
  REQUIRE(seen.size() == 1);
  CHECK(str(seen[0][4]) == "Z");  // the check sees the row as stored, computed columns included
}

TEST_CASE_FIXTURE(Prompts, "remove, count and select with filters") {
  for (int64_t i = 1; i <= 5; ++i)
    s().insert(t, {"id", "prompt"}, {{I(i), S(i % 2 ? "odd" : "even")}}).take();
  CHECK(s().count(t, Filter{{{"prompt", S("odd")}}, ""}).take() == 3);
  CHECK(s().count(t, Filter{{}, "id > 3"}).take() == 2);
  CHECK(s().count(t, Filter{{{"prompt", S("odd")}}, "id > 2"}).take() == 2);
  CHECK(s().count(t, Filter{{{"score", Value()}}, ""}).take() == 5);  // null matches IS NULL
  auto some = rows(t, SelectSpec{{{}, "id >= 2"}, {"prompt", "id"}, "id DESC", 2});
  REQUIRE(some.size() == 2);
  CHECK(num(some[0][1]) == 5);
  CHECK(str(some[0][0]) == "odd");
  int seen = 0;
  s().select(t, {}, [&](const Row&) { return ++seen < 2; }).take();
  CHECK(seen == 2);
  CHECK(s().select(t, SelectSpec{{}, {"nme"}, "", -1}, [](const Row&) { return true; }).error().message ==
        "unknown column 'nme' in table 'prompts'");
  CHECK(s().select(t, SelectSpec{{}, {}, "scor", -1}, [](const Row&) { return true; }).error().message ==
        "invalid filter or order: unknown column 'scor', did you mean 'score'?");
  CHECK(s().count(t, Filter{{}, "1; DROP TABLE prompts"}).error().code == Errc::invalid_argument);
  CHECK(s().remove(t, Filter{{{"prompt", S("even")}}, ""}).take() == 2);
  CHECK(s().remove(t, Filter{{{"prompt", S("none")}}, ""}).take() == 0);
  CHECK(count() == 3);
}

TEST_CASE_FIXTURE(Prompts, "compute evaluates without storing") {
  Row r = s().compute(t, {"prompt", "id"}, {S("abc"), I(4)}).take();
  REQUIRE(r.size() == 7);
  CHECK(str(r[4]) == "ABC");
  CHECK(num(r[5]) == 3);
  CHECK(str(r[6]) == "ABC:4");
  CHECK(is_null(r[2]));
  CHECK(count() == 0);
  CHECK(s().compute(t, {"prompt"}, {I(1)}).error().message == "column 'prompt' expects String, got Int 1");
}

TEST_CASE_FIXTURE(Prompts, "insert_stream loads in one transaction and counts rows") {
  int64_t i = 0;
  auto n = s().insert_stream(t, {"id", "prompt"}, [&](Row& row) -> Result<bool> {
    if (i == 1000) return false;
    ++i;
    row = {I(i), S("p")};
    return true;
  });
  CHECK(std::move(n).take() == 1000);
  CHECK(count() == 1000);
  i = 0;
  auto bad = s().insert_stream(t, {"id", "prompt"}, [&](Row& row) -> Result<bool> {
    if (++i == 50) return make_error(Errc::invalid_argument, "line 50: bad JSON");
    row = {I(5000 + i), S("p")};
    return true;
  });
  CHECK(bad.error().message == "line 50: bad JSON");
  i = 0;
  auto typed = s().insert_stream(t, {"id", "prompt"}, [&](Row& row) -> Result<bool> {
    ++i;
    row = {I(9000 + i), i == 3 ? I(1) : S("p")};
    return true;
  });
  CHECK(typed.error().message == "row 3: column 'prompt' expects String, got Int 1");
  CHECK(count() == 1000);
}

TEST_CASE_FIXTURE(Prompts, "stale definitions are refused with schema_changed") {
  TableDef stale = t;
  stale.version = 0;
  auto r = s().insert(stale, {"id"}, {{I(1)}});
  CHECK(r.error().code == Errc::schema_changed);
  CHECK(r.error().message == "table schema changed since route was registered; restart the service");
  CHECK(s().count(stale, {}).error().code == Errc::schema_changed);
  s().drop_table("prompts", false).take();
  CHECK(s().select(t, {}, [](const Row&) { return true; }).error().code == Errc::schema_changed);
  CHECK(s().compute(t, {"id"}, {I(1)}).error().code == Errc::schema_changed);
}

TEST_CASE_FIXTURE(StoreFixture,
                  "registered pxt functions run in computed columns and their errors fail writes") {
  register_sql_function(
      {"pxt_test_fail_on", 2, ColumnType::String, true, [](const std::vector<Value>& a) -> Result<Value> {
         if (a[0] == a[1]) return make_error(Errc::invalid_argument, "refused value");
         return a[0];
       }});
  auto home2 = temp_home("fn");
  auto st = Store::open({home2, test_store_url()}).take();
  TableDef d;
  d.path = "t";
  d.columns = {col("p", ColumnType::String), computed("q", "pxt_test_fail_on(p, 'bad')")};
  TableDef t = st->create_table(d, IfExists::error).take();
  CHECK(t.columns[1].type == ColumnType::String);
  CHECK(str(st->insert(t, {"p"}, {{S("fine")}}).take()[0][1]) == "fine");
  CHECK(st->insert(t, {"p"}, {{S("bad")}}).error().message ==
        "computed column 'q' failed: pxt_test_fail_on(): refused value");
  st.reset();
  std::filesystem::remove_all(home2);
}

TEST_CASE_FIXTURE(StoreFixture, "a table of computed columns only and inserts of no columns") {
  TableDef k = make("k", {computed("c", "'const'"), computed("n", "length(c)")});
  auto r = s().insert(k, {}, {{}}).take();
  REQUIRE(r.size() == 1);
  CHECK(str(r[0][0]) == "const");
  CHECK(num(r[0][1]) == 5);
  TableDef plain = make("plain", {col("a", ColumnType::String)});
  CHECK(is_null(s().insert(plain, {}, {{}}).take()[0][0]));
  CHECK(s().insert(plain, {"a"}, {}).take().empty());
}

TEST_CASE_FIXTURE(StoreFixture, "columns named like SQL keywords work in computed columns") {
  TableDef t = make("kw", {col("key", ColumnType::String), col("text", ColumnType::String),
                           computed("both", "upper(key) || CAST(text AS TEXT)")});
  CHECK(t.columns[2].depends_on == std::vector<std::string>{"key", "text"});
  auto r = s().insert(t, {"key", "text"}, {{S("k"), S("t")}}).take();
  CHECK(str(r[0][2]) == "Kt");
}

TEST_SUITE_END();
