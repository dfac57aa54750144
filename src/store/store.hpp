#pragma once
// The store interface. One implementation per backend, each in its own folder: SQLite (the
// embedded default, store/sqlite/) and PostgreSQL (store/postgres/, for many processes on many
// machines). Store::open (store.cpp) picks the backend
// from the store URL's scheme. Nothing outside src/store/ may depend on which backend is in use; SQL
// fragments passed in (where expressions, computed columns, query SQL) use the dialect common to SQLite and
// PostgreSQL.
//
// Thread-safety: every method may be called from any thread concurrently; the SQLite backend
// gives each thread its own connection and serialises writers in-process; the PostgreSQL backend
// leases a pooled connection per call.
// Errors: methods return Result; codes follow util/result.hpp (not_found for unknown tables with
// "did you mean", schema_changed when a TableDef passed in is stale, busy when the store stayed
// locked past the busy timeout, invalid_argument for bad values or expressions). Where Pixeltable
// has a code for a failure a backend sets it (util/error_code.hpp, the error contract): a
// duplicate primary key is CONSTRAINT_VIOLATION "Duplicate primary key value: Key (id)=(1)
// already exists.", an unknown table TABLE_NOT_FOUND, a null in a required column
// MISSING_REQUIRED, a bad value TYPE_MISMATCH, a failing computed column UNSUPPORTED_OPERATION
// (keeping a function's own code, e.g. RATE_LIMITED), a lost connection STORE_UNAVAILABLE.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt {

struct StoreOptions {
  std::string home;  // folder holding pxt.db and media/ (created if missing)
  // Where the data lives: empty for the SQLite file in `home`, or a URL whose scheme names the
  // backend ("sqlite:///abs/home" is the same as home = "/abs/home";
  // "postgresql://user@host/db?pool_size=10&pool_timeout_ms=5000" a PostgreSQL database).
  std::string url;
  // The media folder; empty: `home`/media. A PostgreSQL store shared by several machines needs a
  // folder every process reaches (PXT_MEDIA_DIR, a shared mount).
  std::string media_dir;
  std::string durability = "normal";  // "normal": survives a process crash; "full": power loss
  // How long a write waits for the store's lock (held by this process's other writers or by
  // another process) before it fails with Errc::busy. PostgreSQL: its lock_timeout (a write
  // waiting that long for a row or table lock another session holds fails with busy).
  int busy_timeout_ms = 5000;
  // SQLite: the WAL size (bytes) past which the checkpointer restarts it; it forces a restart at
  // twice this (store/sqlite/checkpoint.cpp). 0: 64 MB. Tests set a small value to reach the
  // bound with little traffic.
  int64_t wal_restart_bytes = 0;
  // Shared stores: how long this process's lease lasts without renewal (it renews three times
  // per lease while the store is open); past it, other processes take it for dead.
  int lease_ms = 15000;
};

enum class IfExists { error, ignore, replace };

struct CatalogEntry {
  enum class Kind { Dir, Table } kind;
  std::string path;  // canonical
};

// Rows to act on: the AND of column equalities and an optional SQL expression (`--where`).
struct Filter {
  std::vector<std::pair<std::string, Value>> equals;
  std::string where_sql;
};

struct SelectSpec {
  Filter filter;
  std::vector<std::string> columns;  // empty: all, in table order
  std::string order_by;              // SQL ORDER BY body, e.g. "id DESC"; empty: insertion order
  int64_t limit = -1;                // -1: no limit
};

// A background job as kept in pxt$jobs / pxt.jobs (doc/catalog.md).
struct JobRecord {
  std::string id;           // 22 URL-safe characters (128 random bits)
  std::string route;        // "POST /v1/generate"
  std::string status;       // pending | running | done | error
  std::string result;       // done: the body the route answered (JSON text)
  std::string error;        // error: the message the route put in `detail`
  std::string owner;        // the process that queued it (see serve/jobs/jobs.hpp)
  int64_t created_ms = 0;   // Unix time in milliseconds
  int64_t finished_ms = 0;  // 0 until done or error
  // A shared store (shared()) keeps what any process needs to run the job: the request as the
  // serving layer encoded it, and the media files adopted for it (in no row yet: the orphan
  // sweep keeps them while the job is unfinished). Empty on other stores.
  std::string payload;
  std::vector<std::string> media;
  std::string runner;     // the process running it (job_start, job_claim); "" while pending
  bool announce = false;  // job_create: wake other processes' idle workers (shared stores)
};

// A caller's condition on each row a write stores, checked inside the write's transaction before
// it commits: an error fails the write with that error (nothing stored, files its functions made
// removed). A file-response route refuses a row whose file output is null this way, rather than
// answering 5xx for a row already committed. Called on the writing thread; must not call the store.
using RowCheck = std::function<Result<void>(const Row&)>;

// Called once per result row; return false to stop early.
using RowCallback = std::function<bool(const Row&)>;
// Fills the next input row; returns false when there are no more rows.
using RowSource = std::function<Result<bool>(Row&)>;

// The settings a store keeps (Store::get_setting) and the check of a value for one of them.
// Error: invalid_argument naming the key (with "did you mean") or the bad value.
const std::vector<std::string>& setting_keys();
Result<void> check_setting(std::string_view key, std::string_view value);
// What `pxt store copy` moves from one store into another (Store::import_copy).
struct StoreCopy {
  std::vector<std::string> dirs;  // every directory, each after its parent
  std::vector<TableDef> tables;   // as the source has them (the target gives its own ids)
  // Streams table t's rows (every column in table order, computed values as stored) to cb; an
  // error ends the copy.
  std::function<Result<void>(const TableDef& t, const std::function<Result<void>(const Row&)>& cb)> rows;
  std::vector<JobRecord> jobs;  // every job, finished or not, with its payload and media
  // Told about each table's progress: its path, the rows copied so far and whether it is done.
  std::function<void(const std::string& table, int64_t rows, bool done)> progress;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if needed) the store options.url names, else the SQLite store at
  // options.home. Fails with a clear message for an unknown URL scheme (naming the known ones), a
  // home written by a newer format version, or one that cannot be created.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

  virtual std::string home() const = 0;
  virtual std::string media_dir() const = 0;
  // The backend's name: "sqlite" or "postgresql".
  virtual std::string backend() const = 0;
  // Where the data lives, for messages: the home folder, or the URL without its password.
  virtual std::string location() const = 0;

  // ---- catalog (paths may be dotted or slashed) ----
  virtual Result<void> create_dir(std::string_view path, IfExists if_exists) = 0;
  // Validates names, types, the primary key and computed expressions (unknown columns with
  // "did you mean", cycles, type inference), fills depends_on, creates the table and returns
  // the stored definition. With IfExists::replace an existing table is dropped first; with
  // ignore an existing table is returned unchanged.
  virtual Result<TableDef> create_table(TableDef def, IfExists if_exists) = 0;
  virtual Result<TableDef> get_table(std::string_view path) = 0;
  virtual Result<std::vector<CatalogEntry>> list(std::string_view dir, bool recursive) = 0;
  virtual Result<void> drop_table(std::string_view path, bool force) = 0;
  virtual Result<void> drop_dir(std::string_view path, bool force) = 0;
  virtual Result<void> move(std::string_view from, std::string_view to) = 0;

  // ---- data: `t` is the definition the caller resolved; stale -> schema_changed ----
  // Inserts rows given for `columns` (non-computed), evaluates computed columns in dependency
  // order and returns the stored rows (every column, table order). All or nothing: `check`, when
  // set, sees each stored row before the commit and can fail the whole write.
  virtual Result<std::vector<Row>> insert(const TableDef& t, const std::vector<std::string>& columns,
                                          const std::vector<Row>& rows, const RowCheck& check = nullptr) = 0;
  // Bulk load from a source in one transaction (all or nothing); returns the row count.
  virtual Result<int64_t> insert_stream(const TableDef& t, const std::vector<std::string>& columns,
                                        const RowSource& next) = 0;
  // Sets `set` on matching rows, recomputes exactly the computed columns whose inputs changed,
  // returns the updated rows (every column). No match: an empty vector (not an error). `check` as
  // for insert: it sees each updated row before the commit.
  virtual Result<std::vector<Row>> update(const TableDef& t, const Filter& filter,
                                          const std::vector<std::pair<std::string, Value>>& set,
                                          const RowCheck& check = nullptr) = 0;
  virtual Result<int64_t> remove(const TableDef& t, const Filter& filter) = 0;
  virtual Result<int64_t> count(const TableDef& t, const Filter& filter) = 0;
  // Streams rows (selected columns, or every column) to cb.
  virtual Result<void> select(const TableDef& t, const SelectSpec& spec, const RowCallback& cb) = 0;
  // Calls cb with every non-null media value (a relative file name) of every table, read in one
  // snapshot (the orphan sweep, store/media/sweep.hpp); a name repeats when rows share a file. The
  // default reads each table through select(); a backend may stream just the media columns.
  virtual Result<void> media_names(const std::function<void(std::string_view)>& cb);
  // Evaluates the computed columns for one input row without storing anything (compute routes).
  virtual Result<Row> compute(const TableDef& t, const std::vector<std::string>& columns,
                              const Row& inputs) = 0;

  // ---- embedding indexes (IndexDef, store/model/schema.hpp) ----
  // Adds an embedding index on a column of `table`: checks the column, the expression (it must
  // read the column and give a Vector) and the metric, embeds every existing row (the model calls
  // run before the write takes the writer lock, in batches), and returns the stored definition.
  // An index of that name that exists: IfExists::error fails (already_exists), ignore returns it
  // when it matches (invalid_argument naming the difference otherwise), replace rebuilds it.
  // The default refuses (unsupported): a backend without embedding indexes.
  virtual Result<IndexDef> create_index(std::string_view table, IndexDef index, IfExists if_exists);
  // Drops the index `name` of `table` (not_found with "did you mean"; ignore_missing: no error).
  virtual Result<void> drop_index(std::string_view table, std::string_view name, bool ignore_missing);
  // How an index stands: vectors indexed, memory of its graph, seconds the last (re)build took
  // (for `pxt describe` and the benchmarks). Brings the graph up to date first.
  struct IndexStatus {
    int64_t vectors = 0;
    int64_t dimension = 0;
    size_t memory_bytes = 0;
    double build_seconds = 0;
    bool loaded_from_disk = false;
  };
  virtual Result<IndexStatus> index_status(std::string_view table, std::string_view name);

  // ---- named queries ----
  // Checks the query (tables exist, read-only, parameters match) and describes its result.
  // similarity(COLUMN, :param) on a column with an embedding index compares the column's
  // embeddings with the parameter's (embedded once per run with the index's expression); with
  // ORDER BY it DESC (ASC for an l2 index) LIMIT k over that one table, the index answers.
  virtual Result<std::vector<ResultColumn>> describe_query(const QueryDef& q) = 0;
  // Runs the query with params aligned to q.params (defaults already applied by the caller).
  virtual Result<void> run_query(const QueryDef& q, const std::vector<Value>& params,
                                 const RowCallback& cb) = 0;

  // ---- background jobs (pxt$jobs) ----
  // Stores a new job as given (status pending). Error: already_exists for a duplicate id.
  virtual Result<void> job_create(const JobRecord& job) = 0;
  // pending -> running by `runner`; false (not an error) when the job is no longer pending (e.g.
  // marked interrupted meanwhile, or claimed by another process), so a job is never run twice.
  virtual Result<bool> job_start(std::string_view id, std::string_view runner) = 0;
  // pending|running -> done|error with the result or error text; false when the job was already
  // finished (an interrupted job stays interrupted).
  virtual Result<bool> job_finish(const JobRecord& job) = 0;
  // The job, or nullopt for an unknown id.
  virtual Result<std::optional<JobRecord>> job_get(std::string_view id) = 0;
  // Every job still pending or running (id, owner, status, created_ms).
  virtual Result<std::vector<JobRecord>> jobs_unfinished() = 0;
  // Removes finished jobs that finished before the time given; returns how many.
  virtual Result<int64_t> jobs_expire(int64_t finished_before_ms) = 0;

  // ---- jobs shared by processes on several machines (shared() stores; no-ops elsewhere) ----
  // Whether processes on other machines may share this store: jobs then carry their payload,
  // any process claims pending ones, and a runner's liveness is a lease in the store, not /proc.
  virtual bool shared() const { return false; }
  // Claims the oldest pending job of one of `routes` for `runner` (pending -> running) and
  // returns it with its payload; nullopt when there is none. Two processes never claim one job.
  virtual Result<std::optional<JobRecord>> job_claim(const std::vector<std::string>& routes,
                                                     std::string_view runner);
  // Every process holding a live lease on the store ("host:pid:start-ticks", util/process.hpp),
  // this one included: a shared store registers each process that opens it and renews its lease
  // (StoreOptions::lease_ms, by the store's clock: one clock for every machine) until it closes.
  virtual Result<std::vector<std::string>> live_processes();
  // Marks every running job whose runner holds no live lease (it died, or froze past its lease)
  // error with `message`; returns how many. Its pending jobs stay for others to claim. Runners
  // in `dead` (known dead: processes of this machine that no longer exist) count as expired at
  // once, and their leases end.
  virtual Result<int64_t> jobs_interrupt_expired(std::string_view message, int64_t finished_ms,
                                                 const std::vector<std::string>& dead = {});
  // Calls cb (from a thread of the store) when another process announced a job; never for
  // stores that are not shared. Set once, before jobs are queued; cb must be cheap.
  virtual void on_job_announced(std::function<void()> cb);

  // ---- shared rate limits ([service] rate_limit_shared) ----
  struct RateGrant {
    int64_t taken = 0;  // tokens taken (0..want)
    double wait_s = 0;  // when none: seconds until one is available
  };
  // Takes up to `want` tokens from the token bucket `key`, which holds at most `burst` tokens and
  // refills at `per_second` by the store's clock, and which every process of a shared store
  // shares. Error: unsupported on a store that is not shared; busy/io when the store cannot
  // answer. Thread-safe.
  virtual Result<RateGrant> rate_take(std::string_view key, double burst, double per_second, int64_t want);

  // Every job (finished or not), with its payload and media, to cb (false stops).
  virtual Result<void> jobs_scan(const std::function<bool(const JobRecord&)>& cb) = 0;

  // ---- copying a whole store (`pxt store copy`) ----
  // Loads `copy` into this store, which must be empty (no directory, table or job), in one
  // transaction: all or nothing. Rows keep their computed values as stored (nothing is
  // recomputed); each computed expression must compile in this backend's SQL dialect. Errors:
  // invalid_argument for a store that is not empty or an expression this backend cannot run
  // (naming the table and column), the backend's own otherwise.
  virtual Result<void> import_copy(const StoreCopy& copy) = 0;

  // Cheap liveness check for /healthz.
  virtual Result<void> ping() = 0;
  // Writes of this process waiting for their turn (SQLite: queued for the group commit's leader),
  // a gauge for /metrics; 0 for a backend that does not queue. Thread-safe, never fails.
  virtual int64_t writes_queued() { return 0; }
  // Writes this process committed together with others' in one transaction (group commit) since
  // it opened the store: a counter for /metrics. Thread-safe, never fails.
  virtual int64_t writes_grouped() { return 0; }
  // Gives back memory the store keeps for speed that an idle process does not need (SQLite: the
  // page caches of connections no thread is using; one in use is skipped). Called when the
  // server has been quiet for a while, so its RSS returns near its idle figure after a load.
  // Thread-safe, never fails; does nothing for a backend that keeps no such caches.
  virtual void release_idle_memory() {}

  // ---- settings kept with the data, shared by every process using the store ----
  // Keys: "time_zone" (the zone of naive Timestamps and of answers, doc/timestamps.md).
  // The value of a setting; "" when unset. Error: invalid_argument for an unknown key.
  virtual Result<std::string> get_setting(std::string_view key);
  // Sets a setting ("" clears it). Error: invalid_argument for an unknown key or a bad value
  // (check_setting); unsupported for a backend that keeps no settings (the default).
  virtual Result<void> set_setting(std::string_view key, std::string_view value);
};

}  // namespace pxt
