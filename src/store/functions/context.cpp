#include "store/functions/context.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_set>

#include "store/media/media.hpp"

namespace pxt {

namespace {
thread_local CreatedFiles* t_current = nullptr;
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

std::optional<Result<Value>> CreatedFiles::take(const std::string& call) {
  if (auto e = ahead_errors_.find(call); e != ahead_errors_.end()) return Result<Value>(e->second);
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
