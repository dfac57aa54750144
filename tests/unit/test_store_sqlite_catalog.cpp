// The SQLite backend's catalog: the home's pxt.db (WAL, format version, real SQLite tables) and
// the lock another process can hold.
#include <sqlite3.h>

#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_CASE_FIXTURE(StoreFixture, "open creates the home with pxt.db in WAL mode and media/") {
  CHECK(std::filesystem::exists(home + "/pxt.db"));
  CHECK(std::filesystem::is_directory(home + "/media"));
  CHECK(s().home() == home);
  CHECK(s().media_dir() == home + "/media");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((home + "/pxt.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
  CHECK(s().ping().ok());
}

TEST_CASE("a home written by a newer format version is refused") {
  std::string home = temp_home("newer");
  { auto s = Store::open({home}).take(); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((home + "/pxt.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE \"pxt$meta\" SET value = '99' WHERE key = 'format_version'", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto r = Store::open({home});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("written by a newer pxt (catalog format 99") != std::string::npos);
  std::filesystem::remove_all(home);
}

TEST_CASE("open refuses a bad durability and an uncreatable home") {
  StoreOptions o{temp_home("dur")};
  o.durability = "ful";
  auto r = Store::open(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "unknown durability 'ful' (expected 'normal' or 'full'), did you mean 'full'?");
  auto bad = Store::open({"/proc/pxt-cannot-create"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::io);
  o.durability = "full";
  CHECK(Store::open(o).ok());
  std::filesystem::remove_all(o.home);
}

TEST_CASE_FIXTURE(StoreFixture, "user tables are real SQLite tables named by their path") {
  s().create_dir("myapp", IfExists::error).take();
  TableDef t =
      make("myapp.users", {col("id", ColumnType::Int, true), col("name", ColumnType::String)}, {"id"});
  s().insert(t, {"id", "name"}, {{int64_t(1), std::string("ann")}}).take();
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((home + "/pxt.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT name FROM \"myapp.users\" WHERE id = 1", -1, &st, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ann");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("another process holding the write lock gives busy after the timeout, then writes succeed") {
  StoreOptions o{temp_home("busy")};
  o.busy_timeout_ms = 100;
  auto s = Store::open(o).take();
  TableDef d;
  d.path = "t";
  d.columns.push_back(ColumnDef{"x", ColumnType::Int});
  TableDef t = s->create_table(d, IfExists::error).take();
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((o.home + "/pxt.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto r = s->insert(t, {"x"}, {{int64_t(1)}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::busy);
  CHECK(r.error().message == "the store is locked by another process (waited 100 ms); try again");
  CHECK(s->create_dir("d", IfExists::error).error().code == Errc::busy);
  CHECK(s->count(t, {}).take() == 0);  // readers are not blocked
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  CHECK(s->insert(t, {"x"}, {{int64_t(1)}}).ok());
  s.reset();
  std::filesystem::remove_all(o.home);
}

// A named query runs restricted (no catalog tables), and SQLite connects its JSON table functions
// through the schema table on first use: they are connected when the connection opens, so a
// query (and an index-answered similarity query, which filters by json_each) can use them.
TEST_CASE_FIXTURE(StoreFixture, "named queries can use json_each and json_tree") {
  QueryDef q;
  q.name = "q";
  q.kind = QueryDef::Kind::Sql;
  q.sql = "SELECT sum(e.value), count(*) FROM json_each(:j) e, json_tree('{\"a\": 1}') t";
  q.params = {{"j", ColumnType::String, std::nullopt}};
  std::vector<Row> got;
  auto r = s().run_query(q, {std::string("[1, 2, 3]")}, [&](const Row& row) {
    got.push_back(row);
    return true;
  });
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  REQUIRE(got.size() == 1);
  CHECK(std::get<int64_t>(got[0][0]) == 12);  // 1 + 2 + 3, each twice: json_tree gives the root and 'a'
  CHECK(std::get<int64_t>(got[0][1]) == 6);
}
