// The HNSW graphs of the SQLite store's embedding indexes (store/index/graph_cache.hpp), read from
// each index's table; the embeddings of query parameters; and the embedding of a table's rows when
// an index is created.
#include <filesystem>

#include "store/expr/computed.hpp"
#include "store/functions/context.hpp"
#include "store/index/vector_index.hpp"
#include "store/model/vector.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

constexpr size_t kApplyChunk = 4096;

bool index_sql_keyword(std::string_view w) {
  return sqlite3_keyword_check(w.data(), static_cast<int>(w.size())) != 0;
}

// Reads the index table's rows with seq > after (all live rows when after < 0) into the graph.
Result<int64_t> feed_graph(Conn& c, const IndexDef& idx, VectorIndex& graph, int64_t after) {
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
  GraphCache::Source src;
  src.max_seq = [&]() { return c.scalar_int("SELECT coalesce(max(seq), 0) FROM " + index_table(idx.id)); };
  src.feed = [&](int64_t after, VectorIndex& g) { return feed_graph(c, idx, g, after); };
  return graphs_->synced(idx, src);
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
  IndexStatus st;
  st.vectors = static_cast<int64_t>(graph->size());
  st.dimension = static_cast<int64_t>(graph->dimension());
  st.memory_bytes = graph->memory_bytes();
  GraphCache::Status made = graphs_->status(idx->id);
  st.build_seconds = made.build_seconds;
  st.loaded_from_disk = made.loaded_from_disk;
  return st;
}

Result<std::string> SqliteStore::query_embedding(Conn& c, const TableDef& def, const IndexDef& idx,
                                                 const std::string& text) {
  if (auto cached = graphs_->cached_query(idx.id, text)) return *cached;
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
  graphs_->remember_query(idx.id, text, v);
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
