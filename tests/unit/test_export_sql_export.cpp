// open_sql_export against real SQLite files: validation messages, the statement of each method
// and failure counting. (PostgreSQL is covered end to end by tests/cli/test_export_sql.sh.)
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "export/sql_export.hpp"

using namespace pxt;

namespace {

struct TargetDb {
  std::string path;
  TargetDb() {
    char tmpl[] = "/tmp/pxt-export-unit-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
  }
  ~TargetDb() { std::filesystem::remove(path); }
  TargetDb(const TargetDb&) = delete;
  TargetDb& operator=(const TargetDb&) = delete;
  void exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
  }
  std::string query(const std::string& sql) const {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    std::string out;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* o, int n, char** vals, char**) {
          auto& s = *static_cast<std::string*>(o);
          for (int i = 0; i < n; ++i)
            s += std::string(i ? "|" : (s.empty() ? "" : "\n")) + (vals[i] ? vals[i] : "");
          return 0;
        },
        &out, nullptr);
    sqlite3_close(db);
    return out;
  }
  ExportTarget target(const std::string& table, const std::string& method = "insert") const {
    return {"sqlite:///" + path, table, "", method};
  }
};

const std::vector<ExportColumn> kCols{{"id", ColumnType::Int}, {"name", ColumnType::String}};

}  // namespace

TEST_CASE("insert, update and merge write the row; update is strict") {
  TargetDb db;
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT DEFAULT 'd')");
  auto ins = open_sql_export(db.target("t"), kCols);
  REQUIRE(ins);
  REQUIRE((*ins)->write_row({int64_t{1}, std::string("a")}));
  auto upd = open_sql_export(db.target("t", "update"), kCols);
  REQUIRE(upd);
  REQUIRE((*upd)->write_row({int64_t{1}, std::string("b")}));
  auto missing = (*upd)->write_row({int64_t{9}, std::string("x")});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("no row matches the primary key (id = 9)") != std::string::npos);
  auto merge = open_sql_export(db.target("t", "merge"), kCols);
  REQUIRE(merge);
  REQUIRE((*merge)->write_row({int64_t{1}, std::string("c")}));
  REQUIRE((*merge)->write_row({int64_t{2}, std::string{}}));
  CHECK(db.query("SELECT id, name, note FROM t ORDER BY id") == "1|c|d\n2||d");

  bool counted = false;
  for (const auto& [target, n] : export_failure_counts())
    if (target == (*upd)->target_name()) counted = n == 1;
  CHECK(counted);
}

TEST_CASE("validation names the target and the column") {
  TargetDb db;
  db.exec(
      "CREATE TABLE t (id INTEGER, name INTEGER, must TEXT NOT NULL);"
      "CREATE TABLE k (id INTEGER PRIMARY KEY, name TEXT)");
  auto err = [&](const ExportTarget& t, const std::vector<ExportColumn>& cols) {
    auto r = open_sql_export(t, cols);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
    return r.error().message;
  };
  const std::string where = "table 'main.t' in sqlite:///" + db.path;
  auto m = err(db.target("t"), kCols);
  CHECK(m.find("column 'name' of " + where +
               " has type INTEGER, but output 'name' is String and needs a text column") !=
        std::string::npos);
  CHECK(m.find("column 'must' of " + where + " is NOT NULL without a default") != std::string::npos);
  CHECK(err(db.target("t"), {{"nme", ColumnType::String}})
            .find("output column 'nme' has no column in " + where + ", did you mean 'name'?") !=
        std::string::npos);
  CHECK(err(db.target("k", "update"), {{"id", ColumnType::Int}})
            .find("needs an output column besides the primary key (id)") != std::string::npos);
  CHECK(err(db.target("k", "merge"), {{"name", ColumnType::String}})
            .find("primary key column 'id' of table 'main.k'") != std::string::npos);
  CHECK(err(db.target("t", "update"), kCols).find("has no primary key; method 'update' finds rows by it") !=
        std::string::npos);
  // A lone INTEGER PRIMARY KEY is the rowid, so an insert may leave it out.
  CHECK(open_sql_export(db.target("k"), {{"name", ColumnType::Image}}));
}
