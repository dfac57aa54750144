#pragma once
// A fresh store in a temporary home for each test, removed afterwards.
//
// The store conformance suite (the test cases in TEST_SUITE "store conformance": test_store_catalog,
// test_store_write, test_store_query) goes through the Store interface only, so every backend
// must pass it: `pxt_unit -ts="store conformance"` with PXT_TEST_STORE_URL set runs it against
// that store URL instead of a SQLite home (leveldb's env_test beside env_posix_test). Cases that
// look inside one backend live in test_store_<backend>_*.cpp.
#include <doctest/doctest.h>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/store.hpp"
#include "util/pg_api.hpp"

namespace pxt::test {

inline std::string temp_home(const char* tag) {
  static std::atomic<int> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("pxt-unit-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  return dir.string();
}

// The store URL the conformance suite runs against: PXT_TEST_STORE_URL, or "" for a SQLite home.
inline std::string test_store_url() {
  const char* url = std::getenv("PXT_TEST_STORE_URL");
  return url != nullptr ? url : "";
}

inline bool on_postgres() { return test_store_url().rfind("postgres", 0) == 0; }

// Each case starts from an empty store: a PostgreSQL test database is emptied (the pxt schema
// and every user table) before the case opens it. A SQLite store starts in a new home anyway.
inline void reset_test_store() {
  if (!on_postgres()) return;
  const PgApi& pq = *pg_api().take();
  std::string url = test_store_url();
  const char* keys[] = {"dbname", nullptr};
  const char* vals[] = {url.c_str(), nullptr};
  PGconn* c = pq.PQconnectdbParams(keys, vals, 1);
  REQUIRE_MESSAGE(pq.PQstatus(c) == CONNECTION_OK, pq.PQerrorMessage(c));
  PGresult* r = pq.PQexec(c,
                          "SET client_min_messages = warning; DROP SCHEMA IF EXISTS pxt CASCADE; "
                          "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
  bool ok = pq.PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string why = pq.PQerrorMessage(c);
  pq.PQclear(r);
  pq.PQfinish(c);
  REQUIRE_MESSAGE(ok, why);
}

// The SQL a case uses where the two engines' dialects differ (doc/catalog.md).
inline std::string dialect(const char* sqlite, const char* postgres) {
  return on_postgres() ? postgres : sqlite;
}

inline std::unique_ptr<Store> open_test_store(const std::string& home) {
  reset_test_store();
  return Store::open(StoreOptions{home, test_store_url()}).take();
}

struct StoreFixture {
  std::string home = temp_home("store");
  std::unique_ptr<Store> store = open_test_store(home);
  ~StoreFixture() {
    store.reset();
    std::filesystem::remove_all(home);
  }
  Store& s() { return *store; }

  ColumnDef col(std::string name, ColumnType t, bool required = false) {
    ColumnDef c;
    c.name = std::move(name);
    c.type = t;
    c.required = required;
    return c;
  }
  ColumnDef computed(std::string name, std::string expr, std::optional<ColumnType> t = std::nullopt) {
    ColumnDef c;
    c.name = std::move(name);
    c.computed = std::move(expr);
    c.type = t.value_or(ColumnType::String);
    c.infer_type = !t;
    return c;
  }
  TableDef make(std::string path, std::vector<ColumnDef> cols, std::vector<std::string> pk = {}) {
    TableDef d;
    d.path = std::move(path);
    d.columns = std::move(cols);
    d.primary_key = std::move(pk);
    return store->create_table(d, IfExists::error).take();
  }
  std::vector<Row> rows(const TableDef& t, SelectSpec spec = {}) {
    std::vector<Row> out;
    store
        ->select(t, spec,
                 [&](const Row& r) {
                   out.push_back(r);
                   return true;
                 })
        .take();
    return out;
  }
};

inline std::string str(const Value& v) { return std::get<std::string>(v); }
inline int64_t num(const Value& v) { return std::get<int64_t>(v); }
// The other way: the Values a row of a test is written with.
inline Value S(std::string s) { return Value(std::move(s)); }
inline Value I(int64_t i) { return Value(i); }

}  // namespace pxt::test
