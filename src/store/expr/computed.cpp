#include "store/expr/computed.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>

#include "store/functions/registry.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

using Kind = SqlToken::Kind;

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

// Reads a quoted run starting at s[i] (the opening quote), doubling `close` as the escape.
size_t read_quoted(std::string_view s, size_t i, char close, std::string& out) {
  size_t j = i + 1;
  while (j < s.size()) {
    if (s[j] == close) {
      if (j + 1 < s.size() && s[j + 1] == close && close != ']') {
        out += close;
        j += 2;
        continue;
      }
      return j + 1;
    }
    out += s[j++];
  }
  return j;
}

size_t skip_comment(std::string_view s, size_t i) {
  if (s.compare(i, 2, "--") == 0) {
    size_t e = s.find('\n', i);
    return e == std::string_view::npos ? s.size() : e + 1;
  }
  if (s.compare(i, 2, "/*") == 0) {
    size_t e = s.find("*/", i + 2);
    return e == std::string_view::npos ? s.size() : e + 2;
  }
  return i;
}

}  // namespace

bool is_sql_word(const SqlToken& t, std::string_view w) {
  return t.kind == SqlToken::Kind::Ident && iequals(t.text, w);
}

std::vector<SqlToken> tokenize_sql(std::string_view s) {
  std::vector<SqlToken> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    size_t start = i, before = out.size();
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (size_t after = skip_comment(s, i); after != i) {
      i = after;
    } else if (c == '\'') {
      std::string text;
      i = read_quoted(s, i, '\'', text);
      out.push_back({Kind::String, std::move(text)});
    } else if ((c == 'x' || c == 'X') && i + 1 < s.size() && s[i + 1] == '\'') {
      std::string text;
      i = read_quoted(s, i + 1, '\'', text);
      out.push_back({Kind::String, std::move(text)});
    } else if (c == '"' || c == '`' || c == '[') {
      std::string text;
      i = read_quoted(s, i, c == '[' ? ']' : c, text);
      out.push_back({Kind::QuotedIdent, std::move(text)});
    } else if (ident_start(c)) {
      size_t j = i;
      while (j < s.size() && ident_char(s[j])) ++j;
      out.push_back({Kind::Ident, std::string(s.substr(i, j - i))});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                              ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      out.push_back({Kind::Number, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == '?' || c == ':' || c == '@' || c == '$') {
      size_t j = i + 1;
      while (j < s.size() && ident_char(s[j])) ++j;
      out.push_back({Kind::Param, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == '(' || c == ')' || c == ',' || c == '.') {
      out.push_back({c == '('   ? Kind::LParen
                     : c == ')' ? Kind::RParen
                     : c == ',' ? Kind::Comma
                                : Kind::Dot,
                     std::string(1, c)});
      ++i;
    } else {
      static const char* kOps[] = {"->>", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>", "->"};
      std::string op(1, c);
      for (const char* o : kOps) {
        if (s.compare(i, std::strlen(o), o) == 0) {
          op = o;
          break;
        }
      }
      bool known = std::string_view("+-*/%<>=&|~!").find(c) != std::string_view::npos;
      out.push_back({known ? Kind::Op : Kind::Other, op});
      i += op.size();
    }
    if (out.size() > before) {
      out.back().pos = start;
      out.back().len = i - start;
    }
  }
  return out;
}

std::vector<std::string> limit_parameters(std::string_view sql) {
  std::vector<SqlToken> toks = tokenize_sql(sql);
  std::vector<std::string> out;
  // From each LIMIT to the end of its (sub)query: the closing parenthesis of the depth it is at,
  // or the end of the text. OFFSET and "LIMIT a, b" fall inside that span.
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].kind != SqlToken::Kind::Ident || !iequals(toks[i].text, "limit")) continue;
    int depth = 0;
    for (size_t j = i + 1; j < toks.size(); ++j) {
      const SqlToken& t = toks[j];
      if (t.kind == SqlToken::Kind::LParen) ++depth;
      if (t.kind == SqlToken::Kind::RParen && --depth < 0) break;
      if (t.kind == SqlToken::Kind::Param && t.text.size() > 1 && t.text[0] == ':') {
        std::string name = t.text.substr(1);
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      }
    }
  }
  return out;
}

std::vector<std::string> referenced_columns(std::string_view expr, const std::vector<std::string>& columns) {
  std::vector<SqlToken> toks = tokenize_sql(expr);
  std::vector<std::string> out;
  for (size_t i = 0; i < toks.size(); ++i) {
    const SqlToken& t = toks[i];
    if (t.kind != Kind::Ident && t.kind != Kind::QuotedIdent) continue;
    bool next_paren = i + 1 < toks.size() && toks[i + 1].kind == Kind::LParen;
    bool next_dot = i + 1 < toks.size() && toks[i + 1].kind == Kind::Dot;
    if ((t.kind == Kind::Ident && next_paren) || next_dot) continue;
    for (const auto& c : columns) {
      if (iequals(c, t.text) && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
  }
  return out;
}

std::string substitute_columns(std::string_view expr, const TableDef& def,
                               const std::vector<std::string>& replacement,
                               const std::function<bool(std::string_view)>& is_keyword) {
  std::vector<SqlToken> toks = tokenize_sql(expr);
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    const SqlToken& t = toks[i];
    if (t.kind != Kind::Ident && t.kind != Kind::QuotedIdent) continue;
    bool next_paren = i + 1 < toks.size() && toks[i + 1].kind == Kind::LParen;
    bool next_dot = i + 1 < toks.size() && toks[i + 1].kind == Kind::Dot;
    bool after_dot = i > 0 && toks[i - 1].kind == Kind::Dot;
    bool after_as = i > 0 && toks[i - 1].kind == Kind::Ident && iequals(toks[i - 1].text, "as");
    if (next_dot || after_dot || after_as) continue;
    if (t.kind == Kind::Ident && (next_paren || is_keyword(t.text))) continue;
    int col = def.index_of(t.text);
    if (col < 0) continue;
    out.append(expr.substr(copied, t.pos - copied));
    out += "(" + replacement[static_cast<size_t>(col)] + ")";
    copied = t.pos + t.len;
  }
  out.append(expr.substr(copied));
  return out;
}

Result<std::vector<int>> computed_order(const TableDef& def) {
  // Depth-first search; `stack` holds the current path so a back edge can name the cycle.
  std::vector<int> state(def.columns.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<int> order, stack;
  std::string cycle;
  std::function<bool(int)> visit = [&](int i) {
    const ColumnDef& c = def.columns[static_cast<size_t>(i)];
    if (!c.is_computed() || state[static_cast<size_t>(i)] == 2) return true;
    if (state[static_cast<size_t>(i)] == 1) {
      auto from = std::find(stack.begin(), stack.end(), i);
      std::vector<std::string> names;
      for (auto it = from; it != stack.end(); ++it)
        names.push_back(def.columns[static_cast<size_t>(*it)].name);
      names.push_back(c.name);
      cycle = join(names, " -> ");
      return false;
    }
    state[static_cast<size_t>(i)] = 1;
    stack.push_back(i);
    for (const auto& dep : c.depends_on) {
      int d = def.index_of(dep);
      if (d >= 0 && !visit(d)) return false;
    }
    stack.pop_back();
    state[static_cast<size_t>(i)] = 2;
    order.push_back(i);
    return true;
  };
  for (size_t i = 0; i < def.columns.size(); ++i) {
    if (!visit(static_cast<int>(i))) {
      return make_error(Errc::invalid_argument, "computed columns form a cycle: " + cycle);
    }
  }
  return order;
}

namespace {

bool is_word(const SqlToken& t, const char* w) { return t.kind == Kind::Ident && iequals(t.text, w); }

std::optional<ColumnType> function_type(const std::string& name) {
  static const char* kText[] = {"upper", "lower", "substr",  "substring", "trim",
                                "ltrim", "rtrim", "replace", "printf",    "format",
                                "quote", "hex",   "char",    "soundex",   "group_concat"};
  static const char* kInt[] = {"length", "instr", "unicode"};
  for (const char* f : kText)
    if (iequals(name, f)) return ColumnType::String;
  for (const char* f : kInt)
    if (iequals(name, f)) return ColumnType::Int;
  if (auto fn = find_sql_function(name)) return fn->result_type;
  return std::nullopt;
}

std::optional<ColumnType> cast_type(const std::vector<SqlToken>& toks) {
  // CAST ( ... AS TYPE )
  if (toks.size() < 6 || toks[toks.size() - 3].kind != Kind::Ident) return std::nullopt;
  if (!iequals(toks[toks.size() - 3].text, "as")) return std::nullopt;
  const std::string& t = toks[toks.size() - 2].text;
  if (iequals(t, "text")) return ColumnType::String;
  if (iequals(t, "integer") || iequals(t, "int")) return ColumnType::Int;
  if (iequals(t, "real")) return ColumnType::Float;
  return std::nullopt;
}

// Strips parentheses enclosing the whole token list.
std::vector<SqlToken> unwrap(std::vector<SqlToken> toks) {
  while (toks.size() >= 2 && toks.front().kind == Kind::LParen && toks.back().kind == Kind::RParen) {
    int depth = 0;
    bool encloses = true;
    for (size_t i = 0; i + 1 < toks.size(); ++i) {
      depth += toks[i].kind == Kind::LParen ? 1 : toks[i].kind == Kind::RParen ? -1 : 0;
      if (depth == 0) encloses = false;
    }
    if (!encloses) break;
    toks = std::vector<SqlToken>(toks.begin() + 1, toks.end() - 1);
  }
  return toks;
}

std::optional<ColumnType> infer(const TableDef& def, const std::vector<SqlToken>& toks) {
  if (toks.empty()) return std::nullopt;
  bool comparison = false, arithmetic = false, concat = false, has_case = false;
  int depth = 0;
  for (const auto& t : toks) {
    if (t.kind == Kind::LParen || is_word(t, "case")) ++depth;
    if (t.kind == Kind::RParen || is_word(t, "end")) --depth;
    if (is_word(t, "case")) has_case = true;
    if (depth != 0) continue;
    static const char* kCmp[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
    static const char* kCmpWords[] = {"is",  "like", "glob", "in",     "between",
                                      "not", "and",  "or",   "regexp", "match"};
    if (t.kind == Kind::Op) {
      for (const char* o : kCmp) comparison |= t.text == o;
      if (t.text == "||") concat = true;
      static const char* kArith[] = {"+", "-", "*", "/", "%", "&", "|", "<<", ">>", "~", "->", "->>"};
      for (const char* o : kArith) arithmetic |= t.text == o;
    }
    for (const char* w : kCmpWords) comparison |= is_word(t, w);
  }
  if (comparison) return ColumnType::Bool;
  if (arithmetic || (has_case && toks.front().kind == Kind::Ident && is_word(toks.front(), "case"))) {
    return std::nullopt;
  }
  if (concat) return ColumnType::String;
  if (toks.size() == 1) {
    const SqlToken& t = toks[0];
    if (t.kind == Kind::String) return ColumnType::String;
    if (t.kind == Kind::Number) {
      return t.text.find_first_of(".eE") == std::string::npos ? ColumnType::Int : ColumnType::Float;
    }
    if (t.kind == Kind::Ident || t.kind == Kind::QuotedIdent) {
      if (const ColumnDef* c = def.find(t.text)) return c->type;
    }
    return std::nullopt;
  }
  if (toks.size() >= 3 && toks[0].kind == Kind::Ident && toks[1].kind == Kind::LParen &&
      toks.back().kind == Kind::RParen) {
    // The call must span the whole expression: the parenthesis after the name closes at the end.
    int d = 0;
    for (size_t i = 1; i < toks.size(); ++i) {
      d += toks[i].kind == Kind::LParen ? 1 : toks[i].kind == Kind::RParen ? -1 : 0;
      if (d == 0 && i + 1 != toks.size()) return std::nullopt;
    }
    if (iequals(toks[0].text, "cast")) return cast_type(toks);
    return function_type(toks[0].text);
  }
  return std::nullopt;
}

}  // namespace

Result<ColumnType> infer_computed_type(const TableDef& def, const ColumnDef& col) {
  if (auto t = infer(def, unwrap(tokenize_sql(col.computed)))) return *t;
  return make_error(Errc::invalid_argument, "cannot infer the type of computed column '" + col.name +
                                                "' from '" + col.computed + "'; declare it as " + col.name +
                                                ":Type=" + col.computed);
}

std::vector<int> affected_computed(const TableDef& def, const std::vector<int>& order,
                                   const std::vector<int>& changed) {
  std::vector<bool> dirty(def.columns.size(), false);
  for (int c : changed) dirty[static_cast<size_t>(c)] = true;
  std::vector<int> out;
  for (int i : order) {
    for (const auto& dep : def.columns[static_cast<size_t>(i)].depends_on) {
      int d = def.index_of(dep);
      if (d >= 0 && dirty[static_cast<size_t>(d)]) {
        dirty[static_cast<size_t>(i)] = true;
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

bool computes_ahead(std::string_view computed_expr) {
  std::vector<SqlToken> toks = tokenize_sql(computed_expr);
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (toks[i].kind != SqlToken::Kind::Ident || toks[i + 1].kind != SqlToken::Kind::LParen) continue;
    auto fn = find_sql_function(toks[i].text);
    if (fn && fn->computed_ahead()) return true;
  }
  return false;
}

std::string layered_select(const TableDef& def, const std::string& base, const std::vector<int>& cols) {
  std::string sql = base;
  for (size_t k = 0; k < cols.size(); ++k) {
    const ColumnDef& c = def.columns[static_cast<size_t>(cols[k])];
    sql = "SELECT *, (" + c.computed + ") AS " + quote_ident(c.name) + " FROM (" + sql + ") AS _l" +
          std::to_string(k);
    // A flattened layer copies its expression into every later use: a function that creates a
    // file would run (and create a file) once per use, a slow one would run again, and the
    // write's memo of calls computed ahead would be short of results. An OFFSET keeps SQLite
    // from flattening.
    if (computes_ahead(c.computed)) sql += " LIMIT -1 OFFSET 0";
  }
  return sql;
}

}  // namespace pxt
