#pragma once
// The PostgreSQL implementation of Store (internal to src/store/postgres/). Its format (the `pxt`
// schema holding the catalog and jobs, one real table per user table) is specified in
// doc/catalog.md beside SQLite's.
//
// Concurrency: many processes on many machines share one database. Each process leases
// connections from its Pool; writes run as single statements (or short transactions) and
// PostgreSQL's row locks order them, so there is no writer lock in the process. Catalog changes
// take a transaction-scoped advisory lock, bump the catalog generation in pxt.meta and NOTIFY
// pxt_catalog; a listener connection per process hears it and marks the cached catalog stale.
// Statements on user tables carry a guard (pxt.table_current(id, version)) that fails with
// schema_changed when the table a caller resolved was changed meanwhile by anyone, so a route
// whose table changed answers 409 even before the notification arrives.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "store/functions/context.hpp"
#include "store/index/graph_cache.hpp"
#include "store/index/similarity_sql.hpp"
#include "store/postgres/conn.hpp"
#include "store/postgres/dialect.hpp"
#include "store/store.hpp"
#include "store/write_check.hpp"

namespace pxt::pg {

inline constexpr int kFormatVersion = 1;
// pg_advisory_xact_lock key serialising catalog changes ("pxt" in ASCII).
inline constexpr int64_t kCatalogLock = 0x707874;

struct TableInfo {
  TableDef def;
  std::vector<int> order;  // computed columns in dependency order
  std::string qname;       // quoted table name (in the data schema, found by search_path)
  CompiledTable compiled;  // computed expressions in PostgreSQL's dialect (dialect.hpp)
  std::string guard;       // "pxt.table_current(id, version)"
  std::string columns;     // every user column, quoted, comma-separated (RETURNING, SELECT)
  std::string returning;   // what writes return: columns, then "pxt$row" when the table has indexes
  Oid oid = 0;             // the table's pg_class oid: query results name their source by it
  bool groupable = false;  // a one-row insert may join a group commit (groupable(), write.cpp)
};

struct Catalog {
  std::map<std::string, std::shared_ptr<const TableInfo>> tables;  // by canonical path
  std::set<std::string> dirs;
  int64_t generation = -1;
  // t's definition here when it is the one t names (same id and version), else null.
  std::shared_ptr<const TableInfo> current(const TableDef& t) const;
  std::vector<std::string> table_paths() const;
  std::vector<std::string> dir_paths() const;
};

// A transaction on a leased connection; rolls back unless committed.
class Txn {
 public:
  explicit Txn(Conn& c) : c_(c) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  Result<void> begin(const char* sql = "BEGIN");
  Result<void> commit();

 private:
  Conn& c_;
  bool active_ = false;
};

class PgStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> create(const StoreOptions& options);
  ~PgStore() override;

  std::string home() const override { return home_; }
  std::string media_dir() const override { return media_dir_; }
  std::string backend() const override { return "postgresql"; }
  std::string location() const override { return redacted_; }

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
  // Settings live in pxt.meta as 'setting.KEY', shared by every process using the database.
  Result<std::string> get_setting(std::string_view key) override;
  Result<void> set_setting(std::string_view key, std::string_view value) override;
  Result<void> select(const TableDef& t, const SelectSpec& spec, const RowCallback& cb) override;
  Result<Row> compute(const TableDef& t, const std::vector<std::string>& columns, const Row& inputs) override;
  Result<void> media_names(const std::function<void(std::string_view)>& cb) override;

  Result<std::vector<ResultColumn>> describe_query(const QueryDef& q) override;
  Result<void> run_query(const QueryDef& q, const std::vector<Value>& params, const RowCallback& cb) override;

  Result<void> job_create(const JobRecord& job) override;
  Result<bool> job_start(std::string_view id, std::string_view runner) override;
  Result<bool> job_finish(const JobRecord& job) override;
  Result<std::optional<JobRecord>> job_get(std::string_view id) override;
  Result<std::vector<JobRecord>> jobs_unfinished() override;
  Result<int64_t> jobs_expire(int64_t finished_before_ms) override;
  bool shared() const override { return true; }
  Result<std::optional<JobRecord>> job_claim(const std::vector<std::string>& routes,
                                             std::string_view runner) override;
  Result<std::vector<std::string>> live_processes() override;
  Result<int64_t> jobs_interrupt_expired(std::string_view message, int64_t finished_ms,
                                         const std::vector<std::string>& dead) override;
  void on_job_announced(std::function<void()> cb) override;
  Result<RateGrant> rate_take(std::string_view key, double burst, double per_second, int64_t want) override;

  Result<void> jobs_scan(const std::function<bool(const JobRecord&)>& cb) override;
  Result<void> import_copy(const StoreCopy& copy) override;

  Result<void> ping() override;
  int64_t writes_queued() override;
  int64_t writes_grouped() override { return grouped_.load(); }

  // ---- embedding indexes and Vector columns (indexes.cpp; similarity queries in query.cpp) ----
  Result<IndexDef> create_index(std::string_view table, IndexDef index, IfExists if_exists) override;
  Result<void> drop_index(std::string_view table, std::string_view name, bool ignore_missing) override;
  Result<IndexStatus> index_status(std::string_view table, std::string_view name) override;

 private:
  // Creates pxt.indexes and pxt.columns.vector_dim in a store made before them; sets graphs_.
  Result<void> init_index_schema(Conn& c);
  // The embeddings of `values` (a column's values) with idx's expression, batched; null for a
  // null value. Errors: the function's (a provider's RATE_LIMITED keeps its code), prefixed.
  Result<std::vector<Value>> embed_values(const TableDef& def, const IndexDef& idx,
                                          const std::vector<Value>& values);
  // Stores the embeddings of the rows written (rids: their "pxt$row"; rows: every column) for
  // every index of the table whose column is among `changed` (all when empty), inside the
  // caller's transaction.
  Result<void> write_index_rows(Conn& c, const TableInfo& info, const std::vector<int64_t>& rids,
                                const std::vector<Row>& rows, const std::vector<int>& changed = {});
  // Marks deleted rows gone in every index of the table, inside the caller's transaction.
  Result<void> clear_index_rows(Conn& c, const TableInfo& info, const std::vector<int64_t>& rids);
  // The Vector values of rows against their column's dimension (the first stored decides, kept in
  // pxt.columns.vector_dim), inside the caller's transaction.
  Result<void> check_vector_dims(Conn& c, const TableInfo& info, const std::vector<Row>& rows);
  // The graph of idx, caught up with its table.
  Result<std::shared_ptr<VectorIndex>> synced_index(Conn& c, const IndexDef& idx);
  // The embedding of a query text with idx's expression (cached per index).
  Result<std::string> query_embedding(const TableDef& def, const IndexDef& idx, const std::string& text);
  // run_query for SQL that calls similarity() on indexed columns.
  Result<void> run_similarity(Conn& c, const Catalog& cat, const QueryDef& q, const SimilarityPlan& plan,
                              const std::vector<Value>& params, const RowCallback& cb);
  std::unique_ptr<GraphCache> graphs_;  // under the home: indexes/pg-<store_id>/
  std::mutex dims_mu_;
  std::map<std::pair<int64_t, std::string>, int64_t> vector_dims_;  // learned Vector dimensions

  PgStore() = default;
  Result<Lease> conn();
  Result<void> init_schema(Conn& c);
  // The catalog as the database has it now (reloaded when the generation moved): for catalog
  // operations, which must never act on a stale view.
  Result<std::shared_ptr<const Catalog>> catalog_checked(Conn& c);
  // The cached catalog unless a notification (or a lost listener) says it may be stale: for the
  // hot paths, whose statements carry the table guard anyway.
  Result<std::shared_ptr<const Catalog>> catalog_cached(Conn& c);
  Result<std::shared_ptr<const Catalog>> reload(Conn& c);
  // The current definition of t from the cached catalog; schema_changed when t is stale.
  Result<std::shared_ptr<const TableInfo>> fresh(Conn& c, const TableDef& t);
  // Runs body(conn, catalog) in a transaction holding the catalog lock, with the catalog as of
  // that transaction; bumps the generation and notifies other processes when body succeeds.
  Result<void> change_catalog(const std::function<Result<void>(Conn&, const Catalog&)>& body);
  void listen_loop();
  // This process's lease (pxt.processes): registered at open, renewed by the listener.
  Result<void> lease_renew(Conn& c);

  // Writes (write.cpp).
  // rids, when given, receives each stored row's "pxt$row" if the table has indexes.
  Result<std::vector<Row>> insert_rows(Conn& c, const TableInfo& info, const std::vector<int>& idx,
                                       const std::vector<Row>& rows, CreatedFiles& created, bool returning,
                                       int64_t first_row_number, std::vector<int64_t>* rids);
  Result<std::vector<Row>> insert_pipelined(Conn& c, const TableInfo& info, const std::vector<int>& idx,
                                            const std::vector<Row>& rows, bool returning,
                                            int64_t first_row_number, std::vector<int64_t>* rids);
  // Group commit (group.cpp): a one-row insert with nothing for pxt to compute first joins the
  // rows other threads insert at the same moment; a leader sends them in one pipeline, one
  // implicit transaction and one commit. Returns the stored row, or the row's own error (a batch
  // that fails is rerun row by row, so one row's 409 never fails another).
  struct InsertJob;
  Result<std::vector<Row>> insert_grouped(std::shared_ptr<const TableInfo> info, const std::vector<int>& idx,
                                          const Row& row, std::vector<Value> slots);
  void run_insert_batch(const std::vector<std::shared_ptr<InsertJob>>& batch);
  // The definition of t from the cached catalog when the listener vouches for it, else null
  // (the caller then asks the database through fresh()).
  std::shared_ptr<const TableInfo> fresh_cached(const TableDef& t);
  // c: for arguments the server must compute; null when groupable() said none needs it.
  Result<std::vector<Value>> resolve_calls(Conn* c, const TableInfo& info, const std::vector<Value>& base,
                                           const std::vector<int>& cols, CreatedFiles& created);

  std::string home_;
  std::string media_dir_;
  std::string redacted_;
  int lease_ms_ = 15000;
  std::unique_ptr<Pool> pool_;
  std::mutex catalog_mu_;
  std::shared_ptr<const Catalog> catalog_;
  // Set by the listener on a catalog notification, and while it has no connection (a change may
  // have been missed); cleared by a reload.
  std::atomic<bool> catalog_dirty_{true};
  std::atomic<bool> listening_{false};
  std::atomic<bool> stop_{false};
  int wake_fd_[2] = {-1, -1};  // a byte here wakes the listener to stop
  std::mutex announced_mu_;
  std::function<void()> announced_;  // on_job_announced's callback
  std::thread listener_;
  std::mutex group_mu_;  // guards group_queue_, group_leaders_ and every queued InsertJob
  std::vector<std::shared_ptr<InsertJob>> group_queue_;
  int group_leaders_ = 0;            // batches running now
  int group_max_leaders_ = 2;        // batches that may run at once (the URL's group_commit; group.cpp)
  std::atomic<int64_t> grouped_{0};  // writes_grouped()
};

// Helpers shared by the PostgreSQL store's files.
// The statement inserting one row of info (the columns idx, in that order, then the results of
// pxt's calls, from resolve_calls) with RETURNING, and its parameters; the rows a write's
// RETURNING gave; the same statement run alone on c, its rows appended to out (and their
// "pxt$row" to rids when given), a failure in pxt's words (write.cpp).
std::pair<std::string, Params> insert_statement(const TableInfo& info, const std::vector<int>& idx,
                                                const Row& row, const std::vector<Value>& slots);
std::vector<Row> returned_rows(const PgResult& r, const TableInfo& info);
Result<void> insert_one(Conn& c, const TableInfo& info, const std::vector<int>& idx, const Row& row,
                        const std::vector<Value>& slots, bool returning, std::vector<Row>& out,
                        std::vector<int64_t>* rids);
// Whether one row of info can join a group commit: no Vector column, no index, and pxt's calls
// (if any) take only the row's given values and literals (made before the row queues). Set in
// TableInfo::groupable when the catalog is loaded.
bool groupable(const TableInfo& info);
// Rewrites the server's message about user SQL into pxt's wording ("unknown column 'x', did you
// mean 'y'?"); `what` prefixes it.
Error user_sql_error(const PgError& e, const TableDef* def, const Catalog* cat, std::string_view what);
// Appends the WHERE clause of a Filter (equalities as parameters, then the where expression)
// to sql, adding parameters to params. Error: invalid_argument for unknown columns or values.
Result<void> append_filter(std::string& sql, Params& params, const TableDef& def, const Filter& f,
                           const std::string& guard);
// invalid_argument "<what>: access to pxt's internal catalog tables is not allowed" when the SQL
// names the pxt schema (or PostgreSQL's own catalogs): user SQL reads user tables only.
Result<void> check_internal_refs(std::string_view sql, std::string_view what);
// Every computed expression of def, as check_internal_refs.
Result<void> check_refs(const TableDef& def);
// Names fit PostgreSQL (63 bytes, no system column names) and no expression reads pxt's schema.
Result<void> check_table_for_postgres(const TableDef& def);
// Creates table def (its PostgreSQL table and catalog rows; sets def.id and def.version) in the
// caller's transaction, which holds the catalog lock.
Result<void> create_table_storage(Conn& c, TableDef& def);
// Embedding indexes (indexes.cpp): an index's table of embeddings (pxt."idx_7"); dropping an
// index's table, trigger function and catalog row in the caller's transaction; reading every
// index of the store by table id.
std::string index_side_table(int64_t id);
Result<void> drop_index_objects(Conn& c, int64_t id);
Result<void> load_indexes(Conn& c, std::map<int64_t, std::vector<IndexDef>>& by_table);
// Prepares each computed expression of def over typed nulls; the first that PostgreSQL refuses
// is reported in pxt's words, naming the column.
Result<void> probe_computed(Conn& c, const TableDef& def);

}  // namespace pxt::pg
