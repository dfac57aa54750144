#include "serve/media_janitor.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "store/media.hpp"
#include "store/media_sweep.hpp"

namespace pxt {

namespace {

// The periodic transient sweep runs every TTL/4, between 1 s and a minute: a file outlives its
// TTL by at most that much.
std::chrono::seconds sweep_interval(std::chrono::seconds ttl) {
  return std::clamp(ttl / 4, std::chrono::seconds(1), std::chrono::seconds(60));
}

void sweep_transient_logged(const std::filesystem::path& dir, std::chrono::seconds ttl) {
  int64_t n = media::sweep_transient(dir, ttl);
  if (n > 0) {
    std::fprintf(stderr, "pxt: media: removed %lld compute result file(s) older than %llds\n",
                 static_cast<long long>(n), static_cast<long long>(ttl.count()));
  }
}

}  // namespace

MediaJanitor::MediaJanitor(Store& store) : media_dir_(store.media_dir()), ttl_(media::transient_ttl()) {
  auto r = media::sweep_orphans(store);
  if (!r) {
    std::fprintf(stderr, "pxt: warning: media sweep skipped: %s\n", r.error().message.c_str());
  } else if (r->orphans_removed + r->temp_removed > 0) {
    std::fprintf(stderr,
                 "pxt: media sweep: removed %lld orphan file(s) and %lld upload temp file(s) "
                 "(%lld files checked, %lld referenced, %.0f ms%s)\n",
                 static_cast<long long>(r->orphans_removed), static_cast<long long>(r->temp_removed),
                 static_cast<long long>(r->files), static_cast<long long>(r->referenced), r->seconds * 1000,
                 r->sole_user ? "" : "; another pxt uses this home: only files older than an hour");
  }
  sweep_transient_logged(media_dir_, ttl_);
  thread_ = std::thread([this] { loop(); });
}

MediaJanitor::~MediaJanitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MediaJanitor::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, sweep_interval(ttl_), [&] { return stop_; })) {
    lock.unlock();
    sweep_transient_logged(media_dir_, ttl_);
    lock.lock();
  }
}

Result<void> keep_compute_outputs(const std::filesystem::path& media_dir, const TableDef& table,
                                  const std::vector<int>& output_index, Row& row) {
  std::map<std::string, std::string> moved;  // old name -> transient name (a file output twice)
  for (int i : output_index) {
    if (i < 0 || static_cast<size_t>(i) >= row.size() ||
        !is_media(table.columns[static_cast<size_t>(i)].type))
      continue;
    auto* rel = std::get_if<std::string>(&row[static_cast<size_t>(i)]);
    // Only files pxt named itself are moved (a value in another shape is left as it is).
    if (rel == nullptr || !media::own_name(*rel)) continue;
    auto it = moved.find(*rel);
    if (it == moved.end()) {
      PXT_TRY(std::string to, media::make_transient(media_dir, *rel));
      it = moved.emplace(*rel, std::move(to)).first;
    }
    *rel = it->second;
  }
  for (size_t i = 0; i < row.size() && i < table.columns.size(); ++i) {
    if (std::find(output_index.begin(), output_index.end(), static_cast<int>(i)) != output_index.end())
      continue;
    const auto* rel = std::get_if<std::string>(&row[i]);
    if (rel != nullptr && is_media(table.columns[i].type) && media::own_name(*rel) && !moved.count(*rel))
      media::remove(media_dir, *rel);
  }
  return {};
}

}  // namespace pxt
