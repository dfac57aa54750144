#pragma once
// Shared by the test_serve_* unit tests: a scriptable in-memory Store that records what the
// handlers asked for, and BoundRoutes built by hand (no config loader, no catalog).
#include <httplib.h>

#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "store/store.hpp"

namespace pxt::test {

class FakeStore : public Store {
 public:
  // ---- scripted answers ----
  std::optional<Error> fail;  // every data call returns this error
  bool throw_bad = false;     // every data call throws std::runtime_error
  std::vector<Row> rows;      // returned by insert, update, select and run_query
  int64_t removed = 0;        // returned by remove
  Row computed;               // returned by compute
  bool ping_ok = true;

  // ---- what the handlers asked for ----
  std::string last_call;
  std::vector<std::string> last_columns;
  std::vector<Row> last_rows;
  Filter last_filter;
  std::vector<std::pair<std::string, Value>> last_set;
  std::vector<Value> last_params;
  int calls = 0;

  std::string home() const override { return "/tmp/fake"; }
  std::string media_dir() const override { return "/tmp/fake/media"; }
  std::string backend() const override { return "fake"; }
  std::string location() const override { return "/tmp/fake"; }
  Result<void> create_dir(std::string_view, IfExists) override { return unsupported(); }
  Result<TableDef> create_table(TableDef, IfExists) override { return unsupported(); }
  Result<TableDef> get_table(std::string_view) override { return unsupported(); }
  Result<std::vector<CatalogEntry>> list(std::string_view, bool) override { return unsupported(); }
  Result<void> drop_table(std::string_view, bool) override { return unsupported(); }
  Result<void> drop_dir(std::string_view, bool) override { return unsupported(); }
  Result<void> move(std::string_view, std::string_view) override { return unsupported(); }
  Result<int64_t> insert_stream(const TableDef&, const std::vector<std::string>&, const RowSource&) override {
    return unsupported();
  }
  Result<int64_t> count(const TableDef&, const Filter&) override { return unsupported(); }
  Result<std::vector<ResultColumn>> describe_query(const QueryDef&) override { return unsupported(); }
  Result<void> jobs_scan(const std::function<bool(const JobRecord&)>&) override { return unsupported(); }
  Result<void> import_copy(const StoreCopy&) override { return unsupported(); }

  Result<std::vector<Row>> insert(const TableDef&, const std::vector<std::string>& columns,
                                  const std::vector<Row>& in, const RowCheck& check = nullptr) override {
    record("insert");
    last_columns = columns;
    last_rows = in;
    if (fail) return *fail;
    return checked(check);
  }
  Result<std::vector<Row>> update(const TableDef&, const Filter& filter,
                                  const std::vector<std::pair<std::string, Value>>& set,
                                  const RowCheck& check = nullptr) override {
    record("update");
    last_filter = filter;
    last_set = set;
    if (fail) return *fail;
    return checked(check);
  }
  // A refused row fails the write as the real store does (nothing is "stored": refused_writes).
  Result<std::vector<Row>> checked(const RowCheck& check) {
    if (check)
      for (const auto& r : rows)
        if (auto ok = check(r); !ok) {
          ++refused_writes;
          return ok.error();
        }
    return rows;
  }
  int refused_writes = 0;
  Result<int64_t> remove(const TableDef&, const Filter& filter) override {
    record("remove");
    last_filter = filter;
    if (fail) return *fail;
    return removed;
  }
  Result<void> select(const TableDef&, const SelectSpec& spec, const RowCallback& cb) override {
    record("select");
    last_filter = spec.filter;
    if (fail) return *fail;
    for (const auto& r : rows)
      if (!cb(r)) break;
    return {};
  }
  Result<Row> compute(const TableDef&, const std::vector<std::string>& columns, const Row& inputs) override {
    record("compute");
    last_columns = columns;
    last_rows = {inputs};
    if (fail) return *fail;
    return computed;
  }
  Result<void> run_query(const QueryDef&, const std::vector<Value>& params, const RowCallback& cb) override {
    record("run_query");
    last_params = params;
    if (fail) return *fail;
    for (const auto& r : rows)
      if (!cb(r)) break;
    return {};
  }
  // Jobs live in a map, so the job layer can be tested without SQLite.
  std::map<std::string, JobRecord> jobs;
  std::mutex jobs_mu;
  Result<void> job_create(const JobRecord& job) override {
    std::lock_guard lock(jobs_mu);
    if (!jobs.emplace(job.id, job).second) return make_error(Errc::already_exists, "duplicate job");
    jobs[job.id].status = "pending";
    return {};
  }
  Result<bool> job_start(std::string_view id, std::string_view runner) override {
    std::lock_guard lock(jobs_mu);
    auto it = jobs.find(std::string(id));
    if (it == jobs.end() || it->second.status != "pending") return false;
    it->second.status = "running";
    it->second.runner = std::string(runner);
    return true;
  }
  Result<bool> job_finish(const JobRecord& job) override {
    std::lock_guard lock(jobs_mu);
    auto it = jobs.find(job.id);
    if (it == jobs.end() || it->second.finished_ms != 0) return false;
    it->second.status = job.status;
    it->second.result = job.result;
    it->second.error = job.error;
    it->second.finished_ms = job.finished_ms;
    return true;
  }
  Result<std::optional<JobRecord>> job_get(std::string_view id) override {
    std::lock_guard lock(jobs_mu);
    auto it = jobs.find(std::string(id));
    if (it == jobs.end()) return std::optional<JobRecord>();
    return std::optional<JobRecord>(it->second);
  }
  Result<std::vector<JobRecord>> jobs_unfinished() override {
    std::lock_guard lock(jobs_mu);
    std::vector<JobRecord> out;
    for (const auto& [id, j] : jobs)
      if (j.finished_ms == 0) out.push_back(j);
    return out;
  }
  Result<int64_t> jobs_expire(int64_t before) override {
    std::lock_guard lock(jobs_mu);
    int64_t n = 0;
    for (auto it = jobs.begin(); it != jobs.end();) {
      if (it->second.finished_ms != 0 && it->second.finished_ms < before) {
        it = jobs.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  Result<void> ping() override {
    if (ping_ok) return {};
    return make_error(Errc::io, "disk gone");
  }

 private:
  static Error unsupported() { return make_error(Errc::unsupported, "not in the fake"); }
  void record(const char* name) {
    last_call = name;
    ++calls;
    if (throw_bad) throw std::runtime_error("boom: secret internals");
  }
};

// app.users: id Int (PK, required), name String, score Float, tags Json, photo Image,
// shout String computed.
inline TableDef users_table() {
  TableDef t;
  t.path = "app.users";
  t.id = 1;
  t.version = 1;
  t.primary_key = {"id"};
  t.columns = {{"id", ColumnType::Int, true}, {"name", ColumnType::String},
               {"score", ColumnType::Float},  {"tags", ColumnType::Json},
               {"photo", ColumnType::Image},  {"shout", ColumnType::String, false, "upper(name)"}};
  return t;
}

inline RequestField field(std::string name, ColumnType type, bool required, bool nullable) {
  RequestField f;
  f.name = std::move(name);
  f.type = type;
  f.required = required;
  f.nullable = nullable;
  return f;
}

inline ResultColumn out(std::string name, std::optional<ColumnType> type, bool nullable = true) {
  return ResultColumn{std::move(name), type, nullable};
}

inline BoundRoute table_route(RouteType type, std::string path, std::string prefix = "") {
  BoundRoute b;
  b.spec.type = type;
  b.spec.path = path;
  b.spec.table = "app.users";
  b.full_path = prefix + path;
  b.http_method = "POST";
  b.table = users_table();
  switch (type) {
    case RouteType::Insert:
    case RouteType::Compute:
      b.fields = {field("id", ColumnType::Int, true, false), field("name", ColumnType::String, false, true),
                  field("score", ColumnType::Float, false, true),
                  field("tags", ColumnType::Json, false, true)};
      b.outputs = {out("id", ColumnType::Int, false), out("name", ColumnType::String),
                   out("photo", ColumnType::Image), out("shout", ColumnType::String)};
      break;
    case RouteType::Update:
      b.fields = {field("id", ColumnType::Int, true, false), field("name", ColumnType::String, false, true),
                  field("score", ColumnType::Float, false, true)};
      b.outputs = {out("id", ColumnType::Int, false), out("name", ColumnType::String),
                   out("shout", ColumnType::String)};
      break;
    case RouteType::Delete:
      b.fields = {field("id", ColumnType::Int, true, false)};
      b.outputs = {out("num_rows", ColumnType::Int, false)};
      break;
    case RouteType::Query:
      break;
  }
  return b;
}

// A SQL query route: params q String (required), limit Int (default 10).
inline BoundRoute query_route(std::string path, std::string method, bool one_row) {
  BoundRoute b;
  b.spec.type = RouteType::Query;
  b.spec.path = path;
  b.spec.query = "app.queries.search";
  b.spec.one_row = one_row;
  b.spec.method = method == "GET" ? "get" : "post";
  b.full_path = path;
  b.http_method = method;
  b.query.module = "app.queries";
  b.query.name = "search";
  b.query.params = {QueryParam{"q", ColumnType::String, std::nullopt},
                    QueryParam{"limit", ColumnType::Int, Value(int64_t{10})}};
  RequestField limit = field("limit", ColumnType::Int, false, false);
  limit.default_value = Value(int64_t{10});
  b.fields = {field("q", ColumnType::String, true, false), limit};
  b.outputs = {out("id", ColumnType::Int, false), out("name", ColumnType::String),
               out("photo", ColumnType::Image), out("n", std::nullopt)};
  return b;
}

// A full users row in table order: id, name, score, tags, photo, shout.
inline Row user_row(int64_t id, std::string name) {
  return Row{Value(id),
             Value(name),
             Value(1.5),
             Value(std::string(R"({"a":1})")),
             Value(std::string("img/1.png")),
             Value(std::string("SHOUT"))};
}

inline httplib::Request json_request(std::string method, std::string path, std::string body) {
  httplib::Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.target = req.path;
  req.body = std::move(body);
  req.headers.emplace("Content-Type", "application/json");
  return req;
}

}  // namespace pxt::test
