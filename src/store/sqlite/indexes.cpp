// Embedding indexes of the SQLite store: the catalog (pxt$indexes), each index's table of
// embeddings ("pxt$idx_<id>": rid, vec, seq) kept by triggers on the indexed table, and
// create_index / drop_index. The format is specified in doc/catalog.md; the HNSW graphs that answer
// queries from these tables are in index_runtime.cpp.
#include <algorithm>
#include <filesystem>

#include "store/expr/computed.hpp"
#include "store/functions/registry.hpp"
#include "store/index/index_def.hpp"
#include "store/index/vector_index.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

const char* kIndexesDdl = R"sql(
CREATE TABLE IF NOT EXISTS "pxt$indexes" (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_id INTEGER NOT NULL REFERENCES "pxt$tables"(id),
  name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  embedding TEXT NOT NULL,
  metric TEXT NOT NULL,
  ef_search INTEGER NOT NULL,
  dimension INTEGER NOT NULL DEFAULT 0,
  UNIQUE (table_id, name)
) STRICT;
)sql";

bool index_ddl_keyword(std::string_view w) {
  return sqlite3_keyword_check(w.data(), static_cast<int>(w.size())) != 0;
}

Result<void> exec_sql(Conn& c, const std::string& sql) { return c.exec(sql.c_str()); }

// The index's expression with its column read from `ref` (e.g. NEW."text").
std::string expr_over(const TableDef& def, const IndexDef& idx, const std::string& ref) {
  std::vector<std::string> replacement;
  for (const auto& col : def.columns)
    replacement.push_back(iequals(col.name, idx.column) ? ref : quote_ident(col.name));
  return substitute_columns(idx.embedding, def, replacement, index_ddl_keyword);
}

// Refuses an embedding of another dimension than the index's first vector's, and a non-Vector.
std::string dimension_check(const IndexDef& idx, const std::string& side) {
  std::string msg = "embedding index '" + idx.name + "': ";
  return "CASE WHEN v IS NOT NULL AND typeof(v) != 'blob' THEN RAISE(ABORT, " +
         quote_literal(msg + "the embedding expression did not give a Vector") +
         ") WHEN v IS NOT NULL AND length(v) != coalesce((SELECT length(vec) FROM " + side +
         " WHERE vec IS NOT NULL AND rid != NEW.rowid LIMIT 1), length(v)) THEN RAISE(ABORT, " +
         quote_literal(msg + "the embedding has another dimension than the index's vectors") + ") ELSE 1 END";
}

std::string next_seq(const std::string& side) {
  return "(SELECT coalesce(max(seq), 0) + 1 FROM " + side + ")";
}

std::vector<std::string> trigger_ddl(const TableInfo& t, const IndexDef& idx) {
  std::string side = index_table(idx.id);
  std::string col = quote_ident(idx.column);
  std::string name = "pxt$idx_" + std::to_string(idx.id);
  std::string ins = "CREATE TRIGGER " + quote_ident(name + "_ins") + " AFTER INSERT ON " + t.qname +
                    " BEGIN INSERT OR REPLACE INTO " + side + " (rid, vec, seq) SELECT NEW.rowid, v, " +
                    next_seq(side) + " FROM (SELECT (" + expr_over(t.def, idx, "NEW." + col) +
                    ") AS v) WHERE " + dimension_check(idx, side) + "; END";
  std::string upd =
      "CREATE TRIGGER " + quote_ident(name + "_upd") + " AFTER UPDATE ON " + t.qname + " WHEN NEW." + col +
      " IS NOT OLD." + col + " OR NEW.rowid IS NOT OLD.rowid BEGIN INSERT OR REPLACE INTO " + side +
      " (rid, vec, seq) SELECT NEW.rowid, v, " + next_seq(side) + " FROM (SELECT CASE WHEN NEW." + col +
      " IS OLD." + col + " THEN (SELECT vec FROM " + side + " WHERE rid = OLD.rowid) ELSE (" +
      expr_over(t.def, idx, "NEW." + col) + ") END AS v) WHERE " + dimension_check(idx, side) + "; UPDATE " +
      side + " SET vec = NULL, seq = " + next_seq(side) +
      " WHERE rid = OLD.rowid AND OLD.rowid IS NOT NEW.rowid; END";
  std::string del = "CREATE TRIGGER " + quote_ident(name + "_del") + " AFTER DELETE ON " + t.qname +
                    " BEGIN UPDATE " + side + " SET vec = NULL, seq = " + next_seq(side) +
                    " WHERE rid = OLD.rowid; END";
  return {ins, upd, del};
}

}  // namespace

std::string index_table(int64_t id) { return quote_ident("pxt$idx_" + std::to_string(id)); }

Result<void> SqliteStore::init_index_catalog(Conn& c) {
  PXT_TRY(int64_t has_indexes,
          c.scalar_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pxt$indexes'"));
  PXT_TRY(int64_t has_dim,
          c.scalar_int("SELECT count(*) FROM pragma_table_info('pxt$columns') WHERE name = 'vector_dim'"));
  if (has_indexes && has_dim) return {};
  // Added without a format version change (doc/catalog.md): older binaries ignore both.
  WriteTxn txn(writer_mu_, c);
  PXT_CHECK(txn.begin());
  PXT_CHECK(c.exec(kIndexesDdl));
  PXT_TRY(int64_t again,
          c.scalar_int("SELECT count(*) FROM pragma_table_info('pxt$columns') WHERE name = 'vector_dim'"));
  if (!again)
    PXT_CHECK(c.exec("ALTER TABLE \"pxt$columns\" ADD COLUMN vector_dim INTEGER NOT NULL DEFAULT 0"));
  return txn.commit();
}

Result<void> load_indexes(Conn& c, Catalog& cat) {
  PXT_TRY(
      sqlite3_stmt * s,
      c.cached("SELECT t.path, i.id, i.name, i.column_name, i.embedding, i.metric, i.ef_search, i.dimension "
               "FROM \"pxt$indexes\" i JOIN \"pxt$tables\" t ON t.id = i.table_id ORDER BY i.id"));
  StmtUse use(s);
  int rc;
  auto text = [&](int i) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i))); };
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto it = cat.tables.find(text(0));
    if (it == cat.tables.end()) continue;
    IndexDef idx;
    idx.id = sqlite3_column_int64(s, 1);
    idx.name = text(2);
    idx.column = text(3);
    idx.embedding = text(4);
    idx.metric = text(5);
    idx.ef_search = sqlite3_column_int(s, 6);
    idx.dimension = sqlite3_column_int64(s, 7);
    // The catalog's TableInfo objects are built by reload() and not shared yet.
    const_cast<TableInfo&>(*it->second).def.indexes.push_back(std::move(idx));
  }
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot read the embedding indexes");
  return {};
}

Result<void> drop_index_rows(Conn& c, const IndexDef& idx) {
  std::string name = "pxt$idx_" + std::to_string(idx.id);
  for (const char* suffix : {"_ins", "_upd", "_del"})
    PXT_CHECK(exec_sql(c, "DROP TRIGGER IF EXISTS " + quote_ident(name + suffix)));
  PXT_CHECK(exec_sql(c, "DROP TABLE IF EXISTS " + index_table(idx.id)));
  PXT_TRY(sqlite3_stmt * s, c.cached("DELETE FROM \"pxt$indexes\" WHERE id = ?1"));
  StmtUse use(s);
  sqlite3_bind_int64(s, 1, idx.id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot drop the index");
  return {};
}

Result<IndexDef> SqliteStore::create_index(std::string_view table, IndexDef idx, IfExists if_exists) {
  PXT_TRY(TableDef def, get_table(table));
  PXT_CHECK(check_index_def(def, idx));
  if (const IndexDef* existing = def.find_index(idx.name)) {
    if (if_exists == IfExists::error)
      return make_error(Errc::already_exists,
                        "table '" + def.path + "' already has an index named '" + idx.name + "'");
    if (if_exists == IfExists::ignore) {
      if (same_index_def(*existing, idx)) return *existing;
      return index_differs_error(def, *existing);
    }
  }
  {
    PXT_TRY(Lease c, conn());
    std::string probe = "SELECT (" + expr_over(def, idx, "NULL") + ")";
    auto stmt = c->prepare(probe, true);
    if (!stmt.ok())
      return user_sql_error(stmt.error(), &def, nullptr, "embedding expression '" + idx.embedding + "'");
  }
  // The embeddings of the rows there now are computed before the write takes the lock (in
  // batches), then the write stores them; only rows written meanwhile are embedded inside it.
  CreatedFiles created(media_dir());
  PXT_CHECK(embed_existing_rows(created, def, idx));
  auto start = std::chrono::steady_clock::now();
  std::vector<IndexDef> replaced;
  PXT_TRY(Lease c, conn());
  {
    CreatedFilesScope scope(created);
    WriteTxn txn(writer_mu_, *c);
    PXT_CHECK(txn.begin());
    PXT_TRY(auto cat, catalog(*c, true));
    auto it = cat->tables.find(def.path);
    if (it == cat->tables.end() || it->second->def.id != def.id) return stale_error();
    const TableInfo& info = *it->second;
    if (const IndexDef* existing = info.def.find_index(idx.name)) {
      if (if_exists != IfExists::replace)
        return make_error(Errc::already_exists,
                          "table '" + def.path + "' already has an index named '" + idx.name + "'");
      PXT_CHECK(drop_index_rows(*c, *existing));
      replaced.push_back(*existing);
    }
    PXT_TRY(sqlite3_stmt * s,
            c->cached("INSERT INTO \"pxt$indexes\" (table_id, name, column_name, embedding, metric, "
                      "ef_search) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    {
      StmtUse use(s);
      sqlite3_bind_int64(s, 1, def.id);
      const std::string* texts[] = {&idx.name, &idx.column, &idx.embedding, &idx.metric};
      for (int i = 0; i < 4; ++i)
        sqlite3_bind_text(s, i + 2, texts[i]->c_str(), static_cast<int>(texts[i]->size()), SQLITE_TRANSIENT);
      sqlite3_bind_int(s, 6, idx.ef_search);
      int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) return map_error(c->db(), rc, "cannot record the index");
    }
    idx.id = sqlite3_last_insert_rowid(c->db());
    std::string side = index_table(idx.id);
    PXT_CHECK(exec_sql(
        *c, "CREATE TABLE " + side + " (rid INTEGER PRIMARY KEY, vec BLOB, seq INTEGER NOT NULL) STRICT"));
    PXT_CHECK(exec_sql(*c, "CREATE INDEX " + quote_ident("pxt$idx_" + std::to_string(idx.id) + "_seq") +
                               " ON " + side + " (seq)"));
    auto filled = exec_sql(*c, "INSERT INTO " + side + " (rid, vec, seq) SELECT rowid, (" +
                                   expr_over(def, idx, quote_ident(idx.column)) +
                                   "), row_number() OVER (ORDER BY rowid) FROM " + info.qname);
    if (!filled.ok())
      return make_error(filled.error().code, "embedding the rows failed: " + filled.error().message);
    PXT_TRY(int64_t kinds,
            c->scalar_int("SELECT count(DISTINCT length(vec)) FROM " + side + " WHERE vec IS NOT NULL"));
    PXT_TRY(int64_t blobs, c->scalar_int("SELECT count(*) FROM " + side +
                                         " WHERE vec IS NOT NULL AND typeof(vec) != 'blob'"));
    if (blobs > 0)
      return make_error(Errc::invalid_argument,
                        "the embedding expression '" + idx.embedding + "' did not give Vectors");
    if (kinds > 1)
      return make_error(Errc::invalid_argument, "the embedding expression '" + idx.embedding +
                                                    "' gave vectors of different dimensions");
    PXT_TRY(idx.dimension, c->scalar_int("SELECT coalesce(max(length(vec)) / 4, 0) FROM " + side));
    PXT_CHECK(exec_sql(*c, "UPDATE \"pxt$indexes\" SET dimension = " + std::to_string(idx.dimension) +
                               " WHERE id = " + std::to_string(idx.id)));
    for (const auto& ddl : trigger_ddl(info, idx)) PXT_CHECK(exec_sql(*c, ddl));
    PXT_CHECK(bump_generation(*c));
    PXT_CHECK(txn.commit());
  }
  for (const auto& old : replaced) forget_index(old.id);
  // Build the graph now, so the first query does not wait for it.
  double fill = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PXT_CHECK(index_status(def.path, idx.name));
  (void)fill;
  return idx;
}

Result<void> SqliteStore::drop_index(std::string_view table, std::string_view name, bool ignore_missing) {
  PXT_TRY(std::string path, normalize_path(table));
  PXT_TRY(Lease c, conn());
  int64_t id = 0;
  {
    WriteTxn txn(writer_mu_, *c);
    PXT_CHECK(txn.begin());
    PXT_TRY(auto cat, catalog(*c, true));
    auto it = cat->tables.find(path);
    if (it == cat->tables.end())
      return make_error(Errc::not_found,
                        "table '" + path + "' does not exist" + did_you_mean(path, cat->table_paths()));
    const TableDef& def = it->second->def;
    const IndexDef* idx = def.find_index(name);
    if (!idx) {
      if (ignore_missing) return {};
      std::vector<std::string> names;
      for (const auto& i : def.indexes) names.push_back(i.name);
      return make_error(Errc::not_found,
                        "table '" + path + "' has no index named '" + std::string(name) + "'" +
                            did_you_mean(name, names) +
                            (names.empty() ? " (it has none)" : " (indexes: " + join(names, ", ") + ")"));
    }
    id = idx->id;
    PXT_CHECK(drop_index_rows(*c, *idx));
    PXT_CHECK(bump_generation(*c));
    PXT_CHECK(txn.commit());
  }
  forget_index(id);
  return {};
}

}  // namespace pxt::sqlite
