#pragma once
// Backend-neutral analysis of computed-column expressions: a small SQL tokenizer, dependency
// extraction, dependency ordering with cycle detection, type inference, and the SQL that
// evaluates computed columns in dependency order (nested SELECTs). Pure functions, thread-safe.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt {

struct SqlToken {
  enum class Kind { Ident, QuotedIdent, String, Number, Param, Op, LParen, RParen, Comma, Dot, Other };
  Kind kind;
  std::string text;  // identifiers unquoted; strings without quotes
  size_t pos = 0;    // where the token starts in the text, quotes included
  size_t len = 0;
};

// Whether t is the unquoted keyword or name w, in any case ("select", "as", "null").
bool is_sql_word(const SqlToken& t, std::string_view w);

// Splits a SQL expression into tokens, skipping whitespace and comments. Never fails: anything
// it does not recognise becomes an Other token (the backend reports real syntax errors).
std::vector<SqlToken> tokenize_sql(std::string_view sql);

// The :parameters (names without the colon) that a query's LIMIT or OFFSET clauses read, e.g.
// {"limit", "offset"} for "... LIMIT :limit OFFSET :offset". SQLite reads a negative LIMIT as
// "no limit", so such parameters must not be negative (the serving layer refuses them with 422).
std::vector<std::string> limit_parameters(std::string_view sql);

// The columns of `columns` that `expr` reads (case-insensitive, spelled as in `columns`), in order
// of first use. Function names, string literals and qualifiers are not references.
std::vector<std::string> referenced_columns(std::string_view expr, const std::vector<std::string>& columns);

// expr with each reference to a column of def replaced by "(" + replacement[column index] + ")".
// Only plain references are replaced: not function names, qualified names, the type in
// CAST(x AS type), or unquoted words for which is_keyword is true (they are SQL, not columns).
std::string substitute_columns(std::string_view expr, const TableDef& def,
                               const std::vector<std::string>& replacement,
                               const std::function<bool(std::string_view)>& is_keyword);

// Indices of the computed columns of `def` ordered so that each follows the computed columns it
// reads (depends_on must be filled). Error: invalid_argument naming the cycle ("a -> b -> a").
Result<std::vector<int>> computed_order(const TableDef& def);

// The type of computed column `col` inferred from its expression: String for text functions and
// ||, Int for length/instr, Bool for comparisons, a referenced column's type for a bare column,
// literals and CAST by their type, registered functions by their result type. Error:
// invalid_argument "cannot infer the type of computed column 'x' from '...'; declare it as ...".
Result<ColumnType> infer_computed_type(const TableDef& def, const ColumnDef& col);

// The computed columns (indices, in `order`) that must be recomputed when `changed` columns change:
// those reading a changed column, transitively.
std::vector<int> affected_computed(const TableDef& def, const std::vector<int>& order,
                                   const std::vector<int>& changed);

// Whether the computed expression calls, anywhere, a function that writes evaluate ahead
// (computed_ahead()): such a column makes a write compute ahead, and layered_select keeps its
// layer from being flattened into the next (a flattened layer copies the call into every later
// use, and each copy would run the slow call again).
bool computes_ahead(std::string_view computed_expr);

// SQL evaluating computed columns in dependency order over a base row:
//   SELECT *, (e2) AS "c2" FROM (SELECT *, (e1) AS "c1" FROM (<base>) AS _l0) AS _l1
// `base` is a SELECT yielding every column the expressions read; `cols` are indices in order.
std::string layered_select(const TableDef& def, const std::string& base, const std::vector<int>& cols);

}  // namespace pxt
