// Named queries of the SQLite store: read-only SQL with :named parameters, and retrieval queries
// (a table matched by equality on some columns).
#include <algorithm>

#include "store/expr/computed.hpp"
#include "store/functions/query_calls.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

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

// Only a SELECT (or WITH ... SELECT / VALUES) that writes nothing may run as a query.
Result<void> check_read_only(const QueryDef& q, sqlite3_stmt* s) {
  std::vector<SqlToken> toks = tokenize_sql(q.sql);
  bool select =
      !toks.empty() && toks[0].kind == SqlToken::Kind::Ident &&
      (iequals(toks[0].text, "select") || iequals(toks[0].text, "with") || iequals(toks[0].text, "values"));
  if (!select || !sqlite3_stmt_readonly(s)) {
    return bad(q, "only a read-only SELECT is allowed (the SQL would " +
                      std::string(select ? "write to the store" : "not be a SELECT") + ")");
  }
  return {};
}

// Compares the SQL's :parameters with the declared ones; every mismatch is reported at once.
Result<void> check_params(const QueryDef& q, sqlite3_stmt* s) {
  std::vector<std::string> used, problems;
  for (int i = 1; i <= sqlite3_bind_parameter_count(s); ++i) {
    const char* name = sqlite3_bind_parameter_name(s, i);
    if (!name || name[0] != ':') {
      problems.push_back("parameter '" + std::string(name ? name : "?") + "' must be written :name");
      continue;
    }
    std::string n = name + 1;
    used.push_back(n);
    auto declared =
        std::find_if(q.params.begin(), q.params.end(), [&](const auto& p) { return p.name == n; });
    if (declared == q.params.end()) {
      problems.push_back("parameter ':" + n + "' is not declared" + did_you_mean(n, param_names(q)));
    }
  }
  for (const auto& p : q.params) {
    if (std::find(used.begin(), used.end(), p.name) == used.end()) {
      problems.push_back("declared parameter '" + p.name + "' is not used in the SQL");
    }
  }
  if (!problems.empty()) return bad(q, join(problems, "; "));
  return {};
}

std::vector<ResultColumn> result_columns(sqlite3_stmt* s, const Catalog& cat) {
  std::vector<ResultColumn> out;
  for (int i = 0; i < sqlite3_column_count(s); ++i) {
    ResultColumn rc;
    rc.name = sqlite3_column_name(s, i);
    const char* table = sqlite3_column_table_name(s, i);
    const char* origin = sqlite3_column_origin_name(s, i);
    if (table && origin) {
      auto it = cat.tables.find(table);
      if (it != cat.tables.end()) {
        if (const ColumnDef* c = it->second->def.find(origin)) {
          rc.type = c->type;
          rc.nullable = !c->required;
        }
      }
    }
    out.push_back(std::move(rc));
  }
  return out;
}

Result<void> check_unique_names(const QueryDef& q, const std::vector<ResultColumn>& cols) {
  for (size_t i = 0; i < cols.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (cols[i].name == cols[j].name) {
        return bad(q, "the result has two columns named '" + cols[i].name + "'; rename one with AS");
      }
    }
  }
  return {};
}

TableLookup table_lookup(const Catalog& cat) {
  return [&cat](const std::string& path) -> const TableDef* {
    auto it = cat.tables.find(path);
    return it == cat.tables.end() ? nullptr : &it->second->def;
  };
}

std::string retrieval_sql(const TableInfo& t, const QueryDef& q) {
  std::vector<std::string> terms;
  for (size_t k = 0; k < q.match.size(); ++k) {
    const ColumnDef* c = t.def.find(q.match[k]);
    terms.push_back(quote_ident(c ? c->name : q.match[k]) + " = ?" + std::to_string(k + 1));
  }
  return "SELECT * FROM " + t.qname + " WHERE " + join(terms, " AND ") + " LIMIT " + std::to_string(q.limit);
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
  if (!q.params.empty() && q.params.size() != q.match.size()) {
    return bad(q, "a retrieval query takes one parameter per match column");
  }
  return it->second;
}

}  // namespace

Result<std::vector<ResultColumn>> SqliteStore::describe_query(const QueryDef& q) {
  PXT_TRY(Lease c, conn());
  ReadTxn txn(*c);
  PXT_CHECK(txn.begin());
  PXT_TRY(auto cat, catalog(*c, true));
  if (q.kind == QueryDef::Kind::Retrieval) {
    PXT_TRY(auto t, retrieval_table(q, *cat));
    std::vector<ResultColumn> out;
    for (const auto& col : t->def.columns) out.push_back({col.name, col.type, !col.required});
    return out;
  }
  if (trim(q.sql).empty()) return bad(q, "the SQL is empty");
  auto similar = plan_similarity(q.sql, table_lookup(*cat));
  if (!similar) return bad(q, similar.error().message);
  auto plan = plan_query_calls(q.sql);
  if (!plan) return bad(q, plan.error().message);
  auto stmt = c->prepare(*plan ? (*plan)->sql : q.sql, true);
  if (!stmt.ok()) return user_sql_error(stmt.error(), nullptr, cat.get(), what(q));
  PXT_CHECK(check_read_only(q, stmt->get()));
  PXT_CHECK(check_params(q, stmt->get()));
  std::vector<ResultColumn> cols = result_columns(stmt->get(), *cat);
  if (*plan) cols = planned_columns(**plan, cols);
  PXT_CHECK(check_unique_names(q, cols));
  return cols;
}

Result<void> SqliteStore::run_query(const QueryDef& q, const std::vector<Value>& params,
                                    const RowCallback& cb) {
  size_t expected = q.kind == QueryDef::Kind::Retrieval ? q.match.size() : q.params.size();
  if (params.size() != expected) {
    return bad(q, "expected " + std::to_string(expected) + " parameter values, got " +
                      std::to_string(params.size()));
  }
  std::optional<QueryCallPlan> plan;
  if (q.kind == QueryDef::Kind::Sql) {
    const auto& p = cached_query_plan(q.sql);
    if (!p) return bad(q, p.error().message);
    plan = *p;
    // similarity(COLUMN, :param) on an indexed column: embeds the parameter, then asks the index.
    PXT_TRY(Lease c, conn());
    std::shared_ptr<const Catalog> cat;
    {
      ReadTxn txn(*c);
      PXT_CHECK(txn.begin());
      PXT_TRY(cat, catalog(*c, false));
    }
    auto similar = plan_similarity(q.sql, table_lookup(*cat));
    if (!similar) return bad(q, similar.error().message);
    if (!similar->calls.empty()) {
      for (size_t k = 0; k < params.size(); ++k) {
        ColumnDef as_column;
        as_column.name = q.params[k].name;
        as_column.type = q.params[k].type;
        if (auto ok = check_param_value(as_column, params[k]); !ok.ok())
          return bad(q, "parameter " + ok.error().message.substr(std::string("column ").size()));
      }
      return run_similarity(*c, *cat, q, *similar, params, cb);
    }
  }
  std::vector<Row> raw;  // with calls to make: every row, read before any call is made
  {
    PXT_TRY(Lease c, conn());
    ReadTxn txn(*c);
    PXT_CHECK(txn.begin());
    PXT_TRY(auto cat, catalog(*c, false));
    sqlite3_stmt* s = nullptr;
    std::vector<std::optional<ColumnType>> types;
    std::shared_ptr<const TableInfo> table;
    if (q.kind == QueryDef::Kind::Retrieval) {
      PXT_TRY(table, retrieval_table(q, *cat));
      PXT_TRY(s, c->cached(retrieval_sql(*table, q)));
      for (const auto& col : table->def.columns) types.emplace_back(col.type);
    } else {
      auto prepared = c->cached(plan ? plan->sql : q.sql, true);
      if (!prepared.ok()) return user_sql_error(prepared.error(), nullptr, cat.get(), what(q));
      s = *prepared;
      PXT_CHECK(check_read_only(q, s));
      // Expressions without a source column keep SQLite's own value types (nullopt).
      for (const auto& rc : result_columns(s, *cat)) types.push_back(rc.type);
    }
    StmtUse use(s);
    for (size_t k = 0; k < params.size(); ++k) {
      ColumnDef as_column;
      if (table) {
        as_column = *table->def.find(q.match[k]);
      } else {
        as_column.name = q.params[k].name;
        as_column.type = q.params[k].type;
      }
      if (auto ok = check_param_value(as_column, params[k]); !ok.ok()) {
        return bad(q, "parameter " + ok.error().message.substr(std::string("column ").size()));
      }
      int i =
          table ? static_cast<int>(k + 1) : sqlite3_bind_parameter_index(s, (":" + q.params[k].name).c_str());
      if (i > 0) bind_typed(s, i, as_column.type, params[k]);
    }
    Row row(types.size());
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      for (size_t i = 0; i < types.size(); ++i) read_value(s, static_cast<int>(i), types[i], row[i]);
      if (plan) {
        raw.push_back(row);
      } else if (!cb(row)) {
        return {};
      }
    }
    if (rc != SQLITE_DONE) return map_error(c->db(), rc, what(q) + " failed");
  }
  // The read transaction has ended: the slow calls are made now (store/functions/query_calls.hpp).
  FunctionContext ctx{media_dir(), current_created_files()};
  for (const Row& r : raw) {
    auto row = apply_query_calls(*plan, r, ctx);
    if (!row) return make_error(row.error().code, what(q) + ": " + row.error().message);
    if (!cb(*row)) return {};
  }
  return {};
}

}  // namespace pxt::sqlite
