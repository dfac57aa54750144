// User SQL on the PostgreSQL store: checking computed expressions when a table is made, the
// WHERE clause of filters, and PostgreSQL's messages about user SQL in pxt's words.
#include <algorithm>

#include "store/expr/computed.hpp"
#include "store/postgres/pg_store.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

// Built-in functions for "did you mean" on an unknown function (pxt's own are added).
const std::vector<std::string>& known_function_names() {
  static const std::vector<std::string> names = {"abs",
                                                 "btrim",
                                                 "ceil",
                                                 "char_length",
                                                 "coalesce",
                                                 "concat",
                                                 "concat_ws",
                                                 "date_part",
                                                 "date_trunc",
                                                 "exp",
                                                 "extract",
                                                 "floor",
                                                 "format",
                                                 "greatest",
                                                 "initcap",
                                                 "jsonb_array_length",
                                                 "jsonb_build_object",
                                                 "jsonb_extract_path_text",
                                                 "jsonb_typeof",
                                                 "least",
                                                 "left",
                                                 "length",
                                                 "ln",
                                                 "log",
                                                 "lower",
                                                 "lpad",
                                                 "ltrim",
                                                 "md5",
                                                 "mod",
                                                 "now",
                                                 "nullif",
                                                 "pi",
                                                 "position",
                                                 "power",
                                                 "regexp_replace",
                                                 "repeat",
                                                 "replace",
                                                 "reverse",
                                                 "right",
                                                 "round",
                                                 "rpad",
                                                 "rtrim",
                                                 "sign",
                                                 "split_part",
                                                 "sqrt",
                                                 "strpos",
                                                 "substr",
                                                 "substring",
                                                 "to_char",
                                                 "to_timestamp",
                                                 "translate",
                                                 "trim",
                                                 "trunc",
                                                 "upper"};
  return names;
}

bool mentions_internal(std::string_view sql) {
  std::vector<SqlToken> toks = tokenize_sql(sql);
  for (size_t i = 0; i < toks.size(); ++i) {
    const SqlToken& t = toks[i];
    if (t.kind == SqlToken::Kind::QuotedIdent && t.text.rfind("pxt$", 0) == 0) return true;
    bool next_dot = i + 1 < toks.size() && toks[i + 1].kind == SqlToken::Kind::Dot;
    if ((t.kind == SqlToken::Kind::Ident || t.kind == SqlToken::Kind::QuotedIdent) && next_dot &&
        (t.text == "pxt" || iequals(t.text, "pg_catalog") || iequals(t.text, "information_schema")))
      return true;
  }
  return false;
}

std::string between_quotes(const std::string& m) {
  size_t a = m.find('"');
  if (a == std::string::npos) return {};
  size_t b = m.find('"', a + 1);
  return b == std::string::npos ? std::string() : m.substr(a + 1, b - a - 1);
}

// A filter's calls of pxt's own functions on literals (`at > pxt_timestamp('2024-01-02')`) are
// evaluated here and bound as parameters, as in named queries; calls on columns stay in the SQL,
// where PostgreSQL refuses them (user_sql_error says why).
Result<std::string> bind_filter_calls(const std::string& where, Params& params) {
  auto calls = extract_query_calls(where);
  if (!calls) return make_error(Errc::invalid_argument, "invalid filter: " + calls.error().message);
  if (calls->calls.empty() || !calls->params.empty()) return where;
  std::vector<Value> results(calls->calls.size());
  FunctionContext ctx{"", nullptr};  // a filter creates no media
  for (size_t i = 0; i < calls->calls.size(); ++i) {
    const QueryCall& call = calls->calls[i];
    std::vector<Value> args;
    for (const QueryCallArg& a : call.args) {
      args.push_back(a.kind == QueryCallArg::Kind::Call ? results[static_cast<size_t>(a.call)] : a.literal);
      if (const bool* b = std::get_if<bool>(&args.back())) args.back() = int64_t(*b ? 1 : 0);
    }
    Result<Value> out = call_sql_function(*call.fn, ctx, args);
    if (!out)
      return make_error(Errc::invalid_argument,
                        "invalid filter: " + call.fn->name + "(): " + out.error().message);
    results[i] = std::move(*out);
  }
  std::vector<int> slots;
  std::string sql = render_query_calls(calls->sql, calls->calls, static_cast<int>(params.size()) + 1, slots);
  for (int slot : slots)
    add_result(params, results[static_cast<size_t>(slot)], *calls->calls[static_cast<size_t>(slot)].fn);
  return sql;
}

}  // namespace

Error internal_tables_error(std::string_view what) {
  std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  return make_error(Errc::invalid_argument,
                    prefix + "access to pxt's internal catalog tables is not allowed");
}

Result<void> check_internal_refs(std::string_view sql, std::string_view what) {
  if (mentions_internal(sql)) return internal_tables_error(what);
  return {};
}

Error user_sql_error(const PgError& e, const TableDef* def, const Catalog* cat, std::string_view what) {
  if (is_connection_error(e) || e.sqlstate == "PXT01") return map_error(e);
  std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  const std::string& m = e.message;
  if (e.sqlstate == "42703") {  // column "x" does not exist
    std::string col = between_quotes(m);
    std::vector<std::string> names = def ? def->column_names() : std::vector<std::string>{};
    std::string hint = did_you_mean(col, names);
    // PostgreSQL folded an unquoted mixed-case name to lower case: say so.
    std::vector<std::string> all = names;
    if (cat)
      for (const auto& [path, info] : cat->tables)
        for (const auto& c : info->def.columns) all.push_back(c.name);
    for (const auto& n : all)
      if (iequals(n, col) && n != col)
        hint = ", did you mean '" + n + "'? (write it in double quotes: \"" + n + "\")";
    return make_error(Errc::invalid_argument, prefix + "unknown column '" + col + "'" + hint);
  }
  if (e.sqlstate == "42P01" || e.sqlstate == "3F000") {  // relation "x" does not exist / schema "a"
    std::string table = between_quotes(m);
    std::vector<std::string> paths = cat ? cat->table_paths() : std::vector<std::string>{};
    std::string msg = prefix + "unknown table '" + table + "'";
    if (cat && cat->tables.count(table)) {
      msg += "; write table paths in double quotes: FROM \"" + table + "\"";
    } else if (e.sqlstate == "3F000") {
      msg = prefix + "unknown table (schema '" + table +
            "' does not exist); write table paths in double quotes: "
            "FROM \"dir.table\"";
    } else {
      msg += did_you_mean(table, paths);
    }
    return make_error(Errc::not_found, msg);
  }
  if (e.sqlstate == "42883" && m.rfind("function ", 0) == 0) {  // function f(text) does not exist
    std::string fn = m.substr(9, m.find('(') == std::string::npos ? std::string::npos : m.find('(') - 9);
    if (auto own = find_sql_function(fn)) {
      return make_error(Errc::invalid_argument,
                        prefix + "function '" + own->name +
                            "' is pxt's own: on a PostgreSQL store pxt evaluates it in computed columns, on "
                            "literals and parameters, and as a whole result column of a named query; other "
                            "calls run inside PostgreSQL, which does not have it (store its result in a "
                            "computed column and use that)");
    }
    const auto& builtins = known_function_names();
    if (std::find(builtins.begin(), builtins.end(), to_lower(fn)) != builtins.end()) {
      return make_error(Errc::invalid_argument, prefix + "function '" + fn +
                                                    "' does not take these arguments (" + m +
                                                    "); cast them, e.g. CAST(x AS numeric)");
    }
    std::vector<std::string> names = builtins;
    for (const auto& f : sql_functions()) names.push_back(f->name);
    return make_error(Errc::invalid_argument,
                      prefix + "unknown function '" + fn + "'" + did_you_mean(fn, names));
  }
  if (e.sqlstate == "42601") return make_error(Errc::invalid_argument, prefix + m);
  if (e.sqlstate == "42501") return internal_tables_error(what);
  Error mapped = map_error(e);
  return make_error(mapped.code, prefix + m);
}

Result<void> append_filter(std::string& sql, Params& params, const TableDef& def, const Filter& f,
                           const std::string& guard) {
  std::vector<std::string> terms;
  for (const auto& [name, value] : f.equals) {
    const ColumnDef* c = def.find(name);
    if (!c) return unknown_column(def, name);
    PXT_CHECK(check_value(*c, value));
    if (is_null(value)) {
      terms.push_back(quote_ident(c->name) + " IS NULL");
      continue;
    }
    add_read_value(params, value, c->type);
    terms.push_back(quote_ident(c->name) + " = " + param(static_cast<int>(params.size()), c->type));
  }
  if (!trim(f.where_sql).empty()) {
    PXT_CHECK(check_internal_refs(f.where_sql, "invalid filter"));
    PXT_TRY(std::string where, bind_filter_calls(f.where_sql, params));
    terms.push_back("(" + quote_columns(where, def) + ")");
  }
  if (!guard.empty()) terms.push_back(guard);
  if (!terms.empty()) sql += " WHERE " + join(terms, " AND ");
  return {};
}

Result<void> check_refs(const TableDef& def) {
  for (const auto& col : def.columns)
    if (col.is_computed()) PXT_CHECK(check_internal_refs(col.computed, "computed column '" + col.name + "'"));
  return {};
}

// Refuses expressions PostgreSQL cannot compile over the table's columns, in pxt's words: each
// computed expression is prepared over a row of typed nulls (pxt's calls as typed nulls too).
Result<void> probe_computed(Conn& c, const TableDef& def) {
  auto compiled = compile_table(def);
  if (!compiled) return compiled.error();
  std::string base = "SELECT ";
  for (size_t i = 0; i < def.columns.size(); ++i) {
    base += (i ? ", NULL::" : "NULL::") + std::string(pg_type(def.columns[i].type)) + " AS " +
            quote_ident(def.columns[i].name);
  }
  for (size_t i = 0; i < def.columns.size(); ++i) {
    const ColumnDef& col = def.columns[i];
    if (!col.is_computed()) continue;
    std::string what = "computed column '" + col.name + "'";
    auto slot_null = [&](int slot) {
      const CallSite& call = compiled->calls[static_cast<size_t>(slot)];
      return std::string("NULL::") + (call.fn->result_type ? pg_type(*call.fn->result_type) : "text");
    };
    // The arguments of pxt's own calls are probed too: the call itself is cut out of the
    // expression (pxt evaluates it), so upper(nme) must still find that 'nme' is no column.
    std::string select = "(" + render(compiled->exprs[i], slot_null) + ")";
    size_t wanted = 1;
    for (const CallSite& call : compiled->calls) {
      if (call.column != static_cast<int>(i)) continue;
      for (const std::string& arg : call.args) {
        select += ", (" + render(arg, slot_null) + ")";
        ++wanted;
      }
    }
    auto r = c.describe("SELECT " + select + " FROM (" + base + ") AS _p");
    if (!r) {
      const PgError& e = c.last_error();
      if (is_connection_error(e)) return map_error(e);
      if (e.sqlstate == "42601" || e.sqlstate == "42000")
        return make_error(Errc::invalid_argument,
                          what + ": invalid expression '" + col.computed + "': " + e.message);
      Error mapped = user_sql_error(e, &def, nullptr, what);
      return make_error(Errc::invalid_argument, mapped.message);
    }
    if (r->cols() != static_cast<int>(wanted))
      return make_error(Errc::invalid_argument, what + ": invalid expression '" + col.computed + "'");
  }
  return {};
}

}  // namespace pxt::pg
