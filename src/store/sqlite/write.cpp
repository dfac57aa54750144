// Writes of the SQLite store: insert, insert_stream, update, remove and compute. Computed columns
// are evaluated by SQLite in dependency order in one statement per (table, input columns), cached
// per connection: the expressions inlined over the parameters when they read stored columns only,
// else nested SELECTs (store/expr/computed.hpp). Stored rows come back through RETURNING without a re-read.
#include <algorithm>
#include <optional>

#include "store/expr/computed.hpp"
#include "store/functions/context.hpp"
#include "store/functions/registry.hpp"
#include "store/model/values.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/write_check.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

void bind_row(sqlite3_stmt* s, const TableDef& def, const std::vector<int>& idx, const Row& row) {
  for (size_t k = 0; k < idx.size(); ++k) {
    bind_typed(s, static_cast<int>(k + 1), def.columns[static_cast<size_t>(idx[k])].type, row[k]);
  }
}

// SELECT ?1 AS "a", NULL AS "b", ...: every stored column, the given ones as parameters.
std::string input_select(const TableDef& def, const std::vector<int>& idx) {
  std::string sql = "SELECT ";
  bool first = true;
  for (size_t i = 0; i < def.columns.size(); ++i) {
    if (def.columns[i].is_computed()) continue;
    auto pos = std::find(idx.begin(), idx.end(), static_cast<int>(i));
    sql += first ? "" : ", ";
    sql += pos == idx.end() ? "NULL" : "?" + std::to_string(pos - idx.begin() + 1);
    sql += " AS " + quote_ident(def.columns[i].name);
    first = false;
  }
  return first ? sql + "NULL AS _none" : sql;  // a table of computed columns only
}

bool is_sql_keyword(std::string_view w) {
  return sqlite3_keyword_check(w.data(), static_cast<int>(w.size())) != 0;
}

// When every computed column reads stored columns only, the expressions can take the parameters
// directly: INSERT ... VALUES (?1, ?2, (upper((?1)))), a third faster than nested SELECTs. Deeper
// chains keep the nesting, which evaluates each expression once; so do columns named like SQL
// keywords, which substitute_columns leaves alone.
bool flat_computed(const TableInfo& t) {
  for (int i : t.order) {
    for (const auto& dep : t.def.columns[static_cast<size_t>(i)].depends_on) {
      if (t.def.find(dep)->is_computed() || is_sql_keyword(dep)) return false;
    }
  }
  return true;
}

std::string insert_sql(const TableInfo& t, const std::vector<int>& idx, bool returning) {
  const TableDef& def = t.def;
  std::vector<std::string> cols, values;
  for (size_t k = 0; k < idx.size(); ++k) {
    cols.push_back(quote_ident(def.columns[static_cast<size_t>(idx[k])].name));
    values.push_back("?" + std::to_string(k + 1));
  }
  for (int i : t.order) cols.push_back(quote_ident(def.columns[static_cast<size_t>(i)].name));
  std::string sql;
  if (cols.empty()) {
    sql = "INSERT INTO " + t.qname + " DEFAULT VALUES";
  } else if (flat_computed(t)) {
    std::vector<std::string> replacement(def.columns.size(), "NULL");
    for (size_t k = 0; k < idx.size(); ++k) replacement[static_cast<size_t>(idx[k])] = values[k];
    for (int i : t.order) {
      values.push_back(
          "(" +
          substitute_columns(def.columns[static_cast<size_t>(i)].computed, def, replacement, is_sql_keyword) +
          ")");
    }
    sql = "INSERT INTO " + t.qname + " (" + join(cols, ", ") + ") VALUES (" + join(values, ", ") + ")";
  } else {
    std::string list = join(cols, ", ");
    sql = "INSERT INTO " + t.qname + " (" + list + ") SELECT " + list + " FROM (" +
          layered_select(def, input_select(def, idx), t.order) + ") AS _in";
  }
  return returning ? sql + " RETURNING *" : sql;
}

// Identifies insert_sql(t, idx, returning) without building it.
std::string insert_key(const TableInfo& t, const std::vector<int>& idx, bool returning) {
  std::string key = returning ? "ins+" : "ins-";
  key += std::to_string(t.def.id);
  key += '.';
  key += std::to_string(t.def.version);
  for (int i : idx) {
    key += ',';
    key += std::to_string(i);
  }
  return key;
}

std::string after_last_dot(const std::string& s) {
  size_t dot = s.rfind('.');
  return dot == std::string::npos ? s : s.substr(dot + 1);
}

// Finds the computed column whose expression fails for the bound inputs, by evaluating the
// columns one at a time in dependency order. Returns its error, or nullopt if none fails.
template <class Binder>
std::optional<Error> diagnose(Conn& c, const TableDef& def, const std::vector<int>& cols,
                              const std::string& base, const Binder& bind) {
  for (size_t k = 0; k < cols.size(); ++k) {
    const ColumnDef& col = def.columns[static_cast<size_t>(cols[k])];
    std::vector<int> before(cols.begin(), cols.begin() + static_cast<long>(k));
    auto stmt =
        c.prepare("SELECT (" + col.computed + ") FROM (" + layered_select(def, base, before) + ") AS _d");
    if (!stmt.ok()) continue;
    bind(stmt->get());
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(c.db());
      return computed_failure(col, msg, function_fault(c.db()));
    }
  }
  return std::nullopt;
}

// Turns a failed step into pxt's words. `pk` describes the key of the row being written.
template <class Binder>
Error write_error(Conn& c, int rc, const TableDef& def, const std::vector<int>& cols, const std::string& base,
                  const Binder& bind, const std::string& pk) {
  std::string msg = sqlite3_errmsg(c.db());
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) return duplicate_key_error(pk);
  if (rc == SQLITE_CONSTRAINT_NOTNULL || rc == SQLITE_CONSTRAINT_DATATYPE) {
    std::string name = after_last_dot(msg);
    const ColumnDef* col = def.find(name);
    if (col && col->is_computed()) return computed_result_error(*col, rc == SQLITE_CONSTRAINT_NOTNULL);
    if (col) return required_null(*col);
  }
  if ((rc & 0xff) != SQLITE_CONSTRAINT && (rc & 0xff) != SQLITE_BUSY) {
    Error first = map_error(c.db(), rc);
    if (auto e = diagnose(c, def, cols, base, bind)) return *e;
    return first;
  }
  return map_error(c.db(), rc);
}

// SELECT of a row as an update will leave it: set columns from parameters ?1.., the others from the
// stored row, without the computed columns that must be recomputed.
std::string updated_row(const TableInfo& t, const std::vector<int>& idx, const std::vector<int>& affected) {
  const TableDef& def = t.def;
  std::vector<std::string> cols;
  for (size_t i = 0; i < def.columns.size(); ++i) {
    if (std::find(affected.begin(), affected.end(), int(i)) != affected.end()) continue;
    auto pos = std::find(idx.begin(), idx.end(), int(i));
    std::string name = quote_ident(def.columns[i].name);
    cols.push_back((pos == idx.end() ? t.qname + "." + name : "?" + std::to_string(pos - idx.begin() + 1)) +
                   " AS " + name);
  }
  return "SELECT " + join(cols, ", ");
}

// UPDATE ... SET without the WHERE clause: a plain assignment when no computed column depends on
// the set columns, else every set and recomputed column from the layered select over `base`.
std::string update_sql(const TableInfo& t, const std::vector<int>& idx, const std::vector<int>& affected,
                       const std::string& base) {
  std::vector<std::string> targets;
  for (int i : idx) targets.push_back(quote_ident(t.def.columns[static_cast<size_t>(i)].name));
  if (affected.empty()) {
    for (size_t k = 0; k < targets.size(); ++k) targets[k] += " = ?" + std::to_string(k + 1);
    return "UPDATE " + t.qname + " SET " + join(targets, ", ");
  }
  for (int i : affected) targets.push_back(quote_ident(t.def.columns[static_cast<size_t>(i)].name));
  std::string list = join(targets, ", ");
  return "UPDATE " + t.qname + " SET (" + list + ") = (SELECT " + list + " FROM (" +
         layered_select(t.def, base, affected) + ") AS _up)";
}

// The non-null values of columns `cols` in the rows matching `filter` (read inside the write
// transaction, before an update replaces them).
Result<std::vector<std::string>> column_files(Conn& c, const TableInfo& t, const std::vector<int>& cols,
                                              const Filter& filter) {
  PXT_TRY(FilterSql where, filter_sql(t.def, filter, 1));
  std::vector<std::string> names;
  for (int i : cols) names.push_back(quote_ident(t.def.columns[static_cast<size_t>(i)].name));
  PXT_TRY(OwnedStmt s, c.prepare("SELECT " + join(names, ", ") + " FROM " + t.qname + where.where));
  bind_filter(s.get(), where, 1);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    for (int k = 0; k < static_cast<int>(cols.size()); ++k) {
      if (const auto* text = sqlite3_column_text(s.get(), k))
        out.emplace_back(reinterpret_cast<const char*>(text));
    }
  }
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, "reading the files an update replaces");
  return out;
}

// Whether a computed column of def calls a function that writes compute ahead (resize(...),
// document_text(...), ...).
bool computes_ahead(const TableDef& def) {
  return std::any_of(def.columns.begin(), def.columns.end(),
                     [](const ColumnDef& c) { return c.is_computed() && pxt::computes_ahead(c.computed); });
}

// Whether an expression calls a function that computes many calls at once (embed()).
bool calls_batch_function(std::string_view expr) {
  std::vector<SqlToken> toks = tokenize_sql(expr);
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (toks[i].kind != SqlToken::Kind::Ident || toks[i + 1].kind != SqlToken::Kind::LParen) continue;
    auto fn = find_sql_function(toks[i].text);
    if (fn && fn->batch) return true;
  }
  return false;
}

// Whether writing def's rows makes such calls (computed columns, embedding indexes).
bool batches(const TableDef& def, const std::vector<IndexDef>& indexes) {
  for (const auto& c : def.columns)
    if (c.is_computed() && calls_batch_function(c.computed)) return true;
  for (const auto& i : indexes)
    if (calls_batch_function(i.embedding)) return true;
  return false;
}

// Vector values against their column's dimension, which the first value stored decides and the
// catalog keeps (pxt$columns.vector_dim, doc/catalog.md). Used inside a write, on its connection:
// learning a dimension is part of the write, and rolled back with it.
class VectorDims {
 public:
  VectorDims(Conn& c, const TableInfo& t) : c_(c), t_(t) {
    for (const auto& col : t.def.columns) {
      dims_.push_back(col.vector_dim);
      any_ = any_ || col.type == ColumnType::Vector;
    }
  }
  // A row of every column, in table order.
  Result<void> check_row(const Row& row) {
    if (!any_) return {};
    for (size_t i = 0; i < row.size() && i < dims_.size(); ++i) PXT_CHECK(check(i, row[i]));
    return {};
  }
  // Values given for columns idx.
  Result<void> check_inputs(const std::vector<int>& idx, const Row& row) {
    if (!any_) return {};
    for (size_t k = 0; k < idx.size() && k < row.size(); ++k)
      PXT_CHECK(check(static_cast<size_t>(idx[k]), row[k]));
    return {};
  }

 private:
  Result<void> check(size_t i, const Value& v) {
    const ColumnDef& col = t_.def.columns[i];
    const auto* s = std::get_if<std::string>(&v);
    if (col.type != ColumnType::Vector || !s) return {};
    auto n = static_cast<int64_t>(s->size() / 4);
    std::string where = "table_id = " + std::to_string(t_.def.id) + " AND name = " + quote_literal(col.name);
    if (dims_[i] == 0) {
      // Another write may have learned it since the catalog was read.
      PXT_TRY(dims_[i], c_.scalar_int("SELECT vector_dim FROM \"pxt$columns\" WHERE " + where));
    }
    if (dims_[i] == 0) {
      PXT_CHECK(c_.exec(
          ("UPDATE \"pxt$columns\" SET vector_dim = " + std::to_string(n) + " WHERE " + where).c_str()));
      dims_[i] = n;
    }
    if (n != dims_[i]) {
      return make_error(Errc::invalid_argument, "column '" + col.name + "' holds Vectors of " +
                                                    std::to_string(dims_[i]) + " dimensions; this one has " +
                                                    std::to_string(n) + " (a different model?)");
    }
    return {};
  }

  Conn& c_;
  const TableInfo& t_;
  std::vector<int64_t> dims_;
  bool any_ = false;
};

}  // namespace

Result<std::vector<Row>> SqliteStore::insert(const TableDef& t, const std::vector<std::string>& columns,
                                             const std::vector<Row>& rows, const RowCheck& check) {
  PXT_TRY(std::vector<int> idx, plan_inputs(t, columns, true));
  for (const Row& row : rows) PXT_CHECK(check_row(t, idx, row, true));
  std::vector<Row> out;
  CreatedFiles created(media_dir());  // files made by image functions; removed unless committed
  // The indexes as the catalog last loaded them: the route's definition may predate one (an index
  // added later does not change the table's version). One added since this check is still kept up
  // to date by its triggers, only with its model call inside the write.
  std::vector<IndexDef> indexes = indexes_of(t.path);
  if (computes_ahead(t) || !indexes.empty()) {
    // Image work, text extraction and model calls take milliseconds to seconds: do them before
    // the write, outside the writer lock, so other writers are not held up and several inserts'
    // slow calls run in parallel (insert_ahead).
    insert_ahead(created, t, idx, rows, rows.size() > 1 && batches(t, indexes));
  }
  PXT_CHECK(write_grouped([&](Conn& c) -> Result<void> {
    CreatedFilesScope scope(created);
    PXT_TRY(auto info, fresh(c, t));
    PXT_TRY(sqlite3_stmt * s,
            c.cached_as(insert_key(*info, idx, true), [&] { return insert_sql(*info, idx, true); }));
    out.reserve(rows.size());
    VectorDims dims(c, *info);
    for (const Row& row : rows) {
      // A given Vector of another dimension is named as such, before computed columns over it fail.
      PXT_CHECK(dims.check_inputs(idx, row));
      StmtUse use(s);
      bind_row(s, info->def, idx, row);
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        out.emplace_back();
        read_row(s, info->def, out.back());
        if (auto fits = dims.check_row(out.back()); !fits.ok()) return fits.error();
      }
      if (rc != SQLITE_DONE) {
        return write_error(
            c, rc, info->def, info->order, input_select(info->def, idx),
            [&](sqlite3_stmt* d) { bind_row(d, info->def, idx, row); }, pk_text(info->def, idx, row));
      }
    }
    if (check)
      for (const Row& r : out)
        if (auto fine = check(r); !fine) return fine.error();
    return {};
  }));
  created.keep_referenced(out);
  return out;
}

Result<int64_t> SqliteStore::insert_stream(const TableDef& t, const std::vector<std::string>& columns,
                                           const RowSource& next) {
  PXT_TRY(std::vector<int> idx, plan_inputs(t, columns, true));
  if (computes_ahead(t) || !indexes_of(t.path).empty()) {
    // Slow calls (model calls, image work) never run inside the writer lock, and the load is one
    // transaction: read every row first, compute ahead, then write them all (insert()).
    std::vector<Row> rows;
    for (Row row;;) {
      PXT_TRY(bool more, next(row));
      if (!more) break;
      if (auto ok = check_row(t, idx, row, true); !ok.ok()) {
        return make_error(ok.error().code,
                          "row " + std::to_string(rows.size() + 1) + ": " + ok.error().message);
      }
      rows.push_back(std::move(row));
    }
    PXT_TRY(std::vector<Row> stored, insert(t, columns, rows));
    return static_cast<int64_t>(stored.size());
  }
  PXT_TRY(Lease c, conn());
  CreatedFiles created(media_dir());
  CreatedFilesScope scope(created);
  WriteTxn txn(writer_mu_, *c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto info, fresh(*c, t));
  PXT_TRY(sqlite3_stmt * s,
          c->cached_as(insert_key(*info, idx, false), [&] { return insert_sql(*info, idx, false); }));
  Row row;
  int64_t n = 0;
  VectorDims dims(*c, *info);
  while (true) {
    PXT_TRY(bool more, next(row));
    if (!more) break;
    ++n;
    if (auto ok = check_row(info->def, idx, row, true); !ok.ok()) {
      return make_error(ok.error().code, "row " + std::to_string(n) + ": " + ok.error().message);
    }
    StmtUse use(s);
    bind_row(s, info->def, idx, row);
    if (auto ok = dims.check_inputs(idx, row); !ok.ok())
      return make_error(ok.error().code, "row " + std::to_string(n) + ": " + ok.error().message);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      Error e = write_error(
          *c, rc, info->def, info->order, input_select(info->def, idx),
          [&](sqlite3_stmt* d) { bind_row(d, info->def, idx, row); }, pk_text(info->def, idx, row));
      return make_error(e.code, "row " + std::to_string(n) + ": " + e.message);
    }
  }
  PXT_CHECK(txn.commit());
  created.keep();
  return n;
}

Result<std::vector<Row>> SqliteStore::update(const TableDef& t, const Filter& filter,
                                             const std::vector<std::pair<std::string, Value>>& set,
                                             const RowCheck& check) {
  if (set.empty()) return make_error(Errc::invalid_argument, "nothing to update: no column values given");
  std::vector<std::string> names;
  Row values;
  for (const auto& [n, v] : set) {
    names.push_back(n);
    values.push_back(v);
  }
  PXT_TRY(std::vector<int> idx, plan_inputs(t, names, false));
  PXT_CHECK(check_row(t, idx, values, true));
  std::vector<Row> out;
  CreatedFiles created(media_dir());
  std::vector<int> replaced;           // changed media columns: their old files go unless reused
  std::vector<std::string> old_files;  // their values before the update
  std::vector<IndexDef> indexes = indexes_of(t.path);
  if (computes_ahead(t) || !indexes.empty()) {
    // As insert does: the slow calls first, outside the writer lock (a failure is remembered),
    // those of many rows in batches.
    if (filter.equals.empty() && batches(t, indexes)) {
      CallCollector collector;
      (void)update_ahead(created, t, idx, values, filter);
      collector.run(FunctionContext{media_dir(), &created}, created);
    }
    created.set_ahead(true);
    (void)update_ahead(created, t, idx, values, filter);
    created.set_ahead(false);
  }
  PXT_CHECK(write_grouped([&](Conn& c) -> Result<void> {
    CreatedFilesScope scope(created);
    out.clear();
    PXT_TRY(auto info, fresh(c, t));
    const TableDef& def = info->def;
    int first_filter = static_cast<int>(idx.size()) + 1;
    PXT_TRY(FilterSql where, filter_sql(def, filter, first_filter));
    std::vector<int> affected = affected_computed(def, info->order, idx);
    // The media files the update replaces: old values of changed inputs (a new upload) and of
    // recomputed media columns (a new resize(...) result).
    std::vector<int> changed = idx;
    changed.insert(changed.end(), affected.begin(), affected.end());
    replaced = media_columns(def, changed);
    if (!replaced.empty()) {
      PXT_TRY(old_files, column_files(c, *info, replaced, filter));
    }
    std::string base = updated_row(*info, idx, affected);
    std::string sql = update_sql(*info, idx, affected, base) + where.where + " RETURNING *";
    auto prepared = c.cached(sql);
    if (!prepared.ok()) return user_sql_error(prepared.error(), &def, nullptr, "invalid filter");
    sqlite3_stmt* s = *prepared;
    StmtUse use(s);
    auto bind_all = [&](sqlite3_stmt* st) {
      bind_row(st, def, idx, values);
      bind_filter(st, where, first_filter);
    };
    bind_all(s);
    int rc;
    VectorDims dims(c, *info);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.emplace_back();
      read_row(s, def, out.back());
      if (auto fits = dims.check_row(out.back()); !fits.ok()) return fits.error();
    }
    if (rc != SQLITE_DONE) {
      std::string diag_base = base + " FROM " + info->qname + where.where;
      return write_error(c, rc, def, affected, diag_base, bind_all, updated_pk_text(def, idx, values));
    }
    if (check)
      for (const Row& r : out)
        if (auto fine = check(r); !fine) return fine.error();
    return {};
  }));
  created.keep_referenced(out);
  if (!replaced.empty()) remove_replaced_files(media_dir(), old_files, files_in(out, replaced));
  return out;
}

Result<int64_t> SqliteStore::remove(const TableDef& t, const Filter& filter) {
  int64_t n = 0;
  std::vector<std::string> gone;
  PXT_CHECK(write_grouped([&](Conn& c) -> Result<void> {
    gone.clear();
    PXT_TRY(auto info, fresh(c, t));
    PXT_TRY(FilterSql where, filter_sql(info->def, filter, 1));
    auto collected = collect_media(c, *info, media_columns(info->def), &where, 1, gone);
    if (!collected) return collected.error();
    auto prepared = c.cached("DELETE FROM " + info->qname + where.where);
    if (!prepared.ok()) return user_sql_error(prepared.error(), &info->def, nullptr, "invalid filter");
    StmtUse use(*prepared);
    bind_filter(*prepared, where, 1);
    int rc = sqlite3_step(*prepared);
    if (rc != SQLITE_DONE) return map_error(c.db(), rc, "delete failed");
    n = sqlite3_changes64(c.db());
    return {};
  }));
  remove_media_files(media_dir(), gone);
  return n;
}

Result<Row> SqliteStore::compute(const TableDef& t, const std::vector<std::string>& columns,
                                 const Row& inputs) {
  PXT_TRY(std::vector<int> idx, plan_inputs(t, columns, false));
  PXT_CHECK(check_row(t, idx, inputs, false));
  // Files made here are the response's values and belong to no row: they stay.
  CreatedFiles created(media_dir());
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, current(*c, t));
  CreatedFilesScope scope(created);
  PXT_TRY(Row out, evaluate(*c, *info, idx, inputs));
  created.keep_referenced({out});
  return out;
}

// Why nothing here runs inside a transaction: a read transaction pins the WAL frames its snapshot
// may need, so no checkpoint can copy past them and the WAL cannot restart. A resize() takes
// ~50 ms; with overlapping uploads some read transaction was always open, and the WAL grew
// without bound (1.9 GB in a soak with 5% uploads). The catalog is read in a short transaction
// (current()); the statements below read no table, so SQLite takes no snapshot for them.
void SqliteStore::insert_ahead(CreatedFiles& created, const TableDef& t, const std::vector<int>& idx,
                               const std::vector<Row>& rows, bool batch) {
  auto c = conn();
  if (!c.ok()) return;  // the write itself reports it
  auto info = current(**c, t);
  if (!info.ok()) return;
  CreatedFilesScope scope(created);
  if (batch) {
    // Many rows calling embed(): record those calls first, then make them in batches of up to 32
    // inputs with several requests in flight, instead of one request per row in turn.
    CallCollector collector;
    for (const Row& row : rows) (void)evaluate(**c, **info, idx, row, true);
    collector.run(FunctionContext{media_dir(), &created}, created);
  }
  // A row that fails ends this early: its error is remembered, and the write reports it where it
  // would have without computing ahead (after an earlier row's key conflict, say).
  created.set_ahead(true);
  for (const Row& row : rows) {
    if (!evaluate(**c, **info, idx, row, true).ok()) break;
  }
  created.set_ahead(false);
}

Result<void> SqliteStore::update_ahead(CreatedFiles& created, const TableDef& t, const std::vector<int>& idx,
                                       const Row& values, const Filter& filter) {
  PXT_TRY(Lease c, conn());
  std::shared_ptr<const TableInfo> info;
  std::vector<int> affected, kept;  // recomputed columns; the columns of the rows read
  std::vector<Row> rows;
  std::string index_exprs;  // the embeddings of the indexes whose column the update changes
  {
    ReadTxn txn(*c);
    PXT_CHECK(txn.begin());
    PXT_TRY(info, fresh(*c, t));
    const TableDef& def = info->def;
    affected = affected_computed(def, info->order, idx);
    for (const auto& ix : def.indexes) {
      int col = def.index_of(ix.column);
      bool changed = std::find(idx.begin(), idx.end(), col) != idx.end() ||
                     std::find(affected.begin(), affected.end(), col) != affected.end();
      if (changed) index_exprs += ", (" + ix.embedding + ")";
    }
    if (index_exprs.empty() && std::none_of(affected.begin(), affected.end(), [&](int i) {
          return pxt::computes_ahead(def.columns[static_cast<size_t>(i)].computed);
        }))
      return {};  // the update recomputes no slow call
    int first_filter = static_cast<int>(idx.size()) + 1;
    PXT_TRY(FilterSql where, filter_sql(def, filter, first_filter));
    // The rows as update_sql's SET will see them, without the columns it recomputes.
    PXT_TRY(sqlite3_stmt * s,
            c->cached(updated_row(*info, idx, affected) + " FROM " + info->qname + where.where));
    StmtUse use(s);
    bind_row(s, def, idx, values);
    bind_filter(s, where, first_filter);
    for (size_t i = 0; i < def.columns.size(); ++i)
      if (std::find(affected.begin(), affected.end(), static_cast<int>(i)) == affected.end())
        kept.push_back(static_cast<int>(i));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row& r = rows.emplace_back(kept.size());
      for (size_t k = 0; k < kept.size(); ++k)
        read_value(s, static_cast<int>(k), def.columns[static_cast<size_t>(kept[k])].type, r[k]);
    }
    if (rc != SQLITE_DONE) return map_error(c->db(), rc);
  }
  // The read transaction has ended: the slow calls run over the rows' values as parameters.
  const TableDef& def = info->def;
  std::string base = "SELECT ";
  for (size_t k = 0; k < kept.size(); ++k) {
    base += (k ? ", ?" : "?") + std::to_string(k + 1) + " AS " +
            quote_ident(def.columns[static_cast<size_t>(kept[k])].name);
  }
  CreatedFilesScope scope(created);
  PXT_TRY(sqlite3_stmt * s, c->cached("SELECT *" + index_exprs + " FROM (" +
                                      layered_select(def, base, affected) + ") AS _ahead"));
  for (const Row& r : rows) {
    StmtUse use(s);
    for (size_t k = 0; k < kept.size(); ++k)
      bind_typed(s, static_cast<int>(k + 1), def.columns[static_cast<size_t>(kept[k])].type, r[k]);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return map_error(c->db(), rc);
  }
  return {};
}

Result<Row> SqliteStore::evaluate(Conn& c, const TableInfo& info, const std::vector<int>& idx,
                                  const Row& inputs, bool with_indexes) {
  const TableDef& def = info.def;
  std::vector<std::string> cols;
  for (const auto& col : def.columns) cols.push_back(quote_ident(col.name));
  // The embeddings the indexes' triggers will compute, computed ahead with the row.
  if (with_indexes)
    for (const auto& ix : def.indexes) cols.push_back("(" + ix.embedding + ")");
  std::string base = input_select(def, idx);
  PXT_TRY(sqlite3_stmt * s, c.cached("SELECT " + join(cols, ", ") + " FROM (" +
                                     layered_select(def, base, info.order) + ") AS _c"));
  StmtUse use(s);
  bind_row(s, def, idx, inputs);
  Row out;
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    return write_error(
        c, rc, def, info.order, base, [&](sqlite3_stmt* d) { bind_row(d, def, idx, inputs); }, "");
  }
  read_row(s, def, out);
  out.resize(def.columns.size());
  return out;
}

}  // namespace pxt::sqlite
