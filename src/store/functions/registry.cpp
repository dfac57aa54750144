#include "store/functions/registry.hpp"

#include <cstdlib>
#include <mutex>

#include "store/functions/builtins.hpp"
#include "store/models/functions.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<const SqlFunction>> fns;

  Registry() {
    const char* test = std::getenv("PXT_TEST_FUNCTIONS");
    if (test && std::string(test) == "1") {
      for (auto& f : test_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    }
    for (auto& f : text_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : image_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : document_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : vector_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : models::model_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
    for (auto& f : models::ocr_functions()) fns.push_back(std::make_shared<SqlFunction>(std::move(f)));
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
  if (f.batch) {
    if (CallCollector* collector = current_collector()) {
      collector->add(&f, args);
      return Value();
    }
  } else if (f.computed_ahead() && current_collector() != nullptr) {
    return Value();  // a collecting pass makes no slow call: computing ahead will
  }
  if (!f.computed_ahead() || ctx.created == nullptr) return call();
  std::string key = call_key(f.name, args);
  if (auto done = ctx.created->take(key)) return std::move(*done);
  Result<Value> r = call();
  if (ctx.created->ahead()) ctx.created->remember(std::move(key), r);
  return r;
}

}  // namespace pxt
