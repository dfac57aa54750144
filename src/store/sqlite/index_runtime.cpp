// The HNSW graphs of the SQLite store's embedding indexes: loaded from the home's indexes/ folder
// or rebuilt from the index's table, caught up with it before every query (a graph is a cache of
// the table: see store/index/vector_index.hpp), saved after a build and when the store closes.
// Also the embeddings of query parameters, cached per index.
#include <chrono>
#include <filesystem>
#include <list>
#include <unordered_map>

#include "store/expr/computed.hpp"
#include "store/functions/context.hpp"
#include "store/index/vector_index.hpp"
#include "store/model/vector.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

constexpr size_t kQueryCacheEntries = 1024;
constexpr size_t kApplyChunk = 4096;

bool index_sql_keyword(std::string_view w) {
  return sqlite3_keyword_check(w.data(), static_cast<int>(w.size())) != 0;
}

}  // namespace

struct SqliteStore::IndexRuntime {
  int64_t id = 0;
  std::mutex sync_mu;                  // one load, build or catch-up at a time
  std::shared_ptr<VectorIndex> graph;  // set once, under sync_mu
  double build_seconds = 0;
  bool from_disk = false;
  int64_t unsaved = 0;  // changes applied since the graph was last saved

  std::mutex cache_mu;  // query embeddings, least recently used last
  std::list<std::pair<std::string, std::string>> lru;
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> by_text;
};

std::string SqliteStore::index_dir() const { return home_ + "/indexes"; }

std::shared_ptr<SqliteStore::IndexRuntime> SqliteStore::runtime(int64_t id) {
  std::lock_guard lock(index_mu_);
  auto& rt = indexes_[id];
  if (!rt) {
    rt = std::make_shared<IndexRuntime>();
    rt->id = id;
  }
  return rt;
}

void SqliteStore::forget_index(int64_t id) {
  {
    std::lock_guard lock(index_mu_);
    indexes_.erase(id);
  }
  std::error_code ec;
  for (const char* ext : {".hnsw", ".meta", ".hnsw.tmp", ".meta.tmp"})
    std::filesystem::remove(std::filesystem::path(index_dir()) / (std::to_string(id) + ext), ec);
}

void SqliteStore::save_indexes() {
  std::vector<std::shared_ptr<IndexRuntime>> all;
  {
    std::lock_guard lock(index_mu_);
    for (auto& [id, rt] : indexes_) all.push_back(rt);
  }
  for (auto& rt : all) {
    std::lock_guard lock(rt->sync_mu);
    if (!rt->graph || rt->unsaved == 0) continue;
    if (rt->graph->save(index_dir(), std::to_string(rt->id)).ok()) rt->unsaved = 0;
  }
}

namespace {

// Reads the index table's rows with seq > after (all live rows when after < 0) into the graph.
Result<int64_t> feed(Conn& c, const IndexDef& idx, VectorIndex& graph, int64_t after) {
  std::string side = index_table(idx.id);
  std::string sql = after < 0 ? "SELECT rid, vec, seq FROM " + side + " WHERE vec IS NOT NULL ORDER BY rid"
                              : "SELECT rid, vec, seq FROM " + side + " WHERE seq > ?1 ORDER BY seq";
  PXT_TRY(sqlite3_stmt * s, c.cached(sql));
  StmtUse use(s);
  if (after >= 0) sqlite3_bind_int64(s, 1, after);
  std::vector<VectorIndex::Change> batch;
  int64_t n = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    VectorIndex::Change ch{sqlite3_column_int64(s, 0), std::nullopt, sqlite3_column_int64(s, 2)};
    if (sqlite3_column_type(s, 1) == SQLITE_BLOB) {
      const char* p = static_cast<const char*>(sqlite3_column_blob(s, 1));
      ch.vector = std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, 1)));
    }
    batch.push_back(std::move(ch));
    if (batch.size() == kApplyChunk) {
      PXT_CHECK(graph.apply(batch));
      n += static_cast<int64_t>(batch.size());
      batch.clear();
    }
  }
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "reading embedding index '" + idx.name + "'");
  PXT_CHECK(graph.apply(batch));
  return n + static_cast<int64_t>(batch.size());
}

}  // namespace

Result<std::shared_ptr<VectorIndex>> SqliteStore::synced_index(Conn& c, const IndexDef& idx) {
  std::shared_ptr<IndexRuntime> rt = runtime(idx.id);
  std::string side = index_table(idx.id);
  PXT_TRY(int64_t max_seq, c.scalar_int("SELECT coalesce(max(seq), 0) FROM " + side));
  std::lock_guard lock(rt->sync_mu);
  PXT_TRY(Metric metric, parse_metric(idx.metric));
  if (!rt->graph) {
    auto start = std::chrono::steady_clock::now();
    std::shared_ptr<VectorIndex> g =
        VectorIndex::load(index_dir(), std::to_string(idx.id), metric, static_cast<size_t>(idx.dimension),
                          idx.ef_search, max_seq);
    rt->from_disk = g != nullptr;
    if (!g) {
      // Missing, stale or damaged on disk: rebuilt from the index's table.
      g = std::make_shared<VectorIndex>(metric, static_cast<size_t>(idx.dimension), idx.ef_search);
      PXT_CHECK(feed(c, idx, *g, -1));
      g->mark_synced(max_seq);
      rt->unsaved = 1;
    }
    rt->graph = g;
    rt->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (rt->graph->synced() < max_seq) {
    PXT_TRY(int64_t n, feed(c, idx, *rt->graph, rt->graph->synced()));
    rt->unsaved += n;
  }
  // Saving costs about as much as reading the graph back; a crash only costs a catch-up from the
  // table, so the graph is saved after a build and once the changes since are a sizeable share.
  if (rt->unsaved > 0 &&
      (!rt->from_disk || rt->unsaved >= std::max<int64_t>(10000, int64_t(rt->graph->size() / 4)))) {
    if (rt->graph->save(index_dir(), std::to_string(idx.id)).ok()) {
      rt->unsaved = 0;
      rt->from_disk = true;
    }
  }
  return rt->graph;
}

Result<Store::IndexStatus> SqliteStore::index_status(std::string_view table, std::string_view name) {
  PXT_TRY(std::string path, normalize_path(table));
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  auto it = cat->tables.find(path);
  if (it == cat->tables.end()) return make_error(Errc::not_found, "table '" + path + "' does not exist");
  const IndexDef* idx = it->second->def.find_index(name);
  if (!idx)
    return make_error(Errc::not_found, "table '" + path + "' has no index named '" + std::string(name) + "'");
  PXT_TRY(auto graph, synced_index(*c, *idx));
  std::shared_ptr<IndexRuntime> rt = runtime(idx->id);
  IndexStatus st;
  st.vectors = static_cast<int64_t>(graph->size());
  st.dimension = static_cast<int64_t>(graph->dimension());
  st.memory_bytes = graph->memory_bytes();
  std::lock_guard lock(rt->sync_mu);
  st.build_seconds = rt->build_seconds;
  st.loaded_from_disk = rt->from_disk;
  return st;
}

Result<std::string> SqliteStore::query_embedding(Conn& c, const TableDef& def, const IndexDef& idx,
                                                 const std::string& text) {
  std::shared_ptr<IndexRuntime> rt = runtime(idx.id);
  {
    std::lock_guard lock(rt->cache_mu);
    auto it = rt->by_text.find(text);
    if (it != rt->by_text.end()) {
      rt->lru.splice(rt->lru.begin(), rt->lru, it->second);
      return it->second->second;
    }
  }
  // The index's own expression with the column replaced by the parameter: the same function and
  // model that embedded the rows.
  std::vector<std::string> replacement;
  for (const auto& col : def.columns) replacement.push_back(iequals(col.name, idx.column) ? "?1" : "NULL");
  std::string sql = "SELECT (" + substitute_columns(idx.embedding, def, replacement, index_sql_keyword) + ")";
  PXT_TRY(sqlite3_stmt * s, c.cached(sql));
  StmtUse use(s);
  sqlite3_bind_text64(s, 1, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) return map_error(c.db(), rc, "embedding the query for index '" + idx.name + "'");
  if (sqlite3_column_type(s, 0) != SQLITE_BLOB)
    return make_error(Errc::invalid_argument,
                      "index '" + idx.name + "': the embedding of the query is not a Vector");
  std::string v(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                static_cast<size_t>(sqlite3_column_bytes(s, 0)));
  std::lock_guard lock(rt->cache_mu);
  if (!rt->by_text.count(text)) {
    rt->lru.emplace_front(text, v);
    rt->by_text[text] = rt->lru.begin();
    if (rt->lru.size() > kQueryCacheEntries) {
      rt->by_text.erase(rt->lru.back().first);
      rt->lru.pop_back();
    }
  }
  return v;
}

Result<void> SqliteStore::embed_existing_rows(CreatedFiles& created, const TableDef& def,
                                              const IndexDef& idx) {
  PXT_TRY(Lease c, conn());
  // The column's values are read in a short read transaction and embedded after it ended: a read
  // transaction held across model calls would pin the WAL (store/sqlite/checkpoint.cpp).
  std::vector<Value> values;
  ColumnType type = ColumnType::String;
  {
    ReadTxn txn(*c);
    PXT_CHECK(txn.begin());
    PXT_TRY(auto info, fresh(*c, def));
    const ColumnDef* col = info->def.find(idx.column);
    if (!col) return unknown_column(info->def, idx.column, "to index");
    type = col->type;
    PXT_TRY(sqlite3_stmt * s, c->cached("SELECT DISTINCT " + quote_ident(col->name) + " FROM " + info->qname +
                                        " WHERE " + quote_ident(col->name) + " IS NOT NULL"));
    StmtUse use(s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Value v;
      read_value(s, 0, type, v);
      values.push_back(std::move(v));
    }
    if (rc != SQLITE_DONE) return map_error(c->db(), rc, "reading the rows to embed");
  }
  std::vector<std::string> replacement;
  for (const auto& col : def.columns) replacement.push_back(iequals(col.name, idx.column) ? "?1" : "NULL");
  std::string sql = "SELECT (" + substitute_columns(idx.embedding, def, replacement, index_sql_keyword) + ")";
  auto stmt = c->prepare(sql);
  if (!stmt.ok()) return user_sql_error(stmt.error(), &def, nullptr, "embedding expression");
  CreatedFilesScope scope(created);
  auto pass = [&]() -> Result<void> {
    for (const Value& v : values) {
      sqlite3_reset(stmt->get());
      bind_typed(stmt->get(), 1, type, v);
      int rc;
      while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) return map_error(c->db(), rc, "embedding the rows");
    }
    return {};
  };
  {
    // Record every row's embed() call, then make them in batches.
    CallCollector collector;
    (void)pass();
    collector.run(FunctionContext{media_dir(), &created}, created);
  }
  // Computing ahead takes the batched outcomes and keeps them for the write (and makes any call
  // the collecting pass could not record).
  created.set_ahead(true);
  auto r = pass();
  created.set_ahead(false);
  sqlite3_reset(stmt->get());
  return r;
}

}  // namespace pxt::sqlite
