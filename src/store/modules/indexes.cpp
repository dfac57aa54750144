// [[indexes]] entries of schema modules: parsing (ModuleParser::index) and applying them
// (store.create_index), in the format doc/modules.md specifies.
#include <fmt/format.h>

#include "store/modules/parser.hpp"
#include "util/strings.hpp"

namespace pxt::detail {

void ModuleParser::index(const toml::value& v) {
  check_keys(v, kIndexKeys, "[[indexes]]");
  IndexDecl decl;
  decl.location = location(v);
  size_t before = errors_.size();
  auto table = string_at(v, "table", "[[indexes]]", true);
  if (table) {
    auto p = normalize_path(*table);
    if (!p) {
      error(*get(v, "table"), fmt::format("[[indexes]]: {}", p.error().message));
    } else {
      decl.table = *p;
    }
  }
  auto column = string_at(v, "column", "[[indexes]]", true);
  std::string what = fmt::format("index on {}.{}", decl.table, column.value_or("?"));
  if (column) decl.def.column = *column;
  if (auto e = string_at(v, "embedding", what, true)) decl.def.embedding = *e;
  if (auto m = string_at(v, "metric", what, false)) {
    if (*m != "cosine" && *m != "ip" && *m != "l2") {
      error(*get(v, "metric"), fmt::format("{}: metric must be \"cosine\", \"ip\" or \"l2\", got \"{}\"{}",
                                           what, *m, did_you_mean(*m, {"cosine", "ip", "l2"})));
    }
    decl.def.metric = *m;
  }
  if (auto n = string_at(v, "name", what, false)) {
    if (!is_identifier(*n))
      error(*get(v, "name"), fmt::format("{}: index name '{}' is not an identifier", what, *n));
    decl.def.name = *n;
  }
  if (const toml::value* ef = get(v, "ef_search")) {
    if (!ef->is_integer() || ef->as_integer() < 1 || ef->as_integer() > 10000) {
      error(*ef, fmt::format("{}: ef_search must be an integer from 1 to 10000", what));
    } else {
      decl.def.ef_search = static_cast<int>(ef->as_integer());
    }
  }
  if (decl.def.name.empty() && column) decl.def.name = *column + "_idx";
  for (const auto& other : m_.indexes) {
    if (other.table == decl.table && other.def.name == decl.def.name)
      error(v, fmt::format("index '{}' of table '{}' is declared twice (first at {})", decl.def.name,
                           decl.table, other.location));
  }
  // A table declared in this module must have the column.
  for (const auto& t : m_.tables) {
    if (t.def.path == decl.table && column && !t.def.find(*column))
      error(v, fmt::format("{}: table '{}' has no column '{}'{}", what, decl.table, *column,
                           did_you_mean(*column, t.def.column_names())));
  }
  if (errors_.size() == before) m_.indexes.push_back(std::move(decl));
}

}  // namespace pxt::detail
