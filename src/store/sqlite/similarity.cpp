// Named queries that call similarity(COLUMN, :param) on indexed columns (store/index/similarity_sql.hpp):
// each call becomes the metric between the row's stored embedding and the parameter's (embedded
// once per run), and a top-k query is restricted to the rows the index's HNSW graph finds.
#include <algorithm>

#include "store/sqlite/sqlite_store.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

namespace {

const char* metric_function(const std::string& metric) {
  if (metric == "ip") return "inner_product";
  if (metric == "l2") return "l2_distance";
  return "similarity";
}

struct Edit {
  size_t pos, len;
  std::string text;
};

std::string apply_edits(std::string sql, std::vector<Edit> edits) {
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.pos > b.pos; });
  for (const auto& e : edits) sql.replace(e.pos, e.len, e.text);
  return sql;
}

std::string candidates_json(const std::vector<Neighbor>& found) {
  std::string out = "[";
  for (size_t i = 0; i < found.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(found[i].row);
  }
  return out + "]";
}

}  // namespace

Result<void> SqliteStore::run_similarity(Conn& c, const Catalog& cat, const QueryDef& q,
                                         const SimilarityPlan& plan, const std::vector<Value>& params,
                                         const RowCallback& cb) {
  auto what = [&] { return "query '" + q.qualified_name() + "'"; };
  auto param_value = [&](const std::string& name) -> const Value* {
    for (size_t i = 0; i < q.params.size(); ++i)
      if (q.params[i].name == name) return &params[i];
    return nullptr;
  };
  // The embedding of each call's query text, once per run.
  std::vector<Value> vectors;
  std::vector<Edit> edits;
  for (size_t i = 0; i < plan.calls.size(); ++i) {
    const SimilarityCall& call = plan.calls[i];
    const TableDef& def = cat.tables.at(call.table)->def;
    const Value* v = call.text ? nullptr : param_value(call.param);
    std::string text;
    if (call.text) {
      text = *call.text;
    } else if (!v) {
      return make_error(Errc::invalid_argument, what() + ": parameter ':" + call.param + "' is not declared");
    }
    Value embedded;
    if (call.text || !is_null(*v)) {
      if (v) {
        const auto* s = std::get_if<std::string>(v);
        if (!s)
          return make_error(Errc::invalid_argument, what() + ": parameter '" + call.param +
                                                        "' is compared by similarity() and must be a text");
        text = *s;
      }
      PXT_TRY(std::string packed, query_embedding(c, def, call.index, text));
      embedded = Value(std::move(packed));
    }
    vectors.push_back(std::move(embedded));
    edits.push_back({call.pos, call.len,
                     std::string(metric_function(call.index.metric)) + "((SELECT vec FROM " +
                         index_table(call.index.id) + " WHERE rid = " + call.row_ref + ".rowid), :pxt_q" +
                         std::to_string(i) + ")"});
  }
  int64_t k = plan.limit;
  if (plan.top_k && !plan.limit_param.empty()) {
    const Value* lim = param_value(plan.limit_param);
    k = lim && std::holds_alternative<int64_t>(*lim) ? std::get<int64_t>(*lim) : 0;
  }
  bool use_index = plan.top_k && k > 0 && !is_null(vectors[0]);
  std::shared_ptr<VectorIndex> graph;
  if (use_index) {
    PXT_TRY(graph, synced_index(c, plan.calls[0].index));
    const std::string restrict =
        plan.calls[0].row_ref + ".rowid IN (SELECT value FROM json_each(:pxt_candidates))";
    if (plan.has_where) {
      edits.push_back({plan.where_pos, 0, " " + restrict + " AND ("});
      edits.push_back({plan.where_end, 0, ") "});
    } else {
      edits.push_back({plan.where_pos, 0, " WHERE " + restrict + " "});
    }
  }
  std::string sql = apply_edits(q.sql, edits);
  auto prepared = c.cached(sql, true);
  if (!prepared.ok()) return user_sql_error(prepared.error(), nullptr, &cat, what());
  sqlite3_stmt* s = *prepared;
  std::vector<std::optional<ColumnType>> types;
  for (int i = 0; i < sqlite3_column_count(s); ++i) {
    std::optional<ColumnType> t;
    const char* table = sqlite3_column_table_name(s, i);
    const char* origin = sqlite3_column_origin_name(s, i);
    if (table && origin) {
      auto it = cat.tables.find(table);
      if (it != cat.tables.end())
        if (const ColumnDef* col = it->second->def.find(origin)) t = col->type;
    }
    types.push_back(t);
  }
  auto bind_all = [&](const std::string& candidates) -> Result<void> {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (size_t k2 = 0; k2 < q.params.size(); ++k2) {
      int i = sqlite3_bind_parameter_index(s, (":" + q.params[k2].name).c_str());
      if (i > 0) bind_typed(s, i, q.params[k2].type, params[k2]);
    }
    for (size_t n = 0; n < vectors.size(); ++n) {
      int i = sqlite3_bind_parameter_index(s, (":pxt_q" + std::to_string(n)).c_str());
      if (i > 0) bind_typed(s, i, ColumnType::Vector, vectors[n]);
    }
    if (int i = sqlite3_bind_parameter_index(s, ":pxt_candidates"); i > 0)
      sqlite3_bind_text64(s, i, candidates.data(), candidates.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return {};
  };
  StmtUse use(s);
  auto run = [&](const std::string& candidates, std::vector<Row>* keep) -> Result<int64_t> {
    PXT_CHECK(bind_all(candidates));
    Row row(types.size());
    int64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      for (size_t i = 0; i < types.size(); ++i) read_value(s, static_cast<int>(i), types[i], row[i]);
      ++n;
      if (keep) {
        keep->push_back(row);
      } else if (!cb(row)) {
        return n;
      }
    }
    if (rc != SQLITE_DONE) return map_error(c.db(), rc, what() + " failed");
    return n;
  };
  if (!use_index) {
    PXT_TRY(int64_t n, run("[]", nullptr));
    (void)n;
    return {};
  }
  // The graph's nearest rows; with a WHERE clause some may be filtered out, so ask for more until
  // k rows pass or the graph has no more to give.
  size_t want = static_cast<size_t>(k) * (plan.has_where ? 4 : 1);
  while (true) {
    PXT_TRY(std::vector<Neighbor> found, graph->search(std::get<std::string>(vectors[0]), want));
    bool exhausted = found.size() < want;
    if (!plan.has_where || exhausted) {
      PXT_TRY(int64_t n, run(candidates_json(found), nullptr));
      (void)n;
      return {};
    }
    std::vector<Row> rows;
    PXT_TRY(int64_t n, run(candidates_json(found), &rows));
    if (n >= k) {
      for (const Row& r : rows)
        if (!cb(r)) break;
      return {};
    }
    want *= 4;
  }
}

}  // namespace pxt::sqlite
