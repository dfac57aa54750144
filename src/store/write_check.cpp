// Checks and error wording every backend shares (write_check.hpp).
#include "store/write_check.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "store/media/media.hpp"
#include "store/model/iso_time.hpp"
#include "store/model/time_zone.hpp"
#include "store/model/values.hpp"
#include "store/model/vector.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

std::string describe(const Value& v) {
  switch (v.index()) {
    case 0:
      return "null";
    case 1:
      return "Int " + std::to_string(std::get<int64_t>(v));
    case 2:
      return "Float " + value_to_text(v, std::nullopt);
    case 3:
      return std::string("Bool ") + (std::get<bool>(v) ? "true" : "false");
    default: {
      const std::string& s = std::get<std::string>(v);
      std::string shown = s.size() > 60 ? s.substr(0, 57) + "..." : s;
      JsonBuffer buf;
      JsonWriter w(buf);
      write_string(w, shown);
      return std::string("String ") + buf.GetString();
    }
  }
}

Error mismatch(const ColumnDef& c, const Value& v, const std::string& why = {}) {
  return with_code(
      make_error(Errc::invalid_argument, "column '" + c.name + "' expects " + std::string(type_name(c.type)) +
                                             ", got " + describe(v) + (why.empty() ? "" : " (" + why + ")")),
      ErrorCode::type_mismatch);
}

std::optional<std::string> json_problem(const std::string& s, bool want_array) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  if (d.HasParseError())
    return std::string("invalid JSON: ") + rapidjson::GetParseError_En(d.GetParseError());
  if (want_array && !d.IsArray()) return std::string("not a JSON array");
  return std::nullopt;
}

}  // namespace

Error stale_error() {
  return make_error(Errc::schema_changed,
                    "table schema changed since route was registered; restart the service");
}

Error unknown_column(const TableDef& def, std::string_view name, std::string_view context) {
  std::string msg = "unknown column '" + std::string(name) + "'";
  if (!context.empty()) msg += " " + std::string(context);
  msg += " in table '" + def.path + "'" + did_you_mean(name, def.column_names());
  return make_error(Errc::invalid_argument, msg);
}

Result<void> check_value(const ColumnDef& c, const Value& v) {
  if (is_null(v)) return {};
  const auto* s = std::get_if<std::string>(&v);
  switch (c.type) {
    case ColumnType::Int:
      if (!std::holds_alternative<int64_t>(v)) return mismatch(c, v);
      return {};
    case ColumnType::Float:
      if (auto* d = std::get_if<double>(&v); d && !std::isfinite(*d))
        return mismatch(c, v, "not a finite number");
      if (!std::holds_alternative<double>(v) && !std::holds_alternative<int64_t>(v)) return mismatch(c, v);
      return {};
    case ColumnType::Bool:
      if (!std::holds_alternative<bool>(v)) return mismatch(c, v);
      return {};
    case ColumnType::String:
      if (!s) return mismatch(c, v);
      return {};
    case ColumnType::Timestamp: {
      if (!s) return mismatch(c, v);
      auto r = parse_instant(*s, default_time_zone());
      if (const auto* why = std::get_if<std::string>(&r)) return mismatch(c, v, *why);
      return {};
    }
    case ColumnType::Date: {
      if (!s) return mismatch(c, v);
      if (auto why = check_date(*s)) return mismatch(c, v, *why);
      return {};
    }
    case ColumnType::Json:
    case ColumnType::Array:
      if (!s) return mismatch(c, v);
      if (auto why = json_problem(*s, c.type == ColumnType::Array)) return mismatch(c, v, *why);
      return {};
    case ColumnType::Vector:
      if (!s || !vec::dimension(*s))
        return with_code(make_error(Errc::invalid_argument,
                                    "column '" + c.name + "' expects a Vector (a list of numbers)"),
                         ErrorCode::type_mismatch);
      return {};
    default:  // media: a path relative to the home's media folder
      if (!s) return mismatch(c, v);
      if (s->empty() || s->front() == '/' || *s == ".." || s->rfind("data:", 0) == 0 ||
          s->rfind("../", 0) == 0 || s->find("/../") != std::string::npos ||
          (s->size() >= 3 && s->compare(s->size() - 3, 3, "/..") == 0)) {
        return mismatch(c, v, "a media value is a path inside the media folder");
      }
      return {};
  }
}

Result<void> check_param_value(const ColumnDef& c, const Value& v) {
  if (c.type == ColumnType::Float && std::holds_alternative<double>(v)) return {};
  return check_value(c, v);
}

Result<std::vector<int>> plan_inputs(const TableDef& def, const std::vector<std::string>& columns,
                                     bool require_all) {
  std::vector<int> idx;
  std::vector<bool> given(def.columns.size(), false);
  for (const auto& name : columns) {
    int i = def.index_of(name);
    if (i < 0) return unknown_column(def, name);
    const ColumnDef& c = def.columns[static_cast<size_t>(i)];
    if (c.is_computed()) {
      return make_error(Errc::invalid_argument,
                        "'" + c.name + "' is a computed column and cannot be given a value");
    }
    if (given[static_cast<size_t>(i)])
      return make_error(Errc::invalid_argument, "column '" + c.name + "' is given twice");
    given[static_cast<size_t>(i)] = true;
    idx.push_back(i);
  }
  if (require_all) {
    for (size_t i = 0; i < def.columns.size(); ++i) {
      const ColumnDef& c = def.columns[i];
      if (c.required && !c.is_computed() && !given[i]) {
        return make_error(Errc::invalid_argument, "missing value for required column '" + c.name + "'");
      }
    }
  }
  return idx;
}

Result<void> check_row(const TableDef& def, const std::vector<int>& idx, const Row& row,
                       bool check_required) {
  if (row.size() != idx.size()) {
    return make_error(Errc::invalid_argument, "a row has " + std::to_string(row.size()) + " values for " +
                                                  std::to_string(idx.size()) + " columns");
  }
  for (size_t k = 0; k < idx.size(); ++k) {
    const ColumnDef& c = def.columns[static_cast<size_t>(idx[k])];
    if (is_null(row[k])) {
      if (check_required && c.required) return required_null(c);
      continue;
    }
    PXT_CHECK(check_value(c, row[k]));
  }
  return {};
}

std::string pk_text(const TableDef& def, const std::vector<int>& idx, const Row& row) {
  std::vector<std::string> values;
  for (const auto& k : def.primary_key) {
    int i = def.index_of(k);
    auto pos = std::find(idx.begin(), idx.end(), i);
    Value v = pos == idx.end() ? Value() : row[static_cast<size_t>(pos - idx.begin())];
    values.push_back(std::holds_alternative<std::string>(v) ? std::get<std::string>(v)
                                                            : value_to_text(v, std::nullopt));
  }
  if (def.primary_key.empty()) return "Key (rowid)";
  return "Key (" + join(def.primary_key, ", ") + ")=(" + join(values, ", ") + ")";
}

std::string updated_pk_text(const TableDef& def, const std::vector<int>& idx, const Row& values) {
  for (const auto& k : def.primary_key)
    if (std::find(idx.begin(), idx.end(), def.index_of(k)) == idx.end())
      return "Key (" + join(def.primary_key, ", ") + ") of the updated row";
  return pk_text(def, idx, values);
}

Error duplicate_key_error(const std::string& pk) {
  return with_code(
      make_error(Errc::already_exists, "Duplicate primary key value: " + pk + " already exists."),
      ErrorCode::constraint_violation);
}

Error required_null(const ColumnDef& c) {
  return with_code(
      make_error(Errc::invalid_argument, "column '" + c.name + "' is required and cannot be null"),
      ErrorCode::missing_required);
}

Error computed_failure(const ColumnDef& col, const std::string& msg, std::optional<Error> fault) {
  std::string text = "computed column '" + col.name + "' failed: " + msg;
  if (!fault)
    return with_code(make_error(Errc::invalid_argument, std::move(text)), ErrorCode::unsupported_operation);
  Error e = std::move(*fault);
  e.cause = e.pxt_code != ErrorCode::none ? e.message : std::string();
  e.message = std::move(text);
  return e;
}

Error computed_result_error(const ColumnDef& col, bool gave_null) {
  return with_code(
      make_error(Errc::invalid_argument,
                 gave_null
                     ? "computed column '" + col.name + "' is required but '" + col.computed + "' gave null"
                     : "computed column '" + col.name + "' expects " + std::string(type_name(col.type)) +
                           " but '" + col.computed + "' gave a value of another type"),
      ErrorCode::unsupported_operation);
}

std::vector<int> media_columns(const TableDef& def, const std::vector<int>& among) {
  std::vector<int> out;
  for (int i : among)
    if (is_media(def.columns[static_cast<size_t>(i)].type)) out.push_back(i);
  return out;
}

std::vector<int> media_columns(const TableDef& def) {
  std::vector<int> all(def.columns.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return media_columns(def, all);
}

std::vector<std::string> files_in(const std::vector<Row>& rows, const std::vector<int>& cols) {
  std::vector<std::string> out;
  for (const Row& r : rows) {
    for (int i : cols) {
      if (const auto* s = std::get_if<std::string>(&r[static_cast<size_t>(i)])) out.push_back(*s);
    }
  }
  return out;
}

void remove_media_files(const std::string& media_dir, const std::vector<std::string>& names) {
  for (const auto& n : names) media::remove(media_dir, n);
}

}  // namespace pxt
