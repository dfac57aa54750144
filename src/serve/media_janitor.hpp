#pragma once
// The media housekeeping of `pxt serve` (store/media_sweep.hpp explains the rules): the orphan
// sweep at start, and the transient compute results removed past their TTL, at start and then
// periodically from a background thread. Both log one line to stderr when they remove files.
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "store/store.hpp"

namespace pxt {

class MediaJanitor {
 public:
  // Runs the orphan sweep and a first transient sweep now (a failing orphan sweep is logged, not
  // fatal: serving matters more than cleaning), then starts the periodic transient sweep.
  explicit MediaJanitor(Store& store);
  // Stops the thread (waits for a sweep in progress).
  ~MediaJanitor();
  MediaJanitor(const MediaJanitor&) = delete;
  MediaJanitor& operator=(const MediaJanitor&) = delete;

 private:
  void loop();

  std::filesystem::path media_dir_;
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
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
