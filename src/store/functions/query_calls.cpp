#include "store/functions/query_calls.hpp"

#include <algorithm>
#include <unordered_map>

#include "store/expr/computed.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

using Kind = SqlToken::Kind;

std::shared_ptr<const SqlFunction> ahead_function(const SqlToken& t, bool every = false) {
  if (t.kind != Kind::Ident) return nullptr;
  auto fn = find_sql_function(t.text);
  return fn && (every || fn->computed_ahead()) ? fn : nullptr;
}

Error misplaced(const std::string& fn) {
  return make_error(Errc::invalid_argument,
                    fn +
                        "() creates a media file: in a query it can only be a whole result column, as in "
                        "SELECT " +
                        fn + "(image, 16, 16) AS thumb FROM ...");
}

// The end (exclusive, as a token index) of the parenthesised list opened at toks[open].
size_t closing(const std::vector<SqlToken>& toks, size_t open) {
  int depth = 0;
  for (size_t i = open; i < toks.size(); ++i) {
    if (toks[i].kind == Kind::LParen) ++depth;
    if (toks[i].kind == Kind::RParen && --depth == 0) return i;
  }
  return toks.size();
}

}  // namespace

Result<std::optional<QueryCallPlan>> plan_query_calls(const std::string& sql, bool every_function) {
  std::vector<SqlToken> toks = tokenize_sql(sql);
  // The outermost SELECT's result list: from the first SELECT at depth 0 to its FROM (or the end).
  int depth = 0;
  size_t select = toks.size(), from = toks.size();
  bool compound = false;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].kind == Kind::LParen) ++depth;
    if (toks[i].kind == Kind::RParen) --depth;
    if (depth != 0) continue;
    if (select == toks.size() && is_sql_word(toks[i], "select")) {
      select = i;
    } else if (select != toks.size() && from == toks.size() &&
               (is_sql_word(toks[i], "from") || is_sql_word(toks[i], "where") ||
                is_sql_word(toks[i], "group") || is_sql_word(toks[i], "order") ||
                is_sql_word(toks[i], "limit"))) {
      from = i;
    } else if (is_sql_word(toks[i], "union") || is_sql_word(toks[i], "intersect") ||
               is_sql_word(toks[i], "except")) {
      compound = true;
    }
  }
  bool any_call = std::any_of(toks.begin(), toks.end(), [&](const SqlToken& t) {
    return ahead_function(t, every_function) != nullptr;
  });
  if (!any_call || select == toks.size()) return std::optional<QueryCallPlan>();
  size_t begin = select + 1;
  if (begin < from && (is_sql_word(toks[begin], "distinct") || is_sql_word(toks[begin], "all"))) ++begin;
  // Split the list at depth-0 commas.
  std::vector<std::pair<size_t, size_t>> items;  // token ranges [a, b)
  depth = 0;
  size_t start = begin;
  for (size_t i = begin; i < from; ++i) {
    if (toks[i].kind == Kind::LParen) ++depth;
    if (toks[i].kind == Kind::RParen) --depth;
    if (depth == 0 && toks[i].kind == Kind::Comma) {
      items.emplace_back(start, i);
      start = i + 1;
    }
  }
  items.emplace_back(start, from);

  QueryCallPlan plan;
  std::string out = sql.substr(0, begin < toks.size() ? toks[begin].pos : sql.size());
  std::vector<bool> rewritten_token(toks.size(), false);  // call names taken care of
  int column = 0;
  bool any = false;
  for (size_t k = 0; k < items.size(); ++k) {
    auto [a, b] = items[k];
    if (k > 0) out += ", ";
    std::string text = a < b ? sql.substr(toks[a].pos, toks[b - 1].pos + toks[b - 1].len - toks[a].pos) : "";
    auto fn =
        a + 1 < b && toks[a + 1].kind == Kind::LParen ? ahead_function(toks[a], every_function) : nullptr;
    size_t close = fn ? closing(toks, a + 1) : 0;
    // The call must be the whole item, optionally followed by [AS] alias.
    std::string alias;
    bool whole = false;
    if (fn) {
      size_t rest = close + 1;
      if (rest == b) {
        whole = true;
      } else if (rest < b && is_sql_word(toks[rest], "as") && rest + 2 == b) {
        whole = true;
        alias = toks[rest + 1].text;
      } else if (rest + 1 == b && (toks[rest].kind == Kind::Ident || toks[rest].kind == Kind::QuotedIdent)) {
        whole = true;
        alias = toks[rest].text;
      }
    }
    if (!fn || !whole || compound) {
      out += text;
      plan.items.push_back({"", nullptr, column++, 1});
      continue;
    }
    any = true;
    rewritten_token[a] = true;
    QueryCallPlan::Item item;
    item.name = alias.empty() ? sql.substr(toks[a].pos, toks[close].pos + 1 - toks[a].pos) : alias;
    item.fn = fn;
    item.first = column;
    // The arguments: depth-1 commas inside the call's parentheses.
    std::vector<std::string> args;
    size_t arg_start = a + 2;
    int d = 0;
    for (size_t i = a + 2; i <= close; ++i) {
      if (toks[i].kind == Kind::LParen) ++d;
      if (toks[i].kind == Kind::RParen) --d;
      if ((d == 0 && toks[i].kind == Kind::Comma) || i == close) {
        if (i > arg_start) {
          args.push_back(
              sql.substr(toks[arg_start].pos, toks[i - 1].pos + toks[i - 1].len - toks[arg_start].pos));
        }
        arg_start = i + 1;
      }
    }
    item.count = static_cast<int>(args.size());
    // The overload for this many arguments (rotate(img, d) and rotate(img, d, expand), ...).
    item.fn = find_sql_function(fn->name, item.count);
    if (!item.fn) {
      return make_error(Errc::invalid_argument,
                        fn->name + "() does not take " + std::to_string(item.count) + " arguments");
    }
    for (size_t j = 0; j < args.size(); ++j) {
      if (j > 0) out += ", ";
      out += "(" + args[j] + ") AS " + quote_ident("pxt$" + std::to_string(k) + "$" + std::to_string(j));
    }
    if (args.empty()) out += "NULL AS " + quote_ident("pxt$" + std::to_string(k));
    column += std::max(1, item.count);
    plan.items.push_back(std::move(item));
  }
  // A file-creating call anywhere else would have no owner for its file.
  for (size_t i = 0; i < toks.size(); ++i) {
    if (rewritten_token[i]) continue;
    auto fn = ahead_function(toks[i]);
    if (fn && fn->creates_file && i + 1 < toks.size() && toks[i + 1].kind == Kind::LParen) {
      // Inside a rewritten call's arguments it would be nested: refused too.
      return misplaced(fn->name);
    }
  }
  if (!any) return std::optional<QueryCallPlan>();
  out += from < toks.size() ? " " + sql.substr(toks[from].pos) : "";
  plan.sql = std::move(out);
  return std::optional<QueryCallPlan>(std::move(plan));
}

const Result<std::optional<QueryCallPlan>>& cached_query_plan(const std::string& sql, bool every_function) {
  thread_local std::unordered_map<std::string, Result<std::optional<QueryCallPlan>>> plans[2];
  auto& cache = plans[every_function ? 1 : 0];
  auto it = cache.find(sql);
  if (it == cache.end()) {
    if (cache.size() > 1000) cache.clear();  // bounded, should queries come from anywhere
    it = cache.emplace(sql, plan_query_calls(sql, every_function)).first;
  }
  return it->second;
}

std::vector<ResultColumn> planned_columns(const QueryCallPlan& plan, const std::vector<ResultColumn>& raw) {
  std::vector<ResultColumn> out;
  for (const auto& item : plan.items) {
    if (!item.fn) {
      if (static_cast<size_t>(item.first) < raw.size()) out.push_back(raw[static_cast<size_t>(item.first)]);
      continue;
    }
    out.push_back({item.name, item.fn->result_type, true});
  }
  return out;
}

Result<Row> apply_query_calls(const QueryCallPlan& plan, const Row& raw, const FunctionContext& ctx) {
  Row out;
  out.reserve(plan.items.size());
  for (const auto& item : plan.items) {
    auto first = raw.begin() + item.first;
    if (!item.fn) {
      out.push_back(*first);
      continue;
    }
    std::vector<Value> args(first, first + item.count);
    auto r = call_sql_function(*item.fn, ctx, args);
    if (!r) return make_error(r.error().code, item.fn->name + "(): " + r.error().message);
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace pxt
