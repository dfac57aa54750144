// Reads of the PostgreSQL store: count, select (streamed one row at a time, so a big table never
// sits in memory whole) and the media names the orphan sweep needs.
#include "store/postgres/pg_store.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

Error read_error(const PgError& e, const TableDef& def, std::string_view what) {
  if (e.sqlstate == "42P01") return stale_error();  // dropped or renamed meanwhile
  return user_sql_error(e, &def, nullptr, what);
}

}  // namespace

Result<int64_t> PgStore::count(const TableDef& t, const Filter& filter) {
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  std::string sql = "SELECT count(*) FROM " + info->qname;
  Params p(true);
  PXT_CHECK(append_filter(sql, p, info->def, filter, info->guard));
  auto r = c->run(sql, p);
  if (!r) return read_error(c->last_error(), info->def, "invalid filter");
  return r->int_at(0, 0);
}

Result<void> PgStore::select(const TableDef& t, const SelectSpec& spec, const RowCallback& cb) {
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  Params p(true);
  TableDef shape;  // the result's columns, in the requested order
  const TableDef& def = info->def;
  std::vector<std::string> cols;
  if (spec.columns.empty()) {
    shape.columns = def.columns;
    for (const auto& col : def.columns) cols.push_back(quote_ident(col.name));
  } else {
    for (const auto& name : spec.columns) {
      const ColumnDef* col = def.find(name);
      if (!col) return unknown_column(def, name);
      shape.columns.push_back(*col);
      cols.push_back(quote_ident(col->name));
    }
  }
  std::string sql = "SELECT " + join(cols, ", ") + " FROM " + info->qname;
  PXT_CHECK(append_filter(sql, p, def, spec.filter, info->guard));
  if (!trim(spec.order_by).empty()) {
    PXT_CHECK(check_internal_refs(spec.order_by, "invalid filter or order"));
    sql += " ORDER BY " + order_by_sql(spec.order_by, def) + ", \"pxt$row\"";
  } else {
    sql += " ORDER BY \"pxt$row\"";  // insertion order, as SQLite's rowid
  }
  if (spec.limit >= 0) sql += " LIMIT " + std::to_string(spec.limit);
  Row row(shape.columns.size());
  auto r = c->stream(sql, p, [&](const PgResult& one) {
    for (size_t k = 0; k < shape.columns.size(); ++k)
      read_cell(one, 0, static_cast<int>(k), shape.columns[k].type, row[k]);
    return cb(row);
  });
  if (!r)
    return read_error(c->last_error(), def,
                      spec.order_by.empty() ? "invalid filter" : "invalid filter or order");
  return {};
}

Result<void> PgStore::media_names(const std::function<void(std::string_view)>& cb) {
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto cat, catalog_checked(*c));
  Txn txn(*c);  // one snapshot for every table
  PXT_CHECK(txn.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  for (const auto& [path, info] : cat->tables) {
    std::vector<int> cols = media_columns(info->def);
    if (cols.empty()) continue;
    std::vector<std::string> names;
    for (int i : cols) names.push_back(quote_ident(info->def.columns[static_cast<size_t>(i)].name));
    auto r =
        c->stream("SELECT " + join(names, ", ") + " FROM " + info->qname, Params(), [&](const PgResult& one) {
          for (int k = 0; k < one.cols(); ++k)
            if (!one.null(0, k)) cb(one.text(0, k));
          return true;
        });
    if (!r) {
      // A table dropped since the catalog was read has no files left to keep.
      if (c->last_error().sqlstate == "42P01")
        return make_error(Errc::conflict, "the catalog changed during the media scan; retry");
      return make_error(r.error().code, "reading media names of '" + path + "': " + r.error().message);
    }
  }
  // Unfinished jobs name media files adopted for them and not yet in any row: another process
  // may claim such a job and store them later (jobs.cpp).
  auto r = c->stream(
      "SELECT jsonb_array_elements_text(media) FROM pxt.jobs WHERE finished_ms IS NULL AND "
      "media IS NOT NULL",
      Params(), [&](const PgResult& one) {
        cb(one.text(0, 0));
        return true;
      });
  if (!r) return make_error(r.error().code, "reading the media names of pending jobs: " + r.error().message);
  return txn.commit();
}

}  // namespace pxt::pg
