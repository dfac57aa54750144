// Schema modules: the [[queries]] part of the parser (SQL and retrieval queries, parameters,
// defaults and the check that the SQL names only declared parameters).
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "store/model/values.hpp"
#include "store/modules/parser.hpp"
#include "util/strings.hpp"

namespace pxt::detail {

void ModuleParser::query(const toml::value& v) {
  check_keys(v, kQueryKeys, "[[queries]]");
  QueryDef q;
  q.module = m_.name;
  q.location = location(v);
  auto name = string_at(v, "name", "[[queries]]", true);
  if (name && !is_identifier(*name)) {
    error(*get(v, "name"),
          fmt::format("[[queries]]: invalid query name '{}': expected an identifier", *name));
  }
  std::string what = fmt::format("query '{}'", name.value_or("?"));
  if (name) {
    q.name = *name;
    for (const auto& other : m_.queries) {
      if (other.name == *name)
        error(v, fmt::format("{} is declared twice (first at {})", what, other.location));
    }
  }
  bool has_sql = get(v, "sql") != nullptr, has_table = get(v, "table") != nullptr;
  if (has_sql == has_table) {
    error(v,
          fmt::format("{}: give either 'sql' (an SQL query) or 'table' with 'match' (a retrieval query) or "
                      "with 'similar' (a similarity query)",
                      what));
    return;
  }
  auto refuse = [&](const char* key, const char* why) {
    if (const toml::value* x = get(v, key)) error(*x, fmt::format("{}: '{}' {}", what, key, why));
  };
  if (has_sql) {
    q.kind = QueryDef::Kind::Sql;
    refuse("match", "is only for retrieval queries (with 'table')");
    refuse("limit", "is only for retrieval queries; write LIMIT in the SQL");
    if (auto sql = string_at(v, "sql", what, true)) q.sql = *sql;
    if (trim(q.sql).empty()) error(*get(v, "sql"), fmt::format("{}: 'sql' is empty", what));
    if (const toml::value* params = get(v, "params")) {
      if (!params->is_array()) {
        error(*params,
              fmt::format("{}: 'params' must be an array of {{ name, type, default }} tables", what));
      } else {
        for (const auto& p : params->as_array()) {
          auto qp = param(p, what);
          if (!qp) continue;
          bool dup = std::any_of(q.params.begin(), q.params.end(),
                                 [&](const auto& o) { return o.name == qp->name; });
          if (dup) {
            error(p, fmt::format("{}: parameter '{}' is declared twice", what, qp->name));
          } else {
            q.params.push_back(std::move(*qp));
          }
        }
      }
    }
    check_sql_params(*get(v, "sql"), q);
  } else if (get(v, "similar")) {
    similar_query(v, q, what);
  } else {
    q.kind = QueryDef::Kind::Retrieval;
    refuse("param", "is only for similarity queries (with 'similar')");
    refuse("params", "is only for SQL queries; a retrieval query's parameters are its match columns");
    if (auto table = string_at(v, "table", what, true)) {
      auto p = normalize_path(*table);
      if (!p) {
        error(*get(v, "table"), fmt::format("{}: {}", what, p.error().message));
      } else {
        q.table = *p;
      }
    }
    auto match = strings_at(v, "match", what);
    if (!match || match->empty()) {
      if (!get(v, "match") || match) {
        error(get(v, "match") ? *get(v, "match") : v,
              fmt::format("{}: 'match' must list the columns to match, e.g. match = [\"id\"]", what));
      }
    } else {
      q.match = *match;
      for (const auto& decl : m_.tables) {
        if (decl.def.path != q.table) continue;
        for (const auto& col : q.match) {
          if (!decl.def.find(col)) {
            error(*get(v, "match"), fmt::format("{}: unknown column '{}' in table '{}'{}", what, col, q.table,
                                                did_you_mean(col, decl.def.column_names())));
          }
        }
      }
    }
    if (const toml::value* limit = get(v, "limit")) {
      if (!limit->is_integer() || limit->as_integer() <= 0) {
        error(*limit, fmt::format("{}: 'limit' must be a positive integer", what));
      } else {
        q.limit = limit->as_integer();
      }
    }
  }
  m_.queries.push_back(std::move(q));
}

// table + similar = COLUMN [+ param, limit]: the rows most similar to one text parameter, by the
// column's embedding index; the SQL is made when the index is known (resolve_retrieval_params).
void ModuleParser::similar_query(const toml::value& v, QueryDef& q, const std::string& what) {
  q.kind = QueryDef::Kind::Sql;
  if (const toml::value* x = get(v, "match"))
    error(*x, fmt::format("{}: give 'match' (equality) or 'similar' (similarity), not both", what));
  if (const toml::value* x = get(v, "params"))
    error(*x, fmt::format("{}: a similarity query takes one parameter: name it with 'param'", what));
  if (auto table = string_at(v, "table", what, true)) {
    auto p = normalize_path(*table);
    if (!p) {
      error(*get(v, "table"), fmt::format("{}: {}", what, p.error().message));
    } else {
      q.table = *p;
    }
  }
  if (auto col = string_at(v, "similar", what, true)) q.similar = *col;
  std::string param = q.similar;
  if (auto p = string_at(v, "param", what, false)) {
    if (!is_identifier(*p)) error(*get(v, "param"), fmt::format("{}: invalid parameter name '{}'", what, *p));
    param = *p;
  }
  q.params.push_back({param, ColumnType::String, std::nullopt});
  if (const toml::value* limit = get(v, "limit")) {
    if (!limit->is_integer() || limit->as_integer() <= 0) {
      error(*limit, fmt::format("{}: 'limit' must be a positive integer", what));
    } else {
      q.limit = limit->as_integer();
    }
  }
  for (const auto& decl : m_.tables) {
    if (decl.def.path == q.table && !q.similar.empty() && !decl.def.find(q.similar))
      error(*get(v, "similar"), fmt::format("{}: unknown column '{}' in table '{}'{}", what, q.similar,
                                            q.table, did_you_mean(q.similar, decl.def.column_names())));
  }
}

std::optional<QueryParam> ModuleParser::param(const toml::value& v, std::string_view query_what) {
  if (!v.is_table()) {
    error(v, fmt::format("{}: each parameter must be a table like {{ name = \"q\", type = \"String\" }}",
                         query_what));
    return std::nullopt;
  }
  size_t before = errors_.size();
  check_keys(v, kParamKeys, fmt::format("a parameter of {}", query_what));
  QueryParam p;
  auto name = string_at(v, "name", fmt::format("a parameter of {}", query_what), true);
  if (name && !is_identifier(*name)) {
    error(*get(v, "name"), fmt::format("{}: invalid parameter name '{}'", query_what, *name));
  }
  std::string what = fmt::format("{}: parameter '{}'", query_what, name.value_or("?"));
  if (name) p.name = *name;
  if (auto type = type_at(v, what)) {
    p.type = *type;
  } else if (!get(v, "type")) {
    error(v, fmt::format("{}: missing key 'type' (one of {})", what, join(all_type_names(), ", ")));
  }
  if (const toml::value* d = get(v, "default"); d && errors_.size() == before) {
    p.default_value = default_value(*d, p.type, what);
  }
  if (errors_.size() != before) return std::nullopt;
  return p;
}

std::optional<Value> ModuleParser::default_value(const toml::value& v, ColumnType type,
                                                 std::string_view what) {
  auto wrong = [&]() -> std::optional<Value> {
    error(v, fmt::format("{}: default must be {} value, got {}", what, type_name(type), toml_type(v)));
    return std::nullopt;
  };
  switch (type) {
    case ColumnType::Int:
      if (!v.is_integer()) return wrong();
      return Value(static_cast<int64_t>(v.as_integer()));
    case ColumnType::Float:
      if (v.is_integer()) return Value(static_cast<double>(v.as_integer()));
      if (!v.is_floating()) return wrong();
      return Value(v.as_floating());
    case ColumnType::Bool:
      if (!v.is_boolean()) return wrong();
      return Value(v.as_boolean());
    default:
      break;
  }
  std::string text;
  if (v.is_string()) {
    text = v.as_string().str;
  } else if (v.is_offset_datetime() || v.is_local_datetime() || v.is_local_date()) {
    std::ostringstream os;
    if (v.is_offset_datetime()) os << v.as_offset_datetime();
    if (v.is_local_datetime()) os << v.as_local_datetime();
    if (v.is_local_date()) os << v.as_local_date();
    text = os.str();
  } else {
    return wrong();
  }
  Converted c = value_from_text(text, type);
  if (auto* err = std::get_if<ValueError>(&c)) {
    error(v, fmt::format("{}: invalid default \"{}\": {}", what, text, err->msg));
    return std::nullopt;
  }
  return std::get<Value>(std::move(c));
}

// Every `:name` in the SQL (outside string literals and quoted names) must be a declared
// parameter; `::` (a PostgreSQL cast) is not a parameter.
void ModuleParser::check_sql_params(const toml::value& at, const QueryDef& q) {
  std::vector<std::string> declared;
  for (const auto& p : q.params) declared.push_back(p.name);
  std::set<std::string> reported;
  const std::string& sql = q.sql;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char ch = sql[i];
    if (quote) {
      if (ch == quote) quote = 0;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      continue;
    }
    if (ch != ':' || (i > 0 && sql[i - 1] == ':') || (i + 1 < sql.size() && sql[i + 1] == ':')) continue;
    size_t j = i + 1;
    while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
    std::string name = sql.substr(i + 1, j - i - 1);
    if (name.empty() || !is_identifier(name)) continue;
    if (std::find(declared.begin(), declared.end(), name) == declared.end() && reported.insert(name).second) {
      error(at, fmt::format("query '{}': ':{}' is not a declared parameter{}", q.name, name,
                            did_you_mean(name, declared)));
    }
  }
}

}  // namespace pxt::detail
