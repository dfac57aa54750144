#include "store/functions/registry.hpp"

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "store/functions/builtins.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

Result<Value> sleep_ms(const std::vector<Value>& args) {
  if (args.size() != 1 || !std::holds_alternative<int64_t>(args[0])) {
    return make_error(Errc::invalid_argument, "pxt_sleep_ms(ms) expects an integer");
  }
  int64_t ms = std::get<int64_t>(args[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return Value(ms);
}

// pxt_sleep_ahead_ms(ms): the same, computed ahead of the write's transaction like document_text
// (tests/cli/test_serve_slow_functions.sh shows it no longer holds up other writers).
SqlFunction sleep_ahead_fn() {
  SqlFunction f{"pxt_sleep_ahead_ms", 1, ColumnType::Int, true, sleep_ms};
  f.compute_ahead = true;
  return f;
}

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<const SqlFunction>> fns;

  Registry() {
    const char* test = std::getenv("PXT_TEST_FUNCTIONS");
    if (test && std::string(test) == "1") {
      fns.push_back(
          std::make_shared<SqlFunction>(SqlFunction{"pxt_sleep_ms", 1, ColumnType::Int, false, sleep_ms}));
      fns.push_back(std::make_shared<SqlFunction>(sleep_ahead_fn()));
    }
    for (auto& f : text_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : image_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : document_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_sql_function(SqlFunction f) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (auto& existing : r.fns) {
    if (iequals(existing->name, f.name) && existing->arity == f.arity) {
      existing = std::make_shared<SqlFunction>(std::move(f));
      return;
    }
  }
  r.fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
}

std::vector<std::shared_ptr<const SqlFunction>> sql_functions() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return r.fns;
}

std::shared_ptr<const SqlFunction> find_sql_function(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (const auto& f : r.fns) {
    if (iequals(f->name, name)) return f;
  }
  return nullptr;
}

std::shared_ptr<const SqlFunction> find_sql_function(const std::string& name, int arity) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (const auto& f : r.fns) {
    if (iequals(f->name, name) && (f->arity == arity || f->arity < 0)) return f;
  }
  return nullptr;
}

Result<Value> call_sql_function(const SqlFunction& f, const FunctionContext& ctx,
                                const std::vector<Value>& args) {
  auto call = [&] { return f.with_context ? f.with_context(ctx, args) : f.impl(args); };
  if (!f.computed_ahead() || ctx.created == nullptr) return call();
  std::string key = call_key(f.name, args);
  if (auto done = ctx.created->take(key)) return std::move(*done);
  Result<Value> r = call();
  if (ctx.created->ahead()) ctx.created->remember(std::move(key), r);
  return r;
}

}  // namespace pxt
