// Catalog operations of the PostgreSQL store: directories and tables (format: doc/catalog.md).
// Each runs in one transaction holding the catalog lock (change_catalog), so two processes
// changing the catalog at once take turns and each sees the other's result.
#include <algorithm>

#include "store/expr/computed.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/table_check.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

// PostgreSQL truncates longer names silently: a path past it would name another table.
constexpr size_t kMaxName = 63;

Error table_not_found(const Catalog& cat, const std::string& path) {
  if (cat.dirs.count(path))
    return make_error(Errc::invalid_argument, "'" + path + "' is a directory, not a table");
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

Result<void> check_name_length(const std::string& path) {
  if (path.size() <= kMaxName) return {};
  return make_error(Errc::invalid_argument, "table path '" + path + "' is " + std::to_string(path.size()) +
                                                " bytes long; a PostgreSQL store allows at most " +
                                                std::to_string(kMaxName) + " (PostgreSQL's name limit)");
}

Result<void> check_pg_names(const TableDef& def) {
  PXT_CHECK(check_name_length(def.path));
  for (const auto& c : def.columns) {
    if (c.name.size() > kMaxName)
      return make_error(Errc::invalid_argument, "invalid column name '" + c.name + "': longer than " +
                                                    std::to_string(kMaxName) + " bytes");
    // PostgreSQL's system columns exist in every table.
    for (const char* reserved : {"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"})
      if (iequals(c.name, reserved))
        return make_error(Errc::invalid_argument,
                          "invalid column name '" + c.name + "': the name is reserved");
  }
  return {};
}

std::string deps_json(const std::vector<std::string>& deps) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& d : deps) write_string(w, d);
  w.EndArray();
  return buf.GetString();
}

// The hidden column that keeps insertion order (SelectSpec's default order), as SQLite's rowid.
constexpr const char* kRowColumn = "\"pxt$row\"";

std::string create_sql(const TableDef& def) {
  std::string sql = "CREATE TABLE " + quote_ident(def.path) + " (";
  for (const auto& c : def.columns)
    sql += quote_ident(c.name) + " " + column_ddl_type(c.type) + (c.required ? " NOT NULL" : "") + ", ";
  sql += std::string(kRowColumn) + " bigint GENERATED ALWAYS AS IDENTITY";
  if (!def.primary_key.empty()) {
    std::vector<std::string> quoted;
    for (const auto& k : def.primary_key) quoted.push_back(quote_ident(k));
    sql += ", PRIMARY KEY (" + join(quoted, ", ") + ")";
  }
  return sql + ")";
}

Result<void> drop_table_rows(Conn& c, const TableInfo& t, std::vector<std::string>& media) {
  std::vector<int> cols = media_columns(t.def);
  if (!cols.empty()) {
    std::vector<std::string> names;
    for (int i : cols) names.push_back(quote_ident(t.def.columns[static_cast<size_t>(i)].name));
    PXT_TRY(PgResult r, c.run_once("SELECT " + join(names, ", ") + " FROM " + t.qname, {}));
    for (int i = 0; i < r.rows(); ++i)
      for (int k = 0; k < r.cols(); ++k)
        if (!r.null(i, k)) media.emplace_back(r.text(i, k));
  }
  for (const IndexDef& idx : t.def.indexes) PXT_CHECK(drop_index_objects(c, idx.id));
  PXT_CHECK(c.exec("DROP TABLE " + t.qname));
  Params p;
  p.add_int(t.def.id);
  PXT_CHECK(c.run_once("DELETE FROM pxt.tables WHERE id = $1", p));
  return {};
}

}  // namespace

Result<void> check_table_for_postgres(const TableDef& def) {
  PXT_CHECK(check_pg_names(def));
  return check_refs(def);
}

Result<void> create_table_storage(Conn& c, TableDef& def) {
  PXT_CHECK(c.exec(create_sql(def)));
  Params p;
  p.add(def.path);
  PXT_TRY(PgResult id, c.run_once("INSERT INTO pxt.tables (path, version) VALUES ($1, 1) RETURNING id", p));
  def.id = id.int_at(0, 0);
  def.version = 1;
  for (size_t i = 0; i < def.columns.size(); ++i) {
    const ColumnDef& col = def.columns[i];
    auto pk = std::find(def.primary_key.begin(), def.primary_key.end(), col.name);
    Params cp;
    cp.add_int(def.id);
    cp.add_int(static_cast<int64_t>(i));
    cp.add(col.name);
    cp.add(std::string(type_name(col.type)));
    cp.add(col.required ? "true" : "false");
    cp.add(col.computed);
    cp.add(deps_json(col.depends_on));
    if (pk == def.primary_key.end()) {
      cp.add_null();
    } else {
      cp.add_int(pk - def.primary_key.begin());
    }
    PXT_CHECK(
        c.run("INSERT INTO pxt.columns (table_id, position, name, type, required, computed, depends_on, "
              "pk_position) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)",
              cp));
  }
  return {};
}

Result<void> PgStore::create_dir(std::string_view path, IfExists if_exists) {
  PXT_TRY(std::string p, normalize_path(path));
  PXT_CHECK(check_name_length(p));
  return change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    if (cat.tables.count(p))
      return make_error(Errc::already_exists, "'" + p + "' already exists and is a table");
    if (cat.dirs.count(p)) {
      if (if_exists == IfExists::error)
        return make_error(Errc::already_exists, "directory '" + p + "' already exists");
      if (if_exists == IfExists::replace) {
        bool empty =
            std::none_of(cat.dirs.begin(), cat.dirs.end(), [&](auto& d) { return is_under(d, p); }) &&
            std::none_of(cat.tables.begin(), cat.tables.end(), [&](auto& t) { return is_under(t.first, p); });
        if (!empty)
          return make_error(Errc::invalid_argument,
                            "directory '" + p + "' is not empty; it cannot be replaced");
      }
      return {};
    }
    PXT_CHECK(check_parent(cat, p));
    Params params;
    params.add(p);
    PXT_CHECK(c.run_once("INSERT INTO pxt.dirs (path) VALUES ($1)", params));
    return {};
  });
}

Result<TableDef> PgStore::create_table(TableDef def, IfExists if_exists) {
  PXT_TRY(def.path, normalize_path(def.path));
  PXT_CHECK(check_columns(def));
  PXT_CHECK(check_table_for_postgres(def));
  {
    // The probe's typed nulls need the inferred types (length(p) is an Int that n + 1 reads);
    // errors are reported in SQLite's order: the expression first, then cycles and inference.
    TableDef typed = def;
    auto finished = finish_computed(typed);
    PXT_TRY(Lease c, conn());
    if (auto probed = probe_computed(*c, typed); !probed) {
      // A declared type the expression cannot give (upper(d) declared Float) is named as on
      // SQLite, whose untyped probe lets the expression through to that check.
      if (!finished && finished.error().message.find("' is declared ") != std::string::npos)
        return finished.error();
      return probed.error();
    }
  }
  PXT_CHECK(finish_computed(def));
  std::vector<std::string> media;  // of a replaced table
  std::optional<TableDef> existing;
  auto changed = change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    media.clear();
    if (cat.dirs.count(def.path))
      return make_error(Errc::already_exists, "'" + def.path + "' already exists and is a directory");
    if (auto it = cat.tables.find(def.path); it != cat.tables.end()) {
      if (if_exists == IfExists::error)
        return make_error(Errc::already_exists, "table '" + def.path + "' already exists");
      if (if_exists == IfExists::ignore) {
        existing = it->second->def;
        return {};
      }
      PXT_CHECK(drop_table_rows(c, *it->second, media));
    }
    PXT_CHECK(check_parent(cat, def.path));
    return create_table_storage(c, def);
  });
  if (!changed) return changed.error();
  remove_media_files(media_dir(), media);
  if (existing) return *existing;
  return def;
}

Result<TableDef> PgStore::get_table(std::string_view path) {
  PXT_TRY(std::string p, normalize_path(path));
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto cat, catalog_checked(*c));
  auto it = cat->tables.find(p);
  if (it == cat->tables.end()) return table_not_found(*cat, p);
  return it->second->def;
}

Result<std::vector<CatalogEntry>> PgStore::list(std::string_view dir, bool recursive) {
  std::string d;
  if (!trim(dir).empty()) {
    PXT_TRY(d, normalize_path(dir));
  }
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto cat, catalog_checked(*c));
  if (!d.empty() && !cat->dirs.count(d)) return dir_not_found(*cat, d);
  auto wanted = [&](const std::string& p) { return is_under(p, d) && (recursive || parent_path(p) == d); };
  std::vector<CatalogEntry> out;
  for (const auto& p : cat->dirs)
    if (wanted(p)) out.push_back({CatalogEntry::Kind::Dir, p});
  for (const auto& [p, t] : cat->tables)
    if (wanted(p)) out.push_back({CatalogEntry::Kind::Table, p});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

Result<void> PgStore::drop_table(std::string_view path, bool force) {
  (void)force;  // as SQLite's: no catalog object depends on a table yet
  PXT_TRY(std::string p, normalize_path(path));
  std::vector<std::string> media;
  std::vector<IndexDef> indexes;  // their graphs go too
  auto changed = change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    media.clear();
    auto it = cat.tables.find(p);
    if (it == cat.tables.end()) return table_not_found(cat, p);
    indexes = it->second->def.indexes;
    return drop_table_rows(c, *it->second, media);
  });
  if (!changed) return changed.error();
  for (const IndexDef& idx : indexes) graphs_->forget(idx.id);
  remove_media_files(media_dir(), media);
  return {};
}

Result<void> PgStore::drop_dir(std::string_view path, bool force) {
  PXT_TRY(std::string p, normalize_path(path));
  std::vector<std::string> media;
  auto changed = change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    media.clear();
    if (!cat.dirs.count(p)) return dir_not_found(cat, p);
    std::vector<std::string> dirs;
    std::vector<const TableInfo*> tables;
    for (const auto& d : cat.dirs)
      if (is_under(d, p)) dirs.push_back(d);
    for (const auto& [tp, t] : cat.tables)
      if (is_under(tp, p)) tables.push_back(t.get());
    if (!force && (!dirs.empty() || !tables.empty())) {
      return make_error(Errc::invalid_argument,
                        "directory '" + p + "' is not empty (" + std::to_string(tables.size()) +
                            " table(s), " + std::to_string(dirs.size()) +
                            " directory(ies)); drop it with force to delete its contents");
    }
    for (const TableInfo* t : tables) PXT_CHECK(drop_table_rows(c, *t, media));
    dirs.push_back(p);
    for (const auto& d : dirs) {
      Params params;
      params.add(d);
      PXT_CHECK(c.run_once("DELETE FROM pxt.dirs WHERE path = $1", params));
    }
    return {};
  });
  if (!changed) return changed.error();
  remove_media_files(media_dir(), media);
  return {};
}

Result<void> PgStore::move(std::string_view from, std::string_view to) {
  PXT_TRY(std::string src, normalize_path(from));
  PXT_TRY(std::string dst, normalize_path(to));
  return change_catalog([&](Conn& c, const Catalog& cat) -> Result<void> {
    bool is_table = cat.tables.count(src) > 0;
    if (!is_table && !cat.dirs.count(src)) {
      auto all = cat.table_paths();
      auto dirs = cat.dir_paths();
      all.insert(all.end(), dirs.begin(), dirs.end());
      return make_error(Errc::not_found, "'" + src + "' does not exist" + did_you_mean(src, all));
    }
    if (cat.tables.count(dst) || cat.dirs.count(dst))
      return make_error(Errc::already_exists, "'" + dst + "' already exists");
    if (!is_table && is_under(dst, src))
      return make_error(Errc::invalid_argument,
                        "cannot move directory '" + src + "' into itself ('" + dst + "')");
    PXT_CHECK(check_parent(cat, dst));
    auto renamed = [&](const std::string& p) { return dst + p.substr(src.size()); };
    for (const auto& [tp, t] : cat.tables) {
      if (tp != src && !is_under(tp, src)) continue;
      PXT_CHECK(check_name_length(renamed(tp)));
      PXT_CHECK(c.exec("ALTER TABLE " + t->qname + " RENAME TO " + quote_ident(renamed(tp))));
      Params p;
      p.add(renamed(tp));
      p.add_int(t->def.id);
      PXT_CHECK(c.run_once("UPDATE pxt.tables SET path = $1, version = version + 1 WHERE id = $2", p));
    }
    for (const auto& d : cat.dirs) {
      if (d != src && !is_under(d, src)) continue;
      PXT_CHECK(check_name_length(renamed(d)));
      Params p;
      p.add(renamed(d));
      p.add(d);
      PXT_CHECK(c.run_once("UPDATE pxt.dirs SET path = $1 WHERE path = $2", p));
    }
    return {};
  });
}

}  // namespace pxt::pg
