#include "store/function_context.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "store/media.hpp"

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
