#pragma once
// The SQLite implementation of Store (internal to src/store/). The on-disk catalog is described in
// doc/catalog.md. Each user table is a STRICT SQLite table named by its canonical dotted path.
//
// Concurrency: each thread uses its own connection (ConnPool + a thread-local slot); writers are
// serialised in-process by writer_mu_ before BEGIN IMMEDIATE, so threads never meet SQLITE_BUSY
// from each other; other processes are waited for up to busy_timeout_ms. WAL checkpoints run on a
// background thread. The in-memory catalog is an immutable snapshot replaced when the database's
// schema cookie (or the catalog generation counter) moves.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "store/functions/context.hpp"
#include "store/index/graph_cache.hpp"
#include "store/index/similarity_sql.hpp"
#include "store/index/vector_index.hpp"
#include "store/sqlite/db.hpp"
#include "store/store.hpp"
#include "store/write_check.hpp"

namespace pxt::sqlite {

inline constexpr int kFormatVersion = 1;
// Background checkpoints and WAL restarts (store/sqlite/checkpoint.cpp). Sizes in 4 KB frames.
inline constexpr int kCheckpointPages = 1000;   // WAL size that triggers a background checkpoint
inline constexpr int kCheckpointPauseMs = 50;   // minimum time between two checkpoints
inline constexpr int kWalRestartPages = 16384;  // 64 MB of WAL: restart it once a final pass is short
inline constexpr int kWalForcePages = 32768;    // 128 MB: restart it even if the final pass is long
inline constexpr int kWalFinalFrames = 64;      // backlog small enough to finish while writers wait
inline constexpr int kWalCatchUpPasses = 16;    // unlocked passes per attempt to get there
inline constexpr int kWalLongHoldMs = 100;      // a restart holding writes this long is logged

struct TableInfo {
  TableDef def;
  std::vector<int> order;  // computed columns in dependency order
  std::string qname;       // quoted SQLite table name
};

struct Catalog {
  std::map<std::string, std::shared_ptr<const TableInfo>> tables;  // by canonical path
  std::set<std::string> dirs;                                      // every directory but the root
  int64_t schema_version = -1;
  int64_t generation = -1;
  std::vector<std::string> table_paths() const;
  std::vector<std::string> dir_paths() const;
};

class ConnPool;

// A connection for the current thread's use until destroyed: the thread's own connection, or a
// spare one when that is already in use further up the stack (e.g. a store call in a callback).
class Lease {
 public:
  // c is claimed (Conn::try_claim) by this thread; spare_pool: the pool it goes back to, or
  // nullptr for the thread's own connection.
  Lease(Conn* c, ConnPool* spare_pool) : c_(c), pool_(spare_pool) {}
  Lease(Lease&& o) noexcept : c_(o.c_), pool_(o.pool_) { o.c_ = nullptr; }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  Conn& operator*() const { return *c_; }
  Conn* operator->() const { return c_; }

 private:
  Conn* c_;
  ConnPool* pool_;
};

// Holds the in-process writer lock and an IMMEDIATE transaction; rolls back unless committed.
// Both locks are waited for at most the connection's busy timeout.
class WriteTxn {
 public:
  WriteTxn(std::timed_mutex& writer_mu, Conn& c) : mu_(writer_mu), c_(c) {}
  ~WriteTxn();
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  // Error: busy when another thread or process holds the lock past the busy timeout; invalid_argument when
  // this thread is already inside a write (a store write from a RowSource would deadlock).
  Result<void> begin();
  Result<void> commit();
  // SQLite already ended the transaction (it rolled back by itself): nothing left to undo.
  void abandon() { active_ = false; }

 private:
  std::timed_mutex& mu_;
  Conn& c_;
  std::unique_lock<std::timed_mutex> lock_;
  bool active_ = false;
};

// True when this thread holds `mu` through a WriteTxn (a nested write would deadlock).
bool holds_writer_lock(const std::timed_mutex& mu);
// busy: this process's other writes held the store longer than timeout_ms.
Error write_wait_error(int timeout_ms);
Error nested_write_error();

// A read transaction so that the staleness check and the read see the same snapshot.
class ReadTxn {
 public:
  explicit ReadTxn(Conn& c) : c_(c) {}
  ~ReadTxn();
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  Result<void> begin();

 private:
  Conn& c_;
  bool active_ = false;
};

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> create(const StoreOptions& options);
  ~SqliteStore() override;

  std::string home() const override { return home_; }
  std::string media_dir() const override { return media_dir_; }
  std::string backend() const override { return "sqlite"; }
  std::string location() const override { return home_; }

  Result<void> create_dir(std::string_view path, IfExists if_exists) override;
  Result<TableDef> create_table(TableDef def, IfExists if_exists) override;
  Result<TableDef> get_table(std::string_view path) override;
  Result<std::vector<CatalogEntry>> list(std::string_view dir, bool recursive) override;
  Result<void> drop_table(std::string_view path, bool force) override;
  Result<void> drop_dir(std::string_view path, bool force) override;
  Result<void> move(std::string_view from, std::string_view to) override;

  Result<std::vector<Row>> insert(const TableDef& t, const std::vector<std::string>& columns,
                                  const std::vector<Row>& rows, const RowCheck& check = nullptr) override;
  Result<int64_t> insert_stream(const TableDef& t, const std::vector<std::string>& columns,
                                const RowSource& next) override;
  Result<std::vector<Row>> update(const TableDef& t, const Filter& filter,
                                  const std::vector<std::pair<std::string, Value>>& set,
                                  const RowCheck& check = nullptr) override;
  Result<int64_t> remove(const TableDef& t, const Filter& filter) override;
  Result<int64_t> count(const TableDef& t, const Filter& filter) override;
  Result<void> select(const TableDef& t, const SelectSpec& spec, const RowCallback& cb) override;
  Result<Row> compute(const TableDef& t, const std::vector<std::string>& columns, const Row& inputs) override;
  // Only the media columns, straight from the statement (no Row, no Value per cell).
  Result<void> media_names(const std::function<void(std::string_view)>& cb) override;

  Result<std::vector<ResultColumn>> describe_query(const QueryDef& q) override;
  Result<void> run_query(const QueryDef& q, const std::vector<Value>& params, const RowCallback& cb) override;

  Result<void> job_create(const JobRecord& job) override;
  Result<bool> job_start(std::string_view id, std::string_view runner) override;
  Result<bool> job_finish(const JobRecord& job) override;
  Result<std::optional<JobRecord>> job_get(std::string_view id) override;
  Result<std::vector<JobRecord>> jobs_unfinished() override;
  Result<int64_t> jobs_expire(int64_t finished_before_ms) override;

  Result<IndexDef> create_index(std::string_view table, IndexDef index, IfExists if_exists) override;
  Result<void> drop_index(std::string_view table, std::string_view name, bool ignore_missing) override;
  Result<IndexStatus> index_status(std::string_view table, std::string_view name) override;
  Result<void> jobs_scan(const std::function<bool(const JobRecord&)>& cb) override;
  Result<void> import_copy(const StoreCopy& copy) override;

  Result<void> ping() override;
  Result<std::string> get_setting(std::string_view key) override;
  Result<void> set_setting(std::string_view key, std::string_view value) override;
  int64_t writes_queued() override;
  void release_idle_memory() override;

 private:
  // ---- embedding indexes (indexes.cpp, index_runtime.cpp, similarity.cpp) ----
  Result<void> init_index_catalog(Conn& c);
  // Computes ahead the embeddings of every row of def for idx (batched), into created's memo.
  Result<void> embed_existing_rows(CreatedFiles& created, const TableDef& def, const IndexDef& idx);
  // Drops the graph of a dropped index and its files.
  void forget_index(int64_t id) { graphs_->forget(id); }
  // The graph of idx, caught up with c's snapshot (loaded from disk or rebuilt the first time).
  Result<std::shared_ptr<VectorIndex>> synced_index(Conn& c, const IndexDef& idx);
  // The embedding of a query text with idx's expression (cached per index).
  Result<std::string> query_embedding(Conn& c, const TableDef& def, const IndexDef& idx,
                                      const std::string& text);
  // run_query for SQL that calls similarity() on indexed columns.
  Result<void> run_similarity(Conn& c, const Catalog& cat, const QueryDef& q, const SimilarityPlan& plan,
                              const std::vector<Value>& params, const RowCallback& cb);
  std::unique_ptr<GraphCache> graphs_;  // the home's indexes/ folder

  SqliteStore() = default;
  Result<Lease> conn();
  // The catalog as of c's current transaction; reloads when the schema cookie (and, with
  // check_generation, the catalog generation) differs from the cached snapshot's.
  Result<std::shared_ptr<const Catalog>> catalog(Conn& c, bool check_generation);
  Result<std::shared_ptr<const Catalog>> reload(Conn& c, int64_t schema_version);
  // The current definition of t; schema_changed when t is stale.
  Result<std::shared_ptr<const TableInfo>> fresh(Conn& c, const TableDef& t);
  // fresh() in a read transaction of its own, ended before this returns: what a write computes
  // ahead runs after it, outside any transaction (checkpoint.cpp says why).
  Result<std::shared_ptr<const TableInfo>> current(Conn& c, const TableDef& t);
  Result<void> bump_generation(Conn& c);
  // The embedding indexes of the table at path in the catalog as last loaded (no store access).
  std::vector<IndexDef> indexes_of(const std::string& path);
  // Evaluates every column of info's table for one input row, on c outside any transaction
  // (compute() and the computing-ahead of slow functions, store/functions/context.hpp). The caller
  // puts a CreatedFilesScope around it for the files image functions create. with_indexes: also
  // the embeddings of the table's indexes (a write computing ahead).
  Result<Row> evaluate(Conn& c, const TableInfo& info, const std::vector<int>& idx, const Row& inputs,
                       bool with_indexes = false);
  // Computes ahead the slow calls of inserting `rows` (stops at the first failing row; its
  // failure is remembered by the call itself); with batch, embed() calls are first collected
  // and made in batches.
  void insert_ahead(CreatedFiles& created, const TableDef& t, const std::vector<int>& idx,
                    const std::vector<Row>& rows, bool batch);
  // Computes ahead (store/functions/context.hpp) the calls an update of the rows matching filter to
  // `values` of columns idx would make in the columns it recomputes: the rows are read in a short
  // read transaction, the calls made after it ended. Failures are remembered by the calls
  // themselves, so this only returns errors to skip.
  Result<void> update_ahead(CreatedFiles& created, const TableDef& t, const std::vector<int>& idx,
                            const Row& values, const Filter& filter);
  Result<void> init_catalog(Conn& c);
  // Rewrites the Timestamp values of a home written before they were stored as instants
  // (doc/timestamps.md), once: naive values are read in the home's time zone.
  Result<void> normalize_timestamps(Conn& c);
  // Creates pxt$jobs in a home made before jobs existed (store/sqlite/jobs.cpp).
  Result<void> init_jobs_table(Conn& c);
  // Inserts copied jobs as they are, inside the caller's write transaction (store/sqlite/jobs.cpp).
  Result<void> import_jobs(Conn& c, const std::vector<JobRecord>& jobs);
  // Runs work(conn) in a write transaction, possibly together with other threads' concurrent
  // writes (group commit, store/sqlite/group.cpp); returns work's result or the commit's failure. A
  // failed work changes nothing. work must not call the store's write methods.
  Result<void> write_grouped(const std::function<Result<void>(Conn&)>& work);
  struct WriteJob;
  void run_batch(const std::vector<WriteJob*>& batch);
  void checkpoint_loop();
  // Brings the WAL to fully checkpointed while this process's writers are held, so that the next
  // write restarts it from its beginning; most of the work runs with writers going.
  // not_yet: the backlog stayed large and the WAL is below kWalForcePages (writers were not held);
  // blocked: a reader still needs old frames. The caller tries again later.
  enum class Restart { done, not_yet, blocked };
  Restart restart_wal(sqlite3* db);
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);

  std::string home_;
  std::string media_dir_;
  std::shared_ptr<ConnPool> pool_;
  std::timed_mutex writer_mu_;
  int write_timeout_ms_ = 5000;  // a queued write gives up (busy) after waiting this long
  std::mutex group_mu_;          // guards group_queue_, group_leader_ and every queued WriteJob
  std::vector<WriteJob*> group_queue_;
  bool group_leader_ = false;
  std::atomic<int64_t> grouped_{0};  // writes_grouped()
  std::mutex catalog_mu_;
  std::shared_ptr<const Catalog> catalog_;
  // Background WAL checkpointing.
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  std::atomic<bool> ckpt_wanted_{false};      // set by commits, cleared after a checkpoint
  std::atomic<int> wal_frames_{0};            // frames in the WAL after the last commit here
  int wal_restart_pages_ = kWalRestartPages;  // StoreOptions::wal_restart_bytes in frames
  int wal_force_pages_ = kWalForcePages;      // twice that
  int ckpt_pages_ = kCheckpointPages;         // at most a quarter of wal_restart_pages_
  bool ckpt_stop_ = false;
  std::thread ckpt_thread_;
};

// Helpers shared by the SQLite store's source files (those every backend shares are in
// store/write_check.hpp).
// Binds v for a column of type t (an Int bound to a Float column becomes a double).
int bind_typed(sqlite3_stmt* s, int i, ColumnType t, const Value& v);
// Reads every result column of s into row using def's column types (table order).
void read_row(sqlite3_stmt* s, const TableDef& def, Row& row);

// The WHERE clause for a Filter, numbering its parameters from first_param. Error:
// invalid_argument for unknown columns or values of the wrong type.
struct FilterSql {
  std::string where;  // "" or " WHERE ..."
  std::vector<std::pair<ColumnType, const Value*>> binds;
};
Result<FilterSql> filter_sql(const TableDef& def, const Filter& f, int first_param);
void bind_filter(sqlite3_stmt* s, const FilterSql& f, int first_param);

// Media cleanup (store/sqlite/media.cpp).
// Appends the non-null values of `cols` in the rows matching `where` (every row when null) to out.
Result<void> collect_media(Conn& c, const TableInfo& t, const std::vector<int>& cols, const FilterSql* where,
                           int first_param, std::vector<std::string>& out);

// Catalog helpers (store/sqlite/catalog.cpp): refuses computed expressions SQLite cannot compile;
// creates table def's SQLite table and catalog rows (setting def.id and def.version) inside the
// caller's write transaction.
Result<void> probe_computed(Conn& c, const TableDef& def);
Result<void> create_table_storage(Conn& c, TableDef& def);

// Embedding indexes (indexes.cpp): an index's table of embeddings, quoted ("pxt$idx_7"); reading
// the indexes into a catalog being loaded; dropping an index's table, triggers and catalog row.
std::string index_table(int64_t id);
Result<void> load_indexes(Conn& c, Catalog& cat);
Result<void> drop_index_rows(Conn& c, const IndexDef& idx);

// Built-in SQL function names, for "did you mean" on an unknown function (pxt's own are added).
const std::vector<std::string>& known_function_names();
// Rewrites a SQLite error about user SQL ("no such column: x") into pxt's wording with "did you mean".
Error user_sql_error(const Error& e, const TableDef* def, const Catalog* cat, std::string_view what);

}  // namespace pxt::sqlite
