// libFuzzer target: the computed-column expression parser: tokenizing, dependency extraction,
// substitution, type inference and dependency ordering, on arbitrary expressions over a table of
// every column type (two computed columns read each other's input, so cycles are possible).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/expr/computed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Two expressions separated by the first NUL byte (the second may be empty).
  size_t cut = in.find('\0');
  std::string e1(in.substr(0, cut));
  std::string e2(cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1));
  using pxt::ColumnType;
  pxt::TableDef def;
  def.path = "fuzz.t";
  def.columns = {
      {"id", ColumnType::Int, true},         {"name", ColumnType::String},
      {"score", ColumnType::Float},          {"ok", ColumnType::Bool},
      {"at", ColumnType::Timestamp},         {"meta", ColumnType::Json},
      {"c1", ColumnType::String, false, e1}, {"c2", ColumnType::String, false, e2.empty() ? "c1" : e2}};
  std::vector<std::string> names = def.column_names();
  for (auto& c : def.columns) {
    if (c.is_computed()) c.depends_on = pxt::referenced_columns(c.computed, names);
  }
  (void)pxt::tokenize_sql(e1);
  std::vector<std::string> repl(names.size(), "NULL");
  (void)pxt::substitute_columns(e1, def, repl, [](std::string_view w) { return w == "AS" || w == "as"; });
  for (auto& c : def.columns) {
    if (!c.is_computed()) continue;
    c.infer_type = true;
    (void)pxt::infer_computed_type(def, c);
  }
  auto order = pxt::computed_order(def);
  if (order.ok()) {
    (void)pxt::layered_select(def, "SELECT 1", *order);
    (void)pxt::affected_computed(def, *order, {0, 1});
  }
  return 0;
}
