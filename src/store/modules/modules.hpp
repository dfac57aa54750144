#pragma once
// Schema modules: TOML files declaring directories, tables and queries (the format is specified
// in doc/modules.md). Module "a.b" is the file a/b.toml, searched in the
// given folders in order (the config file's folder, the current folder, then each PXT_PATH entry).
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace pxt {

struct TableDecl {
  TableDef def;
  IfExists if_exists = IfExists::error;  // "error" (default: must match) or "replace"
  std::string location;                  // "file:line"
};

// An [[indexes]] entry: an embedding index of a table's column (IndexDef).
struct IndexDecl {
  std::string table;  // canonical path
  IndexDef def;
  std::string location;  // "file:line"
};

struct ModuleDef {
  std::string name;  // "myapp.schema" ("" when loaded by file path)
  std::string file;
  std::vector<std::string> dirs;
  std::vector<TableDecl> tables;
  std::vector<QueryDef> queries;  // module field set to `name`
  std::vector<IndexDecl> indexes;
};

// Search folders for modules: extra first, then ".", then each entry of $PXT_PATH.
std::vector<std::string> module_search_path(const std::vector<std::string>& extra);
// Finds a module's file; not_found lists the folders searched.
Result<std::string> find_module_file(std::string_view module, const std::vector<std::string>& search);
// Parses one file; every mistake is reported (one "file:line: message" per line).
Result<ModuleDef> parse_module(const std::string& file, std::string_view module_name);
// The same for TOML text already read (`file` names it in errors). Never throws. Thread-safe.
Result<ModuleDef> parse_module_text(const std::string& text, const std::string& file,
                                    std::string_view module_name);

// Fills a retrieval query's params (one per match column, typed from the catalog). parse_module
// already does this when the module itself declares the table; a no-op for SQL queries and
// resolved ones. Errors: not_found for an unknown table or column, prefixed with q.location.
Result<void> resolve_retrieval_params(Store& store, QueryDef& q);
// The parameter a retrieval query takes for match column `c`, typed as Pixeltable's
// retrieval_udf types it: a required column's is required, a nullable one's is optional with
// default null (Optional[T] = None; null matches no row, as SQL equality never does).
QueryParam retrieval_param(const ColumnDef& c);

// What applying the module would change, one human-readable line each; empty when all matches.
Result<std::vector<std::string>> diff_module(Store& store, const ModuleDef& m);
// Creates what is missing; an existing table that differs is an error showing the diff unless
// its declaration says if_exists = "replace". Returns the lines describing what was done.
Result<std::vector<std::string>> apply_module(Store& store, const ModuleDef& m);

}  // namespace pxt
