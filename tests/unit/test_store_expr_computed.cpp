// Expression analysis for computed columns: tokens, dependencies, order, cycles, type inference.
#include <doctest/doctest.h>

#include "store/expr/computed.hpp"
#include "store/functions/registry.hpp"

using namespace pxt;

namespace {

TableDef table(std::vector<ColumnDef> cols) {
  // Built in one initialiser: GCC 12 warns falsely (-Wrestrict) on assigning a literal to path.
  TableDef t{"t", std::move(cols)};
  for (auto& c : t.columns) {
    if (c.is_computed()) c.depends_on = referenced_columns(c.computed, t.column_names());
  }
  return t;
}

ColumnDef computed(std::string name, std::string expr, ColumnType type = ColumnType::String) {
  ColumnDef c;
  c.name = std::move(name);
  c.type = type;
  c.computed = std::move(expr);
  return c;
}

std::string inferred(const TableDef& t, const std::string& expr) {
  ColumnDef c = computed("x", expr);
  auto r = infer_computed_type(t, c);
  return r.ok() ? std::string(type_name(*r)) : "error: " + r.error().message;
}

}  // namespace

TEST_CASE("tokenizer skips strings and comments") {
  auto toks = tokenize_sql("upper(a) || 'it''s b' -- c\n /* d */ \"e f\" x'00'");
  REQUIRE(toks.size() == 8);
  CHECK(toks[0].kind == SqlToken::Kind::Ident);
  CHECK(toks[3].text == ")");
  CHECK(toks[4].text == "||");
  CHECK(toks[5].kind == SqlToken::Kind::String);
  CHECK(toks[5].text == "it's b");
  CHECK(toks[6].kind == SqlToken::Kind::QuotedIdent);
  CHECK(toks[6].text == "e f");
  CHECK(toks[7].kind == SqlToken::Kind::String);  // a blob literal is not the column x
}

TEST_CASE("referenced_columns finds column names, not functions or literals") {
  std::vector<std::string> cols = {"prompt", "upper", "Score", "name"};
  CHECK(referenced_columns("upper(prompt) || ' name'", cols) == std::vector<std::string>{"prompt"});
  CHECK(referenced_columns("upper + score * \"name\"", cols) ==
        std::vector<std::string>{"upper", "Score", "name"});
  CHECK(referenced_columns("json_extract(prompt, '$.name')", cols) == std::vector<std::string>{"prompt"});
  CHECK(referenced_columns("CASE WHEN score > 1 THEN 'x' END", cols) == std::vector<std::string>{"Score"});
}

TEST_CASE("computed_order puts dependencies first and names cycles") {
  TableDef t = table({{"a", ColumnType::String}, computed("c", "b || 'x'"), computed("b", "upper(a)")});
  auto order = computed_order(t);
  REQUIRE(order.ok());
  CHECK(*order == std::vector<int>{2, 1});
  TableDef cyc = table({{"a", ColumnType::String}, computed("b", "c || a"), computed("c", "upper(b)")});
  auto e = computed_order(cyc);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message == "computed columns form a cycle: b -> c -> b");
  TableDef self = table({computed("s", "s + 1")});
  CHECK(computed_order(self).error().message == "computed columns form a cycle: s -> s");
}

TEST_CASE("affected_computed follows dependencies transitively") {
  TableDef t = table({{"a", ColumnType::String},
                      {"z", ColumnType::String},
                      computed("b", "upper(a)"),
                      computed("c", "b || 'x'"),
                      computed("d", "lower(z)")});
  auto order = *computed_order(t);
  CHECK(affected_computed(t, order, {0}) == std::vector<int>{2, 3});
  CHECK(affected_computed(t, order, {1}) == std::vector<int>{4});
}

TEST_CASE("type inference covers the sound cases and refuses the rest") {
  TableDef t =
      table({{"prompt", ColumnType::String}, {"n", ColumnType::Int}, {"when", ColumnType::Timestamp}});
  CHECK(inferred(t, "upper(prompt)") == "String");
  CHECK(inferred(t, "(lower(prompt))") == "String");
  CHECK(inferred(t, "printf('%d', n)") == "String");
  CHECK(inferred(t, "prompt || '!'") == "String");
  CHECK(inferred(t, "length(prompt)") == "Int");
  CHECK(inferred(t, "instr(prompt, 'a')") == "Int");
  CHECK(inferred(t, "n > 3") == "Bool");
  CHECK(inferred(t, "prompt LIKE 'a%'") == "Bool");
  CHECK(inferred(t, "prompt || 'x' = 'ax'") == "Bool");
  CHECK(inferred(t, "when") == "Timestamp");
  CHECK(inferred(t, "\"n\"") == "Int");
  CHECK(inferred(t, "CAST(n AS TEXT)") == "String");
  CHECK(inferred(t, "'lit'") == "String");
  CHECK(inferred(t, "2.5") == "Float");
  CHECK(inferred(t, "n + 1") ==
        "error: cannot infer the type of computed column 'x' from 'n + 1'; declare it as x:Type=n + 1");
  CHECK(inferred(t, "coalesce(prompt, 'x')").rfind("error: cannot infer", 0) == 0);
  CHECK(inferred(t, "CASE WHEN n > 1 THEN 'a' ELSE 'b' END").rfind("error: cannot infer", 0) == 0);
  CHECK(inferred(t, "upper(prompt) || length(prompt)") == "String");
  CHECK(inferred(t, "length(prompt) + length(prompt)").rfind("error", 0) == 0);
}

TEST_CASE("registered functions declare their result type for inference") {
  register_sql_function(
      {"pxt_test_double", 1, ColumnType::Float, true, [](const std::vector<Value>& a) -> Result<Value> {
         if (auto* n = std::get_if<int64_t>(&a[0])) return Value(2.0 * static_cast<double>(*n));
         return Value();
       }});
  TableDef t = table({{"n", ColumnType::Int}});
  CHECK(inferred(t, "pxt_test_double(n)") == "Float");
  CHECK(find_sql_function("PXT_TEST_DOUBLE") != nullptr);
  CHECK(find_sql_function("nope") == nullptr);
}

TEST_CASE("layered_select nests one level per computed column") {
  TableDef t = table({{"a", ColumnType::String}, computed("b", "upper(a)"), computed("c", "b || a")});
  CHECK(layered_select(t, "SELECT ?1 AS \"a\"", {1, 2}) ==
        "SELECT *, (b || a) AS \"c\" FROM (SELECT *, (upper(a)) AS \"b\" FROM (SELECT ?1 AS \"a\") AS _l0) "
        "AS _l1");
}

TEST_CASE("substitute_columns replaces plain column references only") {
  TableDef t =
      table({{"a", ColumnType::String}, {"text", ColumnType::String}, {"upper", ColumnType::String}});
  std::vector<std::string> rep = {"?1", "?2", "NULL"};
  auto kw = [](std::string_view w) { return w == "TEXT" || w == "text" || w == "AS" || w == "CAST"; };
  CHECK(substitute_columns("upper(a) || 'a' || \"a\"", t, rep, kw) == "upper((?1)) || 'a' || (?1)");
  CHECK(substitute_columns("CAST(a AS text) || upper", t, rep, kw) == "CAST((?1) AS text) || (NULL)");
  CHECK(substitute_columns("x.a + text", t, rep, kw) == "x.a + text");
  CHECK(substitute_columns("A/*c*/", t, rep, kw) == "(?1)/*c*/");
}
