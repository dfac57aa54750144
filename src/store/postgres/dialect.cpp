// PostgreSQL's dialect for pxt's SQL (dialect.hpp).
#include "store/postgres/dialect.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "store/expr/computed.hpp"
#include "store/model/values.hpp"
#include "store/model/vector.hpp"
#include "util/strings.hpp"

namespace pxt::pg {

namespace {

using Kind = SqlToken::Kind;

constexpr char kMarkOpen = '\x01';
constexpr char kMarkClose = '\x02';

std::string mark(int slot) { return std::string(1, kMarkOpen) + std::to_string(slot) + kMarkClose; }

// The index just past the parenthesis closing the one at toks[open], or toks.size().
size_t closing(const std::vector<SqlToken>& toks, size_t open) {
  int depth = 0;
  for (size_t i = open; i < toks.size(); ++i) {
    if (toks[i].kind == Kind::LParen) ++depth;
    if (toks[i].kind == Kind::RParen && --depth == 0) return i;
  }
  return toks.size();
}

class Compiler {
 public:
  Compiler(const TableDef& def, CompiledTable& out, int column) : def_(def), out_(out), column_(column) {}

  // expr in PostgreSQL's spelling: references quoted, REAL as float8, pxt calls cut out (when
  // `calls` is set) into out_.calls.
  Result<std::string> rewrite(std::string_view expr, bool calls) {
    std::vector<SqlToken> toks = tokenize_sql(expr);
    std::string out;
    size_t copied = 0;
    for (size_t i = 0; i < toks.size(); ++i) {
      const SqlToken& t = toks[i];
      if (t.kind != Kind::Ident && t.kind != Kind::QuotedIdent) continue;
      bool next_paren = i + 1 < toks.size() && toks[i + 1].kind == Kind::LParen;
      bool next_dot = i + 1 < toks.size() && toks[i + 1].kind == Kind::Dot;
      bool after_dot = i > 0 && toks[i - 1].kind == Kind::Dot;
      bool after_as = i > 0 && is_sql_word(toks[i - 1], "as");
      std::string replacement;
      size_t end = t.pos + t.len;
      if (t.kind == Kind::Ident && next_paren && !after_dot && calls) {
        auto fn = find_sql_function(t.text);
        if (fn) {
          size_t close = closing(toks, i + 1);
          if (close == toks.size())
            return make_error(Errc::invalid_argument, "unbalanced parentheses in a call of " + t.text + "()");
          PXT_TRY(replacement, call(fn, expr, toks, i, close));
          end = toks[close].pos + toks[close].len;
          out.append(expr.substr(copied, t.pos - copied));
          out += replacement;
          copied = end;
          i = close;
          continue;
        }
      }
      if (after_as && t.kind == Kind::Ident && iequals(t.text, "real")) {
        replacement = "float8";
      } else if (!next_dot && !after_dot && !after_as && !(t.kind == Kind::Ident && next_paren) &&
                 !(t.kind == Kind::Ident && is_reserved_word(t.text))) {
        int col = def_.index_of(t.text);
        if (col >= 0) replacement = quote_ident(def_.columns[static_cast<size_t>(col)].name);
      }
      if (replacement.empty()) continue;
      out.append(expr.substr(copied, t.pos - copied));
      out += replacement;
      copied = end;
    }
    out.append(expr.substr(copied));
    return out;
  }

 private:
  Result<std::string> call(const std::shared_ptr<const SqlFunction>& fn, std::string_view expr,
                           const std::vector<SqlToken>& toks, size_t name, size_t close) {
    std::vector<std::string> args;
    size_t start = name + 2;  // first token of the first argument
    int depth = 0;
    for (size_t i = name + 2; i <= close; ++i) {
      if (i < close && toks[i].kind == Kind::LParen) ++depth;
      if (i < close && toks[i].kind == Kind::RParen) --depth;
      if (i == close || (depth == 0 && toks[i].kind == Kind::Comma)) {
        if (i == start) {
          if (i != close || !args.empty())
            return make_error(Errc::invalid_argument, "an empty argument in a call of " + fn->name + "()");
        } else {
          size_t from = toks[start].pos;
          size_t to = toks[i].pos;
          PXT_TRY(std::string a, rewrite(expr.substr(from, to - from), true));
          args.push_back(std::move(a));
        }
        start = i + 1;
      }
    }
    // Overloads differ by arity (rotate(img, 90) and rotate(img, 90, true)).
    auto chosen = find_sql_function(fn->name, static_cast<int>(args.size()));
    if (!chosen)
      return make_error(Errc::invalid_argument, "wrong number of arguments to function " + fn->name + "()");
    int slot = static_cast<int>(out_.calls.size());
    out_.calls.push_back(CallSite{std::move(chosen), std::move(args), column_});
    return mark(slot);
  }

  const TableDef& def_;
  CompiledTable& out_;
  int column_;
};

void append_double(std::string& out, double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, r.ptr);
}

}  // namespace

const char* pg_type(ColumnType t) {
  switch (t) {
    case ColumnType::Int:
      return "int8";
    case ColumnType::Float:
      return "float8";
    case ColumnType::Bool:
      return "bool";
    case ColumnType::Timestamp:
      return "timestamptz";
    case ColumnType::Date:
      return "date";
    case ColumnType::Json:
    case ColumnType::Array:
      return "jsonb";
    case ColumnType::Vector:
      return "real[]";
    default:
      return "text";
  }
}

std::string vector_to_pg(std::string_view packed) {
  std::string out = "{";
  size_t n = packed.size() / 4;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    char buf[32];
    // The shortest text that reads back as the same float32: a real[] keeps it exactly.
    auto r = std::to_chars(buf, buf + sizeof buf, vec::at(packed, i));
    out.append(buf, r.ptr);
  }
  return out + "}";
}

std::optional<std::vector<float>> floats_from_pg(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  if (text.find('{', 1) != std::string_view::npos) return std::nullopt;
  std::vector<float> out;
  std::string item;
  for (size_t i = 1; i + 1 < text.size();) {
    size_t end = text.find(',', i);
    if (end == std::string_view::npos || end > text.size() - 1) end = text.size() - 1;
    item.assign(text.data() + i, end - i);
    if (item == "NULL") return std::nullopt;
    // strtof also reads PostgreSQL's NaN and Infinity.
    out.push_back(std::strtof(item.c_str(), nullptr));
    i = end + 1;
  }
  return out;
}

std::string column_ddl_type(ColumnType t) {
  std::string type = pg_type(t);
  return type == "text" ? "text COLLATE \"C\"" : type;
}

std::string param(int n, ColumnType t) {
  std::string p = "$" + std::to_string(n) + "::" + pg_type(t);
  if (std::string_view(pg_type(t)) == "text") return "(" + p + " COLLATE \"C\")";
  return p;
}

void add_value(Params& p, const Value& v, ColumnType t) {
  if (t == ColumnType::Vector) {
    if (const auto* packed = std::get_if<std::string>(&v); packed && vec::dimension(*packed)) {
      p.add(vector_to_pg(*packed));
      return;
    }
  }
  // SQLite stores -0.0 as 0 (an integral REAL is stored as an integer): the same here.
  if (const double* d = std::get_if<double>(&v); d != nullptr && *d == 0 && t == ColumnType::Float) {
    p.add("0");
    return;
  }
  add_untyped(p, v);
}

void add_read_value(Params& p, const Value& v, ColumnType t) {
  const auto* text = std::get_if<std::string>(&v);
  if (text == nullptr || t == ColumnType::Vector) return add_value(p, v, t);
  std::string out;
  out.reserve(text->size());
  const auto* b = reinterpret_cast<const unsigned char*>(text->data());
  for (size_t i = 0; i < text->size();) {
    size_t n = utf8_sequence_length(b + i, text->size() - i);
    if (n == 0 || (n == 1 && b[i] == 0)) {
      out += "\xEF\xBF\xBD";  // U+FFFD; NUL too, which PostgreSQL's text cannot hold
      ++i;
    } else {
      out.append(text->data() + i, n);
      i += n;
    }
  }
  p.add(std::move(out));
}

void add_untyped(Params& p, const Value& v) {
  switch (v.index()) {
    case 0:
      p.add_null();
      return;
    case 1:
      p.add_int(std::get<int64_t>(v));
      return;
    case 2: {
      std::string s;
      append_double(s, std::get<double>(v));
      p.add(std::move(s));
      return;
    }
    case 3:
      p.add(std::get<bool>(v) ? "true" : "false");
      return;
    default:
      p.add(std::get<std::string>(v));
  }
}

void add_result(Params& p, const Value& v, const SqlFunction& fn) {
  if (fn.result_type == ColumnType::Vector) return add_value(p, v, ColumnType::Vector);
  add_untyped(p, v);
}

namespace {

// PostgreSQL type OIDs (pg_type.dat) of the results read by kind.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700,
              kJson = 114, kJsonb = 3802, kTimestamptz = 1184, kFloat4Array = 1021, kFloat8Array = 1022;

// A real[] read as a Vector (packed floats); anything else (a NULL element, another shape) as
// its text, which a Vector column's check then refuses.
void read_vector(std::string_view s, Value& out) {
  auto floats = floats_from_pg(s);
  if (floats && !floats->empty()) {
    out = vec::pack(*floats);
  } else {
    out = std::string(s);
  }
}

void read_float(std::string_view s, Value& out) {
  std::string text(s);
  out = std::strtod(text.c_str(), nullptr);  // also "NaN", "Infinity", "-Infinity"
}

void read_int(std::string_view s, Value& out) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  out = v;
}

void read_text(std::string_view s, Value& out) {
  if (auto* str = std::get_if<std::string>(&out)) {
    str->assign(s.data(), s.size());  // keeps the capacity
  } else {
    out = std::string(s);
  }
}

}  // namespace

void read_cell(const PgResult& r, int row, int col, std::optional<ColumnType> t, Value& out) {
  if (r.null(row, col)) {
    out = std::monostate{};
    return;
  }
  std::string_view s = r.text(row, col);
  if (!t) {
    Oid oid = pq().PQftype(r.get(), col);
    if (oid == kInt8 || oid == kInt2 || oid == kInt4) return read_int(s, out);
    if (oid == kFloat8 || oid == kFloat4 || oid == kNumeric) return read_float(s, out);
    if (oid == kBool) {
      out = s == "t";
      return;
    }
    if (oid == kTimestamptz) return read_text(iso_timestamp(s), out);
    if (oid == kJson || oid == kJsonb) return read_text(compact_json(s), out);
    if (oid == kFloat4Array || oid == kFloat8Array) {
      // An array of numbers without a column type (an expression, a function's argument): its
      // JSON text, which the vector functions and JSON answers take.
      if (auto floats = floats_from_pg(s); floats && !floats->empty())
        return read_text(vec::to_json_text(vec::pack(*floats)), out);
    }
    return read_text(s, out);
  }
  switch (*t) {
    case ColumnType::Int:
      return read_int(s, out);
    case ColumnType::Float:
      return read_float(s, out);
    case ColumnType::Bool:
      out = s == "t";
      return;
    case ColumnType::Timestamp:
      return read_text(iso_timestamp(s), out);
    case ColumnType::Json:
    case ColumnType::Array:
      return read_text(compact_json(s), out);
    case ColumnType::Vector:
      return read_vector(s, out);
    default:
      return read_text(s, out);
  }
}

std::string compact_json(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < s.size()) {
        out += s[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    if (c == '"') in_string = true;
    out += c;
  }
  return out;
}

std::string iso_timestamp(std::string_view pg) {
  std::string out(pg);
  if (out.size() > 10 && out[10] == ' ') out[10] = 'T';
  // The session is in UTC, so the offset is always "+00" (PostgreSQL drops zero minutes).
  if (out.size() >= 3 && out.compare(out.size() - 3, 3, "+00") == 0) out += ":00";
  return out;
}

bool is_reserved_word(std::string_view w) {
  static const char* kWords[] = {"all",
                                 "analyse",
                                 "analyze",
                                 "and",
                                 "any",
                                 "array",
                                 "as",
                                 "asc",
                                 "asymmetric",
                                 "between",
                                 "both",
                                 "case",
                                 "cast",
                                 "check",
                                 "collate",
                                 "column",
                                 "constraint",
                                 "create",
                                 "cross",
                                 "current_catalog",
                                 "current_date",
                                 "current_role",
                                 "current_schema",
                                 "current_time",
                                 "current_timestamp",
                                 "current_user",
                                 "default",
                                 "deferrable",
                                 "desc",
                                 "distinct",
                                 "do",
                                 "else",
                                 "end",
                                 "escape",
                                 "except",
                                 "exists",
                                 "false",
                                 "fetch",
                                 "for",
                                 "foreign",
                                 "from",
                                 "full",
                                 "grant",
                                 "group",
                                 "having",
                                 "ilike",
                                 "in",
                                 "initially",
                                 "inner",
                                 "intersect",
                                 "interval",
                                 "into",
                                 "is",
                                 "isnull",
                                 "join",
                                 "lateral",
                                 "leading",
                                 "left",
                                 "like",
                                 "limit",
                                 "localtime",
                                 "localtimestamp",
                                 "natural",
                                 "not",
                                 "notnull",
                                 "null",
                                 "offset",
                                 "on",
                                 "only",
                                 "or",
                                 "order",
                                 "outer",
                                 "overlaps",
                                 "placing",
                                 "primary",
                                 "references",
                                 "returning",
                                 "right",
                                 "select",
                                 "session_user",
                                 "similar",
                                 "some",
                                 "symmetric",
                                 "table",
                                 "then",
                                 "to",
                                 "trailing",
                                 "true",
                                 "union",
                                 "unique",
                                 "user",
                                 "using",
                                 "variadic",
                                 "when",
                                 "where",
                                 "window",
                                 "with"};
  for (const char* k : kWords)
    if (iequals(w, k)) return true;
  return false;
}

Result<CompiledTable> compile_table(const TableDef& def) {
  CompiledTable out;
  out.exprs.resize(def.columns.size());
  out.column_calls.assign(def.columns.size(), 0);
  // Calls are numbered in dependency order; a definition with a cycle (refused later, by
  // finish_computed) is still compiled in table order, so its expressions can be checked first.
  std::vector<int> order;
  if (auto ordered = computed_order(def); ordered.ok()) {
    order = std::move(*ordered);
  } else {
    for (size_t i = 0; i < def.columns.size(); ++i)
      if (def.columns[i].is_computed()) order.push_back(static_cast<int>(i));
  }
  for (int i : order) {
    const ColumnDef& col = def.columns[static_cast<size_t>(i)];
    size_t before = out.calls.size();
    Compiler c(def, out, i);
    auto sql = c.rewrite(col.computed, true);
    if (!sql) {
      // Malformed SQL is named as on SQLite: "invalid expression '...': why".
      bool malformed = sql.error().message.rfind("unbalanced", 0) == 0;
      return make_error(Errc::invalid_argument,
                        "computed column '" + col.name + "': " +
                            (malformed ? "invalid expression '" + col.computed + "': " : std::string()) +
                            sql.error().message);
    }
    // SQLite's comparisons are integers: a Bool expression in an Int or Float column stores 0/1,
    // an Int one in a Bool column is a flag (PostgreSQL has no implicit cast either way).
    if (auto got = infer_computed_type(def, col); got.ok()) {
      if (*got == ColumnType::Bool && (col.type == ColumnType::Int || col.type == ColumnType::Float))
        *sql = "((" + *sql + ")::int)";
      else if (*got == ColumnType::Int && col.type == ColumnType::Bool)
        *sql = "((" + *sql + ") <> 0)";
    }
    out.exprs[static_cast<size_t>(i)] = std::move(*sql);
    out.column_calls[static_cast<size_t>(i)] = static_cast<int>(out.calls.size() - before);
  }
  return out;
}

std::string render(std::string_view expr, const std::function<std::string(int slot)>& slot_sql) {
  std::string out;
  out.reserve(expr.size());
  for (size_t i = 0; i < expr.size(); ++i) {
    if (expr[i] != kMarkOpen) {
      out += expr[i];
      continue;
    }
    size_t close = expr.find(kMarkClose, i);
    int slot = std::atoi(std::string(expr.substr(i + 1, close - i - 1)).c_str());
    out += slot_sql(slot);
    i = close;
  }
  return out;
}

bool local_value(std::string_view arg, const TableDef& def, const std::vector<Value>& values,
                 const std::vector<bool>& known, Value& out, bool* is_vector) {
  if (is_vector) *is_vector = false;
  if (arg.find(kMarkOpen) != std::string_view::npos) return false;
  std::vector<SqlToken> toks = tokenize_sql(arg);
  bool negative = false;
  if (toks.size() == 2 && toks[0].kind == Kind::Op && toks[0].text == "-" && toks[1].kind == Kind::Number) {
    negative = true;
    toks.erase(toks.begin());
  }
  if (toks.size() != 1) return false;
  const SqlToken& t = toks[0];
  if (t.kind == Kind::Number) {
    std::string text = (negative ? "-" : "") + t.text;
    if (t.text.find_first_of(".eE") == std::string::npos) {
      int64_t v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return false;
      out = v;
    } else {
      out = std::strtod(text.c_str(), nullptr);
    }
    return true;
  }
  if (t.kind == Kind::String && arg.front() == '\'') {
    out = t.text;
    return true;
  }
  if (is_sql_word(t, "null")) {
    out = std::monostate{};
    return true;
  }
  if (t.kind == Kind::QuotedIdent || t.kind == Kind::Ident) {
    int col = def.index_of(t.text);
    if (col < 0 || !known[static_cast<size_t>(col)]) return false;
    out = values[static_cast<size_t>(col)];
    if (is_vector) *is_vector = def.columns[static_cast<size_t>(col)].type == ColumnType::Vector;
    // SQLite hands a Bool to functions as 0 or 1: keep functions' inputs the same on both.
    if (const bool* b = std::get_if<bool>(&out)) out = int64_t(*b ? 1 : 0);
    return true;
  }
  return false;
}

std::string quote_columns(std::string_view expr, const TableDef& def) {
  CompiledTable unused;
  Compiler c(def, unused, -1);
  auto r = c.rewrite(expr, false);
  return r ? *r : std::string(expr);
}

std::string order_by_sql(std::string_view order_by, const TableDef& def) {
  std::vector<SqlToken> toks = tokenize_sql(order_by);
  std::vector<std::string> items;
  size_t start = 0;
  int depth = 0;
  auto finish = [&](size_t from, size_t to, size_t first_tok, size_t end_tok) {
    std::string item(trim(order_by.substr(from, to - from)));
    if (item.empty()) return;
    bool nulls = false, desc = false;
    for (size_t i = first_tok; i < end_tok; ++i) nulls |= is_sql_word(toks[i], "nulls");
    if (end_tok > first_tok) desc = is_sql_word(toks[end_tok - 1], "desc");
    item = quote_columns(item, def);
    if (!nulls) item += desc ? " NULLS LAST" : " NULLS FIRST";
    items.push_back(std::move(item));
  };
  size_t first_tok = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].kind == Kind::LParen) ++depth;
    if (toks[i].kind == Kind::RParen) --depth;
    if (depth == 0 && toks[i].kind == Kind::Comma) {
      finish(start, toks[i].pos, first_tok, i);
      start = toks[i].pos + 1;
      first_tok = i + 1;
    }
  }
  finish(start, order_by.size(), first_tok, toks.size());
  return join(items, ", ");
}

namespace {

// Cuts the extractable calls out of one piece of a named query (extract_query_calls).
class QueryCallCutter {
 public:
  explicit QueryCallCutter(QueryCalls& out) : out_(out) {}

  Result<std::string> cut(std::string_view expr) {
    std::vector<SqlToken> toks = tokenize_sql(expr);
    std::string out;
    size_t copied = 0;
    for (size_t i = 0; i < toks.size(); ++i) {
      const SqlToken& t = toks[i];
      bool call_shape = t.kind == Kind::Ident && i + 1 < toks.size() && toks[i + 1].kind == Kind::LParen &&
                        !(i > 0 && toks[i - 1].kind == Kind::Dot);
      if (!call_shape) continue;
      auto fn = find_sql_function(t.text);
      if (!fn) continue;
      size_t close = closing(toks, i + 1);
      if (close == toks.size()) continue;  // PostgreSQL reports the syntax error
      PXT_TRY(std::optional<int> slot, call(fn, expr, toks, i, close));
      if (!slot) continue;  // left in the SQL (its inner tokens are looked at in turn)
      out.append(expr.substr(copied, t.pos - copied));
      out += mark(*slot);
      copied = toks[close].pos + toks[close].len;
      i = close;
    }
    out.append(expr.substr(copied));
    return out;
  }

 private:
  // The call's slot, or nullopt when an argument is neither a literal, a parameter nor a call.
  Result<std::optional<int>> call(const std::shared_ptr<const SqlFunction>& fn, std::string_view expr,
                                  const std::vector<SqlToken>& toks, size_t name, size_t close) {
    size_t calls_before = out_.calls.size(), params_before = out_.params.size();
    QueryCall qc{fn, {}};
    bool local = true;
    size_t nargs = 0;
    size_t start = name + 2;
    int depth = 0;
    for (size_t i = name + 2; i <= close; ++i) {
      if (i < close && toks[i].kind == Kind::LParen) ++depth;
      if (i < close && toks[i].kind == Kind::RParen) --depth;
      if (i != close && !(depth == 0 && toks[i].kind == Kind::Comma)) continue;
      if (i == start) {
        if (i != close || nargs > 0)
          return make_error(Errc::invalid_argument, "an empty argument in a call of " + fn->name + "()");
      } else {
        PXT_TRY(std::string arg, cut(expr.substr(toks[start].pos, toks[i].pos - toks[start].pos)));
        local = classify(trim(arg), qc) && local;
        ++nargs;
      }
      start = i + 1;
    }
    qc.fn = find_sql_function(fn->name, static_cast<int>(nargs));  // overloads differ by arity
    if (!qc.fn)
      return make_error(Errc::invalid_argument, "wrong number of arguments to function " + fn->name + "()");
    if (!local) {
      out_.calls.resize(calls_before);
      out_.params.resize(params_before);
      return std::optional<int>();
    }
    out_.calls.push_back(std::move(qc));
    return std::optional<int>(static_cast<int>(out_.calls.size() - 1));
  }

  bool classify(std::string_view arg, QueryCall& qc) {
    QueryCallArg a;
    if (arg.size() > 2 && arg.front() == kMarkOpen && arg.back() == kMarkClose &&
        arg.find(kMarkOpen, 1) == std::string_view::npos) {
      a.kind = QueryCallArg::Kind::Call;
      a.call = std::atoi(std::string(arg.substr(1, arg.size() - 2)).c_str());
    } else if (std::vector<SqlToken> toks = tokenize_sql(arg);
               toks.size() == 1 && toks[0].kind == Kind::Param && toks[0].text.size() > 1 &&
               toks[0].text[0] == ':' && toks[0].text[1] != ':') {
      a.kind = QueryCallArg::Kind::Param;
      a.param = toks[0].text.substr(1);
      out_.params.push_back(a.param);
    } else {
      TableDef none;
      if (!local_value(arg, none, {}, {}, a.literal)) return false;
    }
    qc.args.push_back(std::move(a));
    return true;
  }

  QueryCalls& out_;
};

}  // namespace

Result<QueryCalls> extract_query_calls(std::string_view sql) {
  QueryCalls out;
  QueryCallCutter cutter(out);
  PXT_TRY(out.sql, cutter.cut(sql));
  return out;
}

std::string render_query_calls(std::string_view sql, const std::vector<QueryCall>& calls, int first,
                               std::vector<int>& slots) {
  slots.clear();
  return render(sql, [&](int slot) {
    const auto& rt = calls[static_cast<size_t>(slot)].fn->result_type;
    slots.push_back(slot);
    std::string n = "$" + std::to_string(first + static_cast<int>(slots.size()) - 1);
    return "(" + (rt ? param(first + static_cast<int>(slots.size()) - 1, *rt) : n) + ")";
  });
}

QuerySql rewrite_query_params(std::string_view s, const std::vector<QueryParam>& params) {
  QuerySql q;
  auto ident_start = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80);
  };
  auto ident_char = [&](char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); };
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'' || c == '"') {  // a literal or a quoted name, '' / "" doubling the quote
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      q.sql.append(s.substr(i, j + 1 - i));
      i = j + 1;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t e = s.find('\n', i);
      e = e == std::string_view::npos ? s.size() : e;
      q.sql.append(s.substr(i, e - i));
      i = e;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      e = e == std::string_view::npos ? s.size() : e + 2;
      q.sql.append(s.substr(i, e - i));
      i = e;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
      q.sql += "::";
      i += 2;
    } else if (c == ':' && i + 1 < s.size() && ident_start(s[i + 1])) {
      size_t j = i + 1;
      while (j < s.size() && ident_char(s[j])) ++j;
      std::string name(s.substr(i + 1, j - i - 1));
      if (std::find(q.used.begin(), q.used.end(), name) == q.used.end()) q.used.push_back(name);
      auto p =
          std::find_if(params.begin(), params.end(), [&](const QueryParam& x) { return x.name == name; });
      if (p == params.end()) {
        q.sql += "NULL";
      } else {
        q.sql += "(" + param(static_cast<int>(p - params.begin()) + 1, p->type) + ")";
      }
      i = j;
    } else if (c == '?' ||
               (c == '$' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      q.bad.emplace_back(s.substr(i, j - i));
      q.sql += "NULL";
      i = j;
    } else if (c == '$') {  // a dollar-quoted literal: $tag$ ... $tag$
      size_t j = i + 1;
      while (j < s.size() && ident_char(s[j])) ++j;
      if (j < s.size() && s[j] == '$') {
        std::string tag(s.substr(i, j + 1 - i));
        size_t e = s.find(tag, j + 1);
        e = e == std::string_view::npos ? s.size() : e + tag.size();
        q.sql.append(s.substr(i, e - i));
        i = e;
      } else {
        q.sql += c;
        ++i;
      }
    } else {
      q.sql += c;
      ++i;
    }
  }
  return q;
}

}  // namespace pxt::pg
