// Named queries (SQL and retrieval), concurrency across threads, and test-only functions. Part of
// the store conformance suite.
#include <cstdlib>
#include <thread>

#include "store/functions/registry.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_SUITE_BEGIN("store conformance");

namespace {

struct Users : StoreFixture {
  TableDef t;
  Users() {
    s().create_dir("myapp", IfExists::error).take();
    t = make("myapp.users",
             {col("id", ColumnType::Int), col("name", ColumnType::String), col("photo", ColumnType::Image),
              col("active", ColumnType::Bool), computed("greeting", "'Hello, ' || name")},
             {"id"});
    s().insert(t, {"id", "name", "active"},
               {{int64_t(1), std::string("ann"), true},
                {int64_t(2), std::string("bob"), false},
                {int64_t(3), std::string("annie"), true}})
        .take();
  }
  QueryDef sql(std::string text, std::vector<QueryParam> params = {}) {
    QueryDef q;
    q.module = "myapp.queries";
    q.name = "q";
    q.sql = std::move(text);
    q.params = std::move(params);
    return q;
  }
  std::vector<Row> run(const QueryDef& q, std::vector<Value> params) {
    std::vector<Row> out;
    s().run_query(q, params,
                  [&](const Row& r) {
                    out.push_back(r);
                    return true;
                  })
        .take();
    return out;
  }
  std::string describe_error(const QueryDef& q) {
    auto r = s().describe_query(q);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  }
};

}  // namespace

TEST_CASE_FIXTURE(Users, "SQL queries describe their result columns with table types") {
  QueryDef q =
      sql("SELECT id, name, photo, active, greeting, length(name) AS n FROM \"myapp.users\" "
          "WHERE name LIKE '%' || :q || '%' ORDER BY id LIMIT :limit",
          {{"q", ColumnType::String, std::nullopt}, {"limit", ColumnType::Int, Value(int64_t(10))}});
  auto cols = s().describe_query(q).take();
  REQUIRE(cols.size() == 6);
  CHECK(cols[0].name == "id");
  CHECK(cols[0].type == ColumnType::Int);
  CHECK_FALSE(cols[0].nullable);
  CHECK(cols[2].type == ColumnType::Image);
  CHECK(cols[3].type == ColumnType::Bool);
  CHECK(cols[4].type == ColumnType::String);
  CHECK(cols[4].nullable);
  CHECK(cols[5].name == "n");
  CHECK_FALSE(cols[5].type.has_value());
  auto rows = run(q, {std::string("ann"), int64_t(10)});
  REQUIRE(rows.size() == 2);
  CHECK(num(rows[1][0]) == 3);
  CHECK(std::get<bool>(rows[1][3]) == true);  // Bool columns come back as bool
  CHECK(str(rows[1][4]) == "Hello, annie");
  CHECK(num(rows[1][5]) == 5);
  CHECK(run(q, {std::string("ann"), int64_t(1)}).size() == 1);
}

TEST_CASE_FIXTURE(Users, "SQL queries must be a single read-only SELECT") {
  CHECK(describe_error(sql("DELETE FROM \"myapp.users\"")) ==
        "query 'myapp.queries.q': only a read-only SELECT is allowed (the SQL would not be a SELECT)");
  CHECK(describe_error(sql("WITH x AS (SELECT 1) INSERT INTO \"myapp.users\" (id) SELECT 9 FROM x"))
            .find("only a read-only SELECT is allowed") != std::string::npos);
  CHECK(
      describe_error(sql("SELECT 1; DELETE FROM \"myapp.users\"")) ==
      "query 'myapp.queries.q': only one SQL statement is allowed; found more after the first: 'DELETE FROM "
      "\"myapp.users\"'");
  CHECK(describe_error(sql("PRAGMA table_info('x')")).find("only a read-only SELECT") != std::string::npos);
  CHECK(describe_error(sql(" ")) == "query 'myapp.queries.q': the SQL is empty");
  CHECK(s().count(t, {}).take() == 3);
}

TEST_CASE_FIXTURE(Users, "SQL queries report parameter mismatches and unknown names") {
  CHECK(describe_error(sql("SELECT id FROM \"myapp.users\" WHERE name = :nme AND id > :x",
                           {{"name", ColumnType::String, std::nullopt}})) ==
        "query 'myapp.queries.q': parameter ':nme' is not declared, did you mean 'name'?; parameter ':x' is "
        "not "
        "declared; declared parameter 'name' is not used in the SQL");
  CHECK(describe_error(sql("SELECT id FROM \"myapp.users\" WHERE id = ?")) ==
        "query 'myapp.queries.q': parameter '?' must be written :name");
  CHECK(describe_error(sql("SELECT id FROM \"myapp.usres\"")) ==
        "query 'myapp.queries.q': unknown table 'myapp.usres', did you mean 'myapp.users'?");
  CHECK(describe_error(sql("SELECT id FROM myapp.users")) ==
        "query 'myapp.queries.q': unknown table 'myapp.users'; write table paths in double quotes: FROM "
        "\"myapp.users\"");
  CHECK(describe_error(sql("SELECT nmae FROM \"myapp.users\"")) ==
        "query 'myapp.queries.q': unknown column 'nmae'");
  CHECK(describe_error(sql("SELECT id, name AS id FROM \"myapp.users\"")) ==
        "query 'myapp.queries.q': the result has two columns named 'id'; rename one with AS");
}

TEST_CASE_FIXTURE(Users, "queries cannot read pxt's catalog tables") {
  CHECK(describe_error(sql("SELECT * FROM \"pxt$tables\"")) ==
        "query 'myapp.queries.q': access to pxt's internal catalog tables is not allowed");
  CHECK(describe_error(sql(dialect("SELECT name FROM sqlite_master", "SELECT path FROM pxt.tables"))) ==
        "query 'myapp.queries.q': access to pxt's internal catalog tables is not allowed");
  std::vector<Row> out;
  auto r = s().run_query(sql("SELECT path FROM \"pxt$tables\""), {}, [&](const Row& row) {
    out.push_back(row);
    return true;
  });
  CHECK_FALSE(r.ok());
  CHECK(out.empty());
}

TEST_CASE_FIXTURE(Users, "run_query checks parameter values") {
  QueryDef q = sql("SELECT id FROM \"myapp.users\" WHERE id = :id", {{"id", ColumnType::Int, std::nullopt}});
  auto r = s().run_query(q, {std::string("1")}, [](const Row&) { return true; });
  CHECK(r.error().message == "query 'myapp.queries.q': parameter 'id' expects Int, got String \"1\"");
  r = s().run_query(q, {}, [](const Row&) { return true; });
  CHECK(r.error().message == "query 'myapp.queries.q': expected 1 parameter values, got 0");
}

TEST_CASE_FIXTURE(Users, "retrieval queries match by equality and return every column") {
  QueryDef q;
  q.module = "myapp.queries";
  q.name = "lookup";
  q.kind = QueryDef::Kind::Retrieval;
  q.table = "myapp/users";
  q.match = {"name"};
  q.params = {{"name", ColumnType::String, std::nullopt}};
  auto cols = s().describe_query(q).take();
  REQUIRE(cols.size() == 5);
  CHECK(cols[2].type == ColumnType::Image);
  auto rows = run(q, {std::string("bob")});
  REQUIRE(rows.size() == 1);
  CHECK(num(rows[0][0]) == 2);
  CHECK(std::get<bool>(rows[0][3]) == false);
  CHECK(run(q, {std::string("zed")}).empty());
  q.limit = 1;
  q.match = {"active"};
  q.params = {{"active", ColumnType::Bool, std::nullopt}};
  CHECK(run(q, {true}).size() == 1);
  q.match = {"nme"};
  CHECK(describe_error(q) ==
        "query 'myapp.queries.lookup': unknown column 'nme' in table 'myapp.users', did you mean 'name'?");
  q.match = {"name"};
  q.table = "myapp.user";
  CHECK(describe_error(q) ==
        "query 'myapp.queries.lookup': table 'myapp.user' does not exist, did you mean 'myapp.users'?");
}

TEST_CASE_FIXTURE(Users, "many threads read and write concurrently without busy errors") {
  TableDef log = make("myapp.log", {col("thread", ColumnType::Int), col("msg", ColumnType::String),
                                    computed("up", "upper(msg)")});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 16; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 50; ++i) {
        if (!s().insert(log, {"thread", "msg"}, {{int64_t(k), std::string("m")}}).ok()) ++failures;
        if (!s().count(t, {}).ok()) ++failures;
        auto row = s().run_query(
            [] {
              QueryDef q;
              q.name = "one";
              q.kind = QueryDef::Kind::Retrieval;
              q.table = "myapp.users";
              q.match = {"id"};
              return q;
            }(),
            {int64_t(1)}, [](const Row&) { return true; });
        if (!row.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(s().count(log, {}).take() == 16 * 50);
}

TEST_CASE_FIXTURE(Users, "a store call from inside a callback on the same thread works") {
  int inner = 0;
  s().select(t, {},
             [&](const Row&) {
               inner += static_cast<int>(s().count(t, {}).take());
               return true;
             })
      .take();
  CHECK(inner == 9);
  int64_t i = 0;
  auto r = s().insert_stream(t, {"id"}, [&](Row& row) -> Result<bool> {
    if (i++) return false;
    PXT_CHECK(s().insert(t, {"id"}, {{int64_t(77)}}));
    row = {int64_t(78)};
    return true;
  });
  CHECK(r.error().message == "cannot write to the store from inside another write on this thread");
}

TEST_CASE("pxt_sleep_ms exists only with PXT_TEST_FUNCTIONS=1") {
  const char* env = std::getenv("PXT_TEST_FUNCTIONS");
  bool enabled = env && std::string(env) == "1";
  CHECK((find_sql_function("pxt_sleep_ms") != nullptr) == enabled);
}

TEST_CASE_FIXTURE(StoreFixture, "concurrent writes commit together but fail separately") {
  TableDef t =
      make("k",
           {col("id", ColumnType::Int), col("doc", ColumnType::String),
            computed("v", dialect("json_extract(doc, '$.v')", "CAST(CAST(doc AS jsonb)->>'v' AS bigint)"),
                     ColumnType::Int)},
           {"id"});
  const std::string bad_json = dialect("malformed JSON", "invalid input syntax for type json");
  std::atomic<int> ok{0}, dup{0}, bad{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 100; ++i) {
        // Every id is written by two threads (one wins); every tenth document is malformed.
        int64_t id = (k / 2) * 100 + i;
        std::string doc = i % 10 == 9 ? "{oops" : "{\"v\":" + std::to_string(id) + "}";
        auto r = s().insert(t, {"id", "doc"}, {{id, doc}});
        if (r.ok()) {
          ++ok;
        } else if (r.error().code == Errc::already_exists) {
          ++dup;
        } else if (r.error().message == "computed column 'v' failed: " + bad_json) {
          ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 360);
  CHECK(dup == 360);
  CHECK(bad == 80);
  CHECK(s().count(t, {}).take() == 360);
  CHECK(s().count(t, Filter{{}, "v = id"}).take() == 360);
}

TEST_SUITE_END();

// The rules of doc/catalog.md "Where the engines differ", one case per rule, with each engine's
// expected answer where they differ.
TEST_SUITE_BEGIN("store conformance");

TEST_CASE_FIXTURE(StoreFixture, "engine rules: text compares byte by byte on both engines") {
  TableDef t = make("words", {col("w", ColumnType::String)});
  for (const char* w : {"b", "B", "a", "\xc3\xa9", "A"}) s().insert(t, {"w"}, {{std::string(w)}}).take();
  std::vector<std::string> sorted;
  for (const auto& r : rows(t, SelectSpec{{}, {"w"}, "w", -1})) sorted.push_back(str(r[0]));
  CHECK(sorted == std::vector<std::string>{"A", "B", "a", "b", "\xc3\xa9"});
  CHECK(s().count(t, Filter{{}, "w < 'a'"}).take() == 2);  // 'A' and 'B' sort before 'a'
}

TEST_CASE_FIXTURE(StoreFixture, "engine rules: LIKE is case-sensitive on every engine; ILIKE on PostgreSQL") {
  TableDef t = make("names", {col("n", ColumnType::String)});
  s().insert(t, {"n"}, {{std::string("Ann")}, {std::string("ann")}}).take();
  // SQLite's LIKE is made case-sensitive (store/functions/text.cpp), as PostgreSQL's and Python's.
  CHECK(s().count(t, Filter{{}, "n LIKE 'ann'"}).take() == 1);
  if (on_postgres()) CHECK(s().count(t, Filter{{}, "n ILIKE 'ann'"}).take() == 2);
}

TEST_CASE_FIXTURE(StoreFixture, "engine rules: integer overflow fails the write on both engines") {
  TableDef t = make("big", {col("n", ColumnType::Int), computed("twice", "n * 2", ColumnType::Int)});
  CHECK(num(s().insert(t, {"n"}, {{int64_t(4)}}).take()[0][1]) == 8);
  auto r = s().insert(t, {"n"}, {{int64_t(INT64_MAX)}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  // SQLite turns the product into a float that an Int column refuses; PostgreSQL fails the
  // multiplication itself.
  CHECK(r.error().message ==
        (on_postgres() ? "computed column 'twice' failed: bigint out of range"
                       : "computed column 'twice' expects Int but 'n * 2' gave a value of another type"));
  CHECK(s().count(t, {}).take() == 1);
}

TEST_CASE_FIXTURE(StoreFixture,
                  "engine rules: column names in computed columns ignore case on both engines") {
  TableDef t = make("cased", {col("Name", ColumnType::String), computed("Shout", "upper(name) || NAME")});
  CHECK(str(s().insert(t, {"Name"}, {{std::string("ab")}}).take()[0][1]) == "ABab");
  CHECK(s().count(t, Filter{{}, "name = 'ab'"}).take() == 1);  // where filters too
  // In a named query the SQL is the engine's own: PostgreSQL folds an unquoted Name to name.
  QueryDef q;
  q.name = "q";
  q.sql = "SELECT Name FROM \"cased\"";
  auto d = s().describe_query(q);
  if (on_postgres()) {
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message ==
          "query 'q': unknown column 'name', did you mean 'Name'? (write it in double quotes: \"Name\")");
    q.sql = "SELECT \"Name\" FROM \"cased\"";
    CHECK(s().describe_query(q).ok());
  } else {
    CHECK(d.ok());
  }
}

TEST_SUITE_END();
