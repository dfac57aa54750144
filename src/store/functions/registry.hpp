#pragma once
// pxt's own SQL functions, usable in computed columns, where expressions and queries. Later
// issues add image and model functions here. Every store connection registers the functions known
// when it opens, so register yours before opening a store (e.g. at start-up).
// Thread-safety: all functions here are thread-safe; an impl may be called from many threads at once.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/functions/context.hpp"
#include "store/model/types.hpp"

namespace pxt {

struct SqlFunction {
  std::string name;
  int arity = -1;                         // number of arguments; -1: any
  std::optional<ColumnType> result_type;  // for computed-column type inference; nullopt: unknown
  bool deterministic = true;              // same arguments, same result (lets SQLite optimise)
  // Returns the result; an Error's message fails the statement (and so the write) that called it.
  std::function<Result<Value>(const std::vector<Value>& args)> impl;
  // Used instead of impl when set: for functions that read or write media files (image and
  // document functions). The context names the calling store's media folder and the sink for
  // files the call creates (store/functions/context.hpp).
  std::function<Result<Value>(const FunctionContext& ctx, const std::vector<Value>& args)> with_context;
  // The result is a media file the call created (resize, thumbnail, ...): such a call is never
  // copied into several places of a statement (each copy would create a file), and it refuses to
  // run where no write owns the file (store/functions/context.hpp).
  bool creates_file = false;
  // The call is slow (it reads a whole media file: document_text) and its result depends on its
  // arguments only: a write evaluates it before taking the store's writer lock and its own call
  // takes the remembered result (store/functions/context.hpp, "Computing ahead"), so a big document
  // does not hold up every other writer of the store. File-creating functions are computed
  // ahead without this flag.
  bool compute_ahead = false;
  // Optional, for computed-ahead functions that are cheaper many at a time (embed(): up to 32
  // inputs per request): computes many calls at once, one outcome per call, in order. A write of
  // many rows first runs a collecting pass in which such calls are only recorded (and give NULL),
  // then makes them all with `batch`, and its computing-ahead pass takes the outcomes
  // (store/functions/context.hpp, "Prefetching").
  std::function<std::vector<Result<Value>>(const FunctionContext& ctx,
                                           const std::vector<std::vector<Value>>& calls)>
      batch;

  // Whether writes evaluate this function ahead of their transaction.
  bool computed_ahead() const { return creates_file || compute_ahead; }
};

// Calls f as SQLite's function callback does: with_context (else impl), and, for a function
// computed ahead within a write (ctx.created set), through the write's memo: while computing ahead
// the outcome is remembered; afterwards a remembered outcome is used instead of calling f. During
// a collecting pass (a CallCollector in scope) a function with `batch` is recorded and gives NULL.
// Returns f's result or error.
Result<Value> call_sql_function(const SqlFunction& f, const FunctionContext& ctx,
                                const std::vector<Value>& args);

// Adds a function, replacing one with the same name and arity.
void register_sql_function(SqlFunction f);
// The registered functions: the built-ins (plus the test helpers of store/functions/builtins.hpp,
// pxt_sleep_ms(ms), pxt_gate(path, value), ..., when the environment has PXT_TEST_FUNCTIONS=1)
// and everything registered since.
std::vector<std::shared_ptr<const SqlFunction>> sql_functions();
// The registered function named `name` (case-insensitive) or nullptr.
std::shared_ptr<const SqlFunction> find_sql_function(const std::string& name);
// The one named `name` that takes `arity` arguments (or any number), or nullptr.
std::shared_ptr<const SqlFunction> find_sql_function(const std::string& name, int arity);
}  // namespace pxt
