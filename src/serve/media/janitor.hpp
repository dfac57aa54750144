#pragma once
// The media housekeeping of `pxt serve` (store/media/sweep.hpp explains the rules): the orphan
// sweep, once, and the transient compute results removed past their TTL, periodically. Both run
// on the janitor's thread (at nice 10: requests come first) once the server listens, so the
// start-to-first-answer time does not grow with the media folder. Both log one line to stderr
// when they remove files, and /metrics shows their progress (pxt_media_sweep_done,
// pxt_media_orphans_removed_total{kind}, pxt_media_sweep_seconds,
// pxt_media_transient_removed_total).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "store/media/sweep.hpp"
#include "store/store.hpp"

namespace pxt {

class MediaJanitor {
 public:
  // Fixes the orphan sweep's basis now (media::prepare_sweep: microseconds, and it must come
  // before this process writes any media file), and starts the thread, which waits for
  // server_listening(). Registers the /metrics collector (once per process).
  explicit MediaJanitor(Store& store);
  // Stops the thread: an orphan sweep in progress stops within a folder, a transient sweep finishes.
  ~MediaJanitor();
  MediaJanitor(const MediaJanitor&) = delete;
  MediaJanitor& operator=(const MediaJanitor&) = delete;

  // Lets the thread run the orphan sweep (a failure is logged, not fatal: serving matters more
  // than cleaning) and a first transient sweep, then the periodic transient sweep. Thread-safe;
  // later calls do nothing.
  void server_listening();

 private:
  void loop();

  Store& store_;
  media::SweepBasis basis_;
  std::filesystem::path media_dir_;
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool listening_ = false;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};  // stop_ for the orphan sweep, read without mu_
  std::thread thread_;
};

// The compute route's answer row, made to outlive the request as the route promises no more:
// media values in output columns move to media/transient/ (row updated), other media values of
// the row (files made for columns the route does not return) are removed. Every media value of
// a compute row was made or uploaded for this request alone. Values not in pxt's naming scheme
// are left alone. Returns the error of a failed move.
// Thread-safe.
Result<void> keep_compute_outputs(const std::filesystem::path& media_dir, const TableDef& table,
                                  const std::vector<int>& output_index, Row& row);

}  // namespace pxt
