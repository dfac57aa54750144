// The SQLite store: opening the home, connections per thread, transactions, the cached catalog.
// Catalog operations live in store/sqlite/catalog.cpp, writes in store/sqlite/write.cpp (grouped commits in
// store/sqlite/group.cpp), reads in store/sqlite/read.cpp, named queries in store/sqlite/query.cpp and
// background checkpoints in store/sqlite/checkpoint.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include <rapidjson/document.h>

#include "store/expr/computed.hpp"
#include "store/functions/registry.hpp"
#include "store/media/media.hpp"
#include "store/model/iso_time.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace sqlite {

// ---- connections ----

class ConnPool {
 public:
  ConnPool(ConnSettings settings, uint64_t uid) : settings_(std::move(settings)), uid_(uid) {}
  uint64_t uid() const { return uid_; }
  // A connection for one thread, claimed for it (Conn::try_claim).
  Result<Conn*> acquire() {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      Conn* c = free_.back();
      free_.pop_back();
      (void)c->try_claim();  // free ones are unclaimed outside release_memory, which holds mu_
      return c;
    }
    PXT_TRY(auto c, Conn::open(settings_));
    (void)c->try_claim();
    all_.push_back(std::move(c));
    return all_.back().get();
  }
  // c is unclaimed by the caller.
  void release(Conn* c) {
    std::lock_guard lock(mu_);
    free_.push_back(c);
  }
  // Frees the page cache of every connection no thread is using at this moment. A thread
  // wanting its own connection meanwhile takes a spare one (SqliteStore::conn).
  void release_memory() {
    std::lock_guard lock(mu_);
    for (auto& c : all_) {
      if (!c->try_claim()) continue;
      c->release_memory();
      c->unclaim();
    }
  }

 private:
  ConnSettings settings_;
  uint64_t uid_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> all_;
  std::vector<Conn*> free_;
};

namespace {

std::atomic<uint64_t> next_pool_uid{1};

struct Slot {
  std::weak_ptr<ConnPool> pool;
  Conn* conn = nullptr;  // unclaimed while the thread is not using it
};

// This thread's connection per open store (keyed by pool uid, never reused). On thread exit the
// connections go back to their pools so short-lived threads do not leak them.
struct ThreadSlots {
  std::unordered_map<uint64_t, Slot> slots;
  ~ThreadSlots() {
    for (auto& [uid, s] : slots) {
      if (auto p = s.pool.lock()) p->release(s.conn);  // unclaimed: no lease outlives its thread
    }
  }
};
thread_local ThreadSlots tls_slots;
thread_local std::vector<const std::timed_mutex*> tls_writers;

}  // namespace

Lease::~Lease() {
  if (!c_) return;
  c_->unclaim();
  if (pool_) pool_->release(c_);
}

Result<Lease> SqliteStore::conn() {
  auto it = tls_slots.slots.find(pool_->uid());
  if (it == tls_slots.slots.end()) {
    // Drop slots of stores closed since, then take a connection for this thread.
    std::erase_if(tls_slots.slots, [](const auto& kv) { return kv.second.pool.expired(); });
    PXT_TRY(Conn * c, pool_->acquire());
    c->unclaim();
    it = tls_slots.slots.emplace(pool_->uid(), Slot{pool_, c}).first;
  }
  // Claimed already: in use further up this thread's stack, or for a moment by release_memory.
  if (Conn* own = it->second.conn; own->try_claim()) return Lease(own, nullptr);
  PXT_TRY(Conn * spare, pool_->acquire());
  return Lease(spare, pool_.get());
}

// ---- transactions ----

WriteTxn::~WriteTxn() {
  if (active_) {
    if (auto s = c_.cached("ROLLBACK"); s.ok()) {
      StmtUse use(*s);
      sqlite3_step(*s);
    }
  }
  if (lock_.owns_lock()) std::erase(tls_writers, &mu_);
}

Error nested_write_error() {
  return make_error(Errc::invalid_argument,
                    "cannot write to the store from inside another write on this thread");
}

Error write_wait_error(int timeout_ms) {
  return make_error(Errc::busy, "the store is busy with other writes (waited " + std::to_string(timeout_ms) +
                                    " ms); try again");
}

bool holds_writer_lock(const std::timed_mutex& mu) {
  return std::find(tls_writers.begin(), tls_writers.end(), &mu) != tls_writers.end();
}

Result<void> WriteTxn::begin() {
  if (holds_writer_lock(mu_)) return nested_write_error();
  // Bounded: a long write elsewhere in this process (a bulk load, a schema change) answers busy
  // instead of holding this request forever.
  lock_ = std::unique_lock(mu_, std::defer_lock);
  if (!lock_.try_lock_for(std::chrono::milliseconds(c_.busy_timeout_ms()))) {
    return write_wait_error(c_.busy_timeout_ms());
  }
  tls_writers.push_back(&mu_);
  PXT_TRY(sqlite3_stmt * s, c_.cached("BEGIN IMMEDIATE"));
  StmtUse use(s);
  int rc = sqlite3_step(s);
  if ((rc & 0xff) == SQLITE_BUSY) return busy_error(c_.busy_timeout_ms());
  if (rc != SQLITE_DONE) return map_error(c_.db(), rc, "cannot start a write");
  active_ = true;
  return {};
}

Result<void> WriteTxn::commit() {
  PXT_TRY(sqlite3_stmt * s, c_.cached("COMMIT"));
  StmtUse use(s);
  int rc = sqlite3_step(s);
  if ((rc & 0xff) == SQLITE_BUSY) return busy_error(c_.busy_timeout_ms());
  if (rc != SQLITE_DONE) return map_error(c_.db(), rc, "cannot commit");
  active_ = false;
  return {};
}

ReadTxn::~ReadTxn() {
  if (!active_) return;
  if (auto s = c_.cached("COMMIT"); s.ok()) {
    StmtUse use(*s);
    sqlite3_step(*s);
  }
}

Result<void> ReadTxn::begin() {
  PXT_TRY(sqlite3_stmt * s, c_.cached("BEGIN"));
  StmtUse use(s);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return map_error(c_.db(), rc, "cannot start a read");
  active_ = true;
  return {};
}

// ---- opening ----

namespace {

const char* kCatalogDdl = R"sql(
CREATE TABLE "pxt$meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE "pxt$dirs" (path TEXT PRIMARY KEY) STRICT;
CREATE TABLE "pxt$tables" (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL
) STRICT;
CREATE TABLE "pxt$columns" (
  table_id INTEGER NOT NULL REFERENCES "pxt$tables"(id),
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  required INTEGER NOT NULL,
  computed TEXT NOT NULL DEFAULT '',
  depends_on TEXT NOT NULL DEFAULT '[]',
  pk_position INTEGER,
  PRIMARY KEY (table_id, position)
) STRICT;
)sql";

}  // namespace

Result<void> SqliteStore::init_catalog(Conn& c) {
  PXT_TRY(int64_t exists,
          c.scalar_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pxt$meta'"));
  if (!exists) {
    WriteTxn txn(writer_mu_, c);
    PXT_CHECK(txn.begin());
    PXT_TRY(int64_t again,
            c.scalar_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pxt$meta'"));
    if (!again) {
      PXT_CHECK(c.exec(kCatalogDdl));
      std::string init = "INSERT INTO \"pxt$meta\" VALUES ('format_version', '" +
                         std::to_string(kFormatVersion) + "'), ('generation', '1')";
      PXT_CHECK(c.exec(init.c_str()));
    }
    PXT_CHECK(txn.commit());
  }
  PXT_TRY(int64_t format,
          c.scalar_int("SELECT CAST(value AS INTEGER) FROM \"pxt$meta\" WHERE key = 'format_version'"));
  if (format > kFormatVersion) {
    return make_error(Errc::unsupported,
                      "the store in '" + home_ + "' was written by a newer pxt (catalog format " +
                          std::to_string(format) + "; this pxt reads format " +
                          std::to_string(kFormatVersion) + " and older): upgrade pxt or use another --home");
  }
  PXT_CHECK(init_jobs_table(c));
  PXT_CHECK(init_index_catalog(c));
  return normalize_timestamps(c);
}

namespace {

// pxt$meta's value for key, "" when absent.
Result<std::string> meta_value(Conn& c, std::string_view key) {
  PXT_TRY(sqlite3_stmt * s, c.cached("SELECT value FROM \"pxt$meta\" WHERE key = ?1"));
  StmtUse use(s);
  sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot read the store's settings");
  return std::string();
}

Result<void> set_meta(Conn& c, std::string_view key, std::string_view value) {
  PXT_TRY(sqlite3_stmt * s, c.cached(value.empty() ? "DELETE FROM \"pxt$meta\" WHERE key = ?1"
                                                   : "INSERT OR REPLACE INTO \"pxt$meta\" VALUES (?1, ?2)"));
  StmtUse use(s);
  sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  if (!value.empty()) sqlite3_bind_text(s, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot write the store's settings");
  return {};
}

std::string setting_key(std::string_view key) { return "setting." + std::string(key); }

// The marker of a home whose Timestamps are stored as instants (doc/timestamps.md).
constexpr std::string_view kTimestampsKey = "timestamps";
constexpr std::string_view kTimestampsInstants = "instants";

}  // namespace

Result<void> SqliteStore::normalize_timestamps(Conn& c) {
  PXT_TRY(std::string done, meta_value(c, kTimestampsKey));
  if (done == kTimestampsInstants) return {};
  WriteTxn txn(writer_mu_, c);
  PXT_CHECK(txn.begin());
  PXT_TRY(done, meta_value(c, kTimestampsKey));
  if (done == kTimestampsInstants) return {};
  PXT_TRY(std::string zone_name, meta_value(c, setting_key("time_zone")));
  PXT_TRY(TimeZone zone, TimeZone::load(zone_name));
  std::vector<std::pair<std::string, std::string>> columns;  // (table, column)
  {
    PXT_TRY(sqlite3_stmt * s, c.cached("SELECT t.path, c.name FROM \"pxt$tables\" t JOIN \"pxt$columns\" c "
                                       "ON c.table_id = t.id WHERE c.type = 'Timestamp'"));
    StmtUse use(s);
    while (sqlite3_step(s) == SQLITE_ROW) {
      columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                           reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
    }
  }
  for (const auto& [table, column] : columns) {
    std::string t = quote_ident(table), col = quote_ident(column);
    PXT_TRY(OwnedStmt read,
            c.prepare("SELECT rowid, " + col + " FROM " + t + " WHERE " + col + " IS NOT NULL"));
    PXT_TRY(OwnedStmt write, c.prepare("UPDATE " + t + " SET " + col + " = ?1 WHERE rowid = ?2"));
    int rc;
    while ((rc = sqlite3_step(read.get())) == SQLITE_ROW) {
      std::string_view old(reinterpret_cast<const char*>(sqlite3_column_text(read.get(), 1)),
                           static_cast<size_t>(sqlite3_column_bytes(read.get(), 1)));
      // A value that does not parse (none should: they were checked when written) stays as it is.
      auto stored = normalize_timestamp(old, zone);
      if (!stored || *stored == old) continue;
      sqlite3_reset(write.get());
      sqlite3_bind_text(write.get(), 1, stored->data(), static_cast<int>(stored->size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(write.get(), 2, sqlite3_column_int64(read.get(), 0));
      if (int w = sqlite3_step(write.get()); w != SQLITE_DONE) {
        return map_error(c.db(), w, "cannot store " + table + "." + column + " as instants");
      }
    }
    if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot read " + table + "." + column);
  }
  PXT_CHECK(set_meta(c, kTimestampsKey, kTimestampsInstants));
  return txn.commit();
}

Result<std::string> SqliteStore::get_setting(std::string_view key) {
  PXT_CHECK(check_setting(key, ""));
  PXT_TRY(Lease c, conn());
  return meta_value(*c, setting_key(key));
}

Result<void> SqliteStore::set_setting(std::string_view key, std::string_view value) {
  PXT_CHECK(check_setting(key, value));
  PXT_TRY(Lease c, conn());
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_CHECK(set_meta(*c, setting_key(key), value));
  return txn.commit();
}

Result<std::unique_ptr<Store>> SqliteStore::create(const StoreOptions& options) {
  if (options.home.empty()) return make_error(Errc::invalid_argument, "the store's home folder is not set");
  if (options.durability != "normal" && options.durability != "full") {
    return make_error(Errc::invalid_argument, "unknown durability '" + options.durability +
                                                  "' (expected 'normal' or 'full')" +
                                                  did_you_mean(options.durability, {"normal", "full"}));
  }
  std::error_code ec;
  std::string media_dir = options.media_dir.empty() ? options.home + "/media" : options.media_dir;
  std::filesystem::create_directories(options.home, ec);
  if (!ec) std::filesystem::create_directories(media_dir, ec);
  if (ec) {
    return make_error(Errc::io, "cannot create the store's home '" + options.home + "': " + ec.message());
  }
  media::sweep_temp(media_dir);
  std::unique_ptr<SqliteStore> s(new SqliteStore());
  s->home_ = options.home;
  s->graphs_ = std::make_unique<GraphCache>(options.home + "/indexes");
  s->media_dir_ = media_dir;
  s->write_timeout_ms_ = options.busy_timeout_ms;
  if (options.wal_restart_bytes > 0) {
    s->wal_restart_pages_ =
        static_cast<int>(std::clamp<int64_t>(options.wal_restart_bytes / 4096, 64, 1 << 24));
    s->wal_force_pages_ = 2 * s->wal_restart_pages_;
    s->ckpt_pages_ = std::min(kCheckpointPages, s->wal_restart_pages_ / 4);
  }
  ConnSettings settings;
  settings.file = options.home + "/pxt.db";
  settings.media_dir = media_dir;
  settings.synchronous_full = options.durability == "full";
  settings.busy_timeout_ms = options.busy_timeout_ms;
  settings.wal_hook = &SqliteStore::on_wal_commit;
  settings.wal_hook_arg = s.get();
  s->pool_ = std::make_shared<ConnPool>(settings, next_pool_uid++);
  {
    PXT_TRY(Lease c, s->conn());
    // WAL mode is persistent in the file; setting it again is a cheap no-op.
    if (auto wal = c->exec("PRAGMA journal_mode=WAL"); !wal.ok()) {
      return make_error(Errc::io, "cannot open the store '" + settings.file + "': " + wal.error().message);
    }
    PXT_CHECK(s->init_catalog(*c));
  }
  s->ckpt_thread_ = std::thread([p = s.get()] { p->checkpoint_loop(); });
  return std::unique_ptr<Store>(std::move(s));
}

SqliteStore::~SqliteStore() {
  if (graphs_) graphs_->save_all();
  {
    std::lock_guard lock(ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_all();
  if (ckpt_thread_.joinable()) ckpt_thread_.join();
}

// ---- catalog cache ----

std::vector<std::string> Catalog::table_paths() const {
  std::vector<std::string> out;
  for (const auto& [p, t] : tables) out.push_back(p);
  return out;
}

std::vector<std::string> Catalog::dir_paths() const { return {dirs.begin(), dirs.end()}; }

Result<std::shared_ptr<const Catalog>> SqliteStore::reload(Conn& c, int64_t schema_version) {
  auto cat = std::make_shared<Catalog>();
  cat->schema_version = schema_version;
  PXT_TRY(cat->generation,
          c.scalar_int("SELECT CAST(value AS INTEGER) FROM \"pxt$meta\" WHERE key = 'generation'"));
  {
    PXT_TRY(sqlite3_stmt * s, c.cached("SELECT path FROM \"pxt$dirs\""));
    StmtUse use(s);
    while (sqlite3_step(s) == SQLITE_ROW)
      cat->dirs.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  }
  PXT_TRY(sqlite3_stmt * s,
          c.cached(
              "SELECT t.id, t.path, t.version, c.name, c.type, c.required, c.computed, c.depends_on, "
              "c.pk_position, c.vector_dim FROM \"pxt$tables\" t JOIN \"pxt$columns\" c ON c.table_id = t.id "
              "ORDER BY t.id, c.position"));
  StmtUse use(s);
  std::shared_ptr<TableInfo> cur;
  std::vector<std::pair<int64_t, std::string>> pk;
  auto finish = [&]() -> Result<void> {
    if (!cur) return {};
    std::sort(pk.begin(), pk.end());
    for (auto& [pos, name] : pk) cur->def.primary_key.push_back(name);
    pk.clear();
    auto order = computed_order(cur->def);
    if (!order.ok()) return make_error(Errc::internal, "corrupt catalog: " + order.error().message);
    cur->order = *order;
    cat->tables[cur->def.path] = cur;
    return {};
  };
  int rc;
  auto text = [&](int i) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i))); };
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0);
    if (!cur || cur->def.id != id) {
      PXT_CHECK(finish());
      cur = std::make_shared<TableInfo>();
      cur->def.id = id;
      cur->def.path = text(1);
      cur->def.version = sqlite3_column_int64(s, 2);
      cur->qname = quote_ident(cur->def.path);
    }
    ColumnDef col;
    col.name = text(3);
    PXT_TRY(col.type, parse_column_type(text(4)));
    col.required = sqlite3_column_int(s, 5) != 0;
    col.computed = text(6);
    rapidjson::Document deps;
    deps.Parse(text(7).c_str());
    if (deps.IsArray()) {
      for (const auto& d : deps.GetArray()) {
        if (d.IsString()) col.depends_on.emplace_back(d.GetString());
      }
    }
    if (sqlite3_column_type(s, 8) != SQLITE_NULL) pk.emplace_back(sqlite3_column_int64(s, 8), col.name);
    col.vector_dim = sqlite3_column_int64(s, 9);
    cur->def.columns.push_back(std::move(col));
  }
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot read the catalog");
  PXT_CHECK(finish());
  PXT_CHECK(load_indexes(c, *cat));
  std::shared_ptr<const Catalog> out = cat;
  std::lock_guard lock(catalog_mu_);
  catalog_ = out;
  return out;
}

Result<std::shared_ptr<const Catalog>> SqliteStore::catalog(Conn& c, bool check_generation) {
  static const std::string kSchemaVersion = "PRAGMA schema_version";  // built once: hot path
  PXT_TRY(int64_t sv, c.scalar_int(kSchemaVersion));
  std::shared_ptr<const Catalog> cat;
  {
    std::lock_guard lock(catalog_mu_);
    cat = catalog_;
  }
  if (cat && cat->schema_version == sv) {
    if (!check_generation) return cat;
    PXT_TRY(int64_t gen,
            c.scalar_int("SELECT CAST(value AS INTEGER) FROM \"pxt$meta\" WHERE key = 'generation'"));
    if (gen == cat->generation) return cat;
  }
  return reload(c, sv);
}

Result<std::shared_ptr<const TableInfo>> SqliteStore::fresh(Conn& c, const TableDef& t) {
  PXT_TRY(auto cat, catalog(c, false));
  auto it = cat->tables.find(t.path);
  if (it == cat->tables.end() || it->second->def.id != t.id || it->second->def.version != t.version) {
    return stale_error();
  }
  return it->second;
}

std::vector<IndexDef> SqliteStore::indexes_of(const std::string& path) {
  std::lock_guard lock(catalog_mu_);
  if (!catalog_) return {};
  auto it = catalog_->tables.find(path);
  return it == catalog_->tables.end() ? std::vector<IndexDef>{} : it->second->def.indexes;
}

Result<std::shared_ptr<const TableInfo>> SqliteStore::current(Conn& c, const TableDef& t) {
  ReadTxn txn(c);
  PXT_CHECK(txn.begin());
  return fresh(c, t);
}

Result<void> SqliteStore::bump_generation(Conn& c) {
  return c.exec(
      "UPDATE \"pxt$meta\" SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'");
}

void SqliteStore::release_idle_memory() { pool_->release_memory(); }

Result<void> SqliteStore::ping() {
  PXT_TRY(Lease c, conn());
  PXT_TRY(int64_t sv, c->scalar_int("PRAGMA schema_version"));
  (void)sv;
  return {};
}

}  // namespace sqlite
}  // namespace pxt
