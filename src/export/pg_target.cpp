// export_sql's PostgreSQL backend, through libpq (loaded on first use: pg_api.hpp). Statements are sent with
// an explicit deadline (poll on the socket), so a PostgreSQL that hangs cannot hang a request forever; the
// server also cancels a statement past statement_timeout.
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <map>

#include "export/sql_backend.hpp"
#include "store/model/values.hpp"
#include "util/pg_api.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

constexpr const char* kConnectTimeoutSec = "5";
// Server side: a statement that runs longer is cancelled by PostgreSQL itself. Set only when the
// URL (options=-c...) or the role did not choose one, so a user's setting wins.
constexpr const char* kStatementTimeoutSql =
    "SELECT set_config('statement_timeout', '10s', false) WHERE current_setting('statement_timeout') = '0'";
// Client side: beyond this the connection is dropped (e.g. the server is stopped, not dead).
constexpr int kClientTimeoutMs = 15000;

// libpq's table; only called once connect_postgres has loaded it (a connection exists).
const PgApi& pq() { return **pg_api(); }

std::string trimmed_error(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq prefixes repeated lines; the first is what the server said.
  if (size_t nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s.empty() ? "unknown error" : s;
}

TargetKind pg_kind_of(const std::string& typname) {
  if (typname == "text" || typname == "varchar" || typname == "bpchar" || typname == "citext" ||
      typname == "name")
    return TargetKind::Text;
  if (typname == "int2" || typname == "int4" || typname == "int8") return TargetKind::Int;
  if (typname == "float4" || typname == "float8") return TargetKind::Float;
  if (typname == "numeric") return TargetKind::Numeric;
  if (typname == "bool") return TargetKind::Bool;
  if (typname == "json" || typname == "jsonb") return TargetKind::Json;
  if (typname == "timestamp" || typname == "timestamptz") return TargetKind::Timestamp;
  if (typname == "date") return TargetKind::Date;
  return TargetKind::Other;
}

// Owns a PGresult.
struct ResultPtr {
  PGresult* r = nullptr;
  explicit ResultPtr(PGresult* x) : r(x) {}
  ResultPtr(const ResultPtr&) = delete;
  ResultPtr& operator=(const ResultPtr&) = delete;
  ~ResultPtr() {
    if (r) pq().PQclear(r);
  }
};

class PgConnection final : public SqlConnection {
 public:
  explicit PgConnection(PGconn* c) : c_(c) {}
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override { pq().PQfinish(c_); }

  bool usable() override {
    if (broken_ || pq().PQstatus(c_) != CONNECTION_OK || pq().PQtransactionStatus(c_) != PQTRANS_IDLE)
      return false;
    // An idle connection has nothing to read unless the server closed it (restart, admin
    // termination: an error message, then end of file). libpq would only notice when the next
    // statement fails, after sending it; anything readable here is treated as a closed
    // connection instead (a notice on an idle connection only costs a reconnect).
    pollfd p{pq().PQsocket(c_), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) {
      broken_ = true;
      return false;
    }
    return true;
  }

  std::string placeholder(int i) const override { return "$" + std::to_string(i); }

  Result<int64_t> execute(const std::string& sql, const std::vector<Value>& values, bool* sent) override {
    *sent = false;
    std::vector<std::string> text(values.size());
    std::vector<const char*> params(values.size(), nullptr);
    for (size_t i = 0; i < values.size(); ++i) {
      if (is_null(values[i])) continue;
      if (const bool* b = std::get_if<bool>(&values[i]))
        text[i] = *b ? "true" : "false";
      else
        text[i] = value_to_text(values[i], std::nullopt);
      params[i] = text[i].c_str();
    }
    // Each statement is prepared once per connection: a route's insert is then only bound and
    // executed, with no parsing or planning on the server.
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "pxt_" + std::to_string(prepared_.size());
      ResultPtr r(pq().PQprepare(c_, name.c_str(), sql.c_str(), 0, nullptr));
      if (pq().PQresultStatus(r.r) != PGRES_COMMAND_OK) {
        broken_ = pq().PQstatus(c_) != CONNECTION_OK;
        const char* primary = pq().PQresultErrorField(r.r, PG_DIAG_MESSAGE_PRIMARY);
        // A statement that failed to prepare was not run, but it was sent.
        *sent = !broken_;
        return make_error(Errc::io, primary ? primary : trimmed_error(pq().PQerrorMessage(c_)));
      }
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    if (!pq().PQsendQueryPrepared(c_, it->second.c_str(), static_cast<int>(values.size()), params.data(),
                                  nullptr, nullptr, 0)) {
      broken_ = pq().PQstatus(c_) != CONNECTION_OK;
      return make_error(Errc::io, trimmed_error(pq().PQerrorMessage(c_)));
    }
    *sent = true;
    return collect();
  }

  Result<std::optional<TableShape>> describe(const std::string& schema, const std::string& table) override {
    static const char* sql = R"(
SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(bt.typname, t.typname), a.attnotnull,
       a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
       coalesce((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY k(att, n) WHERE k.att = a.attnum), 0), n.nspname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = coalesce(nullif($1, ''), current_schema()) AND c.relname = $2
  AND c.relkind IN ('r', 'p')
ORDER BY a.attnum)";
    PXT_TRY(auto rows, query(sql, {schema, table}));
    if (rows.empty()) return std::optional<TableShape>();
    TableShape shape;
    for (const auto& r : rows) {
      TargetColumn c;
      c.name = r[0];
      c.type = r[1];
      c.kind = pg_kind_of(r[2]);
      c.not_null = r[3] == "t";
      c.has_default = r[4] == "t";
      c.generated = r[5] == "t";
      c.pk_position = std::atoi(r[6].c_str());
      shape.qualified = r[7] + "." + table;
      shape.columns.push_back(std::move(c));
    }
    return std::optional<TableShape>(std::move(shape));
  }

  Result<std::vector<std::string>> table_names(const std::string& schema) override {
    PXT_TRY(auto rows, query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname = coalesce(nullif($1, ''), current_schema()) "
                             "AND c.relkind IN ('r', 'p') ORDER BY 1",
                             {schema}));
    std::vector<std::string> names;
    for (auto& r : rows) names.push_back(std::move(r[0]));
    return names;
  }

 private:
  // Waits until the socket is ready for `events`; false on timeout or error.
  bool wait(short events, std::chrono::steady_clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{pq().PQsocket(c_), events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }

  // Reads every result of the statement just sent; the deadline bounds the whole wait.
  Result<int64_t> collect() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kClientTimeoutMs);
    std::string error;
    int64_t changed = 0;
    for (;;) {
      while (pq().PQisBusy(c_)) {
        if (!wait(POLLIN, deadline)) {
          broken_ = true;  // the answer may still arrive; the connection cannot be reused
          return make_error(Errc::io, "no answer within " + std::to_string(kClientTimeoutMs / 1000) + " s");
        }
        if (!pq().PQconsumeInput(c_)) {
          broken_ = true;
          return make_error(Errc::io, trimmed_error(pq().PQerrorMessage(c_)));
        }
      }
      ResultPtr r(pq().PQgetResult(c_));
      if (!r.r) break;
      auto st = pq().PQresultStatus(r.r);
      if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        const char* n = pq().PQcmdTuples(r.r);
        changed = n && *n ? std::atoll(n) : 0;
      } else if (error.empty()) {
        const char* primary = pq().PQresultErrorField(r.r, PG_DIAG_MESSAGE_PRIMARY);
        error = primary ? primary : trimmed_error(pq().PQresultErrorMessage(r.r));
      }
    }
    if (pq().PQstatus(c_) != CONNECTION_OK) broken_ = true;
    if (!error.empty()) return make_error(Errc::io, error);
    return changed;
  }

  Result<std::vector<std::vector<std::string>>> query(const char* sql, const std::vector<std::string>& args) {
    std::vector<const char*> params;
    for (const auto& a : args) params.push_back(a.c_str());
    ResultPtr r(pq().PQexecParams(c_, sql, static_cast<int>(params.size()), nullptr, params.data(), nullptr,
                                  nullptr, 0));
    if (pq().PQresultStatus(r.r) != PGRES_TUPLES_OK) {
      broken_ = pq().PQstatus(c_) != CONNECTION_OK;
      return make_error(Errc::io, trimmed_error(pq().PQerrorMessage(c_)));
    }
    std::vector<std::vector<std::string>> rows(static_cast<size_t>(pq().PQntuples(r.r)));
    for (int i = 0; i < pq().PQntuples(r.r); ++i)
      for (int j = 0; j < pq().PQnfields(r.r); ++j)
        rows[static_cast<size_t>(i)].emplace_back(pq().PQgetvalue(r.r, i, j));
    return rows;
  }

  PGconn* c_;
  bool broken_ = false;
  std::map<std::string, std::string> prepared_;  // SQL -> statement name on this connection
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> connect_postgres(const SqlUrl& url) {
  // The URL's own parameters (dbname is expanded last) override these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* vals[] = {kConnectTimeoutSec, "pxt-export", url.conninfo.c_str(), nullptr};
  PXT_CHECK(pg_api());
  PGconn* c = pq().PQconnectdbParams(keys, vals, 1);
  if (!c) return make_error(Errc::io, "cannot connect to " + url.redacted + ": out of memory");
  if (pq().PQstatus(c) != CONNECTION_OK) {
    std::string why = trimmed_error(pq().PQerrorMessage(c));
    pq().PQfinish(c);
    return make_error(Errc::io, "cannot connect to " + url.redacted + ": " + why);
  }
  ResultPtr r(pq().PQexec(c, kStatementTimeoutSql));
  if (pq().PQresultStatus(r.r) != PGRES_TUPLES_OK) {
    std::string why = trimmed_error(pq().PQerrorMessage(c));
    pq().PQfinish(c);
    return make_error(Errc::io, "cannot set up the connection to " + url.redacted + ": " + why);
  }
  return std::unique_ptr<SqlConnection>(new PgConnection(c));
}

}  // namespace pxt
