#pragma once
// What every backend checks the same way before it writes: a value against its column's type,
// the input columns of a write, a row's values, and the wording of the errors every backend
// shares (unknown column with "did you mean", a stale definition, a duplicate key). Pure
// functions, thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt {

// schema_changed "table schema changed since route was registered; restart the service".
Error stale_error();
// invalid_argument "unknown column 'x' [context] in table 't', did you mean 'y'?".
Error unknown_column(const TableDef& def, std::string_view name, std::string_view context = {});
// Checks v against column c's type (not nullability). Error: invalid_argument TYPE_MISMATCH
// "column 'age' expects Int, got String \"abc\"".
Result<void> check_value(const ColumnDef& c, const Value& v);
// invalid_argument MISSING_REQUIRED "column 'x' is required and cannot be null".
Error required_null(const ColumnDef& c);
// check_value for a query parameter of column c's type: a Float parameter may also be NaN or
// infinite, as pydantic's float allows (only a stored Float must be finite; a comparison with NaN
// matches no row on either engine).
Result<void> check_param_value(const ColumnDef& c, const Value& v);
// Input columns of a write, as table positions aligned with `columns`: known, not computed, not
// given twice; with require_all, every required input column is among them.
Result<std::vector<int>> plan_inputs(const TableDef& def, const std::vector<std::string>& columns,
                                     bool require_all);
// A row's values for the columns idx: the right count, each of its column's type, and (with
// check_required) no null for a required column (required_null).
Result<void> check_row(const TableDef& def, const std::vector<int>& idx, const Row& row, bool check_required);
// The key of a row given for columns idx as PostgreSQL's unique-violation detail shows it, which
// Pixeltable passes on and clients match: "Key (id)=(1)", "Key (a, b)=(x, 2)" (texts unquoted);
// "Key (rowid)" for a table without a primary key.
std::string pk_text(const TableDef& def, const std::vector<int>& idx, const Row& row);
// The same for an update setting columns idx to `values`: the new key when the update sets all of
// it, else "Key (id) of the updated row".
std::string updated_pk_text(const TableDef& def, const std::vector<int>& idx, const Row& values);
// already_exists CONSTRAINT_VIOLATION "Duplicate primary key value: Key (id)=(1) already exists."
// (Pixeltable's wording); pk from pk_text.
Error duplicate_key_error(const std::string& pk);
// A computed column that failed: invalid_argument UNSUPPORTED_OPERATION "computed column 'c'
// failed: msg", unless `fault` (the error a pxt function returned) carries a code of its own
// (a provider's RATE_LIMITED, a full disk's no_space): then that error, its code, retry_after and
// provider kept, its message "computed column 'c' failed: msg" and its own message the cause.
Error computed_failure(const ColumnDef& col, const std::string& msg, std::optional<Error> fault);
// A computed column whose expression gave null (gave_null) or a value of another type than the
// column's: invalid_argument UNSUPPORTED_OPERATION naming the column and its expression.
Error computed_result_error(const ColumnDef& col, bool gave_null);
// The media-typed columns of def among `among` (table positions), or all of them.
std::vector<int> media_columns(const TableDef& def, const std::vector<int>& among);
std::vector<int> media_columns(const TableDef& def);
// The non-null media values of columns cols in rows (each row in table order).
std::vector<std::string> files_in(const std::vector<Row>& rows, const std::vector<int>& cols);
// Removes the named media files; call only after the transaction that dropped them committed.
void remove_media_files(const std::string& media_dir, const std::vector<std::string>& names);

}  // namespace pxt
