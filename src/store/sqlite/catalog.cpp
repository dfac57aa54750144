// Catalog operations of the SQLite store: directories and tables. The on-disk schema of the
// catalog tables (pxt$meta, pxt$dirs, pxt$tables, pxt$columns) is specified in doc/catalog.md.
#include <algorithm>

#include "store/expr/computed.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/table_check.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

Error table_not_found(const Catalog& cat, const std::string& path) {
  if (cat.dirs.count(path)) {
    return make_error(Errc::invalid_argument, "'" + path + "' is a directory, not a table");
  }
  return make_error(ErrorCode::table_not_found,
                    "table '" + path + "' does not exist" + did_you_mean_path(path, cat.table_paths()));
}

Error dir_not_found(const Catalog& cat, const std::string& path, std::string_view what = "directory") {
  if (cat.tables.count(path))
    return make_error(Errc::invalid_argument, "'" + path + "' is a table, not a directory");
  return make_error(ErrorCode::directory_not_found, std::string(what) + " '" + path + "' does not exist" +
                                                        did_you_mean_path(path, cat.dir_paths()));
}

bool is_under(const std::string& path, const std::string& dir) {
  return dir.empty() ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '.');
}

Result<void> check_parent(const Catalog& cat, const std::string& path) {
  std::string parent = parent_path(path);
  if (parent.empty() || cat.dirs.count(parent)) return {};
  return dir_not_found(cat, parent, "parent directory");
}

Result<void> step_done(Conn& c, sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return map_error(c.db(), rc);
  return {};
}

Result<void> exec_bound(Conn& c, const std::string& sql, const std::vector<Value>& args) {
  PXT_TRY(sqlite3_stmt * s, c.cached(sql));
  StmtUse use(s);
  for (size_t i = 0; i < args.size(); ++i) bind_value(s, static_cast<int>(i + 1), args[i]);
  return step_done(c, s);
}

}  // namespace

// Refuses expressions SQLite cannot compile over the table's columns, in pxt's words.
Result<void> probe_computed(Conn& c, const TableDef& def) {
  std::string base = "SELECT ";
  for (size_t i = 0; i < def.columns.size(); ++i) {
    base += (i ? ", NULL AS " : "NULL AS ") + quote_ident(def.columns[i].name);
  }
  for (const auto& col : def.columns) {
    if (!col.is_computed()) continue;
    std::string what = "computed column '" + col.name + "'";
    auto stmt = c.prepare("SELECT (" + col.computed + ") FROM (" + base + ")", true);
    if (!stmt.ok()) {
      Error e = user_sql_error(stmt.error(), &def, nullptr, what);
      if (e.message.find("syntax error") != std::string::npos ||
          e.message.find("incomplete input") != std::string::npos) {
        e.message = what + ": invalid expression '" + col.computed + "': " + stmt.error().message;
      }
      return make_error(Errc::invalid_argument, e.message);
    }
    if (sqlite3_column_count(stmt->get()) != 1) {
      return make_error(Errc::invalid_argument, what + ": invalid expression '" + col.computed + "'");
    }
  }
  return {};
}

namespace {

std::string create_sql(const TableDef& def) {
  std::string sql = "CREATE TABLE " + quote_ident(def.path) + " (";
  for (size_t i = 0; i < def.columns.size(); ++i) {
    const ColumnDef& c = def.columns[i];
    if (i) sql += ", ";
    sql += quote_ident(c.name) + " " + sql_type(c.type) + (c.required ? " NOT NULL" : "");
  }
  if (!def.primary_key.empty()) {
    std::vector<std::string> quoted;
    for (const auto& k : def.primary_key) quoted.push_back(quote_ident(k));
    sql += ", PRIMARY KEY (" + join(quoted, ", ") + ")";
  }
  return sql + ") STRICT";
}

std::string deps_json(const std::vector<std::string>& deps) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& d : deps) write_string(w, d);
  w.EndArray();
  return buf.GetString();
}

// `media` collects the table's media files, removed by the caller once the drop committed.
Result<void> drop_table_rows(Conn& c, const TableInfo& t, std::vector<std::string>& media) {
  PXT_CHECK(collect_media(c, t, media_columns(t.def), nullptr, 1, media));
  for (const auto& idx : t.def.indexes) PXT_CHECK(drop_index_rows(c, idx));
  PXT_CHECK(c.exec(("DROP TABLE " + t.qname).c_str()));
  PXT_CHECK(exec_bound(c, "DELETE FROM \"pxt$columns\" WHERE table_id = ?1", {Value(t.def.id)}));
  return exec_bound(c, "DELETE FROM \"pxt$tables\" WHERE id = ?1", {Value(t.def.id)});
}

}  // namespace

Result<void> create_table_storage(Conn& c, TableDef& def) {
  PXT_CHECK(c.exec(create_sql(def).c_str()));
  PXT_CHECK(exec_bound(c, "INSERT INTO \"pxt$tables\" (path, version) VALUES (?1, 1)", {Value(def.path)}));
  def.id = sqlite3_last_insert_rowid(c.db());
  def.version = 1;
  for (size_t i = 0; i < def.columns.size(); ++i) {
    const ColumnDef& col = def.columns[i];
    auto pk = std::find(def.primary_key.begin(), def.primary_key.end(), col.name);
    std::vector<Value> values{Value(def.id),
                              Value(int64_t(i)),
                              Value(col.name),
                              Value(std::string(type_name(col.type))),
                              Value(int64_t(col.required)),
                              Value(col.computed),
                              Value(deps_json(col.depends_on))};
    values.emplace_back();  // pk_position: null unless the column is in the primary key
    if (pk != def.primary_key.end()) values.back() = int64_t(pk - def.primary_key.begin());
    PXT_CHECK(exec_bound(c,
                         "INSERT INTO \"pxt$columns\" (table_id, position, name, type, required, computed, "
                         "depends_on, pk_position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                         values));
  }
  return {};
}

Result<void> SqliteStore::create_dir(std::string_view path, IfExists if_exists) {
  PXT_TRY(std::string p, normalize_path(path));
  PXT_TRY(Lease c, conn());
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  if (cat->tables.count(p))
    return make_error(Errc::already_exists, "'" + p + "' already exists and is a table");
  if (cat->dirs.count(p)) {
    if (if_exists == IfExists::error)
      return make_error(Errc::already_exists, "directory '" + p + "' already exists");
    if (if_exists == IfExists::replace) {
      bool empty =
          std::none_of(cat->dirs.begin(), cat->dirs.end(), [&](auto& d) { return is_under(d, p); }) &&
          std::none_of(cat->tables.begin(), cat->tables.end(), [&](auto& t) { return is_under(t.first, p); });
      if (!empty) {
        return make_error(Errc::invalid_argument,
                          "directory '" + p + "' is not empty; it cannot be replaced");
      }
    }
    return {};
  }
  PXT_CHECK(check_parent(*cat, p));
  PXT_CHECK(exec_bound(*c, "INSERT INTO \"pxt$dirs\" (path) VALUES (?1)", {Value(p)}));
  PXT_CHECK(bump_generation(*c));
  return txn.commit();
}

Result<TableDef> SqliteStore::create_table(TableDef def, IfExists if_exists) {
  PXT_TRY(def.path, normalize_path(def.path));
  PXT_CHECK(check_columns(def));
  PXT_TRY(Lease c, conn());
  PXT_CHECK(probe_computed(*c, def));
  PXT_CHECK(finish_computed(def));
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  std::vector<std::string> media;  // of a replaced table
  std::vector<int64_t> dropped_indexes;
  PXT_TRY(auto cat, catalog(*c, true));
  if (cat->dirs.count(def.path)) {
    return make_error(Errc::already_exists, "'" + def.path + "' already exists and is a directory");
  }
  if (auto it = cat->tables.find(def.path); it != cat->tables.end()) {
    if (if_exists == IfExists::error) {
      return make_error(Errc::already_exists, "table '" + def.path + "' already exists");
    }
    if (if_exists == IfExists::ignore) return it->second->def;
    PXT_CHECK(drop_table_rows(*c, *it->second, media));
    for (const auto& idx : it->second->def.indexes) dropped_indexes.push_back(idx.id);
  }
  PXT_CHECK(check_parent(*cat, def.path));
  PXT_CHECK(create_table_storage(*c, def));
  PXT_CHECK(bump_generation(*c));
  PXT_CHECK(txn.commit());
  remove_media_files(media_dir(), media);
  for (int64_t id : dropped_indexes) forget_index(id);
  return def;
}

Result<TableDef> SqliteStore::get_table(std::string_view path) {
  PXT_TRY(std::string p, normalize_path(path));
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  auto it = cat->tables.find(p);
  if (it == cat->tables.end()) return table_not_found(*cat, p);
  return it->second->def;
}

Result<std::vector<CatalogEntry>> SqliteStore::list(std::string_view dir, bool recursive) {
  std::string d;
  if (!trim(dir).empty()) {
    PXT_TRY(d, normalize_path(dir));
  }
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  if (!d.empty() && !cat->dirs.count(d)) return dir_not_found(*cat, d);
  auto wanted = [&](const std::string& p) { return is_under(p, d) && (recursive || parent_path(p) == d); };
  std::vector<CatalogEntry> out;
  for (const auto& p : cat->dirs) {
    if (wanted(p)) out.push_back({CatalogEntry::Kind::Dir, p});
  }
  for (const auto& [p, t] : cat->tables) {
    if (wanted(p)) out.push_back({CatalogEntry::Kind::Table, p});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

Result<void> SqliteStore::drop_table(std::string_view path, bool force) {
  // force is accepted for symmetry with drop_dir: no catalog object depends on a table yet.
  (void)force;
  PXT_TRY(std::string p, normalize_path(path));
  PXT_TRY(Lease c, conn());
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  auto it = cat->tables.find(p);
  if (it == cat->tables.end()) return table_not_found(*cat, p);
  std::vector<std::string> media;
  PXT_CHECK(drop_table_rows(*c, *it->second, media));
  PXT_CHECK(bump_generation(*c));
  PXT_CHECK(txn.commit());
  remove_media_files(media_dir(), media);
  for (const auto& idx : it->second->def.indexes) forget_index(idx.id);
  return {};
}

Result<void> SqliteStore::drop_dir(std::string_view path, bool force) {
  PXT_TRY(std::string p, normalize_path(path));
  PXT_TRY(Lease c, conn());
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  if (!cat->dirs.count(p)) return dir_not_found(*cat, p);
  std::vector<std::string> dirs;
  std::vector<const TableInfo*> tables;
  for (const auto& d : cat->dirs) {
    if (is_under(d, p)) dirs.push_back(d);
  }
  for (const auto& [tp, t] : cat->tables) {
    if (is_under(tp, p)) tables.push_back(t.get());
  }
  if (!force && (!dirs.empty() || !tables.empty())) {
    return make_error(Errc::invalid_argument,
                      "directory '" + p + "' is not empty (" + std::to_string(tables.size()) + " table(s), " +
                          std::to_string(dirs.size()) +
                          " directory(ies)); drop it with force to delete its contents");
  }
  std::vector<std::string> media;
  for (const TableInfo* t : tables) PXT_CHECK(drop_table_rows(*c, *t, media));
  dirs.push_back(p);
  for (const auto& d : dirs)
    PXT_CHECK(exec_bound(*c, "DELETE FROM \"pxt$dirs\" WHERE path = ?1", {Value(d)}));
  PXT_CHECK(bump_generation(*c));
  PXT_CHECK(txn.commit());
  remove_media_files(media_dir(), media);
  for (const TableInfo* t : tables)
    for (const auto& idx : t->def.indexes) forget_index(idx.id);
  return {};
}

Result<void> SqliteStore::move(std::string_view from, std::string_view to) {
  PXT_TRY(std::string src, normalize_path(from));
  PXT_TRY(std::string dst, normalize_path(to));
  PXT_TRY(Lease c, conn());
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  bool is_table = cat->tables.count(src) > 0;
  if (!is_table && !cat->dirs.count(src)) {
    return make_error(Errc::not_found, "'" + src + "' does not exist" + did_you_mean(src, [&] {
                                         auto all = cat->table_paths();
                                         auto dirs = cat->dir_paths();
                                         all.insert(all.end(), dirs.begin(), dirs.end());
                                         return all;
                                       }()));
  }
  if (cat->tables.count(dst) || cat->dirs.count(dst)) {
    return make_error(Errc::already_exists, "'" + dst + "' already exists");
  }
  if (!is_table && is_under(dst, src)) {
    return make_error(Errc::invalid_argument,
                      "cannot move directory '" + src + "' into itself ('" + dst + "')");
  }
  PXT_CHECK(check_parent(*cat, dst));
  auto renamed = [&](const std::string& p) { return dst + p.substr(src.size()); };
  for (const auto& [tp, t] : cat->tables) {
    if (tp != src && !is_under(tp, src)) continue;
    PXT_CHECK(c->exec(("ALTER TABLE " + t->qname + " RENAME TO " + quote_ident(renamed(tp))).c_str()));
    PXT_CHECK(exec_bound(*c, "UPDATE \"pxt$tables\" SET path = ?1, version = version + 1 WHERE id = ?2",
                         {Value(renamed(tp)), Value(t->def.id)}));
  }
  for (const auto& d : cat->dirs) {
    if (d != src && !is_under(d, src)) continue;
    PXT_CHECK(
        exec_bound(*c, "UPDATE \"pxt$dirs\" SET path = ?1 WHERE path = ?2", {Value(renamed(d)), Value(d)}));
  }
  PXT_CHECK(bump_generation(*c));
  return txn.commit();
}

}  // namespace pxt::sqlite
