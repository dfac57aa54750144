// copy_store (copy.hpp): reads the source through Store, links media files across, and hands
// the target one StoreCopy.
#include "store/copy.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include "store/media/media.hpp"
#include "store/write_check.hpp"

namespace pxt {

namespace fs = std::filesystem;

namespace {

// Files made in the target's media folder; removed unless the copy committed.
struct LinkedFiles {
  fs::path dir;
  std::vector<std::string> names;
  bool keep = false;
  ~LinkedFiles() {
    if (!keep) remove_media_files(dir.string(), names);
  }
};

// Puts the file `rel` of `from` into `to` (a hard link when both are on one file system, else a
// copy). Missing source files are counted, not errors: the row keeps its name either way.
Result<void> carry_file(const fs::path& from, const fs::path& to, const std::string& rel, LinkedFiles& made,
                        CopyReport& report) {
  auto src = media::resolve(from, rel, false);
  auto dst = media::resolve(to, rel, false);
  if (!src || !dst) return {};  // not a plain relative name: nothing to carry
  std::error_code ec;
  if (!fs::exists(*src, ec)) {
    ++report.media_missing;
    return {};
  }
  if (fs::exists(*dst, ec)) return {};
  fs::create_directories(dst->parent_path(), ec);
  fs::create_hard_link(*src, *dst, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(*src, *dst, ec);
  }
  if (ec)
    return make_error(media::io_errc(ec.value()),
                      "cannot copy media file '" + rel + "' into " + to.string() + ": " + ec.message());
  made.names.push_back(rel);
  ++report.media_files;
  return {};
}

}  // namespace

Result<CopyReport> copy_store(Store& from, Store& to, const CopyProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  CopyReport report;
  StoreCopy copy;
  PXT_TRY(std::vector<CatalogEntry> entries, from.list("", true));
  for (const auto& e : entries) {
    if (e.kind == CatalogEntry::Kind::Dir) {
      copy.dirs.push_back(e.path);  // list() sorts by path: a parent comes before its children
    } else {
      PXT_TRY(TableDef t, from.get_table(e.path));
      copy.tables.push_back(std::move(t));
    }
  }
  PXT_CHECK(from.jobs_scan([&](const JobRecord& j) {
    copy.jobs.push_back(j);
    return true;
  }));
  const fs::path from_media = from.media_dir(), to_media = to.media_dir();
  std::error_code ec;
  const bool same_media = fs::equivalent(from_media, to_media, ec);
  LinkedFiles made{to_media, {}, false};
  std::optional<Error> media_error;
  auto carry = [&](const std::string& rel) {
    if (same_media || media_error) return;
    if (auto r = carry_file(from_media, to_media, rel, made, report); !r) media_error = r.error();
  };
  for (const auto& j : copy.jobs)
    for (const auto& m : j.media) carry(m);
  int index = 0;
  std::map<std::string, int> position;
  for (const auto& t : copy.tables) position[t.path] = ++index;
  copy.rows = [&](const TableDef& t, const std::function<Result<void>(const Row&)>& cb) -> Result<void> {
    std::vector<int> media = media_columns(t);
    std::optional<Error> failed;
    PXT_CHECK(from.select(t, SelectSpec{}, [&](const Row& row) {
      for (int i : media)
        if (const auto* s = std::get_if<std::string>(&row[static_cast<size_t>(i)])) carry(*s);
      if (media_error) {
        failed = *media_error;
        return false;
      }
      if (auto r = cb(row); !r) {
        failed = r.error();
        return false;
      }
      ++report.rows;
      return true;
    }));
    if (failed) return *failed;
    return {};
  };
  copy.progress = [&](const std::string& table, int64_t rows, bool done) {
    if (progress) progress(table, position[table], static_cast<int>(copy.tables.size()), rows, done);
  };
  PXT_CHECK(to.import_copy(copy));
  made.keep = true;
  report.dirs = static_cast<int64_t>(copy.dirs.size());
  report.tables = static_cast<int64_t>(copy.tables.size());
  report.jobs = static_cast<int64_t>(copy.jobs.size());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace pxt
