#pragma once
// Connections of the PostgreSQL store (internal to src/store/postgres/): one libpq connection
// with its cache of prepared statements, results, the SQLSTATE of the last failure, and the
// per-process pool every store call leases a connection from.
//
// Thread-safety: a Conn is used by one thread at a time (the lease holder). The Pool is
// thread-safe.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/pg_api.hpp"
#include "util/result.hpp"

namespace pxt::pg {

// libpq's table; valid once a store has opened (Store::open loads it first).
const PgApi& pq();

// How to reach the database: the libpq URI without pxt's own query parameters.
struct ConnConfig {
  std::string conninfo;     // "postgresql://..." as libpq takes it
  std::string redacted;     // for messages: the password replaced by "***"
  std::string search_path;  // the schema user tables live in (set on every connection)
  int connect_timeout_s = 5;
  int lock_timeout_ms = 0;  // a statement waiting longer for a lock fails (busy); 0: no limit
};

// Text-format statement parameters; a null entry is SQL NULL. Typed: every parameter is declared
// text and the SQL casts each where it is used ($1::int8): statements pxt builds over user tables
// do that, so a parameter the statement does not mention (a call result only an argument of
// another call uses) needs no type of its own.
class Params {
 public:
  Params() = default;
  explicit Params(bool text_typed) : text_typed_(text_typed) {}
  bool text_typed() const { return text_typed_; }
  void add(std::string text) {
    text_.push_back(std::move(text));
    null_.push_back(false);
  }
  void add_null() {
    text_.emplace_back();
    null_.push_back(true);
  }
  void add_int(int64_t v) { add(std::to_string(v)); }
  size_t size() const { return text_.size(); }
  void clear() {
    text_.clear();
    null_.clear();
  }
  // Pointers for libpq, valid while this object is unchanged.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> text_;
  std::vector<bool> null_;
  bool text_typed_ = false;
};

// Owns a PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();
  PGresult* get() const { return r_; }
  int rows() const;
  int cols() const;
  bool null(int row, int col) const;
  std::string_view text(int row, int col) const;
  int64_t int_at(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t changed() const;

 private:
  PGresult* r_ = nullptr;
};

// What the server said about a failed statement.
struct PgError {
  std::string sqlstate;    // "23505"; "" when the connection failed before an answer
  std::string message;     // the primary message
  std::string detail;      // DETAIL, e.g. "Key (id)=(1) already exists."
  std::string column;      // the column a constraint failure names
  std::string constraint;  // the constraint's name
  bool connection_lost = false;
};

class Conn {
 public:
  // Connects and applies the session settings every statement relies on (UTC, ISO dates, the
  // search path). Errors: busy (the server cannot be reached or refuses connections: retryable,
  // answered 503) with libpq's reason and the redacted URL.
  static Result<std::unique_ptr<Conn>> open(const ConnConfig& config);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs SQL without parameters through the simple protocol (may hold several statements).
  Result<PgResult> exec(const std::string& sql);
  // Runs a statement prepared once per connection (cached by its text): a hot statement is only
  // bound and executed. Errors carry the server's message; last_error() has the details.
  Result<PgResult> run(const std::string& sql, const Params& params);
  // Runs a statement once without preparing it (one-off SQL: DDL, catalog, diagnosis).
  Result<PgResult> run_once(const std::string& sql, const Params& params);
  // Streams the rows of a cached statement one at a time (single-row mode): for results that
  // may be large. cb returns false to stop (the rest is read and dropped).
  Result<void> stream(const std::string& sql, const Params& params,
                      const std::function<bool(const PgResult& row)>& cb);
  // Prepares sql unnamed and describes it (parameter and result types): checking user SQL.
  Result<PgResult> describe(const std::string& sql);
  // Runs several statements in one round trip (libpq's pipeline mode) and returns every result;
  // the first failure ends the batch (later statements are skipped by the server) and, when
  // failed_at is given, sets it to that statement's index. Keep batches to about a hundred small
  // statements: results are read only once all are sent.
  Result<std::vector<PgResult>> pipeline(const std::vector<std::pair<std::string, Params>>& statements,
                                         size_t* failed_at = nullptr);

  const PgError& last_error() const { return last_; }
  // The connection cannot be used again (lost, or left mid-protocol).
  bool broken() const;
  // An idle connection that the server closed meanwhile (a restart): anything readable on an
  // idle socket means the server hung up.
  bool stale() const;
  PGconn* raw() const { return c_; }
  int socket() const;

 private:
  explicit Conn(PGconn* c) : c_(c) {}
  Result<const std::string*> prepared(const std::string& sql, const Params& params);
  Error fail(PGresult* r, std::string_view what);
  Result<PgResult> finish(PGresult* r, std::string_view what);
  void drain();

  PGconn* c_;
  bool broken_ = false;
  PgError last_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  int next_name_ = 0;
};

// The Error for a failed statement: connection failures (SQLSTATE class 08, 57P0x, 53300) are
// busy (retryable, 503); serialization failures and deadlocks are conflict; the rest is the
// server's message as invalid_argument (class 22, 42) or internal.
Error map_error(const PgError& e, std::string_view what = {});
bool is_connection_error(const PgError& e);

// The per-process pool: at most `size` connections; a caller waits up to `timeout_ms` for one,
// then fails with busy ("... all N connections are in use"), answered 503 STORE_UNAVAILABLE. A
// thread already holding a connection may open one more past the limit (a store call from a
// row callback would otherwise wait for itself). Broken or stale connections are dropped and
// replaced on the next acquire, so a restarted server is reconnected to without help.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Conn& operator*() const { return *c_; }
    Conn* operator->() const { return c_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> c_;
  };

  Pool(ConnConfig config, int size, int timeout_ms)
      : config_(std::move(config)), size_(size), timeout_ms_(timeout_ms) {}
  ~Pool();
  Result<Lease> acquire();
  const ConnConfig& config() const { return config_; }
  int size() const { return size_; }
  int timeout_ms() const { return timeout_ms_; }
  // Connections open now (idle and leased) and callers waiting: for /metrics.
  int open_count() const;
  int waiting() const { return waiting_.load(); }
  int64_t timeouts() const { return timeouts_.load(); }
  // Connections of any pool the calling thread holds now.
  static int held_by_this_thread();

 private:
  void release(std::unique_ptr<Conn> c);
  ConnConfig config_;
  int size_;
  int timeout_ms_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;
  std::atomic<int> waiting_{0};
  std::atomic<int64_t> timeouts_{0};
};

using Lease = Pool::Lease;

}  // namespace pxt::pg
