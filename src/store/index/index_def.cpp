// Checks of embedding index declarations (index_def.hpp).
#include "store/index/index_def.hpp"

#include "store/expr/computed.hpp"
#include "store/index/vector_index.hpp"
#include "store/models/uses.hpp"
#include "store/write_check.hpp"
#include "util/strings.hpp"

namespace pxt {

Result<void> check_index_def(const TableDef& def, IndexDef& idx) {
  const ColumnDef* col = def.find(idx.column);
  if (!col) return unknown_column(def, idx.column, "to index");
  idx.column = col->name;
  if (idx.name.empty()) idx.name = col->name + "_idx";
  if (!is_identifier(idx.name))
    return make_error(Errc::invalid_argument, "index name '" + idx.name + "' is not an identifier");
  PXT_TRY(Metric m, parse_metric(idx.metric));
  idx.metric = std::string(metric_name(m));
  if (idx.ef_search < 1 || idx.ef_search > 10000)
    return make_error(Errc::invalid_argument,
                      "ef_search must be between 1 and 10000, got " + std::to_string(idx.ef_search));
  if (trim(idx.embedding).empty())
    return make_error(Errc::invalid_argument,
                      "the index needs an embedding expression, e.g. --embedding \"embed(" + col->name +
                          ", 'openai/text-embedding-3-small')\"");
  auto refs = referenced_columns(idx.embedding, def.column_names());
  if (refs.size() != 1 || !iequals(refs[0], col->name)) {
    return make_error(Errc::invalid_argument,
                      "the embedding expression '" + idx.embedding + "' must read column '" + col->name +
                          "' and no other (it reads " +
                          (refs.empty() ? std::string("none") : quoted_list(refs)) + ")");
  }
  ColumnDef probe;
  probe.name = "embedding";
  probe.computed = idx.embedding;
  auto type = infer_computed_type(def, probe);
  if (type.ok() && *type != ColumnType::Vector) {
    return make_error(Errc::invalid_argument, "the embedding expression '" + idx.embedding + "' gives " +
                                                  std::string(type_name(*type)) +
                                                  ", not a Vector (use embed(" + col->name +
                                                  ", 'provider/model'))");
  }
  auto problems = models::check_model_uses(models::model_uses_in(idx.embedding, "index '" + idx.name + "'"));
  if (!problems.empty()) return make_error(Errc::invalid_argument, problems.front());
  return {};
}

bool same_index_def(const IndexDef& a, const IndexDef& b) {
  return a.column == b.column && a.embedding == b.embedding && a.metric == b.metric &&
         a.ef_search == b.ef_search;
}

Error index_differs_error(const TableDef& def, const IndexDef& existing) {
  return make_error(Errc::invalid_argument,
                    "index '" + existing.name + "' of table '" + def.path + "' exists with column '" +
                        existing.column + "', embedding '" + existing.embedding + "', metric " +
                        existing.metric + ", ef_search " + std::to_string(existing.ef_search) +
                        "; drop it first (pxt drop-index) to change it");
}

}  // namespace pxt
