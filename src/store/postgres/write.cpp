// Writes of the PostgreSQL store: insert, insert_stream, update, remove and compute.
//
// Computed columns are evaluated by PostgreSQL inside the write statement, in dependency order
// (the expressions inlined over the parameters when they read stored columns only, else nested
// SELECTs: store/expr/computed.hpp), and the stored row comes back through RETURNING: an insert
// is one statement, one round trip. pxt's own functions cannot run inside PostgreSQL, so their
// calls are evaluated by pxt first (resolve_calls) and bound as parameters (dialect.hpp). Every
// statement on a user table carries the table guard (pg_store.hpp), so a definition changed by
// any process fails with schema_changed.
#include <algorithm>
#include <optional>

#include "store/expr/computed.hpp"
#include "store/functions/context.hpp"
#include "store/postgres/pg_store.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

// Set while insert_stream runs its RowSource: a write from there is refused, as on SQLite (the
// stream's open transaction could wait for it).
thread_local bool t_streaming = false;

Error nested_write_error() {
  return make_error(Errc::invalid_argument,
                    "cannot write to the store from inside another write on this thread");
}

std::string slot_type(const CallSite& call) {
  return call.fn->result_type ? pg_type(*call.fn->result_type) : "text";
}

// The SQL of a write over `t`: the columns idx (table positions) are parameters $1..$n in that
// order, call results follow at $n+1.. (slot order). Stored columns not in idx are null.
struct Shape {
  const TableInfo& t;
  const std::vector<int>& idx;
  // The highest slot the SQL built so far refers to: exactly the parameters up to it are bound
  // (PostgreSQL refuses more parameters than a statement has).
  mutable int max_slot = -1;
  // Used instead of the parameters as the row computed columns read (an update's diagnosis
  // reads the stored rows).
  std::string custom_base = {};
  int first_slot_param() const { return static_cast<int>(idx.size()) + 1; }
  std::string slot_param(int slot) const {
    max_slot = std::max(max_slot, slot);
    const CallSite& call = t.compiled.calls[static_cast<size_t>(slot)];
    return "$" + std::to_string(first_slot_param() + slot) + "::" + slot_type(call);
  }
  // A computed column's expression with its call marks as parameters.
  std::string expr(int col) const {
    return render(t.compiled.exprs[static_cast<size_t>(col)], [&](int slot) { return slot_param(slot); });
  }
  // SELECT $1 AS "a", NULL::int8 AS "b", ...: every stored column and every given one, the
  // given ones as parameters.
  std::string base() const {
    if (!custom_base.empty()) return custom_base;
    std::string sql = "SELECT ";
    bool first = true;
    for (size_t i = 0; i < t.def.columns.size(); ++i) {
      const ColumnDef& c = t.def.columns[i];
      auto pos = std::find(idx.begin(), idx.end(), static_cast<int>(i));
      if (c.is_computed() && pos == idx.end()) continue;
      sql += first ? "" : ", ";
      sql += pos == idx.end() ? std::string("NULL::") + pg_type(c.type)
                              : param(static_cast<int>(pos - idx.begin()) + 1, c.type);
      sql += " AS " + quote_ident(c.name);
      first = false;
    }
    return first ? sql + "NULL AS _none" : sql;
  }
  // The computed columns `cols` (in order) layered over base().
  std::string layered(const std::vector<int>& cols) const {
    std::string sql = base();
    for (size_t k = 0; k < cols.size(); ++k) {
      const ColumnDef& c = t.def.columns[static_cast<size_t>(cols[k])];
      sql = "SELECT *, (" + expr(cols[k]) + ") AS " + quote_ident(c.name) + " FROM (" + sql + ") AS _l" +
            std::to_string(k);
    }
    return sql;
  }
  // Whether every computed column reads stored columns only: then the expressions take the
  // parameters directly, without nested SELECTs.
  bool flat() const {
    for (int i : t.order)
      for (const auto& dep : t.def.columns[static_cast<size_t>(i)].depends_on)
        if (t.def.find(dep)->is_computed()) return false;
    return true;
  }
  std::string insert(bool returning) const {
    const TableDef& def = t.def;
    std::vector<std::string> cols, values;
    std::vector<std::string> replacement(def.columns.size());
    for (size_t i = 0; i < def.columns.size(); ++i)
      replacement[i] = std::string("NULL::") + pg_type(def.columns[i].type);
    for (size_t k = 0; k < idx.size(); ++k) {
      const ColumnDef& c = def.columns[static_cast<size_t>(idx[k])];
      cols.push_back(quote_ident(c.name));
      values.push_back(param(static_cast<int>(k) + 1, c.type));
      replacement[static_cast<size_t>(idx[k])] = values.back();
    }
    for (int i : t.order) cols.push_back(quote_ident(def.columns[static_cast<size_t>(i)].name));
    std::string sql = "INSERT INTO " + t.qname;
    if (cols.empty()) {
      sql += " SELECT WHERE " + t.guard;
    } else if (flat()) {
      for (int i : t.order) {
        std::string e = substitute_columns(t.compiled.exprs[static_cast<size_t>(i)], def, replacement,
                                           [](std::string_view w) { return is_reserved_word(w); });
        values.push_back("(" + render(e, [&](int slot) { return slot_param(slot); }) + ")");
      }
      sql += " (" + join(cols, ", ") + ") SELECT " + join(values, ", ") + " WHERE " + t.guard;
    } else {
      std::string list = join(cols, ", ");
      sql += " (" + list + ") SELECT " + list + " FROM (" + layered(t.order) + ") AS _in WHERE " + t.guard;
    }
    return returning ? sql + " RETURNING " + t.returning : sql;
  }
};

void add_inputs(Params& p, const TableDef& def, const std::vector<int>& idx, const Row& row) {
  for (size_t k = 0; k < idx.size(); ++k) add_value(p, row[k], def.columns[static_cast<size_t>(idx[k])].type);
}

void add_slots(Params& p, const std::vector<Value>& slots, int max_slot, const std::vector<CallSite>& calls) {
  for (int k = 0; k <= max_slot && static_cast<size_t>(k) < slots.size(); ++k)
    add_result(p, slots[static_cast<size_t>(k)], *calls[static_cast<size_t>(k)].fn);
}

bool has_vectors(const TableDef& def) {
  return std::any_of(def.columns.begin(), def.columns.end(),
                     [](const ColumnDef& c) { return c.type == ColumnType::Vector; });
}

// Whether some call of the table batches (embed()): a write of many rows then collects them first.
bool batches_calls(const TableInfo& info) {
  return std::any_of(info.compiled.calls.begin(), info.compiled.calls.end(),
                     [](const CallSite& call) { return static_cast<bool>(call.fn->batch); });
}

// Reads each returned row (every column) and, for an indexed table, its "pxt$row" into rids.
void read_returned(const PgResult& r, const TableInfo& info, std::vector<Row>& out,
                   std::vector<int64_t>* rids) {
  const size_t n = info.def.columns.size();
  for (int i = 0; i < r.rows(); ++i) {
    Row& o = out.emplace_back(n);
    for (size_t k = 0; k < n; ++k) read_cell(r, i, static_cast<int>(k), info.def.columns[k].type, o[k]);
    if (rids && !info.def.indexes.empty()) rids->push_back(r.int_at(i, static_cast<int>(n)));
  }
}

// The parameters of a statement that refers to call slots up to max_slot.
using Binder = std::function<Params(int max_slot)>;

std::string quoted_between(const std::string& msg, size_t from = 0) {
  size_t a = msg.find('"', from);
  if (a == std::string::npos) return {};
  size_t b = msg.find('"', a + 1);
  return b == std::string::npos ? std::string() : msg.substr(a + 1, b - a - 1);
}

}  // namespace

// Every call site of the computed columns `cols`, evaluated by pxt in slot order; the values go
// into the write as parameters. values: every column's value by table position; those not in
// cols are known (inputs, stored values), the others are computed here. An argument that is a
// literal or a known column is known here; any other is computed by the server first (SELECT over
// the columns computed so far, with the earlier calls' results).
Result<std::vector<Value>> PgStore::resolve_calls(Conn* c, const TableInfo& info,
                                                  const std::vector<Value>& values,
                                                  const std::vector<int>& cols, CreatedFiles& created) {
  const auto& calls = info.compiled.calls;
  std::vector<Value> slots(calls.size());
  if (calls.empty()) return slots;
  std::vector<bool> known(info.def.columns.size(), true);
  for (int col : cols) known[static_cast<size_t>(col)] = false;
  std::vector<int> idx;  // every known column, as a parameter
  Row inputs;
  for (size_t i = 0; i < info.def.columns.size(); ++i) {
    if (!known[i]) continue;
    idx.push_back(static_cast<int>(i));
    inputs.push_back(values[i]);
  }
  CreatedFilesScope scope(created);
  FunctionContext ctx{media_dir_, &created};
  for (size_t s = 0; s < calls.size(); ++s) {
    const CallSite& call = calls[s];
    if (std::find(cols.begin(), cols.end(), call.column) == cols.end()) continue;
    std::vector<Value> args(call.args.size());
    std::vector<size_t> remote;
    ctx.blob_args = 0;
    for (size_t a = 0; a < call.args.size(); ++a) {
      bool is_vector = false;
      if (!local_value(call.args[a], info.def, values, known, args[a], &is_vector)) remote.push_back(a);
      if (is_vector && a < 32) ctx.blob_args |= 1u << a;  // packed floats, not JSON text
    }
    if (!remote.empty()) {
      if (c == nullptr) return make_error(Errc::internal, call.fn->name + "(): an argument needs the server");
      // The columns computed before this call's column, as the write will compute them.
      std::vector<int> before;
      for (int col : cols) {
        if (col == call.column) break;
        before.push_back(col);
      }
      Shape shape{info, idx};
      std::vector<std::string> exprs;
      for (size_t a : remote)
        exprs.push_back("(" + render(call.args[a], [&](int slot) { return shape.slot_param(slot); }) + ")");
      std::string sql = "SELECT " + join(exprs, ", ") + " FROM (" + shape.layered(before) + ") AS _a";
      Params p(true);
      add_inputs(p, info.def, idx, inputs);
      add_slots(p, slots, shape.max_slot, info.compiled.calls);
      auto r = c->run(sql, p);
      if (!r) {
        if (is_connection_error(c->last_error())) return r.error();
        return computed_failure(info.def.columns[static_cast<size_t>(call.column)], c->last_error().message,
                                std::nullopt);
      }
      for (size_t k = 0; k < remote.size(); ++k)
        read_cell(*r, 0, static_cast<int>(k), std::nullopt, args[remote[k]]);
      for (auto& v : args)
        if (const bool* b = std::get_if<bool>(&v)) v = int64_t(*b ? 1 : 0);
    }
    Result<Value> out = call_sql_function(*call.fn, ctx, args);
    if (!out) {
      // A server-side fault (a full disk is 507, not a bad input's 400) or a Pixeltable code of
      // the function's own (a provider's RATE_LIMITED) stays, as on SQLite (sqlite/db.hpp).
      Error fault = out.error();
      // A function's message that names it already (vector functions do) is not prefixed twice.
      const std::string named = call.fn->name + "(): ";
      if (fault.message.rfind(named, 0) != 0) fault.message = named + fault.message;
      const Errc code = fault.code;
      bool own = fault.pxt_code != ErrorCode::none || code == Errc::no_space || code == Errc::io ||
                 code == Errc::unsupported || code == Errc::busy;
      std::string msg = fault.message;  // copied: `fault` is moved into the argument beside it
      return computed_failure(info.def.columns[static_cast<size_t>(call.column)], msg,
                              own ? std::optional<Error>(std::move(fault)) : std::nullopt);
    }
    slots[s] = std::move(*out);
  }
  return slots;
}

namespace {

// Finds the computed column whose expression fails for the bound inputs by evaluating the
// columns one at a time in dependency order: the server's error does not name it.
std::optional<Error> diagnose(Conn& c, const Shape& shape, const std::vector<int>& cols, const Binder& bind) {
  for (size_t k = 0; k < cols.size(); ++k) {
    Shape one{shape.t, shape.idx, -1, shape.custom_base};
    std::vector<int> before(cols.begin(), cols.begin() + static_cast<long>(k));
    std::string sql = "SELECT (" + one.expr(cols[k]) + ") FROM (" + one.layered(before) + ") AS _d";
    if (!c.run_once(sql, bind(one.max_slot))) {
      if (is_connection_error(c.last_error())) return map_error(c.last_error());
      return computed_failure(shape.t.def.columns[static_cast<size_t>(cols[k])], c.last_error().message,
                              std::nullopt);
    }
  }
  return std::nullopt;
}

// Turns a failed write into pxt's words. pk describes the key of the row being written.
Error write_error(Conn& c, const Shape& shape, const std::vector<int>& cols, const Binder& bind,
                  const std::string& pk) {
  const PgError e = c.last_error();
  const TableDef& def = shape.t.def;
  if (is_connection_error(e) || e.sqlstate == "PXT01" || e.sqlstate == "42P01") {
    if (e.sqlstate == "42P01") return stale_error();  // the table was dropped or renamed meanwhile
    return map_error(e);
  }
  if (e.sqlstate == "23505") return duplicate_key_error(pk);
  if (e.sqlstate == "23502" || e.sqlstate == "42804") {
    std::string name = !e.column.empty() ? e.column : quoted_between(e.message);
    const ColumnDef* col = def.find(name);
    if (col && col->is_computed()) return computed_result_error(*col, e.sqlstate == "23502");
    if (col && e.sqlstate == "23502") return required_null(*col);
  }
  Error first = map_error(e);
  if (e.sqlstate.rfind("23", 0) != 0 && pq().PQtransactionStatus(c.raw()) == PQTRANS_IDLE) {
    if (auto d = diagnose(c, shape, cols, bind)) return *d;
  }
  return first;
}

}  // namespace

namespace {

// The parameters of one row's insert: its given values, then pxt's call results up to the
// highest slot shape's SQL refers to.
Params insert_params(const Shape& shape, const std::vector<int>& idx, const Row& row,
                     const std::vector<Value>& slots) {
  Params p(true);
  add_inputs(p, shape.t.def, idx, row);
  add_slots(p, slots, shape.max_slot, shape.t.compiled.calls);
  return p;
}

// One row's insert with sql (shape's insert()), its failure in pxt's words.
Result<void> run_insert(Conn& c, const Shape& shape, const std::string& sql, const std::vector<int>& idx,
                        const Row& row, const std::vector<Value>& slots, std::vector<Row>& out,
                        std::vector<int64_t>* rids) {
  const TableInfo& info = shape.t;
  auto res = c.run(sql, insert_params(shape, idx, row, slots));
  if (res) {
    read_returned(*res, info, out, rids);
    return {};
  }
  // A transaction the statement aborted is rolled back first, so the diagnosis can run.
  if (pq().PQtransactionStatus(c.raw()) != PQTRANS_IDLE && !c.broken()) (void)c.exec("ROLLBACK");
  Binder bind = [&](int max_slot) {
    Params q(true);
    add_inputs(q, info.def, idx, row);
    add_slots(q, slots, max_slot, info.compiled.calls);
    return q;
  };
  return write_error(c, shape, info.order, bind, pk_text(info.def, idx, row));
}

}  // namespace

std::pair<std::string, Params> insert_statement(const TableInfo& info, const std::vector<int>& idx,
                                                const Row& row, const std::vector<Value>& slots) {
  Shape shape{info, idx};
  std::string sql = shape.insert(true);
  return {std::move(sql), insert_params(shape, idx, row, slots)};
}

std::vector<Row> returned_rows(const PgResult& r, const TableInfo& info) {
  std::vector<Row> out;
  read_returned(r, info, out, nullptr);
  return out;
}

Result<void> insert_one(Conn& c, const TableInfo& info, const std::vector<int>& idx, const Row& row,
                        const std::vector<Value>& slots, bool returning, std::vector<Row>& out,
                        std::vector<int64_t>* rids) {
  Shape shape{info, idx};
  std::string sql = shape.insert(returning);
  return run_insert(c, shape, sql, idx, row, slots, out, rids);
}

bool groupable(const TableInfo& info) {
  if (!info.def.indexes.empty() || has_vectors(info.def)) return false;
  // Each call's arguments must be the row's given values or literals: pxt then makes the call in
  // the inserting thread, without a connection (resolve_calls), and the row can queue.
  std::vector<bool> known(info.def.columns.size(), true);
  for (int col : info.order) known[static_cast<size_t>(col)] = false;
  std::vector<Value> none(info.def.columns.size());
  for (const CallSite& call : info.compiled.calls) {
    if (static_cast<bool>(call.fn->batch)) return false;  // embed(): batched across rows by insert_rows
    for (const std::string& arg : call.args) {
      Value v;
      if (!local_value(arg, info.def, none, known, v)) return false;
    }
  }
  return true;
}

// Rows with no call of pxt's to make go to the server in batches, each batch in one round trip
// (libpq's pipeline mode): a bulk load then waits for the network once per batch, not per row
// (figures in bench/RESULTS.md, "PostgreSQL store").
constexpr size_t kPipelineBatch = 100;

Result<std::vector<Row>> PgStore::insert_pipelined(Conn& c, const TableInfo& info,
                                                   const std::vector<int>& idx, const std::vector<Row>& rows,
                                                   bool returning, int64_t first_row_number,
                                                   std::vector<int64_t>* rids) {
  Shape shape{info, idx};
  std::string sql = shape.insert(returning);
  std::vector<Row> out;
  for (size_t start = 0; start < rows.size(); start += kPipelineBatch) {
    size_t end = std::min(rows.size(), start + kPipelineBatch);
    std::vector<std::pair<std::string, Params>> batch;
    batch.reserve(end - start);
    for (size_t r = start; r < end; ++r) {
      Params q(true);
      add_inputs(q, info.def, idx, rows[r]);
      batch.emplace_back(sql, std::move(q));
    }
    size_t failed = 0;
    auto res = c.pipeline(batch, &failed);
    if (!res) {
      // The transaction is aborted: roll back, then find out in pxt's words what failed.
      if (pq().PQtransactionStatus(c.raw()) != PQTRANS_IDLE && !c.broken()) (void)c.exec("ROLLBACK");
      const Row& row = rows[start + failed];
      Binder bind = [&](int) {
        Params q(true);
        add_inputs(q, info.def, idx, row);
        return q;
      };
      Error e = write_error(c, shape, info.order, bind, pk_text(info.def, idx, row));
      if (first_row_number > 0)
        e.message = "row " + std::to_string(first_row_number + int64_t(start + failed)) + ": " + e.message;
      return e;
    }
    for (const PgResult& one : *res) read_returned(one, info, out, rids);
  }
  return out;
}

// Inserts rows (already checked) on c, inside the caller's transaction when there are several.
Result<std::vector<Row>> PgStore::insert_rows(Conn& c, const TableInfo& info, const std::vector<int>& idx,
                                              const std::vector<Row>& rows, CreatedFiles& created,
                                              bool returning, int64_t first_row_number,
                                              std::vector<int64_t>* rids) {
  Shape shape{info, idx};
  std::string sql = shape.insert(returning);  // once for all the rows
  std::vector<Row> out;
  std::vector<Value> base(info.def.columns.size());
  std::vector<Value> slots_used;
  const bool calls = !info.compiled.calls.empty();
  if (!calls && rows.size() > 1)
    return insert_pipelined(c, info, idx, rows, returning, first_row_number, rids);
  bool ahead = false;
  if (calls && rows.size() > 1 && batches_calls(info)) {
    // Many rows calling embed(): record those calls first, then make them in batches of up to 32
    // inputs with several requests in flight, instead of one request per row in turn.
    CallCollector collector;
    for (const Row& row : rows) {
      std::fill(base.begin(), base.end(), Value());
      for (size_t k = 0; k < idx.size(); ++k) base[static_cast<size_t>(idx[k])] = row[k];
      (void)resolve_calls(&c, info, base, info.order, created);
    }
    collector.run(FunctionContext{media_dir_, &created}, created);
    created.set_ahead(true);  // the calls below take the batched outcomes
    ahead = true;
  }
  struct AheadOff {
    CreatedFiles& created;
    bool on;
    ~AheadOff() {
      if (on) created.set_ahead(false);
    }
  } ahead_off{created, ahead};
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    auto numbered = [&](Error e) {
      if (first_row_number > 0)
        e.message = "row " + std::to_string(first_row_number + int64_t(r)) + ": " + e.message;
      return e;
    };
    if (calls) {
      std::fill(base.begin(), base.end(), Value());
      for (size_t k = 0; k < idx.size(); ++k) base[static_cast<size_t>(idx[k])] = row[k];
      auto slots = resolve_calls(&c, info, base, info.order, created);
      if (!slots) return numbered(slots.error());
      slots_used = std::move(*slots);
    }
    auto one = run_insert(c, shape, sql, idx, row, slots_used, out, rids);
    if (!one) return numbered(one.error());
  }
  return out;
}

namespace {

// Each stored row passes `check` before the commit, inside the write's transaction (store.hpp).
Result<void> check_written(const RowCheck& check, const std::vector<Row>& rows) {
  if (check)
    for (const Row& r : rows) PXT_CHECK(check(r));
  return {};
}

}  // namespace

Result<std::vector<Row>> PgStore::insert(const TableDef& t, const std::vector<std::string>& columns,
                                         const std::vector<Row>& rows, const RowCheck& check) {
  if (t_streaming) return nested_write_error();
  PXT_TRY(std::vector<int> idx, plan_inputs(t, columns, true));
  for (const Row& row : rows) PXT_CHECK(check_row(t, idx, row, true));
  if (rows.empty()) return std::vector<Row>();
  // One row, no check: joins the rows other threads insert now (a thread holding a connection
  // already, e.g. inside a row callback, writes on its own: a leader could wait for its lease).
  if (rows.size() == 1 && !check && group_max_leaders_ > 0 && Pool::held_by_this_thread() == 0) {
    if (auto cached = fresh_cached(t); cached && cached->groupable) {
      CreatedFiles created(media_dir());  // files made by pxt's functions; removed unless stored
      std::vector<Value> slots;
      if (!cached->compiled.calls.empty()) {
        std::vector<Value> base(cached->def.columns.size());
        for (size_t k = 0; k < idx.size(); ++k) base[static_cast<size_t>(idx[k])] = rows[0][k];
        PXT_TRY(slots, resolve_calls(nullptr, *cached, base, cached->order, created));
      }
      PXT_TRY(std::vector<Row> out, insert_grouped(std::move(cached), idx, rows[0], std::move(slots)));
      created.keep_referenced(out);
      return out;
    }
  }
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  CreatedFiles created(media_dir());  // files made by pxt's functions; removed unless committed
  std::vector<Row> out;
  const bool vectors = has_vectors(info->def), indexed = !info->def.indexes.empty();
  if (rows.size() == 1 && !check && !vectors && !indexed) {
    PXT_TRY(out, insert_rows(*c, *info, idx, rows, created, true, 0, nullptr));
  } else {
    Txn txn(*c);
    PXT_CHECK(txn.begin());
    std::vector<int64_t> rids;
    if (vectors) {
      // A given Vector of another dimension is named as such, before computed columns over it fail.
      std::vector<Row> given;
      for (const Row& row : rows) {
        Row& g = given.emplace_back(info->def.columns.size());
        for (size_t k = 0; k < idx.size(); ++k) g[static_cast<size_t>(idx[k])] = row[k];
      }
      PXT_CHECK(check_vector_dims(*c, *info, given));
    }
    PXT_TRY(out, insert_rows(*c, *info, idx, rows, created, true, 0, &rids));
    if (vectors) PXT_CHECK(check_vector_dims(*c, *info, out));
    if (indexed) PXT_CHECK(write_index_rows(*c, *info, rids, out));
    PXT_CHECK(check_written(check, out));
    PXT_CHECK(txn.commit());
  }
  created.keep_referenced(out);
  return out;
}

Result<int64_t> PgStore::insert_stream(const TableDef& t, const std::vector<std::string>& columns,
                                       const RowSource& next) {
  if (t_streaming) return nested_write_error();
  PXT_TRY(std::vector<int> idx, plan_inputs(t, columns, true));
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  CreatedFiles created(media_dir());
  Txn txn(*c);
  PXT_CHECK(txn.begin());
  // Rows are read in batches and each batch written in one round trip (insert_rows).
  std::vector<Row> batch;
  int64_t n = 0;
  Row row;
  while (true) {
    t_streaming = true;
    auto more = next(row);
    t_streaming = false;
    if (!more) return more.error();
    if (*more) {
      ++n;
      if (auto ok = check_row(info->def, idx, row, true); !ok.ok())
        return make_error(ok.error().code, "row " + std::to_string(n) + ": " + ok.error().message);
      batch.push_back(std::move(row));
      row = Row();
    }
    if (batch.size() == kPipelineBatch || (!*more && !batch.empty())) {
      const bool vectors = has_vectors(info->def), indexed = !info->def.indexes.empty();
      std::vector<int64_t> rids;
      PXT_TRY(std::vector<Row> stored, insert_rows(*c, *info, idx, batch, created, vectors || indexed,
                                                   n - static_cast<int64_t>(batch.size()) + 1, &rids));
      if (vectors) PXT_CHECK(check_vector_dims(*c, *info, stored));
      if (indexed) PXT_CHECK(write_index_rows(*c, *info, rids, stored));
      batch.clear();
    }
    if (!*more) break;
  }
  PXT_CHECK(txn.commit());
  created.keep();
  return n;
}

namespace {

// SELECT of a row as an update leaves it: set columns from parameters $1.., the others from the
// stored row, without the computed columns the update recomputes.
std::string updated_row(const Shape& shape, const std::vector<int>& affected) {
  const TableDef& def = shape.t.def;
  std::vector<std::string> cols;
  for (size_t i = 0; i < def.columns.size(); ++i) {
    if (std::find(affected.begin(), affected.end(), int(i)) != affected.end()) continue;
    auto pos = std::find(shape.idx.begin(), shape.idx.end(), int(i));
    std::string name = quote_ident(def.columns[i].name);
    cols.push_back((pos == shape.idx.end()
                        ? shape.t.qname + "." + name
                        : param(static_cast<int>(pos - shape.idx.begin()) + 1, def.columns[i].type)) +
                   " AS " + name);
  }
  return "SELECT " + join(cols, ", ");
}

// UPDATE ... SET without the WHERE clause: a plain assignment when no computed column depends on
// the set columns, else every set and recomputed column from the affected columns layered over
// updated_row() (a correlated sub-select over the row being updated).
std::string update_sql(const Shape& shape, const std::vector<int>& affected) {
  const TableInfo& t = shape.t;
  const TableDef& def = t.def;
  std::vector<std::string> targets;
  for (int i : shape.idx) targets.push_back(quote_ident(def.columns[static_cast<size_t>(i)].name));
  if (affected.empty()) {
    std::vector<std::string> sets;
    for (size_t k = 0; k < shape.idx.size(); ++k)
      sets.push_back(targets[k] + " = " +
                     param(static_cast<int>(k) + 1, def.columns[static_cast<size_t>(shape.idx[k])].type));
    return "UPDATE " + t.qname + " SET " + join(sets, ", ");
  }
  Shape over{t, shape.idx, -1, updated_row(shape, affected)};
  std::string sql = over.layered(affected);
  shape.max_slot = std::max(shape.max_slot, over.max_slot);
  for (int i : affected) targets.push_back(quote_ident(def.columns[static_cast<size_t>(i)].name));
  std::string list = join(targets, ", ");
  return "UPDATE " + t.qname + " SET (" + list + ") = (SELECT " + list + " FROM (" + sql + ") AS _up)";
}

void read_rows(const PgResult& r, const TableDef& def, std::vector<Row>& out) {
  for (int i = 0; i < r.rows(); ++i) {
    Row& o = out.emplace_back(def.columns.size());
    for (size_t k = 0; k < def.columns.size(); ++k)
      read_cell(r, i, static_cast<int>(k), def.columns[k].type, o[k]);
  }
}

}  // namespace

Result<std::vector<Row>> PgStore::update(const TableDef& t, const Filter& filter,
                                         const std::vector<std::pair<std::string, Value>>& set,
                                         const RowCheck& check) {
  if (t_streaming) return nested_write_error();
  if (set.empty()) return make_error(Errc::invalid_argument, "nothing to update: no column values given");
  std::vector<std::string> names;
  Row values;
  for (const auto& [n, v] : set) {
    names.push_back(n);
    values.push_back(v);
  }
  PXT_TRY(std::vector<int> idx, plan_inputs(t, names, false));
  PXT_CHECK(check_row(t, idx, values, true));
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  const TableDef& def = info->def;
  std::vector<int> affected = affected_computed(def, info->order, idx);
  bool calls = std::any_of(affected.begin(), affected.end(),
                           [&](int i) { return info->compiled.column_calls[static_cast<size_t>(i)] > 0; });
  std::vector<int> changed = idx;
  changed.insert(changed.end(), affected.begin(), affected.end());
  std::vector<int> replaced = media_columns(def, changed);  // their old files go unless reused
  CreatedFiles created(media_dir());
  Shape shape{*info, idx};
  std::string sql = update_sql(shape, affected);
  auto failed = [&](const Binder& bind, const std::string& diag_base) -> Error {
    const PgError e = c->last_error();
    if (pq().PQtransactionStatus(c->raw()) != PQTRANS_IDLE && !c->broken()) (void)c->exec("ROLLBACK");
    if (e.sqlstate == "42703" || e.sqlstate == "42601" || e.sqlstate == "42883")
      return user_sql_error(e, &def, nullptr, "invalid filter");
    Shape diag{*info, idx, -1, diag_base};
    return write_error(*c, diag, affected, bind, updated_pk_text(def, idx, values));
  };
  std::vector<Row> out;
  std::vector<int64_t> rids;
  bool vectors = false, reindex = false;  // the update changes a Vector, an indexed column
  for (int col : changed) {
    vectors = vectors || def.columns[static_cast<size_t>(col)].type == ColumnType::Vector;
    for (const IndexDef& ix : def.indexes) reindex = reindex || def.index_of(ix.column) == col;
  }
  if (replaced.empty() && !calls && !vectors && !reindex) {
    // One statement, no transaction: the hot path of an update route (in one when a check must
    // see the rows before they are committed).
    std::optional<Txn> checked;
    if (check) {
      checked.emplace(*c);
      PXT_CHECK(checked->begin());
    }
    Params p(true);
    add_inputs(p, def, idx, values);
    std::string where;
    PXT_CHECK(append_filter(where, p, def, filter, info->guard));
    auto r = c->run(sql + where + " RETURNING " + info->returning, p);
    if (!r)
      return failed([&](int) { return p; }, updated_row(shape, affected) + " FROM " + info->qname + where);
    read_rows(*r, def, out);
    if (checked) {
      PXT_CHECK(check_written(check, out));
      PXT_CHECK(checked->commit());
    }
    created.keep_referenced(out);
    return out;
  }
  // The rows the update will touch, locked: their old media values, and each row's values for
  // the calls of pxt's functions the update makes.
  Txn txn(*c);
  PXT_CHECK(txn.begin());
  std::vector<std::string> old_files;
  std::vector<Row> locked;
  {
    std::string select = "SELECT " + info->columns + ", ctid::text FROM " + info->qname;
    Params p(true);
    PXT_CHECK(append_filter(select, p, def, filter, info->guard));
    auto r = c->run_once(select + " FOR UPDATE", p);
    if (!r) {
      const PgError& e = c->last_error();
      if (is_connection_error(e) || e.sqlstate == "PXT01") return map_error(e);
      return user_sql_error(e, &def, nullptr, "invalid filter");
    }
    for (int i = 0; i < r->rows(); ++i) {
      Row& row = locked.emplace_back(def.columns.size() + 1);
      for (size_t k = 0; k < def.columns.size(); ++k)
        read_cell(*r, i, static_cast<int>(k), def.columns[k].type, row[k]);
      row.back() = std::string(r->text(i, static_cast<int>(def.columns.size())));
      for (int col : replaced)
        if (const auto* f = std::get_if<std::string>(&row[static_cast<size_t>(col)])) old_files.push_back(*f);
    }
  }
  // One statement per row (by its ctid, locked above): pxt's functions see each row as the
  // update leaves it.
  for (const Row& row : locked) {
    std::vector<Value> slots;
    if (calls) {
      std::vector<Value> base(row.begin(), row.end() - 1);
      for (size_t k = 0; k < idx.size(); ++k) base[static_cast<size_t>(idx[k])] = values[k];
      PXT_TRY(slots, resolve_calls(&*c, *info, base, affected, created));
    }
    Binder bind = [&](int max_slot) {
      Params p(true);
      add_inputs(p, def, idx, values);
      add_slots(p, slots, max_slot, info->compiled.calls);
      return p;
    };
    Params p = bind(shape.max_slot);
    p.add(std::get<std::string>(row.back()));
    std::string by_row = " WHERE ctid = $" + std::to_string(p.size()) + "::tid AND " + info->guard;
    auto r = c->run(sql + by_row + " RETURNING " + info->returning, p);
    if (!r) {
      Params q = p;
      return failed([&](int) { return q; }, updated_row(shape, affected) + " FROM " + info->qname + by_row);
    }
    read_returned(*r, *info, out, &rids);
  }
  if (vectors) PXT_CHECK(check_vector_dims(*c, *info, out));
  if (reindex) PXT_CHECK(write_index_rows(*c, *info, rids, out, changed));
  PXT_CHECK(check_written(check, out));
  PXT_CHECK(txn.commit());
  created.keep_referenced(out);
  if (!replaced.empty()) remove_replaced_files(media_dir(), old_files, files_in(out, replaced));
  return out;
}

Result<int64_t> PgStore::remove(const TableDef& t, const Filter& filter) {
  if (t_streaming) return nested_write_error();
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  std::vector<int> media = media_columns(info->def);
  std::vector<std::string> names;
  for (int i : media) names.push_back(quote_ident(info->def.columns[static_cast<size_t>(i)].name));
  std::string sql = "DELETE FROM " + info->qname;
  Params p(true);
  PXT_CHECK(append_filter(sql, p, info->def, filter, info->guard));
  // The deleted rows' media names come back from the statement itself; the files go once it
  // committed (a failed delete keeps every file). An indexed table's rows leave its indexes in
  // the same transaction.
  const bool indexed = !info->def.indexes.empty();
  if (indexed) names.push_back("\"pxt$row\"");
  if (!names.empty()) sql += " RETURNING " + join(names, ", ");
  Txn txn(*c);
  if (indexed) PXT_CHECK(txn.begin());
  auto r = c->run(sql, p);
  if (!r) {
    const PgError& e = c->last_error();
    if (is_connection_error(e) || e.sqlstate == "PXT01") return map_error(e);
    if (e.sqlstate == "42P01") return stale_error();
    return user_sql_error(e, &info->def, nullptr, "invalid filter");
  }
  std::vector<std::string> gone;
  std::vector<int64_t> rids;
  const int media_cols = r->cols() - (indexed ? 1 : 0);
  for (int i = 0; i < r->rows(); ++i) {
    for (int k = 0; k < media_cols; ++k)
      if (!r->null(i, k)) gone.emplace_back(r->text(i, k));
    if (indexed) rids.push_back(r->int_at(i, media_cols));
  }
  if (indexed) {
    PXT_CHECK(clear_index_rows(*c, *info, rids));
    PXT_CHECK(txn.commit());
  }
  remove_media_files(media_dir(), gone);
  return r->changed();
}

Result<Row> PgStore::compute(const TableDef& t, const std::vector<std::string>& columns, const Row& inputs) {
  PXT_TRY(std::vector<int> idx, plan_inputs(t, columns, false));
  PXT_CHECK(check_row(t, idx, inputs, false));
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto info, fresh(*c, t));
  const TableDef& def = info->def;
  // Files made here are the response's values and belong to no row: they stay.
  CreatedFiles created(media_dir());
  Shape shape{*info, idx};
  Params p(true);
  add_inputs(p, def, idx, inputs);
  std::vector<Value> slots;
  if (!info->compiled.calls.empty()) {
    std::vector<Value> base(def.columns.size());
    for (size_t k = 0; k < idx.size(); ++k) base[static_cast<size_t>(idx[k])] = inputs[k];
    PXT_TRY(slots, resolve_calls(&*c, *info, base, info->order, created));
  }
  std::string sql =
      "SELECT " + info->columns + " FROM (" + shape.layered(info->order) + ") AS _c WHERE " + info->guard;
  add_slots(p, slots, shape.max_slot, info->compiled.calls);
  auto r = c->run(sql, p);
  if (!r) {
    return write_error(
        *c, shape, info->order, [&](int) { return p; }, "");
  }
  Row out(def.columns.size());
  for (size_t k = 0; k < def.columns.size(); ++k)
    read_cell(*r, 0, static_cast<int>(k), def.columns[k].type, out[k]);
  created.keep_referenced({out});
  return out;
}

}  // namespace pxt::pg
