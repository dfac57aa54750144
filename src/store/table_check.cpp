#include "store/table_check.hpp"

#include "store/expr/computed.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

Error bad(std::string msg) { return make_error(Errc::invalid_argument, std::move(msg)); }

bool keyable(ColumnType t) {
  return !is_media(t) && t != ColumnType::Json && t != ColumnType::Array && t != ColumnType::Vector;
}

Result<void> check_names(const TableDef& def) {
  if (def.columns.empty()) return bad("table '" + def.path + "' needs at least one column");
  for (size_t i = 0; i < def.columns.size(); ++i) {
    const std::string& n = def.columns[i].name;
    if (!is_identifier(n)) {
      return bad("invalid column name '" + n +
                 "': not an identifier (letters, digits and _, not starting with a digit)");
    }
    // SQLite's implicit row id would shadow or be shadowed by these names.
    for (const char* reserved : {"rowid", "_rowid_", "oid"}) {
      if (iequals(n, reserved)) return bad("invalid column name '" + n + "': the name is reserved");
    }
    for (size_t j = 0; j < i; ++j) {
      if (iequals(def.columns[j].name, n)) {
        return bad("duplicate column '" + n + "'" +
                   (def.columns[j].name == n ? std::string() : " (same as '" + def.columns[j].name + "')"));
      }
    }
  }
  return {};
}

Result<void> check_primary_key(TableDef& def) {
  std::vector<std::string> canonical;
  for (const auto& k : def.primary_key) {
    ColumnDef* c = const_cast<ColumnDef*>(def.find(k));
    if (!c)
      return bad("primary key column '" + k + "' is not a column of the table" +
                 did_you_mean(k, def.column_names()));
    if (c->is_computed())
      return bad("primary key column '" + k + "' is a computed column; key columns must be inputs");
    if (!keyable(c->type)) {
      return bad("primary key column '" + k + "' has type " + std::string(type_name(c->type)) +
                 ", which cannot be part of a key");
    }
    for (const auto& seen : canonical) {
      if (iequals(seen, c->name)) return bad("primary key column '" + k + "' is listed twice");
    }
    c->required = true;
    canonical.push_back(c->name);
  }
  def.primary_key = canonical;
  return {};
}

// Whether a computed value of type `got` is a sound value for a column declared `declared`:
// the same type, or one the declared type holds without changing its meaning (an Int in a Float
// column, a number as text, a text form of a timestamp or a media path).
bool holds(ColumnType declared, ColumnType got) {
  if (declared == got) return true;
  switch (declared) {
    case ColumnType::Int:
      return got == ColumnType::Bool;
    case ColumnType::Bool:
      return got == ColumnType::Int;  // SQL flags and comparisons are integers
    case ColumnType::Float:
      return got == ColumnType::Int || got == ColumnType::Bool;
    case ColumnType::String:
    case ColumnType::Json:
      return true;
    default:
      return got == ColumnType::String;
  }
}

// A declared type the expression cannot produce would fail every insert: refuse it now, naming
// both types. Expressions whose type cannot be inferred are left to the declaration.
Result<void> check_declared_type(const TableDef& def, const ColumnDef& c) {
  auto got = infer_computed_type(def, c);
  if (!got || holds(c.type, *got)) return {};
  return bad("computed column '" + c.name + "' is declared " + std::string(type_name(c.type)) +
             ", but its expression '" + c.computed + "' gives a " + std::string(type_name(*got)) +
             ": declare it as " + std::string(type_name(*got)) +
             ", or leave the type out to have it inferred");
}

}  // namespace

Result<void> check_columns(TableDef& def) {
  PXT_CHECK(check_names(def));
  PXT_CHECK(check_primary_key(def));
  std::vector<std::string> names = def.column_names();
  for (auto& c : def.columns) {
    if (c.is_computed()) {
      if (trim(c.computed).empty()) return bad("computed column '" + c.name + "' has an empty expression");
      c.depends_on = referenced_columns(c.computed, names);
    } else {
      c.depends_on.clear();
      c.infer_type = false;
    }
  }
  return {};
}

Result<void> finish_computed(TableDef& def) {
  PXT_TRY(std::vector<int> order, computed_order(def));
  for (int i : order) {
    ColumnDef& c = def.columns[static_cast<size_t>(i)];
    if (!c.is_computed()) continue;
    if (!c.infer_type) {
      PXT_CHECK(check_declared_type(def, c));
      continue;
    }
    PXT_TRY(c.type, infer_computed_type(def, c));
    c.infer_type = false;
  }
  return {};
}

}  // namespace pxt
