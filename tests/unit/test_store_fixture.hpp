#pragma once
// A fresh store in a temporary home for each test, removed afterwards.
#include <doctest/doctest.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <string>

#include "store/store.hpp"

namespace pxt::test {

inline std::string temp_home(const char* tag) {
  static std::atomic<int> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("pxt-unit-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  return dir.string();
}

struct StoreFixture {
  std::string home = temp_home("store");
  std::unique_ptr<Store> store = Store::open(StoreOptions{home}).take();
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

}  // namespace pxt::test
