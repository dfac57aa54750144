// Functions computed ahead of a write (compute_ahead): which expressions call them, and that a
// write evaluates each such call once, before its transaction, with the same rows and errors as
// the same function evaluated inside the write.
#include <doctest/doctest.h>

#include <atomic>

#include "store/expr/computed.hpp"
#include "store/functions/registry.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

std::atomic<int> g_calls{0};         // calls of unit_ahead / unit_inside that ran
std::atomic<int> g_calls_inside{0};  // of those, calls made inside a write's transaction

// n * 10; an error for a negative n. Counts its calls, and those not made while computing ahead.
Result<Value> times_ten(const std::vector<Value>& args) {
  ++g_calls;
  CreatedFiles* memo = current_created_files();
  if (memo == nullptr || !memo->ahead()) ++g_calls_inside;
  if (is_null(args[0])) return Value();
  int64_t n = std::get<int64_t>(args[0]);
  if (n < 0) return make_error(Errc::invalid_argument, "negative: " + std::to_string(n));
  return Value(n * 10);
}

void register_test_functions() {
  SqlFunction ahead{"unit_ahead", 1, ColumnType::Int, true, times_ten};
  ahead.compute_ahead = true;
  register_sql_function(ahead);
  register_sql_function(SqlFunction{"unit_inside", 1, ColumnType::Int, true, times_ten});
}

struct AheadFixture {
  AheadFixture() { register_test_functions(); }  // before the store opens its connections
};

struct Tables : AheadFixture, StoreFixture {
  TableDef make_table(const std::string& path, const std::string& fn) {
    // "twice" reads "v": flattening its layer would copy the call into it.
    return make(path,
                {col("id", ColumnType::Int, true), col("n", ColumnType::Int),
                 computed("v", fn + "(n)", ColumnType::Int), computed("twice", "v * 2", ColumnType::Int)},
                {"id"});
  }
};

// "ok [rows]" or "error <code> <message>", with the table names made alike.
std::string outcome(const Result<std::vector<Row>>& r) {
  if (!r.ok()) {
    std::string m = r.error().message;
    for (size_t p; (p = m.find("unit_inside")) != std::string::npos;) m.replace(p, 11, "unit_ahead");
    for (size_t p; (p = m.find("'inside'")) != std::string::npos;) m.replace(p, 8, "'ahead'");
    return "error " + std::to_string(static_cast<int>(r.error().code)) + " " + m;
  }
  std::string s = "ok";
  for (const Row& row : *r) {
    s += " [";
    for (const Value& v : row) s += (is_null(v) ? "null" : std::to_string(std::get<int64_t>(v))) + ",";
    s += "]";
  }
  return s;
}

}  // namespace

TEST_CASE("computes_ahead finds a call of a function computed ahead anywhere in an expression") {
  CHECK(computes_ahead("document_text(doc)"));
  CHECK(computes_ahead("upper(document_text(doc))"));
  CHECK(computes_ahead("resize(a, 1, 1) || 'x'"));
  CHECK(computes_ahead("(thumbnail(img, 10))"));
  CHECK_FALSE(computes_ahead("width(img)"));
  CHECK_FALSE(computes_ahead("upper(x)"));
  CHECK_FALSE(computes_ahead("upper(document_text)"));  // a column named so, not a call
  CHECK_FALSE(computes_ahead("'document_text(doc)'"));
  CHECK(find_sql_function("document_text")->compute_ahead);
  CHECK(find_sql_function("resize")->computed_ahead());
  CHECK_FALSE(find_sql_function("width")->computed_ahead());
}

TEST_CASE("call_sql_function answers a write's call from what was computed ahead") {
  register_test_functions();
  const SqlFunction& f = *find_sql_function("unit_ahead");
  std::vector<Value> args{Value(int64_t(4))};
  int before = g_calls;
  CHECK(std::get<int64_t>(*call_sql_function(f, FunctionContext{}, args)) == 40);  // no write: a plain call
  CreatedFiles memo("/nonexistent-media");
  FunctionContext ctx{"/nonexistent-media", &memo};
  memo.set_ahead(true);
  CHECK(call_sql_function(f, ctx, args).ok());
  CHECK_FALSE(call_sql_function(f, ctx, {Value(int64_t(-1))}).ok());
  memo.set_ahead(false);
  CHECK(g_calls - before == 3);
  CHECK(std::get<int64_t>(*call_sql_function(f, ctx, args)) == 40);  // remembered
  CHECK(call_sql_function(f, ctx, {Value(int64_t(-1))}).error().message == "negative: -1");
  CHECK(call_sql_function(f, ctx, {Value(int64_t(-1))}).error().message == "negative: -1");
  CHECK(g_calls - before == 3);
  CHECK(std::get<int64_t>(*call_sql_function(f, ctx, args)) == 40);  // taken already: computed
  CHECK(g_calls - before == 4);
}

TEST_CASE_FIXTURE(Tables,
                  "a write computes ahead once per call, with the rows and errors of a write that does not") {
  TableDef ahead = make_table("ahead", "unit_ahead");
  TableDef inside = make_table("inside", "unit_inside");
  auto both = [&](const std::function<Result<std::vector<Row>>(const TableDef&)>& write) {
    int calls = g_calls, in_txn = g_calls_inside;
    std::string a = outcome(write(ahead));
    int ahead_calls = g_calls - calls, ahead_in_txn = g_calls_inside - in_txn;
    std::string b = outcome(write(inside));
    CHECK(a == b);
    CHECK(ahead_in_txn == 0);  // the write's own calls were answered from the memo
    return std::pair{a, ahead_calls};
  };
  auto insert = [&](std::vector<Row> rows) {
    return both([&](const TableDef& t) { return s().insert(t, {"id", "n"}, rows); });
  };
  CHECK(insert({{int64_t(1), int64_t(5)}}) == std::pair{std::string("ok [1,5,50,100,]"), 1});
  CHECK(insert({{int64_t(2), int64_t(7)}, {int64_t(3), int64_t(7)}}) ==
        std::pair{std::string("ok [2,7,70,140,] [3,7,70,140,]"), 2});
  CHECK(insert({{int64_t(4), Value()}}) == std::pair{std::string("ok [4,null,null,null,]"), 1});
  // A failing call is made once; the diagnosis naming the column takes the remembered error.
  auto [failed, failed_calls] = insert({{int64_t(5), int64_t(-2)}});
  CHECK(failed == "error 0 computed column 'v' failed: unit_ahead(): negative: -2");
  CHECK(failed_calls == 1);
  // An earlier row's key conflict still wins over a later row's failing call.
  auto [conflict, conflict_calls] = insert({{int64_t(1), int64_t(8)}, {int64_t(6), int64_t(-3)}});
  CHECK(conflict == "error 2 Duplicate primary key value: Key (id)=(1) already exists.");
  CHECK(conflict_calls == 2);
  auto update = [&](int64_t id, Value n) {
    return both([&](const TableDef& t) {
      Filter f;
      f.equals.push_back({"id", Value(id)});
      return s().update(t, f, {{"n", n}});
    });
  };
  CHECK(update(1, int64_t(6)) == std::pair{std::string("ok [1,6,60,120,]"), 1});
  auto [bad_update, bad_update_calls] = update(2, int64_t(-4));
  CHECK(bad_update == "error 0 computed column 'v' failed: unit_ahead(): negative: -4");
  CHECK(bad_update_calls == 1);
  CHECK(update(99, int64_t(1)) == std::pair{std::string("ok"), 0});
  CHECK(rows(ahead).size() == 4);
}
