// Reads of the SQLite store (select, count) and the shared filter builder.
#include "store/model/iso_time.hpp"
#include "store/model/time_zone.hpp"
#include "store/model/values.hpp"
#include "store/model/vector.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

int bind_typed(sqlite3_stmt* s, int i, ColumnType t, const Value& v) {
  if (t == ColumnType::Float) {
    if (auto* n = std::get_if<int64_t>(&v)) return sqlite3_bind_double(s, i, static_cast<double>(*n));
  }
  if (t == ColumnType::Vector) {
    if (auto* b = std::get_if<std::string>(&v))
      return sqlite3_bind_blob64(s, i, b->data(), b->size(), SQLITE_STATIC);
  }
  if (t == ColumnType::Timestamp) {
    // Every spelling of an instant is stored (and compared) in one form (doc/timestamps.md).
    if (const auto* text = std::get_if<std::string>(&v)) {
      if (auto stored = normalize_timestamp(*text, default_time_zone())) {
        return sqlite3_bind_text(s, i, stored->data(), static_cast<int>(stored->size()), SQLITE_TRANSIENT);
      }
    }
  }
  return bind_value(s, i, v);
}

void read_row(sqlite3_stmt* s, const TableDef& def, Row& row) {
  int n = sqlite3_column_count(s);
  row.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::optional<ColumnType> t;
    if (static_cast<size_t>(i) < def.columns.size()) t = def.columns[static_cast<size_t>(i)].type;
    read_value(s, i, t, row[static_cast<size_t>(i)]);
  }
}

Result<FilterSql> filter_sql(const TableDef& def, const Filter& f, int first_param) {
  FilterSql out;
  std::vector<std::string> terms;
  for (const auto& [name, value] : f.equals) {
    const ColumnDef* c = def.find(name);
    if (!c) return unknown_column(def, name);
    PXT_CHECK(check_value(*c, value));
    int n = first_param + static_cast<int>(out.binds.size());
    terms.push_back(quote_ident(c->name) + (is_null(value) ? " IS ?" : " = ?") + std::to_string(n));
    out.binds.emplace_back(c->type, &value);
  }
  if (!trim(f.where_sql).empty()) terms.push_back("(" + f.where_sql + ")");
  if (!terms.empty()) out.where = " WHERE " + join(terms, " AND ");
  return out;
}

void bind_filter(sqlite3_stmt* s, const FilterSql& f, int first_param) {
  for (size_t k = 0; k < f.binds.size(); ++k) {
    bind_typed(s, first_param + static_cast<int>(k), f.binds[k].first, *f.binds[k].second);
  }
}

Result<int64_t> SqliteStore::count(const TableDef& t, const Filter& filter) {
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto info, fresh(*c, t));
  PXT_TRY(FilterSql where, filter_sql(info->def, filter, 1));
  auto prepared = c->cached("SELECT count(*) FROM " + info->qname + where.where);
  if (!prepared.ok()) return user_sql_error(prepared.error(), &info->def, nullptr, "invalid filter");
  StmtUse use(*prepared);
  bind_filter(*prepared, where, 1);
  int rc = sqlite3_step(*prepared);
  if (rc != SQLITE_ROW) return map_error(c->db(), rc, "count failed");
  return static_cast<int64_t>(sqlite3_column_int64(*prepared, 0));
}

Result<void> SqliteStore::select(const TableDef& t, const SelectSpec& spec, const RowCallback& cb) {
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto info, fresh(*c, t));
  const TableDef& def = info->def;
  // The result's definition: the selected columns in the requested order.
  TableDef shape;
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
  PXT_TRY(FilterSql where, filter_sql(def, spec.filter, 1));
  std::string sql = "SELECT " + join(cols, ", ") + " FROM " + info->qname + where.where;
  if (!trim(spec.order_by).empty()) sql += " ORDER BY " + spec.order_by;
  if (spec.limit >= 0) sql += " LIMIT " + std::to_string(spec.limit);
  auto prepared = c->cached(sql);
  if (!prepared.ok()) {
    return user_sql_error(prepared.error(), &def, nullptr,
                          spec.order_by.empty() ? "invalid filter" : "invalid filter or order");
  }
  sqlite3_stmt* s = *prepared;
  StmtUse use(s);
  bind_filter(s, where, 1);
  Row row;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    read_row(s, shape, row);
    if (!cb(row)) return {};
  }
  if (rc != SQLITE_DONE) return map_error(c->db(), rc, "select failed");
  return {};
}

}  // namespace pxt::sqlite
