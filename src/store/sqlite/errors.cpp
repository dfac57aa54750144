// Error wording shared by the SQLite store's files: rewriting SQLite's messages about user SQL
// into pxt's, with "did you mean".
#include "store/functions/registry.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/strings.hpp"

namespace pxt::sqlite {

const std::vector<std::string>& known_function_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = {"abs",          "char",        "coalesce",   "concat",
                                  "date",         "datetime",    "format",     "glob",
                                  "hex",          "ifnull",      "iif",        "instr",
                                  "julianday",    "json",        "json_array", "json_array_length",
                                  "json_extract", "json_object", "json_type",  "json_valid",
                                  "length",       "like",        "lower",      "ltrim",
                                  "max",          "min",         "nullif",     "printf",
                                  "quote",        "random",      "replace",    "round",
                                  "rtrim",        "sign",        "soundex",    "sqrt",
                                  "strftime",     "substr",      "substring",  "time",
                                  "trim",         "typeof",      "unicode",    "unixepoch",
                                  "upper",        "ceil",        "floor",      "exp",
                                  "ln",           "log",         "pow",        "power",
                                  "mod",          "pi",          "trunc"};
    return v;
  }();
  return names;
}

Error user_sql_error(const Error& e, const TableDef* def, const Catalog* cat, std::string_view what) {
  const std::string& m = e.message;
  auto after = [&](std::string_view prefix) -> std::optional<std::string> {
    if (m.rfind(prefix, 0) != 0) return std::nullopt;
    return m.substr(prefix.size());
  };
  std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  if (auto col = after("no such column: ")) {
    std::vector<std::string> names = def ? def->column_names() : std::vector<std::string>{};
    return make_error(Errc::invalid_argument,
                      prefix + "unknown column '" + *col + "'" + did_you_mean(*col, names));
  }
  if (auto table = after("no such table: ")) {
    std::vector<std::string> paths = cat ? cat->table_paths() : std::vector<std::string>{};
    std::string msg = prefix + "unknown table '" + *table + "'";
    if (cat && cat->tables.count(*table)) {
      msg += "; write table paths in double quotes: FROM \"" + *table + "\"";
    } else {
      msg += did_you_mean(*table, paths);
    }
    return make_error(Errc::not_found, msg);
  }
  if (auto fn = after("no such function: ")) {
    std::vector<std::string> names = known_function_names();
    for (const auto& f : sql_functions()) names.push_back(f->name);
    return make_error(Errc::invalid_argument,
                      prefix + "unknown function '" + *fn + "'" + did_you_mean(*fn, names));
  }
  if (m.find("not authorized") != std::string::npos || m.find("prohibited") != std::string::npos) {
    return make_error(Errc::invalid_argument,
                      prefix + "access to pxt's internal catalog tables is not allowed");
  }
  return make_error(e.code, prefix + m);
}

}  // namespace pxt::sqlite
