#pragma once
// Slow functions in named queries (issue 17: SELECT resize(image, 16, 16) AS thumb FROM ...).
// A result column that is a call to a function computed ahead (an image function, which creates
// a file, or document_text) is evaluated by pxt after the statement, not by the database inside
// it: the query is rewritten to select the call's arguments instead, and each row's call is made
// once the rows are read. So a backend needs no such function, and no read transaction stays
// open while images are made (an open reader keeps SQLite's WAL from restarting:
// store/sqlite/checkpoint.cpp). A file-creating call anywhere else in a query (nested, in WHERE)
// is refused, as before: nothing could own its file.
//
// The files such calls create go to the caller's CreatedFiles (current_created_files(); without
// one the function refuses, as in any query): the serving layer moves the answered ones to
// media/transient/ (serve/media/janitor.hpp) and the rest are removed.
// Pure functions besides the calls themselves; thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/functions/registry.hpp"
#include "store/model/schema.hpp"

namespace pxt {

struct QueryCallPlan {
  std::string sql;  // the query with each call's arguments selected in its place
  struct Item {
    std::string name;                       // the result column's name
    std::shared_ptr<const SqlFunction> fn;  // null: a plain column, taken as it is
    int first = 0;                          // its first column in the rewritten query's result
    int count = 1;                          // how many (the call's arguments)
  };
  std::vector<Item> items;
};

// The plan for sql, or nullopt when no result column calls a function computed ahead (the query
// runs as written). Error: invalid_argument when a file-creating function is called anywhere else
// ("resize() creates a media file: in a query it can only be a whole result column, as in
// SELECT resize(image, 16, 16) AS thumb FROM ...").
// every_function: plan every pxt function called as a whole result column, not only those
// computed ahead (PostgreSQL has none of pxt's functions: SELECT width(image) AS w is made by pxt).
Result<std::optional<QueryCallPlan>> plan_query_calls(const std::string& sql, bool every_function = false);

// plan_query_calls(sql), remembered per thread: a named query's SQL is fixed, and planning it
// tokenizes it and looks up every word among the functions.
const Result<std::optional<QueryCallPlan>>& cached_query_plan(const std::string& sql,
                                                              bool every_function = false);

// The result columns of the original query from those of the rewritten one: a call's column has
// the function's result type (nullable).
std::vector<ResultColumn> planned_columns(const QueryCallPlan& plan, const std::vector<ResultColumn>& raw);

// The original query's row from a row of the rewritten one: each call made with its arguments.
// Returns the first call's error, prefixed "name(): ".
Result<Row> apply_query_calls(const QueryCallPlan& plan, const Row& raw, const FunctionContext& ctx);

}  // namespace pxt
