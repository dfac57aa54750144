#pragma once
// Finding similarity(COLUMN, :param) on indexed columns in a named query's SQL, backend-neutral:
// which calls use an embedding index, what the query compares with, and whether the query has the
// top-k shape an index can answer (one table, ORDER BY the score DESC — ASC for an l2 index —
// LIMIT k). The backend rewrites the calls and adds the candidate restriction at the places given.
// Pure functions, thread-safe.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model/schema.hpp"

namespace pxt {

struct SimilarityCall {
  size_t pos = 0, len = 0;  // the call's span in the SQL, "similarity(...)" whole
  std::string table;        // canonical path of the indexed table
  std::string row_ref;      // how the SQL names that table's rows: an alias or the quoted path
  IndexDef index;
  std::string param;                // the compared parameter's name (without ':'), or
  std::optional<std::string> text;  // a string literal compared instead
};

struct SimilarityPlan {
  std::vector<SimilarityCall> calls;
  // The top-k shape: calls[0] is the ORDER BY term, k is the LIMIT (a number, or a parameter's
  // name in limit_param), and the candidate restriction goes at where_pos: after "WHERE" when the
  // query has one (then a ")" closes the original condition at where_end), else as " WHERE ..."
  // at where_pos.
  bool top_k = false;
  int64_t limit = 0;
  std::string limit_param;
  bool has_where = false;
  size_t where_pos = 0, where_end = 0;
};

// Looks up a table by canonical path; nullptr when there is none.
using TableLookup = std::function<const TableDef*(const std::string& path)>;

// Analyses the SQL. Errors (invalid_argument) for a similarity() on an indexed column whose other
// argument is neither a :parameter nor a string literal, or whose table cannot be told.
Result<SimilarityPlan> plan_similarity(std::string_view sql, const TableLookup& tables);

}  // namespace pxt
