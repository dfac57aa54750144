#pragma once
// PostgreSQL's side of the SQL pxt writes (internal to src/store/postgres/): column types, values
// in and out as text, and the rewriting of user SQL (computed columns, named queries) so that the
// rules of doc/catalog.md ("PostgreSQL dialect") hold:
//   - a column reference in a computed expression is quoted as the column is spelled, so `Name`
//     finds column "Name" (PostgreSQL folds unquoted names to lower case, SQLite ignores case);
//   - a call of one of pxt's own functions (image, document, model, ...: store/functions/) is
//     cut out of the expression and evaluated by pxt before the statement; its result is bound
//     as a parameter ("call sites");
//   - CAST(x AS REAL) means an 8-byte float as in SQLite (PostgreSQL's real is 4 bytes);
//   - :name parameters of named queries become $n with the declared type.
// Pure functions, thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/functions/registry.hpp"
#include "store/model/schema.hpp"
#include "store/postgres/conn.hpp"

namespace pxt::pg {

// The PostgreSQL type of a column ("text", "int8", "float8", "bool", "timestamptz", "date",
// "jsonb", "real[]" for a Vector); media columns hold text paths.
const char* pg_type(ColumnType t);
// A Vector (packed float32, store/model/vector.hpp) as a real[] literal ("{0.5,-1,2.25}"), each
// element the shortest text that reads back as the same float32.
std::string vector_to_pg(std::string_view packed);
// A real[] or float8[] literal as floats; nullopt when it is not a one-dimensional array of
// numbers (a NULL element, nested braces).
std::optional<std::vector<float>> floats_from_pg(std::string_view text);
// The column's type in CREATE TABLE: text columns compare byte-wise (COLLATE "C") as in SQLite.
std::string column_ddl_type(ColumnType t);
// "$n::type" (with COLLATE "C" for text): a parameter typed as column type t.
std::string param(int n, ColumnType t);

// Adds v as a parameter for a column of type t (an Int for a Float column is a float).
void add_value(Params& p, const Value& v, ColumnType t);
// The same for a value a read compares with (a filter, a query parameter): text that is not valid
// UTF-8 (which PostgreSQL refuses outright) has each bad byte replaced by U+FFFD, so it matches
// nothing, as on SQLite.
void add_read_value(Params& p, const Value& v, ColumnType t);
// Adds a value of no known column type (a function's argument or result): by its own kind.
void add_untyped(Params& p, const Value& v);
// Adds a pxt function's result, bound where the SQL casts it to fn's result type: a Vector result
// as a real[] literal, anything else as add_untyped.
void add_result(Params& p, const Value& v, const SqlFunction& fn);
// Reads a result cell: as column type t when known, else by the result column's PostgreSQL
// type (`oid`): integers, floats and numerics, booleans, everything else as text.
void read_cell(const PgResult& r, int row, int col, std::optional<ColumnType> t, Value& out);

// jsonb's text with the blanks outside strings removed ({"a": 1} -> {"a":1}).
std::string compact_json(std::string_view s);
// A timestamptz as PostgreSQL writes it in UTC ("2024-01-02 03:04:05.5+00") in ISO 8601
// ("2024-01-02T03:04:05.5+00:00").
std::string iso_timestamp(std::string_view pg);

// Reserved words that cannot be a column name unquoted in PostgreSQL (so a word such as END in
// an expression is SQL, not a column).
bool is_reserved_word(std::string_view w);

// One call of a pxt function in a computed column, evaluated before the statement.
struct CallSite {
  std::shared_ptr<const SqlFunction> fn;
  std::vector<std::string> args;  // each argument's SQL (compiled form: may hold earlier calls' marks)
  int column = -1;                // the computed column (table position) it belongs to
};

// The computed columns of a table in PostgreSQL's dialect. `exprs[i]` is column i's expression
// with its column references quoted and each call site replaced by a mark naming its slot;
// render() turns the marks into parameters.
struct CompiledTable {
  std::vector<std::string> exprs;  // per table position; "" for input columns
  std::vector<CallSite> calls;     // in evaluation order (a call's inner calls come first)
  std::vector<int> column_calls;   // per table position: how many call sites the column has
};

// Compiles def's computed expressions. Error: invalid_argument naming the column when a call of a
// pxt function is malformed (unbalanced parentheses) or has the wrong number of arguments.
Result<CompiledTable> compile_table(const TableDef& def);
// expr with each call mark replaced by slot_sql(slot).
std::string render(std::string_view expr, const std::function<std::string(int slot)>& slot_sql);
// Whether an argument is a plain literal or a reference to a column whose value is known
// (known[i]; values[i] by table position): its value is then known without asking the server.
// is_vector (when given) is set when the value is a Vector column's (packed floats).
bool local_value(std::string_view arg, const TableDef& def, const std::vector<Value>& values,
                 const std::vector<bool>& known, Value& out, bool* is_vector = nullptr);

// PostgreSQL's spelling of a user expression over def's columns (quoted references, REAL as
// float8): for where filters and orderings.
std::string quote_columns(std::string_view expr, const TableDef& def);

// An ORDER BY body (`score DESC, name`) in PostgreSQL's spelling, with SQLite's null order made
// explicit: nulls first ascending, last descending (PostgreSQL's default is the reverse). An item
// that says NULLS FIRST/LAST itself keeps it.
std::string order_by_sql(std::string_view order_by, const TableDef& def);

// A named query's calls of pxt's own functions whose every argument is a literal, a :parameter or
// such a call (`pxt_gate(:gate, 0)`, `width(:image)`): pxt evaluates them before the statement
// (inner calls first) and binds each result as a parameter, as it does for computed columns. A
// call with any other argument (a column, an expression) stays in the SQL, where PostgreSQL,
// which does not have the function, refuses it (errors.cpp says why).
struct QueryCallArg {
  enum class Kind { Literal, Param, Call } kind = Kind::Literal;
  Value literal;
  std::string param;  // Param: the parameter's name (without ':')
  int call = -1;      // Call: the index of an earlier call
};
struct QueryCall {
  std::shared_ptr<const SqlFunction> fn;
  std::vector<QueryCallArg> args;
};
struct QueryCalls {
  std::string sql;                  // the SQL with each outermost call replaced by a mark
  std::vector<QueryCall> calls;     // in evaluation order: a call's inner calls come first
  std::vector<std::string> params;  // the :parameters the calls read
};
// Error: invalid_argument when a call has the wrong number of arguments or an empty one.
Result<QueryCalls> extract_query_calls(std::string_view sql);
// sql (extract_query_calls' sql after rewrite_query_params) with each call mark replaced by the
// parameter $n (n from `first` on, in order of appearance) cast to the function's result type;
// `slots` receives the call index bound at each of those parameters.
std::string render_query_calls(std::string_view sql, const std::vector<QueryCall>& calls, int first,
                               std::vector<int>& slots);

// A named query's SQL with :name parameters numbered $1.. in order of `names` (each cast to its
// declared type); `used` receives the names the SQL mentions (in order of first use), `bad` the
// placeholders that are not :name ("?", "$1").
struct QuerySql {
  std::string sql;
  std::vector<std::string> used;
  std::vector<std::string> bad;
};
QuerySql rewrite_query_params(std::string_view sql, const std::vector<QueryParam>& params);

}  // namespace pxt::pg
