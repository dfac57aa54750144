// open_sql_export: validation of a target against a route's columns, the statement each method
// writes with, and the write itself (with one reconnect when a pooled connection had died).
#include "export/sql_export.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "export/sql_pool.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

const char* kind_words(TargetKind k) {
  switch (k) {
    case TargetKind::Text:
      return "a text column";
    case TargetKind::Int:
      return "an integer column";
    case TargetKind::Float:
      return "a floating-point column";
    case TargetKind::Numeric:
      return "a numeric column";
    case TargetKind::Bool:
      return "a boolean column";
    case TargetKind::Json:
      return "a JSON column";
    case TargetKind::Timestamp:
      return "a timestamp column";
    case TargetKind::Date:
      return "a date column";
    default:
      return "a column of another type";
  }
}

// The target kinds a value of type t can be written to without loss of meaning. Media values
// are URLs, so they need text.
std::vector<TargetKind> accepted_kinds(ColumnType t) {
  using K = TargetKind;
  switch (t) {
    case ColumnType::String:
      return {K::Text};
    case ColumnType::Int:
      return {K::Int, K::Numeric, K::Float};
    case ColumnType::Float:
      return {K::Float, K::Numeric};
    case ColumnType::Bool:
      return {K::Bool};
    case ColumnType::Timestamp:
      return {K::Timestamp, K::Text};
    case ColumnType::Date:
      return {K::Date, K::Text};
    case ColumnType::Json:
    case ColumnType::Array:
    case ColumnType::Vector:
      return {K::Json, K::Text};
    default:
      return {K::Text};
  }
}

std::string needs_words(ColumnType t) {
  std::string out;
  auto kinds = accepted_kinds(t);
  for (size_t i = 0; i < kinds.size(); ++i)
    out += std::string(i == 0 ? "" : i + 1 == kinds.size() ? " or " : ", ") + kind_words(kinds[i]);
  return out;
}

// Counts failed writes per target for /metrics.
struct FailureCounts {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<std::atomic<int64_t>>> counts;
  std::shared_ptr<std::atomic<int64_t>> counter(const std::string& target) {
    std::lock_guard lock(mu);
    auto& c = counts[target];
    if (!c) c = std::make_shared<std::atomic<int64_t>>(0);
    return c;
  }
};
FailureCounts& failure_counts() {
  static FailureCounts f;
  return f;
}

class Exporter final : public SqlExport {
 public:
  Exporter(std::shared_ptr<ConnectionPool> pool, std::string target, std::string sql, ExportMethod method,
           std::vector<size_t> order, std::string key_desc)
      : pool_(std::move(pool)),
        target_(std::move(target)),
        sql_(std::move(sql)),
        method_(method),
        order_(std::move(order)),
        key_desc_(std::move(key_desc)),
        failures_(failure_counts().counter(target_)) {}

  const std::string& target_name() const override { return target_; }

  Result<void> write_row(const std::vector<Value>& values) override {
    auto r = write(values);
    if (!r) {
      failures_->fetch_add(1, std::memory_order_relaxed);
      return make_error(r.error().code == Errc::not_found ? Errc::not_found : Errc::io,
                        "export to " + target_ + " failed: " + r.error().message);
    }
    return {};
  }

 private:
  Result<void> write(const std::vector<Value>& values) {
    std::vector<Value> params;
    params.reserve(order_.size());
    for (size_t i : order_) params.push_back(values[i]);
    PXT_TRY(auto conn, pool_->acquire());
    bool retried = false;
    if (!conn->usable()) {
      // Closed while idle (e.g. PostgreSQL restarted): nothing was sent, so a fresh connection
      // may safely run the statement.
      retried = true;
      auto fresh = pool_->reconnect();
      if (!fresh) {
        pool_->release(nullptr);
        return fresh.error();
      }
      conn = std::move(fresh).value();
    }
    bool sent = false;
    auto n = conn->execute(sql_, params, &sent);
    if (!n && !sent && !retried && !conn->usable()) {
      auto fresh = pool_->reconnect();
      if (!fresh) {
        pool_->release(nullptr);
        return fresh.error();
      }
      conn = std::move(fresh).value();
      n = conn->execute(sql_, params, &sent);
    }
    pool_->release(std::move(conn));
    if (!n) return n.error();
    if (method_ == ExportMethod::Update && *n == 0) {
      return make_error(Errc::not_found, "no row matches the primary key (" + key_desc_ + " = " +
                                             describe_key(params) + "); update does not insert");
    }
    return {};
  }

  // The key values of an update (the last parameters, in key order), for the message.
  std::string describe_key(const std::vector<Value>& params) const {
    std::string out;
    size_t nkeys = static_cast<size_t>(std::count(key_desc_.begin(), key_desc_.end(), ',')) + 1;
    for (size_t i = params.size() - nkeys; i < params.size(); ++i) {
      if (!out.empty()) out += ", ";
      if (const auto* s = std::get_if<std::string>(&params[i]))
        out += "'" + *s + "'";
      else if (const auto* n = std::get_if<int64_t>(&params[i]))
        out += std::to_string(*n);
      else if (is_null(params[i]))
        out += "null";
      else
        out += "?";
    }
    return nkeys > 1 ? "(" + out + ")" : out;
  }

  std::shared_ptr<ConnectionPool> pool_;
  std::string target_;
  std::string sql_;
  ExportMethod method_;
  std::vector<size_t> order_;  // parameter i is values[order_[i]]
  std::string key_desc_;       // "id" or "a, b" (update)
  std::shared_ptr<std::atomic<int64_t>> failures_;
};

Result<std::shared_ptr<SqlExport>> make_exporter(const ExportTarget& target,
                                                 const std::vector<ExportColumn>& columns,
                                                 ExportMethod method, std::shared_ptr<ConnectionPool> pool,
                                                 SqlConnection& conn, const TableShape& shape);

}  // namespace

Result<std::shared_ptr<SqlExport>> open_sql_export(const ExportTarget& target,
                                                   const std::vector<ExportColumn>& columns) {
  PXT_TRY(SqlUrl url, parse_sql_url(target.db_connect));
  ExportMethod method = target.method == "update"  ? ExportMethod::Update
                        : target.method == "merge" ? ExportMethod::Merge
                                                   : ExportMethod::Insert;
  auto pool = pool_for(url, target.db_connect);
  auto conn = pool->acquire();
  if (!conn) return make_error(Errc::invalid_argument, conn.error().message);
  std::string where = "table '" + (target.db_schema.empty() ? "" : target.db_schema + ".") + target.table +
                      "' in " + url.redacted;
  auto shape = (*conn)->describe(target.db_schema, target.table);
  if (!shape) {
    pool->release(std::move(conn).value());
    return make_error(Errc::invalid_argument, "cannot read " + where + ": " + shape.error().message);
  }
  if (!*shape) {
    auto names = (*conn)->table_names(target.db_schema);
    pool->release(std::move(conn).value());
    return make_error(Errc::invalid_argument,
                      where + " does not exist (create it first)" +
                          (names ? did_you_mean(target.table, *names) : std::string()));
  }
  auto r = make_exporter(target, columns, method, pool, **conn, **shape);
  pool->release(std::move(conn).value());
  return r;
}

namespace {

// Checks every column and builds the statement. Errors (invalid_argument) name the target and
// the column.
Result<std::shared_ptr<SqlExport>> make_exporter(const ExportTarget& target,
                                                 const std::vector<ExportColumn>& columns,
                                                 ExportMethod method, std::shared_ptr<ConnectionPool> pool,
                                                 SqlConnection& conn, const TableShape& shape) {
  const std::string where = "table '" + shape.qualified + "' in " + pool->url().redacted;
  std::vector<std::string> problems;
  std::vector<std::string> target_names;
  for (const auto& c : shape.columns) target_names.push_back(c.name);
  std::vector<const TargetColumn*> matched;
  for (const auto& col : columns) {
    auto it = std::find_if(shape.columns.begin(), shape.columns.end(),
                           [&](const TargetColumn& t) { return t.name == col.name; });
    if (it == shape.columns.end()) {
      problems.push_back("output column '" + col.name + "' has no column in " + where +
                         did_you_mean(col.name, target_names));
      matched.push_back(nullptr);
      continue;
    }
    matched.push_back(&*it);
    if (it->generated) {
      problems.push_back("column '" + col.name + "' of " + where + " is generated and cannot be written");
    } else if (col.type && it->kind != TargetKind::Any) {
      auto ok = accepted_kinds(*col.type);
      if (std::find(ok.begin(), ok.end(), it->kind) == ok.end())
        problems.push_back("column '" + col.name + "' of " + where + " has type " + it->type +
                           ", but output '" + col.name + "' is " + std::string(type_name(*col.type)) +
                           (is_media(*col.type) ? " (written as its URL)" : "") + " and needs " +
                           needs_words(*col.type));
    }
  }
  auto written = [&](const std::string& name) {
    return std::any_of(columns.begin(), columns.end(), [&](const ExportColumn& c) { return c.name == name; });
  };
  std::vector<const TargetColumn*> pk;
  for (const auto& c : shape.columns)
    if (c.pk_position > 0) pk.push_back(&c);
  std::sort(pk.begin(), pk.end(), [](auto* a, auto* b) { return a->pk_position < b->pk_position; });
  if (method != ExportMethod::Update) {
    for (const auto& c : shape.columns)
      if (c.not_null && !c.has_default && !c.generated && !written(c.name))
        problems.push_back("column '" + c.name + "' of " + where +
                           " is NOT NULL without a default, but the route does not output it");
  }
  std::vector<std::string> pk_names;
  for (auto* c : pk) pk_names.push_back(c->name);
  if (method != ExportMethod::Insert) {
    const std::string m = method == ExportMethod::Update ? "update" : "merge";
    if (pk.empty()) {
      problems.push_back(where + " has no primary key; method '" + m + "' finds rows by it");
    } else {
      for (auto* c : pk)
        if (!written(c->name))
          problems.push_back("primary key column '" + c->name + "' of " + where +
                             " is not among the outputs; '" + m + "' needs every key column");
      size_t others = 0;
      for (const auto& col : columns)
        if (std::find(pk_names.begin(), pk_names.end(), col.name) == pk_names.end()) ++others;
      if (others == 0)
        problems.push_back("method '" + m + "' on " + where +
                           " needs an output column besides the primary key (" + join(pk_names, ", ") + ")");
    }
  }
  if (!problems.empty()) {
    std::string msg = problems[0];
    for (size_t i = 1; i < problems.size(); ++i) msg += "; " + problems[i];
    return make_error(Errc::invalid_argument, msg);
  }

  const std::string table =
      (target.db_schema.empty() ? "" : quote_ident(target.db_schema) + ".") + quote_ident(target.table);
  std::string sql;
  std::vector<size_t> order;
  auto is_key = [&](const std::string& n) {
    return std::find(pk_names.begin(), pk_names.end(), n) != pk_names.end();
  };
  if (method == ExportMethod::Update) {
    sql = "UPDATE " + table + " SET ";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (is_key(columns[i].name)) continue;
      order.push_back(i);
      sql += (order.size() > 1 ? ", " : "") + quote_ident(columns[i].name) + " = " +
             conn.placeholder(static_cast<int>(order.size()));
    }
    sql += " WHERE ";
    size_t first_key = order.size();
    for (const auto& k : pk_names) {
      size_t i = static_cast<size_t>(
          std::find_if(columns.begin(), columns.end(), [&](const ExportColumn& c) { return c.name == k; }) -
          columns.begin());
      order.push_back(i);
      sql += (order.size() > first_key + 1 ? " AND " : "") + quote_ident(k) + " = " +
             conn.placeholder(static_cast<int>(order.size()));
    }
  } else {
    std::string cols, vals;
    for (size_t i = 0; i < columns.size(); ++i) {
      order.push_back(i);
      cols += (i ? ", " : "") + quote_ident(columns[i].name);
      vals += (i ? ", " : "") + conn.placeholder(static_cast<int>(i + 1));
    }
    sql = "INSERT INTO " + table + " (" + cols + ") VALUES (" + vals + ")";
    if (method == ExportMethod::Merge) {
      std::string keys, sets;
      for (const auto& k : pk_names) keys += (keys.empty() ? "" : ", ") + quote_ident(k);
      for (const auto& c : columns)
        if (!is_key(c.name))
          sets += (sets.empty() ? "" : ", ") + quote_ident(c.name) + " = excluded." + quote_ident(c.name);
      sql += " ON CONFLICT (" + keys + ") DO UPDATE SET " + sets;
    }
  }
  return std::shared_ptr<SqlExport>(
      new Exporter(std::move(pool), where, std::move(sql), method, std::move(order), join(pk_names, ", ")));
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> export_failure_counts() {
  auto& f = failure_counts();
  std::lock_guard lock(f.mu);
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [target, n] : f.counts) out.emplace_back(target, n->load(std::memory_order_relaxed));
  return out;
}

}  // namespace pxt
