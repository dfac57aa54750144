// similarity(COLUMN, :param) in query SQL (see similarity_sql.hpp).
#include "store/index/similarity_sql.hpp"

#include "store/expr/computed.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

using K = SqlToken::Kind;

bool word(const SqlToken& t, std::string_view w) { return t.kind == K::Ident && iequals(t.text, w); }

bool is_clause_word(const SqlToken& t) {
  for (const char* w : {"where", "group",     "order",  "limit", "having", "window", "join",    "on",
                        "using", "left",      "right",  "inner", "outer",  "cross",  "natural", "full",
                        "union", "intersect", "except", "as",    "from",   "select"})
    if (word(t, w)) return true;
  return false;
}

struct TableRef {
  std::string path;     // canonical
  std::string row_ref;  // alias, or the quoted path
  std::string alias;    // "" when none
  const TableDef* def;
};

// The top-level tables of FROM / JOIN clauses.
std::vector<TableRef> table_refs(const std::vector<SqlToken>& toks, const TableLookup& tables) {
  std::vector<TableRef> out;
  int depth = 0;
  bool in_from = false;
  for (size_t i = 0; i < toks.size(); ++i) {
    const SqlToken& t = toks[i];
    if (t.kind == K::LParen) ++depth;
    if (t.kind == K::RParen) --depth;
    if (depth != 0) continue;
    bool starts = word(t, "from") || word(t, "join") || (in_from && t.kind == K::Comma);
    if (word(t, "from")) in_from = true;
    if (word(t, "where") || word(t, "group") || word(t, "order") || word(t, "limit")) in_from = false;
    if (!starts || i + 1 >= toks.size()) continue;
    const SqlToken& name = toks[i + 1];
    if (name.kind != K::Ident && name.kind != K::QuotedIdent) continue;
    auto path = normalize_path(name.text);
    if (!path) continue;
    const TableDef* def = tables(*path);
    if (!def) continue;
    TableRef ref{*path, quote_ident(*path), "", def};
    size_t j = i + 2;
    if (j < toks.size() && word(toks[j], "as")) ++j;
    if (j < toks.size() &&
        (toks[j].kind == K::QuotedIdent || (toks[j].kind == K::Ident && !is_clause_word(toks[j])))) {
      ref.alias = toks[j].text;
      ref.row_ref = quote_ident(toks[j].text);
    }
    out.push_back(std::move(ref));
  }
  return out;
}

bool same_path(const std::string& name, const std::string& path) {
  auto p = normalize_path(name);
  return p.ok() && *p == path;
}

const IndexDef* index_on(const TableDef& t, std::string_view column) {
  for (const auto& i : t.indexes)
    if (iequals(i.column, column)) return &i;
  return nullptr;
}

// The index call starting at toks[i] ("similarity" "("), if its first argument is an indexed
// column. `end` gets the index of its closing parenthesis.
Result<std::optional<SimilarityCall>> index_call(std::string_view sql, const std::vector<SqlToken>& toks,
                                                 size_t i, const std::vector<TableRef>& refs, size_t& end) {
  // Arguments at depth 1, split by commas.
  std::vector<std::pair<size_t, size_t>> args;  // token ranges [first, last)
  int depth = 0;
  size_t first = i + 2;
  for (size_t j = i + 1; j < toks.size(); ++j) {
    if (toks[j].kind == K::LParen) ++depth;
    if (toks[j].kind == K::RParen && --depth == 0) {
      args.emplace_back(first, j);
      end = j;
      break;
    }
    if (toks[j].kind == K::Comma && depth == 1) {
      args.emplace_back(first, j);
      first = j + 1;
    }
  }
  if (depth != 0 || args.size() != 2) return std::optional<SimilarityCall>();
  auto [a0, a1] = args[0];
  std::string qual, column;
  auto is_name = [&](size_t k) { return toks[k].kind == K::Ident || toks[k].kind == K::QuotedIdent; };
  if (a1 - a0 == 1 && is_name(a0)) {
    column = toks[a0].text;
  } else if (a1 - a0 == 3 && is_name(a0) && toks[a0 + 1].kind == K::Dot && is_name(a0 + 2)) {
    qual = toks[a0].text;
    column = toks[a0 + 2].text;
  } else {
    return std::optional<SimilarityCall>();
  }
  const TableRef* ref = nullptr;
  int matches = 0;
  for (const auto& r : refs) {
    bool named = qual.empty() || r.alias == qual || (r.alias.empty() && same_path(qual, r.path));
    if (named && index_on(*r.def, column)) {
      ref = &r;
      ++matches;
    }
  }
  std::string shown(sql.substr(toks[i].pos, toks[end].pos + 1 - toks[i].pos));
  if (matches == 0) {
    // A text column without an index cannot be compared with a text: say how to fix it.
    for (const auto& r : refs) {
      bool named = qual.empty() || r.alias == qual || (r.alias.empty() && same_path(qual, r.path));
      const ColumnDef* c = named ? r.def->find(column) : nullptr;
      if (c && c->type != ColumnType::Vector && c->type != ColumnType::Json && c->type != ColumnType::Array) {
        return make_error(
            Errc::invalid_argument,
            "in '" + shown + "' column '" + c->name + "' of table '" + r.path +
                "' has no embedding index; give the column an embedding index (pxt create-index " + r.path +
                " " + c->name + " --embedding \"embed(" + c->name +
                ", 'provider/model')\") or compare Vectors");
      }
    }
    return std::optional<SimilarityCall>();
  }
  if (matches > 1)
    return make_error(Errc::invalid_argument,
                      "in '" + shown + "' the column '" + column +
                          "' has an embedding index in several tables; qualify it (t." + column + ")");
  SimilarityCall call;
  call.pos = toks[i].pos;
  call.len = toks[end].pos + 1 - toks[i].pos;
  call.table = ref->path;
  call.row_ref = ref->row_ref;
  call.index = *index_on(*ref->def, column);
  auto [b0, b1] = args[1];
  if (b1 - b0 == 1 && toks[b0].kind == K::Param && toks[b0].text.size() > 1 && toks[b0].text[0] == ':') {
    call.param = toks[b0].text.substr(1);
  } else if (b1 - b0 == 1 && toks[b0].kind == K::String) {
    call.text = toks[b0].text;
  } else {
    return make_error(
        Errc::invalid_argument,
        "in '" + shown + "' the column '" + column +
            "' has an embedding index: compare it with a :parameter or a string literal, which is "
            "embedded once per query with the index's function");
  }
  return std::optional<SimilarityCall>(std::move(call));
}

// Fills the top-k fields of plan when the SQL has that shape.
void find_top_k(std::string_view sql, const std::vector<SqlToken>& toks, const std::vector<TableRef>& refs,
                const std::vector<std::string>& aliases, SimilarityPlan& plan) {
  if (refs.size() != 1 || plan.calls.size() != 1 || toks.empty() || !word(toks[0], "select")) return;
  const SimilarityCall& call = plan.calls[0];
  int depth = 0;
  size_t order = 0, where = 0, clause_after_where = 0, clause_after_from = 0;
  bool from_seen = false;
  for (size_t i = 0; i < toks.size(); ++i) {
    const SqlToken& t = toks[i];
    if (t.kind == K::LParen) ++depth;
    if (t.kind == K::RParen) --depth;
    if (depth != 0 || t.kind != K::Ident) continue;
    if (word(t, "union") || word(t, "intersect") || word(t, "except") || word(t, "group") ||
        word(t, "having") || word(t, "offset") || word(t, "window") || word(t, "join"))
      return;
    if (word(t, "from")) from_seen = true;
    if (word(t, "where") && from_seen) where = i;
    bool clause = word(t, "order") || word(t, "limit");
    if (clause && from_seen && !clause_after_from) clause_after_from = i;
    if (clause && where && !clause_after_where) clause_after_where = i;
    if (word(t, "order") && i + 1 < toks.size() && word(toks[i + 1], "by")) order = i;
  }
  if (!order) return;
  // ORDER BY <alias | the call> [ASC | DESC] LIMIT <n | :param> [;]
  size_t j = order + 2;
  if (j >= toks.size()) return;
  bool by_alias =
      toks[j].kind != K::LParen &&
      std::any_of(aliases.begin(), aliases.end(), [&](const std::string& a) { return a == toks[j].text; }) &&
      (toks[j].kind == K::Ident || toks[j].kind == K::QuotedIdent);
  if (by_alias) {
    ++j;
  } else {
    // The same call again: similarity(...) with the same text.
    size_t depth2 = 0, k = j;
    for (; k < toks.size(); ++k) {
      if (toks[k].kind == K::LParen) ++depth2;
      if (toks[k].kind == K::RParen && --depth2 == 0) break;
    }
    if (k >= toks.size()) return;
    std::string_view term = sql.substr(toks[j].pos, toks[k].pos + 1 - toks[j].pos);
    if (term != sql.substr(call.pos, call.len)) return;
    j = k + 1;
  }
  bool desc = false;
  if (j < toks.size() && (word(toks[j], "desc") || word(toks[j], "asc"))) desc = word(toks[j++], "desc");
  bool want_desc = call.index.metric != "l2";
  if (desc != want_desc) return;
  if (j + 1 >= toks.size() || !word(toks[j], "limit")) return;
  const SqlToken& n = toks[j + 1];
  if (n.kind == K::Number) {
    char* endp = nullptr;
    long long v = std::strtoll(n.text.c_str(), &endp, 10);
    if (*endp != '\0' || v <= 0) return;
    plan.limit = v;
  } else if (n.kind == K::Param && n.text.size() > 1 && n.text[0] == ':') {
    plan.limit_param = n.text.substr(1);
  } else {
    return;
  }
  for (size_t k = j + 2; k < toks.size(); ++k)
    if (toks[k].kind != K::Other || toks[k].text != ";") return;
  plan.top_k = true;
  plan.has_where = where != 0;
  if (plan.has_where) {
    plan.where_pos = toks[where].pos + toks[where].len;
    plan.where_end = clause_after_where ? toks[clause_after_where].pos : sql.size();
  } else {
    plan.where_pos = clause_after_from ? toks[clause_after_from].pos : sql.size();
  }
}

}  // namespace

Result<SimilarityPlan> plan_similarity(std::string_view sql, const TableLookup& tables) {
  SimilarityPlan plan;
  std::vector<SqlToken> toks = tokenize_sql(sql);
  bool any = false;
  for (size_t i = 0; i + 1 < toks.size(); ++i)
    any = any || (word(toks[i], "similarity") && toks[i + 1].kind == K::LParen);
  if (!any) return plan;
  std::vector<TableRef> refs = table_refs(toks, tables);
  std::vector<std::string> aliases;  // the names the index calls' results are given
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (!word(toks[i], "similarity") || toks[i + 1].kind != K::LParen) continue;
    if (i > 0 && toks[i - 1].kind == K::Dot) continue;  // a qualified name, not the function
    size_t end = i;
    PXT_TRY(auto call, index_call(sql, toks, i, refs, end));
    if (!call) continue;
    plan.calls.push_back(std::move(*call));
    size_t a = end + 1;
    if (a < toks.size() && word(toks[a], "as")) ++a;
    if (a < toks.size() &&
        (toks[a].kind == K::QuotedIdent || (toks[a].kind == K::Ident && !is_clause_word(toks[a]))))
      aliases.push_back(toks[a].text);
    i = end;
  }
  find_top_k(sql, toks, refs, aliases, plan);
  return plan;
}

}  // namespace pxt
