#pragma once
// The schema module parser, shared by store/modules/modules.cpp (files, tables) and store/modules/queries.cpp
// (queries). Private to src/store/: use parse_module() from store/modules/modules.hpp.
#include <fmt/format.h>
#include "util/toml_names.hpp"

#include <optional>
#include <string>
#include <toml.hpp>
#include <utility>
#include <vector>

#include "store/modules/modules.hpp"

namespace pxt::detail {

// Collects errors while walking the document; each error keeps its line for sorting.
class ModuleParser {
 public:
  ModuleParser(std::string file, ModuleDef& m) : file_(std::move(file)), m_(m) {}

  void module(const toml::value& root);
  Result<void> result() const;

 private:
  void error(const toml::value& at, std::string msg) { errors_.emplace_back(line_of(at), std::move(msg)); }
  static size_t line_of(const toml::value& v) { return v.location().line(); }
  std::string location(const toml::value& v) const { return fmt::format("{}:{}", file_, line_of(v)); }

  // True when every key of `table` is allowed; reports the others with "did you mean".
  bool check_keys(const toml::value& table, const std::vector<std::string>& allowed, std::string_view what);
  const toml::value* get(const toml::value& table, const std::string& key) const;
  std::optional<std::string> string_at(const toml::value& table, const std::string& key,
                                       std::string_view what, bool required);
  std::optional<std::vector<std::string>> strings_at(const toml::value& table, const std::string& key,
                                                     std::string_view what);
  std::optional<ColumnType> type_at(const toml::value& table, std::string_view what);
  std::optional<std::string> path_at(const toml::value& table, std::string_view what);

  void dirs(const toml::value& v);
  void table(const toml::value& v);
  std::optional<ColumnDef> column(const toml::value& v, std::string_view table_path);
  void query(const toml::value& v);
  void similar_query(const toml::value& v, QueryDef& q, const std::string& what);
  void index(const toml::value& v);
  std::optional<QueryParam> param(const toml::value& v, std::string_view query);
  std::optional<Value> default_value(const toml::value& v, ColumnType type, std::string_view what);
  void check_sql_params(const toml::value& at, const QueryDef& q);

  std::string file_;
  ModuleDef& m_;
  std::vector<std::pair<size_t, std::string>> errors_;
};

inline const std::vector<std::string> kModuleKeys = {"dirs", "tables", "queries", "indexes"};
inline const std::vector<std::string> kIndexKeys = {"table",  "column", "embedding",
                                                    "metric", "name",   "ef_search"};
inline const std::vector<std::string> kTableKeys = {"path", "primary_key", "columns", "if_exists"};
inline const std::vector<std::string> kColumnKeys = {"name", "type", "required", "computed"};
inline const std::vector<std::string> kQueryKeys = {"name",  "params",  "sql",   "table",
                                                    "match", "similar", "param", "limit"};
inline const std::vector<std::string> kParamKeys = {"name", "type", "default"};

inline std::string_view toml_type(const toml::value& v) { return toml_kind_name(v.type()); }

}  // namespace pxt::detail
