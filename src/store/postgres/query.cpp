// Named queries of the PostgreSQL store: read-only SQL with :named parameters, and retrieval
// queries (a table matched by equality on some columns). pxt's own functions called on literals
// and parameters are evaluated by pxt before the statement (dialect.hpp, extract_query_calls). A SQL query
// runs in a READ ONLY transaction sent as one pipeline (BEGIN, the query, COMMIT: one round trip), so
// whatever the SQL calls, it cannot write.
#include <algorithm>

#include "store/expr/computed.hpp"
#include "store/functions/context.hpp"
#include "store/functions/query_calls.hpp"
#include "store/index/similarity_sql.hpp"
#include "store/postgres/pg_store.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

std::string what(const QueryDef& q) { return "query '" + q.qualified_name() + "'"; }

Error bad(const QueryDef& q, const std::string& msg) {
  return make_error(Errc::invalid_argument, what(q) + ": " + msg);
}

std::vector<std::string> param_names(const QueryDef& q) {
  std::vector<std::string> out;
  for (const auto& p : q.params) out.push_back(p.name);
  return out;
}

// One statement, a SELECT (or WITH ... SELECT / VALUES), with nothing in it that writes.
Result<void> check_shape(const QueryDef& q) {
  std::vector<SqlToken> toks = tokenize_sql(q.sql);
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].text != ";") continue;
    std::string rest(trim(std::string_view(q.sql).substr(toks[i].pos + 1)));
    while (!rest.empty() && rest.back() == ';') rest = std::string(trim(rest.substr(0, rest.size() - 1)));
    if (!rest.empty())
      return bad(q, "only one SQL statement is allowed; found more after the first: '" + rest + "'");
  }
  bool select =
      !toks.empty() && toks[0].kind == SqlToken::Kind::Ident &&
      (iequals(toks[0].text, "select") || iequals(toks[0].text, "with") || iequals(toks[0].text, "values"));
  bool writes = false;
  static const char* kWrites[] = {"insert", "update", "delete", "merge",  "truncate",
                                  "create", "drop",   "alter",  "grant",  "revoke",
                                  "copy",   "call",   "lock",   "vacuum", "refresh"};
  for (const auto& t : toks)
    for (const char* w : kWrites)
      if (t.kind == SqlToken::Kind::Ident && iequals(t.text, w)) writes = true;
  if (!select || writes) {
    return bad(q, "only a read-only SELECT is allowed (the SQL would " +
                      std::string(select ? "write to the store" : "not be a SELECT") + ")");
  }
  return {};
}

// Compares the SQL's :parameters with the declared ones; every mismatch is reported at once.
Result<void> check_params(const QueryDef& q, const QuerySql& rewritten) {
  std::vector<std::string> problems;
  for (const auto& b : rewritten.bad) problems.push_back("parameter '" + b + "' must be written :name");
  for (const auto& n : rewritten.used) {
    auto declared =
        std::find_if(q.params.begin(), q.params.end(), [&](const auto& p) { return p.name == n; });
    if (declared == q.params.end())
      problems.push_back("parameter ':" + n + "' is not declared" + did_you_mean(n, param_names(q)));
  }
  for (const auto& p : q.params) {
    if (std::find(rewritten.used.begin(), rewritten.used.end(), p.name) == rewritten.used.end())
      problems.push_back("declared parameter '" + p.name + "' is not used in the SQL");
  }
  if (!problems.empty()) return bad(q, join(problems, "; "));
  return {};
}

// The result columns of a described statement: a column read straight from a user table keeps
// its table type; pxt's hidden column is left out (`keep` says which result columns are kept).
std::vector<ResultColumn> result_columns(const PgResult& r, const Catalog& cat, std::vector<bool>& keep) {
  std::vector<ResultColumn> out;
  keep.assign(static_cast<size_t>(r.cols()), true);
  for (int i = 0; i < r.cols(); ++i) {
    ResultColumn rc;
    rc.name = pq().PQfname(r.get(), i);
    Oid table = pq().PQftable(r.get(), i);
    int attnum = pq().PQftablecol(r.get(), i);
    if (table != InvalidOid && attnum > 0) {
      for (const auto& [path, info] : cat.tables) {
        if (info->oid != table) continue;
        if (static_cast<size_t>(attnum) <= info->def.columns.size()) {
          const ColumnDef& c = info->def.columns[static_cast<size_t>(attnum - 1)];
          rc.type = c.type;
          rc.nullable = !c.required;
        } else if (rc.name == "pxt$row") {
          keep[static_cast<size_t>(i)] = false;
        }
        break;
      }
    }
    if (keep[static_cast<size_t>(i)]) out.push_back(std::move(rc));
  }
  return out;
}

Result<void> check_unique_names(const QueryDef& q, const std::vector<ResultColumn>& cols) {
  for (size_t i = 0; i < cols.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (cols[i].name == cols[j].name)
        return bad(q, "the result has two columns named '" + cols[i].name + "'; rename one with AS");
  return {};
}

// A SQL query as PostgreSQL runs it: its pxt calls cut out (dialect.hpp, extract_query_calls),
// then its :parameters numbered. The declared parameters the SQL itself reads are bound first
// ($1..), the calls' results after them (a parameter only a call reads is not bound: PostgreSQL
// refuses parameters a statement does not use).
struct SqlQuery {
  std::string sql;
  QueryCalls calls;
  std::vector<size_t> bound;  // q.params indexes of the parameters bound first, in order
  std::vector<int> slots;     // the call whose result is bound at each later parameter
};

// `written`: the SQL as the user wrote it, checked for pxt's internal tables (q.sql may be
// query_calls' rewriting, whose argument columns are named pxt$K$J).
Result<SqlQuery> sql_query(const QueryDef& q, const std::string& written) {
  PXT_CHECK(check_shape(q));
  PXT_CHECK(check_internal_refs(written, what(q)));
  SqlQuery out;
  auto calls = extract_query_calls(q.sql);
  if (!calls) return bad(q, calls.error().message);
  out.calls = std::move(*calls);
  QuerySql direct = rewrite_query_params(out.calls.sql, q.params);
  QuerySql all = direct;
  for (const auto& n : out.calls.params)
    if (std::find(all.used.begin(), all.used.end(), n) == all.used.end()) all.used.push_back(n);
  PXT_CHECK(check_params(q, all));
  std::vector<QueryParam> bound;
  for (size_t k = 0; k < q.params.size(); ++k) {
    if (std::find(direct.used.begin(), direct.used.end(), q.params[k].name) == direct.used.end()) continue;
    bound.push_back(q.params[k]);
    out.bound.push_back(k);
  }
  out.sql = render_query_calls(rewrite_query_params(out.calls.sql, bound).sql, out.calls.calls,
                               static_cast<int>(bound.size()) + 1, out.slots);
  return out;
}

// Evaluates a SQL query's pxt calls with the request's parameter values; returns each call's
// result (by call index).
Result<std::vector<Value>> eval_calls(const QueryDef& q, const QueryCalls& calls,
                                      const std::vector<Value>& params, const std::string& media_dir) {
  std::vector<Value> results(calls.calls.size());
  FunctionContext ctx{media_dir, nullptr};  // no write owns a file a query would create: refused
  for (size_t i = 0; i < calls.calls.size(); ++i) {
    const QueryCall& call = calls.calls[i];
    std::vector<Value> args;
    ctx.blob_args = 0;
    for (const QueryCallArg& a : call.args) {
      if (a.kind == QueryCallArg::Kind::Call) {
        args.push_back(results[static_cast<size_t>(a.call)]);
        // An earlier call's Vector (embed()) is packed floats, as a Vector column's.
        if (calls.calls[static_cast<size_t>(a.call)].fn->result_type == ColumnType::Vector &&
            args.size() <= 32)
          ctx.blob_args |= 1u << (args.size() - 1);
      } else if (a.kind == QueryCallArg::Kind::Param) {
        auto p =
            std::find_if(q.params.begin(), q.params.end(), [&](const auto& x) { return x.name == a.param; });
        args.push_back(params[static_cast<size_t>(p - q.params.begin())]);
      } else {
        args.push_back(a.literal);
      }
      // SQLite hands a Bool to functions as 0 or 1: the same on both.
      if (const bool* b = std::get_if<bool>(&args.back())) args.back() = int64_t(*b ? 1 : 0);
    }
    Result<Value> out = call_sql_function(*call.fn, ctx, args);
    if (!out) {
      Error e = out.error();
      // A function's own error (a provider's RATE_LIMITED, a full disk) keeps its code.
      if (e.pxt_code == ErrorCode::none && e.code != Errc::no_space && e.code != Errc::io &&
          e.code != Errc::unsupported && e.code != Errc::busy)
        e.code = Errc::invalid_argument;
      const std::string named = call.fn->name + "(): ";
      e.message = what(q) + " failed: " + (e.message.rfind(named, 0) == 0 ? "" : named) + e.message;
      return e;
    }
    results[i] = std::move(*out);
  }
  return results;
}

Result<std::shared_ptr<const TableInfo>> retrieval_table(const QueryDef& q, const Catalog& cat) {
  PXT_TRY(std::string path, normalize_path(q.table));
  auto it = cat.tables.find(path);
  if (it == cat.tables.end()) {
    return make_error(Errc::not_found, what(q) + ": table '" + path + "' does not exist" +
                                           did_you_mean(path, cat.table_paths()));
  }
  const TableDef& def = it->second->def;
  if (q.match.empty()) return bad(q, "a retrieval query needs at least one column to match");
  if (q.limit <= 0) return bad(q, "limit must be positive, got " + std::to_string(q.limit));
  for (const auto& m : q.match) {
    if (!def.find(m))
      return bad(q,
                 "unknown column '" + m + "' in table '" + path + "'" + did_you_mean(m, def.column_names()));
  }
  if (!q.params.empty() && q.params.size() != q.match.size())
    return bad(q, "a retrieval query takes one parameter per match column");
  return it->second;
}

std::string retrieval_sql(const TableInfo& t, const QueryDef& q) {
  std::vector<std::string> terms;
  for (size_t k = 0; k < q.match.size(); ++k) {
    const ColumnDef* c = t.def.find(q.match[k]);
    terms.push_back(quote_ident(c->name) + " = " + param(static_cast<int>(k) + 1, c->type));
  }
  return "SELECT " + t.columns + " FROM " + t.qname + " WHERE " + join(terms, " AND ") +
         " ORDER BY \"pxt$row\" LIMIT " + std::to_string(q.limit);
}

TableLookup table_lookup(const Catalog& cat) {
  return [&cat](const std::string& path) -> const TableDef* {
    auto it = cat.tables.find(path);
    return it == cat.tables.end() ? nullptr : &it->second->def;
  };
}

// The SQL of a metric between a row's embedding in the index's table and a query vector, computed
// by PostgreSQL in double precision over the real[] elements.
std::string metric_sql(const SimilarityCall& call, const std::string& query_param) {
  std::string pairs = "unnest((SELECT vec FROM " + index_side_table(call.index.id) +
                      " WHERE rid = " + call.row_ref + ".\"pxt$row\"), " + query_param + ") AS u(a, b)";
  // Rounded to float32 as the vector functions answer (the same vector scores exactly 1).
  std::string agg = call.index.metric == "ip"   ? "sum(a::float8 * b)"
                    : call.index.metric == "l2" ? "sqrt(sum((a::float8 - b) ^ 2))"
                                                : "sum(a::float8 * b) / nullif(sqrt(sum(a::float8 * a)) * "
                                                  "sqrt(sum(b::float8 * b)), 0)";
  return "(SELECT CAST(CAST(" + agg + " AS real) AS float8) FROM " + pairs + ")";
}

// q with each similarity() on an indexed column turned into metric_sql over the parameter
// :pxt_qN (the embedding of its text), and, with `candidates`, a top-k query restricted to the
// rows in :pxt_candidates (the graph's answer) that still have an embedding.
QueryDef similarity_query(const QueryDef& q, const SimilarityPlan& plan, bool candidates) {
  struct Edit {
    size_t pos, len;
    std::string text;
  };
  std::vector<Edit> edits;
  QueryDef out = q;
  for (size_t i = 0; i < plan.calls.size(); ++i) {
    const std::string name = "pxt_q" + std::to_string(i);
    std::string metric = metric_sql(plan.calls[i], ":" + name);
    // A null text compares as null; the CASE also keeps the parameter in the SQL.
    if (!plan.calls[i].text)
      metric = "(CASE WHEN :" + plan.calls[i].param + " IS NULL THEN NULL ELSE " + metric + " END)";
    edits.push_back({plan.calls[i].pos, plan.calls[i].len, metric});
    out.params.push_back(QueryParam{name, ColumnType::Vector});
  }
  if (candidates) {
    const SimilarityCall& first = plan.calls[0];
    std::string restrict =
        first.row_ref + ".\"pxt$row\" = ANY(CAST(:pxt_candidates AS int8[])) AND (SELECT vec " + "FROM " +
        index_side_table(first.index.id) + " WHERE rid = " + first.row_ref + ".\"pxt$row\") IS NOT NULL";
    if (plan.has_where) {
      edits.push_back({plan.where_pos, 0, " " + restrict + " AND ("});
      edits.push_back({plan.where_end, 0, ") "});
    } else {
      edits.push_back({plan.where_pos, 0, " WHERE " + restrict + " "});
    }
    out.params.push_back(QueryParam{"pxt_candidates", ColumnType::String});
  }
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.pos > b.pos; });
  for (const auto& e : edits) out.sql.replace(e.pos, e.len, e.text);
  return out;
}

}  // namespace

Result<std::vector<ResultColumn>> PgStore::describe_query(const QueryDef& q) {
  PXT_TRY(Lease c, conn());
  PXT_TRY(auto cat, catalog_checked(*c));
  if (q.kind == QueryDef::Kind::Retrieval) {
    PXT_TRY(auto t, retrieval_table(q, *cat));
    std::vector<ResultColumn> out;
    for (const auto& col : t->def.columns) out.push_back({col.name, col.type, !col.required});
    return out;
  }
  if (trim(q.sql).empty()) return bad(q, "the SQL is empty");
  // Result columns that call a slow function (resize(image, 16, 16)) are made by pxt after the
  // statement, as on SQLite (store/functions/query_calls.hpp).
  auto similar = plan_similarity(q.sql, table_lookup(*cat));
  if (!similar) return bad(q, similar.error().message);
  auto plan = plan_query_calls(q.sql, true);
  if (!plan) return bad(q, plan.error().message);
  QueryDef planned = similar->calls.empty() ? q : similarity_query(q, *similar, similar->top_k);
  if (*plan && similar->calls.empty()) planned.sql = (*plan)->sql;
  if (!similar->calls.empty()) *plan = std::nullopt;
  PXT_TRY(SqlQuery sq, sql_query(planned, q.sql));
  auto r = c->describe(sq.sql);
  if (!r) return user_sql_error(c->last_error(), nullptr, cat.get(), what(q));
  std::vector<bool> keep;
  std::vector<ResultColumn> cols = result_columns(*r, *cat, keep);
  if (*plan) cols = planned_columns(**plan, cols);
  PXT_CHECK(check_unique_names(q, cols));
  return cols;
}

Result<void> PgStore::run_query(const QueryDef& q, const std::vector<Value>& params, const RowCallback& cb) {
  size_t expected = q.kind == QueryDef::Kind::Retrieval ? q.match.size() : q.params.size();
  if (params.size() != expected) {
    return bad(q, "expected " + std::to_string(expected) + " parameter values, got " +
                      std::to_string(params.size()));
  }
  PXT_TRY(Lease lease, conn());
  // Held in an optional so that it goes back to the pool before the slow calls are made.
  std::optional<Lease> held(std::move(lease));
  Lease& c = *held;
  PXT_TRY(auto cat, catalog_cached(*c));
  std::shared_ptr<const TableInfo> table;
  SqlQuery sq;
  std::optional<QueryCallPlan> plan;
  if (q.kind == QueryDef::Kind::Retrieval) {
    PXT_TRY(table, retrieval_table(q, *cat));
    sq.sql = retrieval_sql(*table, q);
    for (size_t k = 0; k < params.size(); ++k) sq.bound.push_back(k);
  } else {
    auto similar = plan_similarity(q.sql, table_lookup(*cat));
    if (!similar) return bad(q, similar.error().message);
    if (!similar->calls.empty()) return run_similarity(*c, *cat, q, *similar, params, cb);
    const auto& planned = cached_query_plan(q.sql, true);
    if (!planned) return bad(q, planned.error().message);
    plan = *planned;
    QueryDef rewritten = q;
    if (plan) rewritten.sql = plan->sql;
    PXT_TRY(sq, sql_query(rewritten, q.sql));
  }
  for (size_t k = 0; k < params.size(); ++k) {
    ColumnDef as_column;
    if (table) {
      as_column = *table->def.find(q.match[k]);
    } else {
      as_column.name = q.params[k].name;
      as_column.type = q.params[k].type;
    }
    if (auto ok = check_param_value(as_column, params[k]); !ok.ok())
      return bad(q, "parameter " + ok.error().message.substr(std::string("column ").size()));
  }
  Params p(true);
  for (size_t k : sq.bound)
    add_read_value(p, params[k], table ? table->def.find(q.match[k])->type : q.params[k].type);
  if (!sq.slots.empty()) {
    PXT_TRY(std::vector<Value> results, eval_calls(q, sq.calls, params, media_dir_));
    for (int slot : sq.slots)
      add_result(p, results[static_cast<size_t>(slot)], *sq.calls.calls[static_cast<size_t>(slot)].fn);
  }
  const std::string& sql = sq.sql;
  PgResult rows;
  if (table) {
    auto r = c->run(sql, p);
    if (!r) return user_sql_error(c->last_error(), &table->def, cat.get(), what(q));
    rows = std::move(*r);
  } else {
    auto r = c->pipeline({{"BEGIN READ ONLY", Params()}, {sql, p}, {"COMMIT", Params()}});
    if (!r) {
      if (pq().PQtransactionStatus(c->raw()) != PQTRANS_IDLE && !c->broken()) (void)c->exec("ROLLBACK");
      return user_sql_error(c->last_error(), nullptr, cat.get(), what(q) + " failed");
    }
    if (r->size() < 2) return make_error(Errc::internal, what(q) + ": no result");
    rows = std::move((*r)[1]);
  }
  std::vector<bool> keep;
  std::vector<ResultColumn> cols = result_columns(rows, *cat, keep);
  std::vector<int> at;  // result columns kept, in order
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) at.push_back(static_cast<int>(i));
  Row row(at.size());
  std::vector<Row> raw;  // with calls to make: every row, read first (the connection goes back)
  for (int i = 0; i < rows.rows(); ++i) {
    for (size_t k = 0; k < at.size(); ++k) read_cell(rows, i, at[k], cols[k].type, row[k]);
    if (plan) {
      raw.push_back(row);
    } else if (!cb(row)) {
      return {};
    }
  }
  if (!plan) return {};
  held.reset();
  FunctionContext ctx{media_dir_, current_created_files()};
  for (const Row& r : raw) {
    auto made = apply_query_calls(*plan, r, ctx);
    if (!made) return make_error(made.error().code, what(q) + ": " + made.error().message);
    if (!cb(*made)) return {};
  }
  return {};
}

}  // namespace pxt::pg

namespace pxt::pg {

Result<void> PgStore::run_similarity(Conn& c, const Catalog& cat, const QueryDef& q,
                                     const SimilarityPlan& plan, const std::vector<Value>& params,
                                     const RowCallback& cb) {
  for (size_t k = 0; k < params.size(); ++k) {
    ColumnDef as_column;
    as_column.name = q.params[k].name;
    as_column.type = q.params[k].type;
    if (auto ok = check_param_value(as_column, params[k]); !ok.ok())
      return bad(q, "parameter " + ok.error().message.substr(std::string("column ").size()));
  }
  auto param_value = [&](const std::string& name) -> const Value* {
    for (size_t i = 0; i < q.params.size(); ++i)
      if (q.params[i].name == name) return &params[i];
    return nullptr;
  };
  // The embedding of each call's query text, once per run (and cached per index).
  std::vector<Value> values = params;
  for (const SimilarityCall& call : plan.calls) {
    const Value* v = call.text ? nullptr : param_value(call.param);
    if (!call.text && !v) return bad(q, "parameter ':" + call.param + "' is not declared");
    Value embedded;
    if (call.text || !is_null(*v)) {
      const auto* text = call.text ? &*call.text : std::get_if<std::string>(v);
      if (!text)
        return bad(q, "parameter '" + call.param + "' is compared by similarity() and must be a text");
      PXT_TRY(std::string packed, query_embedding(cat.tables.at(call.table)->def, call.index, *text));
      if (call.index.dimension != 0 && static_cast<int64_t>(packed.size() / 4) != call.index.dimension)
        return bad(q, "the query's embedding has " + std::to_string(packed.size() / 4) +
                          " dimensions, index '" + call.index.name + "' holds " +
                          std::to_string(call.index.dimension));
      embedded = Value(std::move(packed));
    }
    values.push_back(std::move(embedded));
  }
  int64_t k = plan.limit;
  if (plan.top_k && !plan.limit_param.empty()) {
    const Value* lim = param_value(plan.limit_param);
    k = lim && std::holds_alternative<int64_t>(*lim) ? std::get<int64_t>(*lim) : 0;
  }
  const bool use_index = plan.top_k && k > 0 && !is_null(values[params.size()]);
  QueryDef rewritten = similarity_query(q, plan, use_index);
  PXT_TRY(SqlQuery sq, sql_query(rewritten, q.sql));
  std::shared_ptr<VectorIndex> graph;
  if (use_index) {
    PXT_TRY(graph, synced_index(c, plan.calls[0].index));
    values.emplace_back(std::string("{}"));
  }
  std::vector<Value> results;
  if (!sq.slots.empty()) {
    PXT_TRY(results, eval_calls(rewritten, sq.calls, values, media_dir_));
  }
  // Runs the statement; rows go to cb, or to *keep when given. Returns the number of rows.
  auto run = [&](std::vector<Row>* keep) -> Result<int64_t> {
    Params p(true);
    for (size_t b : sq.bound) add_read_value(p, values[b], rewritten.params[b].type);
    for (int slot : sq.slots)
      add_result(p, results[static_cast<size_t>(slot)], *sq.calls.calls[static_cast<size_t>(slot)].fn);
    auto r = c.pipeline({{"BEGIN READ ONLY", Params()}, {sq.sql, p}, {"COMMIT", Params()}});
    if (!r) {
      if (pq().PQtransactionStatus(c.raw()) != PQTRANS_IDLE && !c.broken()) (void)c.exec("ROLLBACK");
      return user_sql_error(c.last_error(), nullptr, &cat, what(q) + " failed");
    }
    if (r->size() < 2) return make_error(Errc::internal, what(q) + ": no result");
    const PgResult& rows = (*r)[1];
    std::vector<bool> kept;
    std::vector<ResultColumn> cols = result_columns(rows, cat, kept);
    std::vector<int> at;
    for (size_t i = 0; i < kept.size(); ++i)
      if (kept[i]) at.push_back(static_cast<int>(i));
    Row row(at.size());
    for (int i = 0; i < rows.rows(); ++i) {
      for (size_t j = 0; j < at.size(); ++j) read_cell(rows, i, at[j], cols[j].type, row[j]);
      if (keep) {
        keep->push_back(row);
      } else if (!cb(row)) {
        break;
      }
    }
    return static_cast<int64_t>(rows.rows());
  };
  if (!use_index) {
    PXT_TRY(int64_t n, run(nullptr));
    (void)n;
    return {};
  }
  // The graph's nearest rows; some may be filtered out (a WHERE clause, rows deleted or changed
  // since), so ask for more until k rows pass or the graph has no more to give.
  size_t want = static_cast<size_t>(k) * (plan.has_where ? 4 : 1);
  while (true) {
    PXT_TRY(std::vector<Neighbor> found, graph->search(std::get<std::string>(values[params.size()]), want));
    std::vector<int64_t> ids;
    for (const auto& n : found) ids.push_back(n.row);
    std::string list = "{";
    for (size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::to_string(ids[i]);
    values.back() = list + "}";
    bool exhausted = found.size() < want;
    std::vector<Row> rows;
    PXT_TRY(int64_t n, run(&rows));
    if (n >= k || exhausted) {
      for (const Row& r : rows)
        if (!cb(r)) break;
      return {};
    }
    want *= 4;
  }
}

}  // namespace pxt::pg
