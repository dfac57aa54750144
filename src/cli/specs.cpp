#include "cli/specs.hpp"

#include <fmt/format.h>

#include "store/model/values.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

Error bad_spec(std::string_view option, std::string_view spec, std::string_view expected) {
  return make_error(Errc::invalid_argument,
                    fmt::format("invalid {} '{}': expected {}", option, spec, expected));
}

// `name:Type[!]` without the `=expr` part; `option` and `expected` are for error messages.
Result<ColumnDef> parse_name_and_type(std::string_view option, std::string_view spec, std::string_view head,
                                      std::string_view expected) {
  ColumnDef c;
  size_t colon = head.find(':');
  c.name = std::string(trim(head.substr(0, colon)));
  if (c.name.empty()) return bad_spec(option, spec, expected);
  if (!is_identifier(c.name)) {
    return make_error(Errc::invalid_argument,
                      fmt::format("invalid column name '{}' in {} '{}': names start with a letter or "
                                  "'_' and contain only letters, digits and '_'",
                                  c.name, option, spec));
  }
  if (colon == std::string_view::npos) return c;
  std::string_view type = trim(head.substr(colon + 1));
  if (!type.empty() && type.back() == '!') {
    c.required = true;
    type = trim(type.substr(0, type.size() - 1));
  }
  if (type.empty()) return bad_spec(option, spec, expected);
  auto t = parse_column_type(type);
  if (!t) {
    return make_error(Errc::invalid_argument, fmt::format("in {} '{}': {}", option, spec, t.error().message));
  }
  c.type = *t;
  return c;
}

}  // namespace

Result<ColumnDef> parse_column_spec(std::string_view spec) {
  constexpr std::string_view expected = "NAME:TYPE or NAME:TYPE! (e.g. id:Int!)";
  if (spec.find(':') == std::string_view::npos || spec.find('=') != std::string_view::npos) {
    return bad_spec("--column", spec, expected);
  }
  return parse_name_and_type("--column", spec, spec, expected);
}

Result<ColumnDef> parse_computed_spec(std::string_view spec) {
  constexpr std::string_view expected = "NAME=EXPR or NAME:TYPE=EXPR (e.g. 'shout=upper(prompt)')";
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos) return bad_spec("--computed", spec, expected);
  PXT_TRY(ColumnDef c, parse_name_and_type("--computed", spec, spec.substr(0, eq), expected));
  if (c.required) {
    return make_error(Errc::invalid_argument,
                      fmt::format("invalid --computed '{}': a computed column cannot be marked "
                                  "required ('!')",
                                  spec));
  }
  c.infer_type = spec.substr(0, eq).find(':') == std::string_view::npos;
  c.computed = std::string(trim(spec.substr(eq + 1)));
  if (c.computed.empty()) return bad_spec("--computed", spec, expected);
  return c;
}

Result<std::vector<std::string>> parse_name_list(std::string_view list, std::string_view what) {
  std::vector<std::string> out;
  for (const auto& part : split(list, ',')) {
    std::string_view name = trim(part);
    if (name.empty()) {
      return make_error(Errc::invalid_argument,
                        fmt::format("invalid {} '{}': expected names separated by commas", what, list));
    }
    out.emplace_back(name);
  }
  return out;
}

Result<TableDef> build_table_def(std::string_view path, const std::vector<std::string>& columns,
                                 const std::vector<std::string>& computed,
                                 const std::vector<std::string>& primary_key) {
  TableDef def;
  PXT_TRY(def.path, normalize_path(path));
  auto add = [&](ColumnDef c) -> Result<void> {
    if (def.find(c.name)) {
      return make_error(Errc::invalid_argument, fmt::format("duplicate column '{}'", c.name));
    }
    def.columns.push_back(std::move(c));
    return {};
  };
  for (const auto& spec : columns) {
    PXT_TRY(ColumnDef c, parse_column_spec(spec));
    PXT_CHECK(add(std::move(c)));
  }
  for (const auto& spec : computed) {
    PXT_TRY(ColumnDef c, parse_computed_spec(spec));
    PXT_CHECK(add(std::move(c)));
  }
  if (def.columns.empty()) {
    return make_error(Errc::invalid_argument,
                      "a table needs at least one column (--column NAME:TYPE or --computed NAME=EXPR)");
  }
  for (const auto& item : primary_key) {
    PXT_TRY(auto names, parse_name_list(item, "--primary-key"));
    for (auto& n : names) def.primary_key.push_back(std::move(n));
  }
  return def;
}

std::string value_error_message(const ColumnDef& c, std::string_view msg, std::string_view shown) {
  return fmt::format("column '{}' ({}): {}, got {}", c.name, type_name(c.type), msg, shown);
}

Result<void> check_columns(const TableDef& t, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (!t.find(n)) {
      return make_error(Errc::not_found, fmt::format("unknown column '{}' in table '{}'{}", n, t.path,
                                                     did_you_mean(n, t.column_names())));
    }
  }
  return {};
}

Result<std::pair<std::string, Value>> parse_set_spec(const TableDef& t, std::string_view spec) {
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos) return bad_spec("--set", spec, "COLUMN=VALUE");
  std::string name(trim(spec.substr(0, eq)));
  if (name.empty()) return bad_spec("--set", spec, "COLUMN=VALUE");
  PXT_CHECK(check_columns(t, {name}));
  const ColumnDef& c = *t.find(name);
  if (c.is_computed()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("'{}' is a computed column and cannot be set; it is recomputed from "
                                  "its inputs",
                                  name));
  }
  std::string_view text = spec.substr(eq + 1);
  Converted v = value_from_text(text, c.type);
  if (auto* err = std::get_if<ValueError>(&v)) {
    return make_error(Errc::invalid_argument, value_error_message(c, err->msg, fmt::format("'{}'", text)));
  }
  return std::pair<std::string, Value>(std::move(name), std::get<Value>(std::move(v)));
}

}  // namespace pxt
