#include "store/model/schema.hpp"

#include "util/strings.hpp"

namespace pxt {

const ColumnDef* TableDef::find(std::string_view name) const {
  int i = index_of(name);
  return i < 0 ? nullptr : &columns[static_cast<size_t>(i)];
}

// Column names are case-insensitive, as in SQL: "Name" and "name" are the same column.
int TableDef::index_of(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (iequals(columns[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> TableDef::column_names() const {
  std::vector<std::string> out;
  out.reserve(columns.size());
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

const IndexDef* TableDef::find_index(std::string_view name) const {
  for (const auto& i : indexes)
    if (i.name == name) return &i;
  return nullptr;
}

bool TableDef::is_pk(std::string_view name) const {
  for (const auto& k : primary_key) {
    if (iequals(k, name)) return true;
  }
  return false;
}

Result<std::string> normalize_path(std::string_view path) {
  std::string_view p = trim(path);
  if (p.empty()) return make_error(Errc::invalid_argument, "invalid path '': the path is empty");
  bool slashed = p.find('/') != std::string_view::npos;
  bool dotted = p.find('.') != std::string_view::npos;
  if (slashed && dotted) {
    return make_error(Errc::invalid_argument, "invalid path '" + std::string(path) +
                                                  "': use either '.' or '/' to separate parts, not both");
  }
  std::vector<std::string> parts = split(p, slashed ? '/' : '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    std::string why;
    if (part.empty()) {
      why = "part " + std::to_string(i + 1) + " is empty";
    } else if (!is_identifier(part)) {
      why = "'" + part + "' is not an identifier (letters, digits and _, not starting with a digit)";
    }
    if (!why.empty())
      return make_error(Errc::invalid_argument, "invalid path '" + std::string(path) + "': " + why);
  }
  return join(parts, ".");
}

std::string parent_path(std::string_view canonical) {
  size_t dot = canonical.rfind('.');
  return dot == std::string_view::npos ? std::string() : std::string(canonical.substr(0, dot));
}

}  // namespace pxt
