// libpq connections, results, error mapping and the pool of the PostgreSQL store.
#include "store/postgres/conn.hpp"

#include <poll.h>

#include <cstdlib>
#include <optional>

#include "util/strings.hpp"

namespace pxt::pg {

namespace {

thread_local int t_leases = 0;  // connections this thread holds now

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (size_t nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s.empty() ? "unknown error" : s;
}

std::string field(PGresult* r, int code) {
  const char* v = r ? pq().PQresultErrorField(r, code) : nullptr;
  return v ? v : "";
}

void ignore_notice(void*, const char*) {}

constexpr Oid kTextOid = 25;

std::vector<Oid> types_of(const Params& p) {
  return p.text_typed() ? std::vector<Oid>(p.size(), kTextOid) : std::vector<Oid>();
}

}  // namespace

const PgApi& pq() { return **pg_api(); }

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out(text_.size(), nullptr);
  for (size_t i = 0; i < text_.size(); ++i)
    if (!null_[i]) out[i] = text_[i].c_str();
  return out;
}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) pq().PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_) pq().PQclear(r_);
}

int PgResult::rows() const { return r_ ? pq().PQntuples(r_) : 0; }
int PgResult::cols() const { return r_ ? pq().PQnfields(r_) : 0; }
bool PgResult::null(int row, int col) const { return pq().PQgetisnull(r_, row, col) != 0; }
std::string_view PgResult::text(int row, int col) const {
  return {pq().PQgetvalue(r_, row, col), static_cast<size_t>(pq().PQgetlength(r_, row, col))};
}
int64_t PgResult::int_at(int row, int col) const {
  return std::strtoll(pq().PQgetvalue(r_, row, col), nullptr, 10);
}
int64_t PgResult::changed() const {
  const char* n = r_ ? pq().PQcmdTuples(r_) : nullptr;
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<Conn>> Conn::open(const ConnConfig& config) {
  PXT_CHECK(pg_api());
  std::string timeout = std::to_string(config.connect_timeout_s);
  // The URL's own parameters (dbname is expanded last) override these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "keepalives_idle", "dbname", nullptr};
  const char* vals[] = {timeout.c_str(), "pxt", "30", config.conninfo.c_str(), nullptr};
  PGconn* c = pq().PQconnectdbParams(keys, vals, 1);
  if (!c) return make_error(Errc::busy, "cannot connect to the store " + config.redacted + ": out of memory");
  if (pq().PQstatus(c) != CONNECTION_OK) {
    std::string why = trimmed(pq().PQerrorMessage(c));
    pq().PQfinish(c);
    return make_error(Errc::busy, "cannot connect to the store " + config.redacted + ": " + why);
  }
  pq().PQsetNoticeProcessor(c, ignore_notice, nullptr);
  std::unique_ptr<Conn> conn(new Conn(c));
  // UTC and ISO dates: timestamptz and date values come back in one spelling (store/postgres/
  // values.cpp reads them); float8 text is the shortest exact form (extra_float_digits 1).
  std::string setup =
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; "
      "SET IntervalStyle = 'iso_8601'";
  if (!config.search_path.empty()) setup += "; SET search_path = " + quote_ident(config.search_path);
  if (config.lock_timeout_ms > 0) setup += "; SET lock_timeout = " + std::to_string(config.lock_timeout_ms);
  auto r = conn->exec(setup);
  if (!r)
    return make_error(Errc::busy,
                      "cannot set up the connection to " + config.redacted + ": " + r.error().message);
  return conn;
}

Conn::~Conn() {
  if (c_) pq().PQfinish(c_);
}

int Conn::socket() const { return pq().PQsocket(c_); }

bool Conn::broken() const { return broken_ || pq().PQstatus(c_) != CONNECTION_OK; }

bool Conn::stale() const {
  if (broken() || pq().PQtransactionStatus(c_) != PQTRANS_IDLE) return true;
  pollfd p{pq().PQsocket(c_), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

Error Conn::fail(PGresult* r, std::string_view what) {
  last_ = PgError{};
  last_.sqlstate = field(r, PG_DIAG_SQLSTATE);
  last_.message = field(r, PG_DIAG_MESSAGE_PRIMARY);
  last_.detail = field(r, PG_DIAG_MESSAGE_DETAIL);
  last_.column = field(r, PG_DIAG_COLUMN_NAME);
  last_.constraint = field(r, PG_DIAG_CONSTRAINT_NAME);
  if (pq().PQstatus(c_) != CONNECTION_OK) {
    broken_ = true;
    last_.connection_lost = true;
  }
  if (last_.message.empty())
    last_.message = trimmed(r ? pq().PQresultErrorMessage(r) : pq().PQerrorMessage(c_));
  if (last_.message == "unknown error") last_.message = trimmed(pq().PQerrorMessage(c_));
  if (last_.sqlstate.empty() && !last_.connection_lost && pq().PQstatus(c_) != CONNECTION_OK)
    last_.connection_lost = true;
  if (last_.sqlstate.empty() && r == nullptr) last_.connection_lost = true;
  return map_error(last_, what);
}

Result<PgResult> Conn::finish(PGresult* raw, std::string_view what) {
  PgResult r(raw);
  auto st = raw ? pq().PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) return r;
  return fail(raw, what);
}

Result<PgResult> Conn::exec(const std::string& sql) {
  if (broken()) return fail(nullptr, {});
  return finish(pq().PQexec(c_, sql.c_str()), {});
}

Result<const std::string*> Conn::prepared(const std::string& sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return &it->second;
  if (prepared_.size() >= 2000) {
    // Bounded: a connection that saw many tables' statements starts over.
    PXT_CHECK(exec("DEALLOCATE ALL"));
    prepared_.clear();
  }
  std::string name = "pxt_" + std::to_string(next_name_++);
  auto types = types_of(params);
  PgResult r(pq().PQprepare(c_, name.c_str(), sql.c_str(), static_cast<int>(types.size()),
                            types.empty() ? nullptr : types.data()));
  if (pq().PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(r.get(), {});
  return &prepared_.emplace(sql, std::move(name)).first->second;
}

Result<PgResult> Conn::run(const std::string& sql, const Params& params) {
  if (broken()) return fail(nullptr, {});
  PXT_TRY(const std::string* name, prepared(sql, params));
  auto ptrs = params.pointers();
  return finish(
      pq().PQexecPrepared(c_, name->c_str(), static_cast<int>(ptrs.size()), ptrs.data(), nullptr, nullptr, 0),
      {});
}

Result<PgResult> Conn::run_once(const std::string& sql, const Params& params) {
  if (broken()) return fail(nullptr, {});
  auto ptrs = params.pointers();
  auto types = types_of(params);
  return finish(pq().PQexecParams(c_, sql.c_str(), static_cast<int>(ptrs.size()),
                                  types.empty() ? nullptr : types.data(), ptrs.data(), nullptr, nullptr, 0),
                {});
}

Result<PgResult> Conn::describe(const std::string& sql) {
  if (broken()) return fail(nullptr, {});
  PgResult prep(pq().PQprepare(c_, "", sql.c_str(), 0, nullptr));
  if (pq().PQresultStatus(prep.get()) != PGRES_COMMAND_OK) return fail(prep.get(), {});
  return finish(pq().PQdescribePrepared(c_, ""), {});
}

void Conn::drain() {
  while (PGresult* r = pq().PQgetResult(c_)) pq().PQclear(r);
}

Result<void> Conn::stream(const std::string& sql, const Params& params,
                          const std::function<bool(const PgResult& row)>& cb) {
  if (broken()) return fail(nullptr, {});
  PXT_TRY(const std::string* name, prepared(sql, params));
  auto ptrs = params.pointers();
  if (!pq().PQsendQueryPrepared(c_, name->c_str(), static_cast<int>(ptrs.size()), ptrs.data(), nullptr,
                                nullptr, 0))
    return fail(nullptr, {});
  pq().PQsetSingleRowMode(c_);
  bool wanted = true;
  std::optional<Error> err;
  while (PGresult* raw = pq().PQgetResult(c_)) {
    PgResult r(raw);
    auto st = pq().PQresultStatus(raw);
    if (st == PGRES_SINGLE_TUPLE) {
      if (wanted && !err) wanted = cb(r);
    } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !err) {
      err = fail(raw, {});
    }
  }
  if (err) return *err;
  if (pq().PQstatus(c_) != CONNECTION_OK) return fail(nullptr, {});
  return {};
}

Result<std::vector<PgResult>> Conn::pipeline(const std::vector<std::pair<std::string, Params>>& statements,
                                             size_t* failed_at) {
  if (broken()) return fail(nullptr, {});
  std::vector<const std::string*> names;
  for (const auto& [sql, p] : statements) {
    PXT_TRY(const std::string* name, prepared(sql, p));
    names.push_back(name);
  }
  if (!pq().PQenterPipelineMode(c_)) return fail(nullptr, {});
  bool sent = true;
  for (size_t i = 0; i < statements.size() && sent; ++i) {
    auto ptrs = statements[i].second.pointers();
    sent = pq().PQsendQueryPrepared(c_, names[i]->c_str(), static_cast<int>(ptrs.size()), ptrs.data(),
                                    nullptr, nullptr, 0) != 0;
  }
  if (!sent || !pq().PQpipelineSync(c_)) {
    broken_ = true;
    return fail(nullptr, {});
  }
  std::vector<PgResult> out;
  std::optional<Error> err;
  // Each statement's results end with a null; the sync's result ends the batch.
  for (size_t i = 0; i <= statements.size();) {
    PGresult* raw = pq().PQgetResult(c_);
    if (!raw) {
      if (pq().PQstatus(c_) != CONNECTION_OK) {
        broken_ = true;
        if (!err) err = fail(nullptr, {});
        break;
      }
      ++i;
      continue;
    }
    auto st = pq().PQresultStatus(raw);
    if (st == PGRES_PIPELINE_SYNC) {
      pq().PQclear(raw);
      break;
    }
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      out.emplace_back(raw);
    } else {
      if (!err && st != PGRES_PIPELINE_ABORTED) {
        err = fail(raw, {});
        if (failed_at) *failed_at = i;
      }
      pq().PQclear(raw);
    }
  }
  if (!pq().PQexitPipelineMode(c_)) {
    drain();
    if (!pq().PQexitPipelineMode(c_)) broken_ = true;
  }
  if (err) return *err;
  return out;
}

bool is_connection_error(const PgError& e) {
  if (e.connection_lost) return true;
  const std::string& s = e.sqlstate;
  return s.rfind("08", 0) == 0 || s == "57P01" || s == "57P02" || s == "57P03" || s == "53300" ||
         s == "53400";
}

Error map_error(const PgError& e, std::string_view what) {
  std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  if (is_connection_error(e)) {
    return make_error(Errc::busy, prefix + "the PostgreSQL store is unavailable (" + e.message + "); retry");
  }
  const std::string& s = e.sqlstate;
  if (s == "40001" || s == "40P01") {
    return make_error(Errc::conflict,
                      prefix + "the write conflicted with a concurrent one (" + e.message + "); retry");
  }
  if (s == "57014") return make_error(Errc::busy, prefix + "the statement was cancelled (" + e.message + ")");
  // lock_timeout (StoreOptions::busy_timeout_ms): another session held the row or table.
  if (s == "55P03")
    return make_error(
        Errc::busy,
        prefix + "the store is busy: a lock another session holds was not released in time; retry");
  if (s == "PXT01")
    return make_error(Errc::schema_changed,
                      "table schema changed since route was registered; restart the service");
  if (s.rfind("22", 0) == 0 || s.rfind("42", 0) == 0 || s.rfind("23", 0) == 0 || s == "25006" || s == "2201W")
    return make_error(Errc::invalid_argument, prefix + e.message);
  if (s == "53100") return make_error(Errc::no_space, prefix + e.message);
  return make_error(Errc::internal, prefix + e.message);
}

// ---- the pool ----

Pool::~Pool() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

int Pool::open_count() const {
  std::lock_guard lock(mu_);
  return open_;
}

Result<Lease> Pool::acquire() {
  {
    std::unique_lock lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    while (true) {
      while (!idle_.empty()) {
        std::unique_ptr<Conn> c = std::move(idle_.back());
        idle_.pop_back();
        if (!c->stale()) {
          ++t_leases;
          return Lease(this, std::move(c));
        }
        --open_;  // the server hung up on it (a restart): replace it
      }
      if (open_ < size_ || t_leases > 0) break;
      waiting_.fetch_add(1);
      bool freed = freed_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < size_; });
      waiting_.fetch_sub(1);
      if (!freed) {
        timeouts_.fetch_add(1);
        return make_error(Errc::busy, "the PostgreSQL store is busy: all " + std::to_string(size_) +
                                          " connections of this process stayed in use for " +
                                          std::to_string(timeout_ms_) + " ms; retry");
      }
    }
    ++open_;
  }
  auto c = Conn::open(config_);
  if (!c) {
    std::lock_guard lock(mu_);
    --open_;
    freed_.notify_one();
    return c.error();
  }
  ++t_leases;
  return Lease(this, std::move(*c));
}

int Pool::held_by_this_thread() { return t_leases; }

void Pool::release(std::unique_ptr<Conn> c) {
  std::lock_guard lock(mu_);
  if (c->broken() || pq().PQtransactionStatus(c->raw()) != PQTRANS_IDLE) {
    --open_;  // closed as c goes out of scope
  } else {
    idle_.push_back(std::move(c));
  }
  freed_.notify_one();
}

Pool::Lease::~Lease() {
  if (!c_) return;
  --t_leases;
  pool_->release(std::move(c_));
}

}  // namespace pxt::pg
