#pragma once
// Parsers for the small textual forms the CLI accepts: `--column name:Type[!]`,
// `--computed 'name[:Type]=expr'`, `--set col=value` and comma-separated name lists.
// Pure functions, thread-safe. Errors are invalid_argument quoting the bad spec and saying
// what was expected; unknown types and columns come with "did you mean".
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt {

// `name:Type` or `name:Type!` (required).
Result<ColumnDef> parse_column_spec(std::string_view spec);
// `name=expr` (type inferred by the store: infer_type) or `name:Type=expr`.
Result<ColumnDef> parse_computed_spec(std::string_view spec);
// "a,b" or "a, b" -> {"a", "b"}; an empty item is refused. `what` names the option in errors.
Result<std::vector<std::string>> parse_name_list(std::string_view list, std::string_view what);

// The create-table command's arguments -> the definition handed to Store::create_table.
Result<TableDef> build_table_def(std::string_view path, const std::vector<std::string>& columns,
                                 const std::vector<std::string>& computed,
                                 const std::vector<std::string>& primary_key);

// `col=value` for table t: the column must exist (did you mean) and not be computed; the value
// is read by value_from_text for the column's type (JSON text for Json and Array columns).
Result<std::pair<std::string, Value>> parse_set_spec(const TableDef& t, std::string_view spec);

// "column 'id' (Int): Input should be a valid integer, got \"abc\"" — `shown` is the bad input
// as the user wrote it (already quoted when it was a string).
std::string value_error_message(const ColumnDef& c, std::string_view msg, std::string_view shown);

// Checks that every name is a column of t (unknown: not_found with "did you mean").
Result<void> check_columns(const TableDef& t, const std::vector<std::string>& names);

}  // namespace pxt
