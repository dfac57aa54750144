#include "store/functions/context.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_set>

#include "store/functions/registry.hpp"
#include "store/media/media.hpp"

namespace pxt {

namespace {
thread_local CreatedFiles* t_current = nullptr;
thread_local CallCollector* t_collector = nullptr;
}  // namespace

void CreatedFiles::remove_all() {
  for (const auto& rel : files_) media::remove(media_dir_, rel);
  files_.clear();
}

void CreatedFiles::keep_referenced(const std::vector<Row>& rows) {
  if (files_.empty()) return;
  std::unordered_set<std::string_view> used;
  for (const Row& r : rows) {
    for (const Value& v : r) {
      if (const auto* s = std::get_if<std::string>(&v)) used.insert(*s);
    }
  }
  for (const auto& rel : files_) {
    if (!used.count(rel)) media::remove(media_dir_, rel);
  }
  files_.clear();
}

void CreatedFiles::remember(std::string call, Result<Value> outcome) {
  if (outcome.ok()) {
    ahead_values_.emplace(std::move(call), std::move(*outcome));
  } else {
    ahead_errors_.insert_or_assign(std::move(call), outcome.error());
  }
}

void CreatedFiles::prefetched(std::string call, Result<Value> outcome) {
  prefetched_.emplace(std::move(call), std::move(outcome));
}

std::optional<Result<Value>> CreatedFiles::take(const std::string& call) {
  if (auto e = ahead_errors_.find(call); e != ahead_errors_.end()) return Result<Value>(e->second);
  if (ahead_) {
    // A prefetched outcome stands for the call computing ahead would make: remember it for the
    // write's own call, as that call would have been.
    auto it = prefetched_.find(call);
    if (it == prefetched_.end()) return std::nullopt;
    Result<Value> r = std::move(it->second);
    prefetched_.erase(it);
    remember(call, r);
    return r;
  }
  if (ahead_) return std::nullopt;  // each call made ahead computes its own value
  auto it = ahead_values_.find(call);
  if (it == ahead_values_.end()) return std::nullopt;
  Value v = std::move(it->second);
  ahead_values_.erase(it);
  return Result<Value>(std::move(v));
}

std::string call_key(std::string_view fn, const std::vector<Value>& args) {
  std::string key(fn);
  for (const Value& v : args) {
    key += '\x1f';
    key += static_cast<char>('0' + v.index());
    if (const auto* i = std::get_if<int64_t>(&v)) key += std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      key += buf;
    }
    if (const auto* b = std::get_if<bool>(&v)) key += *b ? '1' : '0';
    if (const auto* s = std::get_if<std::string>(&v)) {
      // Length first: a text holding the separator cannot pass for several arguments.
      key += std::to_string(s->size());
      key += ':';
      key += *s;
    }
  }
  return key;
}

CallCollector::CallCollector() : previous_(t_collector) { t_collector = this; }
CallCollector::~CallCollector() { t_collector = previous_; }
CallCollector* current_collector() { return t_collector; }

void CallCollector::add(const SqlFunction* fn, const std::vector<Value>& args) {
  std::string key = call_key(fn->name, args);
  auto it = std::find_if(calls_.begin(), calls_.end(), [&](const Calls& c) { return c.fn == fn; });
  if (it == calls_.end()) {
    calls_.push_back(Calls{fn, {}, {}, {}});
    it = calls_.end() - 1;
  }
  if (it->count[key]++ == 0) {
    it->args.push_back(args);
    it->keys.push_back(std::move(key));
  }
}

size_t CallCollector::run(const FunctionContext& ctx, CreatedFiles& created) {
  size_t made = 0;
  for (auto& c : calls_) {
    std::vector<Result<Value>> out = c.fn->batch(ctx, c.args);
    for (size_t i = 0; i < c.keys.size(); ++i) {
      Result<Value> r =
          i < out.size() ? out[i] : Result<Value>(make_error(Errc::internal, "batch gave no outcome"));
      for (size_t n = c.count[c.keys[i]]; n > 0; --n) created.prefetched(c.keys[i], r);
    }
    made += c.keys.size();
  }
  calls_.clear();
  return made;
}

CreatedFilesScope::CreatedFilesScope(CreatedFiles& files) : previous_(t_current) { t_current = &files; }
CreatedFilesScope::~CreatedFilesScope() { t_current = previous_; }

CreatedFiles* current_created_files() { return t_current; }

void remove_replaced_files(const std::filesystem::path& media_dir, const std::vector<std::string>& old_files,
                           const std::vector<std::string>& new_files) {
  for (const auto& rel : old_files) {
    if (std::find(new_files.begin(), new_files.end(), rel) == new_files.end()) media::remove(media_dir, rel);
  }
}

}  // namespace pxt
