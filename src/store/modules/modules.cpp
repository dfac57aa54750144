// Schema modules: finding module files and parsing them into a ModuleDef. Parsing checks
// everything it can without a store (keys, types, names, references inside the module) and
// reports every mistake at once, one "file:line: message" per line, sorted by line.
#include "store/modules/modules.hpp"
#include "store/modules/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "store/model/values.hpp"
#include "util/strings.hpp"
#include "util/toml_guard.hpp"

namespace pxt {

std::vector<std::string> module_search_path(const std::vector<std::string>& extra) {
  std::vector<std::string> out = extra;
  out.emplace_back(".");
  if (const char* env = std::getenv("PXT_PATH"); env && *env) {
    for (auto& dir : split(env, ':')) {
      if (!dir.empty()) out.push_back(std::move(dir));
    }
  }
  return out;
}

Result<std::string> find_module_file(std::string_view module, const std::vector<std::string>& search) {
  auto parts = split(module, '.');
  for (const auto& p : parts) {
    if (!is_identifier(p)) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("invalid module name '{}': expected dotted names like myapp.schema", module));
    }
  }
  std::string rel = join(parts, "/") + ".toml";
  for (const auto& dir : search) {
    std::filesystem::path candidate = std::filesystem::path(dir) / rel;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
  }
  return make_error(Errc::not_found, fmt::format("module '{}' not found: looked for {} in {}", module, rel,
                                                 join(search, ", ")));
}

namespace {
using detail::ModuleParser;
}  // namespace

namespace detail {

Result<void> ModuleParser::result() const {
  if (errors_.empty()) return {};
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> lines;
  for (const auto& [line, msg] : sorted) lines.push_back(fmt::format("{}:{}: {}", file_, line, msg));
  return make_error(Errc::invalid_argument, join(lines, "\n"));
}

bool ModuleParser::check_keys(const toml::value& table, const std::vector<std::string>& allowed,
                              std::string_view what) {
  bool ok = true;
  for (const auto& [key, value] : table.as_table()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    error(value, fmt::format("unknown key '{}' in {}{}", key, what, did_you_mean(key, allowed)));
    ok = false;
  }
  return ok;
}

const toml::value* ModuleParser::get(const toml::value& table, const std::string& key) const {
  const auto& t = table.as_table();
  auto it = t.find(key);
  return it == t.end() ? nullptr : &it->second;
}

std::optional<std::string> ModuleParser::string_at(const toml::value& table, const std::string& key,
                                                   std::string_view what, bool required) {
  const toml::value* v = get(table, key);
  if (!v) {
    if (required) error(table, fmt::format("{}: missing key '{}'", what, key));
    return std::nullopt;
  }
  if (!v->is_string()) {
    error(*v, fmt::format("{}: '{}' must be a string, got {}", what, key, toml_type(*v)));
    return std::nullopt;
  }
  return v->as_string().str;
}

std::optional<std::vector<std::string>> ModuleParser::strings_at(const toml::value& table,
                                                                 const std::string& key,
                                                                 std::string_view what) {
  const toml::value* v = get(table, key);
  if (!v) return std::nullopt;
  bool ok = v->is_array();
  std::vector<std::string> out;
  if (ok) {
    for (const auto& item : v->as_array()) {
      if (!item.is_string()) {
        ok = false;
        break;
      }
      out.push_back(item.as_string().str);
    }
  }
  if (!ok) {
    error(*v, fmt::format("{}: '{}' must be an array of strings", what, key));
    return std::nullopt;
  }
  return out;
}

std::optional<ColumnType> ModuleParser::type_at(const toml::value& table, std::string_view what) {
  auto name = string_at(table, "type", what, false);
  if (!name) return std::nullopt;
  auto t = parse_column_type(*name);
  if (!t) {
    error(*get(table, "type"), fmt::format("{}: {}", what, t.error().message));
    return std::nullopt;
  }
  return *t;
}

std::optional<std::string> ModuleParser::path_at(const toml::value& table, std::string_view what) {
  auto raw = string_at(table, "path", what, true);
  if (!raw) return std::nullopt;
  auto p = normalize_path(*raw);
  if (!p) {
    error(*get(table, "path"), fmt::format("{}: {}", what, p.error().message));
    return std::nullopt;
  }
  return *p;
}

void ModuleParser::module(const toml::value& root) {
  if (!root.is_table()) return;
  check_keys(root, kModuleKeys, "module (expected dirs, [[tables]], [[queries]], [[indexes]])");
  if (const toml::value* d = get(root, "dirs")) dirs(*d);
  for (const char* key : {"tables", "queries", "indexes"}) {
    const toml::value* list = get(root, key);
    if (!list) continue;
    if (!list->is_array()) {
      error(*list, fmt::format("'{}' must be an array of tables ([[{}]])", key, key));
      continue;
    }
    for (const auto& item : list->as_array()) {
      if (!item.is_table()) {
        error(item, fmt::format("each entry of '{}' must be a table, got {}", key, toml_type(item)));
      } else if (std::string_view(key) == "tables") {
        table(item);
      } else if (std::string_view(key) == "indexes") {
        index(item);
      } else {
        query(item);
      }
    }
  }
  // Retrieval queries over a table declared here get their parameters now; others are
  // resolved against the catalog when the module is applied or a route binds them.
  for (auto& q : m_.queries) {
    if (q.kind != QueryDef::Kind::Retrieval || !q.params.empty()) continue;
    for (const auto& decl : m_.tables) {
      if (decl.def.path != q.table) continue;
      for (const auto& col : q.match) {
        if (const ColumnDef* c = decl.def.find(col)) q.params.push_back(retrieval_param(*c));
      }
    }
  }
}

void ModuleParser::dirs(const toml::value& v) {
  bool ok = v.is_array();
  if (ok) {
    for (const auto& item : v.as_array()) ok = ok && item.is_string();
  }
  if (!ok) {
    error(v, "'dirs' must be an array of strings, e.g. dirs = [\"myapp\"]");
    return;
  }
  for (const auto& item : v.as_array()) {
    auto p = normalize_path(item.as_string().str);
    if (!p) {
      error(item, fmt::format("dirs: {}", p.error().message));
    } else if (std::find(m_.dirs.begin(), m_.dirs.end(), *p) != m_.dirs.end()) {
      error(item, fmt::format("dirs: '{}' is listed twice", *p));
    } else {
      m_.dirs.push_back(*p);
    }
  }
}

void ModuleParser::table(const toml::value& v) {
  check_keys(v, kTableKeys, "[[tables]]");
  TableDecl decl;
  decl.location = location(v);
  auto path = path_at(v, "[[tables]]");
  std::string what = path ? fmt::format("table '{}'", *path) : std::string("[[tables]]");
  if (path) {
    decl.def.path = *path;
    for (const auto& other : m_.tables) {
      if (other.def.path == *path)
        error(v, fmt::format("{} is declared twice (first at {})", what, other.location));
    }
  }
  if (auto mode = string_at(v, "if_exists", what, false)) {
    if (*mode == "replace") {
      decl.if_exists = IfExists::replace;
    } else if (*mode != "error") {
      error(*get(v, "if_exists"), fmt::format("{}: if_exists must be \"error\" or \"replace\", got \"{}\"{}",
                                              what, *mode, did_you_mean(*mode, {"error", "replace"})));
    }
  }
  const toml::value* cols = get(v, "columns");
  if (!cols) {
    error(v, fmt::format("{}: missing key 'columns'", what));
  } else if (!cols->is_array() || cols->as_array().empty()) {
    error(*cols, fmt::format("{}: 'columns' must be a non-empty array of tables, e.g. "
                             "{{ name = \"id\", type = \"Int\" }}",
                             what));
  } else {
    for (const auto& c : cols->as_array()) {
      auto col = column(c, what);
      if (!col) continue;
      if (decl.def.find(col->name)) {
        error(c, fmt::format("{}: column '{}' is declared twice", what, col->name));
        continue;
      }
      decl.def.columns.push_back(std::move(*col));
    }
  }
  if (auto pk = strings_at(v, "primary_key", what)) {
    for (const auto& k : *pk) {
      if (!decl.def.find(k) && !decl.def.columns.empty()) {
        error(*get(v, "primary_key"), fmt::format("{}: primary key column '{}' is not a column{}", what, k,
                                                  did_you_mean(k, decl.def.column_names())));
      }
    }
    decl.def.primary_key = *pk;
  }
  m_.tables.push_back(std::move(decl));
}

std::optional<ColumnDef> ModuleParser::column(const toml::value& v, std::string_view table_what) {
  if (!v.is_table()) {
    error(v, fmt::format("{}: each column must be a table like {{ name = \"id\", type = \"Int\" }}, got {}",
                         table_what, toml_type(v)));
    return std::nullopt;
  }
  size_t before = errors_.size();
  check_keys(v, kColumnKeys, fmt::format("a column of {}", table_what));
  ColumnDef c;
  auto name = string_at(v, "name", fmt::format("a column of {}", table_what), true);
  if (name && !is_identifier(*name)) {
    error(*get(v, "name"), fmt::format("{}: invalid column name '{}': names start with a letter or '_' and "
                                       "contain only letters, digits and '_'",
                                       table_what, *name));
  }
  std::string what = fmt::format("{}: column '{}'", table_what, name.value_or("?"));
  if (name) c.name = *name;
  if (auto computed = string_at(v, "computed", what, false)) {
    c.computed = std::string(trim(*computed));
    if (c.computed.empty()) error(*get(v, "computed"), fmt::format("{}: 'computed' is empty", what));
  }
  if (auto type = type_at(v, what)) {
    c.type = *type;
  } else if (!get(v, "type")) {
    if (c.is_computed()) {
      c.infer_type = true;
    } else {
      error(v, fmt::format("{}: missing key 'type' (one of {})", what, join(all_type_names(), ", ")));
    }
  }
  if (const toml::value* req = get(v, "required")) {
    if (!req->is_boolean()) {
      error(*req, fmt::format("{}: 'required' must be true or false, got {}", what, toml_type(*req)));
    } else {
      c.required = req->as_boolean();
      if (c.required && c.is_computed()) {
        error(*req, fmt::format("{}: a computed column cannot be required", what));
      }
    }
  }
  if (errors_.size() != before || !name) return std::nullopt;
  return c;
}
}  // namespace detail

Result<ModuleDef> parse_module(const std::string& file, std::string_view module_name) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return make_error(Errc::not_found, fmt::format("module file '{}' not found", file));
  }
  auto text = read_text_file(file);
  if (!text.ok()) return text.error();
  return parse_module_text(*text, file, module_name);
}

Result<ModuleDef> parse_module_text(const std::string& text, const std::string& file,
                                    std::string_view module_name) {
  PXT_CHECK(check_toml_shape(text, file));
  toml::value root;
  try {
    std::istringstream in(text);
    root = toml::parse(in, file);
  } catch (const toml::exception& e) {
    return make_error(Errc::invalid_argument, toml_syntax_error(file, e));
  } catch (const std::exception& e) {
    // toml11 reports some bad values (e.g. an integer past 64 bits) with other exceptions.
    return make_error(Errc::invalid_argument, fmt::format("{}: TOML error: {}", file, e.what()));
  }
  ModuleDef m;
  m.name = std::string(module_name);
  m.file = file;
  ModuleParser p(file, m);
  p.module(root);
  PXT_CHECK(p.result());
  return m;
}

}  // namespace pxt
