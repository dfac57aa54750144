// The PostgreSQL store's dialect helpers (store/postgres/dialect.hpp): pure functions, so they run
// in every build, with or without a PostgreSQL server.
#include <doctest/doctest.h>

#include "store/functions/registry.hpp"
#include "store/model/vector.hpp"
#include "store/postgres/dialect.hpp"

using namespace pxt;
using namespace pxt::pg;

namespace {

ColumnDef col(std::string name, ColumnType t, std::string computed = {}) {
  ColumnDef c;
  c.name = std::move(name);
  c.type = t;
  c.computed = std::move(computed);
  return c;
}

}  // namespace

TEST_CASE("postgres dialect: jsonb and timestamptz text come back in pxt's spelling") {
  CHECK(compact_json(R"({"a": 1, "b": [1, 2, {"c": "x y"}]})") == R"({"a":1,"b":[1,2,{"c":"x y"}]})");
  CHECK(compact_json(R"({"q": "say \"hi\" ", "e": "\\"})") == R"({"q":"say \"hi\" ","e":"\\"})");
  CHECK(iso_timestamp("2024-01-02 03:04:05+00") == "2024-01-02T03:04:05+00:00");
  CHECK(iso_timestamp("2024-01-02 03:04:05.25+00") == "2024-01-02T03:04:05.25+00:00");
  CHECK(iso_timestamp("infinity") == "infinity");
}

TEST_CASE("postgres dialect: computed expressions quote their columns and keep SQL words") {
  TableDef t;
  t.columns = {col("Name", ColumnType::String), col("key", ColumnType::String),
               col("end", ColumnType::String), col("n", ColumnType::Int)};
  CHECK(quote_columns("upper(name) || key", t) == R"(upper("Name") || "key")");
  // END is SQL here; a column named end must be written "end".
  CHECK(quote_columns("CASE WHEN n > 1 THEN 'a' END", t) == R"(CASE WHEN "n" > 1 THEN 'a' END)");
  CHECK(quote_columns(R"("end" || 'x')", t) == R"("end" || 'x')");
  // Qualified names, function names and CAST types are left alone; REAL is SQLite's double.
  CHECK(quote_columns("CAST(n AS REAL) + t.n + length(key)", t) ==
        R"(CAST("n" AS float8) + t.n + length("key"))");
  CHECK(quote_columns("name::text", t) == R"("Name"::text)");
}

TEST_CASE("postgres dialect: pxt's own function calls become call sites evaluated before the statement") {
  register_sql_function({"pxt_test_pg_echo", 2, ColumnType::String, true,
                         [](const std::vector<Value>& a) -> Result<Value> { return a[0]; }});
  TableDef t;
  t.columns = {col("p", ColumnType::String), col("k", ColumnType::Int),
               col("a", ColumnType::Int, "length(pxt_test_pg_echo(pxt_test_pg_echo(p, k + 1), 'x'))")};
  t.columns[2].depends_on = {"p", "k"};
  auto c = compile_table(t).take();
  REQUIRE(c.calls.size() == 2);
  CHECK(c.calls[0].args == std::vector<std::string>{R"("p")", R"("k" + 1)"});  // the inner call first
  CHECK(c.calls[1].column == 2);
  CHECK(c.column_calls[2] == 2);
  std::string rendered = render(c.exprs[2], [](int slot) { return "$" + std::to_string(10 + slot); });
  CHECK(rendered == "length($11)");
  CHECK(render(c.calls[1].args[0], [](int slot) { return "$" + std::to_string(10 + slot); }) == "$10");

  std::vector<Value> values = {Value(std::string("v")), Value(int64_t(4)), Value()};
  std::vector<bool> known = {true, true, false};
  Value out;
  CHECK(local_value(R"("p")", t, values, known, out));
  CHECK(std::get<std::string>(out) == "v");
  CHECK(local_value("-12", t, values, known, out));
  CHECK(std::get<int64_t>(out) == -12);
  CHECK(local_value("'it''s'", t, values, known, out));
  CHECK(std::get<std::string>(out) == "it's");
  CHECK_FALSE(local_value(R"("k" + 1)", t, values, known, out));
  CHECK_FALSE(local_value(R"("a")", t, values, known, out));  // computed: the server knows it

  t.columns[2].computed = "pxt_test_pg_echo(p)";
  CHECK(compile_table(t).error().message ==
        "computed column 'a': wrong number of arguments to function pxt_test_pg_echo()");
}

TEST_CASE("postgres dialect: named query parameters become typed $n, strings and casts untouched") {
  std::vector<QueryParam> params = {{"q", ColumnType::String, std::nullopt},
                                    {"lim", ColumnType::Int, std::nullopt}};
  auto q = rewrite_query_params(
      "SELECT ':not', \"a:b\", x::text FROM t -- :c\nWHERE n LIKE '%' || :q || '%' LIMIT :lim /* :d */ "
      "OFFSET :q2",
      params);
  CHECK(q.sql ==
        "SELECT ':not', \"a:b\", x::text FROM t -- :c\nWHERE n LIKE '%' || (($1::text COLLATE \"C\")) || '%' "
        "LIMIT ($2::int8) /* :d */ OFFSET NULL");
  CHECK(q.used == std::vector<std::string>{"q", "lim", "q2"});
  CHECK(q.bad.empty());
  auto bad = rewrite_query_params("SELECT 1 WHERE a = ? AND b = $1 AND c = $$:x$$", {});
  CHECK(bad.bad == std::vector<std::string>{"?", "$1"});
  CHECK(bad.used.empty());
}

TEST_CASE("postgres dialect: orderings put nulls where SQLite does") {
  TableDef t;
  t.columns = {col("Score", ColumnType::Float), col("n", ColumnType::Int)};
  CHECK(order_by_sql("score", t) == R"("Score" NULLS FIRST)");
  CHECK(order_by_sql("score DESC, coalesce(n, 0) asc", t) ==
        R"("Score" DESC NULLS LAST, coalesce("n", 0) asc NULLS FIRST)");
  CHECK(order_by_sql("n NULLS LAST", t) == R"("n" NULLS LAST)");
}

TEST_CASE("postgres dialect: pxt calls on literals and parameters are cut out of named queries") {
  // width() is pxt's (an image function): evaluated before the statement, bound as a parameter.
  auto calls =
      extract_query_calls("SELECT width(:image) AS w, length(:name) AS n, width('a.png') + 1 AS c").take();
  REQUIRE(calls.calls.size() == 2);
  CHECK(calls.calls[0].fn->name == "width");
  REQUIRE(calls.calls[0].args.size() == 1);
  CHECK(calls.calls[0].args[0].kind == QueryCallArg::Kind::Param);
  CHECK(calls.calls[0].args[0].param == "image");
  CHECK(calls.calls[1].args[0].kind == QueryCallArg::Kind::Literal);
  CHECK(std::get<std::string>(calls.calls[1].args[0].literal) == "a.png");
  CHECK(calls.params == std::vector<std::string>{"image"});
  std::vector<QueryParam> params = {{"name", ColumnType::String}};
  std::vector<int> slots;
  std::string sql = render_query_calls(rewrite_query_params(calls.sql, params).sql, calls.calls, 2, slots);
  CHECK(sql == R"(SELECT ($2::int8) AS w, length((($1::text COLLATE "C"))) AS n, ($3::int8) + 1 AS c)");
  CHECK(slots == std::vector<int>{0, 1});
}

TEST_CASE("postgres dialect: nested pxt calls in a query are evaluated inner first; column arguments stay") {
  auto nested = extract_query_calls("SELECT width(thumbnail(:img, 8)) AS w").take();
  REQUIRE(nested.calls.size() == 2);
  CHECK(nested.calls[0].fn->name == "thumbnail");
  CHECK(nested.calls[1].args[0].kind == QueryCallArg::Kind::Call);
  CHECK(nested.calls[1].args[0].call == 0);
  // A call on a column cannot be evaluated before the statement: it stays (PostgreSQL refuses
  // it, errors.cpp says why), and so do the calls inside it.
  std::string_view on_column = "SELECT width(thumbnail(img, 8)) FROM \"d.t\"";
  auto left = extract_query_calls(on_column).take();
  CHECK(left.calls.empty());
  CHECK(left.sql == on_column);
  CHECK_FALSE(extract_query_calls("SELECT width(:a, :b)").ok());  // wrong number of arguments
}

TEST_CASE("postgres dialect: a Vector is a real[] whose elements read back as the same float32") {
  CHECK(std::string(pg_type(ColumnType::Vector)) == "real[]");
  std::vector<float> v = {0.1f, -2.5f, 3.0e-8f, 123456.789f, 1.0f / 3.0f};
  std::string text = vector_to_pg(vec::pack(v));
  CHECK(text.front() == '{');
  CHECK(text.back() == '}');
  auto back = floats_from_pg(text);
  REQUIRE(back.has_value());
  CHECK(*back == v);  // bit for bit
  CHECK(floats_from_pg("{1,2.5,-3}") == std::optional<std::vector<float>>({1.0f, 2.5f, -3.0f}));
  CHECK_FALSE(floats_from_pg("{1,NULL}").has_value());
  CHECK_FALSE(floats_from_pg("{{1,2},{3,4}}").has_value());
  CHECK_FALSE(floats_from_pg("[1,2]").has_value());
}
