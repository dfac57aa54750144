#include "serve/media/janitor.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>

#include "serve/http/metrics.hpp"
#include "store/media/media.hpp"
#include "store/media/sweep.hpp"

namespace pxt {

namespace {

// Process-wide: /metrics collectors live as long as the process.
std::atomic<int> g_sweep_done{0};
std::atomic<int64_t> g_orphans_removed{0}, g_temp_removed{0}, g_transient_removed{0};
std::atomic<double> g_sweep_seconds{0};

void collect_media_metrics(std::string& out) {
  metrics::append_header(
      out, "pxt_media_sweep_done",
      "1 once the media sweeps that follow the start (orphans, expired compute results) have finished",
      "gauge");
  out += "pxt_media_sweep_done " + std::to_string(g_sweep_done.load()) + "\n";
  metrics::append_header(out, "pxt_media_sweep_seconds", "How long that sweep took", "gauge");
  char buf[64];
  std::snprintf(buf, sizeof buf, "pxt_media_sweep_seconds %.6f\n", g_sweep_seconds.load());
  out += buf;
  metrics::append_header(out, "pxt_media_orphans_removed_total",
                         "Files no row names removed by the orphan sweep (kind: media or upload temp file)",
                         "counter");
  out += "pxt_media_orphans_removed_total{kind=\"file\"} " + std::to_string(g_orphans_removed.load()) + "\n";
  out +=
      "pxt_media_orphans_removed_total{kind=\"upload_temp\"} " + std::to_string(g_temp_removed.load()) + "\n";
  metrics::append_header(out, "pxt_media_transient_removed_total",
                         "Compute route result files removed past their TTL", "counter");
  out += "pxt_media_transient_removed_total " + std::to_string(g_transient_removed.load()) + "\n";
}

// The periodic transient sweep runs every TTL/4, between 1 s and a minute: a file outlives its
// TTL by at most that much.
std::chrono::seconds sweep_interval(std::chrono::seconds ttl) {
  return std::clamp(ttl / 4, std::chrono::seconds(1), std::chrono::seconds(60));
}

void sweep_transient_logged(const std::filesystem::path& dir, std::chrono::seconds ttl) {
  int64_t n = media::sweep_transient(dir, ttl);
  g_transient_removed.fetch_add(n);
  if (n > 0) {
    std::fprintf(stderr, "pxt: media: removed %lld compute result file(s) older than %llds\n",
                 static_cast<long long>(n), static_cast<long long>(ttl.count()));
  }
}

void sweep_orphans_logged(Store& store, const media::SweepBasis& basis, const std::atomic<bool>& cancel) {
  auto r = media::sweep_orphans(store, basis, &cancel);
  if (!r) {
    std::fprintf(stderr, "pxt: warning: media sweep skipped: %s\n", r.error().message.c_str());
  } else {
    g_orphans_removed.fetch_add(r->orphans_removed);
    g_temp_removed.fetch_add(r->temp_removed);
    g_sweep_seconds.store(r->seconds);
    if (r->orphans_removed + r->temp_removed > 0) {
      std::fprintf(stderr,
                   "pxt: media sweep: removed %lld orphan file(s) and %lld upload temp file(s) "
                   "(%lld files checked, %lld referenced, read in %.0f ms; %.0f ms in all%s)\n",
                   static_cast<long long>(r->orphans_removed), static_cast<long long>(r->temp_removed),
                   static_cast<long long>(r->files), static_cast<long long>(r->referenced),
                   r->scan_seconds * 1000, r->seconds * 1000,
                   r->sole_user ? "" : "; another pxt uses this home: only files older than an hour");
    }
  }
}

}  // namespace

MediaJanitor::MediaJanitor(Store& store)
    : store_(store),
      basis_(media::prepare_sweep(store.media_dir())),
      media_dir_(store.media_dir()),
      ttl_(media::transient_ttl()) {
  static std::once_flag collector;
  std::call_once(collector, [] { metrics::add_collector(collect_media_metrics); });
  thread_ = std::thread([this] { loop(); });
}

MediaJanitor::~MediaJanitor() {
  cancel_.store(true);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MediaJanitor::server_listening() {
  {
    std::lock_guard lock(mu_);
    listening_ = true;
  }
  cv_.notify_all();
}

void MediaJanitor::loop() {
  // Housekeeping yields to requests on a busy machine (a thread's own nice value on Linux); a
  // refusal only means it competes at normal priority.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return listening_ || stop_; });
  if (stop_) return;
  lock.unlock();
  sweep_orphans_logged(store_, basis_, cancel_);
  if (cancel_.load()) return;  // shutting down
  sweep_transient_logged(media_dir_, ttl_);
  // What the sweep allocated (SQLite's reads, the walk) goes back to the system: the idle server's
  // RSS should not depend on the size of the media folder.
  ::malloc_trim(0);
  g_sweep_done.store(1);  // both start-up sweeps: tests and operators wait for this
  lock.lock();
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
