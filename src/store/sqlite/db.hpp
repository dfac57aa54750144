#pragma once
// Thin RAII layer over the sqlite3 C API for the SQLite store: one Conn per thread with a cache of
// prepared statements, value binding and reading, and the mapping of SQLite failures to Error.
// A Conn is used by one thread at a time (it is opened with SQLITE_OPEN_NOMUTEX).
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/model/types.hpp"

namespace pxt::sqlite {

struct ConnSettings {
  std::string file;
  std::string media_dir;  // the home's media/ folder, handed to media functions (FunctionContext)
  bool synchronous_full = false;
  int busy_timeout_ms = 5000;
  // Called after each commit with the WAL size in pages; replaces SQLite's automatic checkpoint
  // (the store checkpoints from a background thread instead). Null: no hook.
  int (*wal_hook)(void* arg, sqlite3* db, const char* schema, int pages) = nullptr;
  void* wal_hook_arg = nullptr;
};

// Resets a statement when a use of it ends, so cached statements never stay mid-step. Bindings
// are left in place: every use binds all of a statement's parameters before stepping.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    if (s_) sqlite3_reset(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

// An owned, uncached statement (one-off SQL such as catalog DDL or error diagnosis).
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using OwnedStmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

class Conn {
 public:
  // Opens the database file and applies per-connection settings (busy timeout, synchronous,
  // mmap, no automatic checkpoints, pxt's SQL functions). Error: io with SQLite's message.
  static Result<std::unique_ptr<Conn>> open(const ConnSettings& settings);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  sqlite3* db() const { return db_; }
  // A cached prepared statement for sql; error: invalid_argument with SQLite's message (callers
  // rewrite it for the user), also when SQL follows the first statement. Bounded: the cache is
  // cleared when it grows past a limit. `restricted`: prepared with pxt's catalog tables hidden
  // (user query SQL); such statements are cached apart from internal ones.
  Result<sqlite3_stmt*> cached(const std::string& sql, bool restricted = false);
  // Like cached(), looked up by a short key instead of the SQL, which make_sql() builds only on a
  // miss: saves building long SQL strings on hot paths. The key must determine the SQL.
  template <class MakeSql>
  Result<sqlite3_stmt*> cached_as(const std::string& key, const MakeSql& make_sql) {
    auto it = keyed_.find(key);
    if (it != keyed_.end()) return it->second;
    auto s = cached(make_sql());
    if (s.ok()) keyed_.emplace(key, *s);
    return s;
  }
  // Prepares one statement that is not cached; refuses trailing SQL after the first statement.
  Result<OwnedStmt> prepare(std::string_view sql, bool restricted = false);
  // Runs SQL without results (may hold several statements). Error: mapped with map_error.
  Result<void> exec(const char* sql);
  // Steps a statement returning a single integer (PRAGMA schema_version, count(*), ...).
  Result<int64_t> scalar_int(const std::string& sql);

  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // One thread uses a connection at a time (it is opened NOMUTEX): the one that claimed it.
  // try_claim is false while another holds it. Thread-safe.
  bool try_claim() { return !claimed_.exchange(true, std::memory_order_acquire); }
  void unclaim() { claimed_.store(false, std::memory_order_release); }
  // Frees the page cache's unused pages (sqlite3_db_release_memory). Only by its claimer.
  void release_memory() { sqlite3_db_release_memory(db_); }
  int busy_timeout_ms() const { return busy_timeout_ms_; }

 private:
  Conn() = default;
  static int authorize(void* self, int action, const char* a, const char* b, const char* db,
                       const char* trigger);
  sqlite3* db_ = nullptr;
  int busy_timeout_ms_ = 0;
  std::atomic<bool> claimed_{false};
  bool restricted_ = false;  // read by the authorizer: deny pxt's catalog tables while set
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  std::unordered_map<std::string, sqlite3_stmt*> keyed_;  // key -> a statement owned by cache_
};

// An Error for a failed SQLite call: busy -> Errc::busy; constraint and misuse by input ->
// invalid_argument; a full disk -> no_space; other I/O -> io; everything else internal. A pxt
// function (resize(), ...) that failed with a server-side fault or a Pixeltable code keeps its
// Error's code, retry_after and provider (see function_fault). `what` prefixes the message.
Error map_error(sqlite3* db, int rc, std::string_view what = {});
// SQLite passes a function's error on as text only. When the statement on db failed because a
// pxt function did, on this thread, with no_space, io or unsupported (a full disk is 507, not a
// bad input's 400) or with a Pixeltable error code (a model provider's RATE_LIMITED, with its
// retry_after), returns that Error (its message is the function's, "resize(): ...") and forgets
// it; else nullopt. Matched by message, so an older failure never applies to a later error.
std::optional<Error> function_fault(sqlite3* db);
Error busy_error(int timeout_ms);

// Binds v at 1-based index i (strings bound SQLITE_STATIC: v must outlive the step).
int bind_value(sqlite3_stmt* s, int i, const Value& v);
// Reads result column i into out, converting to the representation of `type` (Bool from 0/1,
// Float from an integer); nullopt keeps SQLite's own type. Reuses out's string capacity.
void read_value(sqlite3_stmt* s, int i, std::optional<ColumnType> type, Value& out);

// Name prefix of pxt's catalog tables ("pxt$tables", ...): never a valid table path.
inline constexpr std::string_view kCatalogPrefix = "pxt$";

// The declared SQL type used for a column in a STRICT table.
const char* sql_type(ColumnType t);

}  // namespace pxt::sqlite
