#pragma once
// Background jobs: a bounded queue and worker pool in front of the store's pxt$jobs table. A job
// is stored (pending) before its id is handed out, so its status survives a restart and any
// process sharing the store can answer /jobs/{id}. A job left unfinished by a process that is
// gone is marked error "interrupted by shutdown" (at start and periodically), never run again.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace pxt {

inline constexpr const char* kJobInterrupted = "interrupted by shutdown";

struct JobOptions {
  int workers = 0;               // threads running jobs; 0: the number of cores
  int64_t queue_max = 10000;     // jobs waiting to start beyond which submit() refuses
  int64_t ttl_s = 86400;         // finished jobs are removed this long after finishing
  int64_t shutdown_wait_s = 10;  // how long shutdown waits for running jobs
};

// The work of a job: exactly what the synchronous route does after validating the request,
// writing its answer into the response (status and body).
using JobWork = std::function<void(httplib::Response&)>;

// This process's job activity: gauges (queued, running) and counters since start. /metrics shows
// them (pxt_jobs_queued, pxt_jobs_running, pxt_jobs_finished_total{status}, pxt_jobs_rejected_total)
// for the most recently started Jobs.
struct JobCounts {
  int64_t queued = 0;    // accepted, waiting for a worker
  int64_t running = 0;   // being run now
  int64_t done = 0;      // finished with the route's success answer
  int64_t error = 0;     // finished with an error (interrupted ones included)
  int64_t rejected = 0;  // refused with 503 (queue full or shutting down)
};

// This process's owner tag, "host:pid:start-ticks"; pure after the first call; thread-safe.
const std::string& job_owner_self();
// False when `owner` names a process on this host that no longer exists (pid gone or reused by a
// process that started at another time); true for live processes and for other hosts (unknown).
bool job_owner_alive(std::string_view owner);

// The detail message of an error answer: its {"detail": "..."} string, other detail JSON as
// text, or the whole body when it has no detail.
std::string job_error_text(std::string_view body);

class Jobs {
 public:
  // Marks jobs of dead owners interrupted, removes expired ones, starts the workers and the
  // cleanup thread. Errors: the store's (the service must not start without its jobs table).
  static Result<std::unique_ptr<Jobs>> start(Store& store, JobOptions options);
  // Calls shutdown(); blocks until the workers have returned.
  ~Jobs();
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Stores a pending job for `route` ("POST /v1/x"), queues `work` and returns the job's id.
  // Errors: busy when the queue is full or the service is shutting down (answer 503 with
  // Retry-After); the store's errors when the job cannot be stored (then nothing is queued).
  // Thread-safe.
  Result<std::string> submit(std::string route, JobWork work);

  // The stored job; nullopt for an unknown id or a finished job past its TTL. Thread-safe.
  Result<std::optional<JobRecord>> get(std::string_view id) const;

  // Stops taking jobs, marks queued jobs that never started interrupted and waits up to
  // options.shutdown_wait_s for running ones. Returns true when no job is running any more
  // (the store may be closed); false when some still run after the wait: their rows are marked
  // interrupted and the caller must exit without closing the store. Idempotent; thread-safe.
  bool shutdown();

  JobCounts counts() const;
  const JobOptions& options() const { return options_; }

 private:
  struct Item {
    std::string id;
    JobWork work;
  };
  Jobs(Store& store, JobOptions options) : store_(store), options_(options) {}
  void worker_loop();
  void run_one(Item& item);
  void cleanup_loop();
  // Marks the unfinished jobs of dead owners interrupted; returns how many.
  Result<int64_t> recover_orphans();
  void finish(JobRecord rec);

  Store& store_;
  JobOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // a job was queued, or stopping
  std::condition_variable idle_cv_;  // a worker finished a job
  std::condition_variable stop_cv_;  // wakes the cleanup thread
  std::deque<Item> queue_;
  int64_t reserved_ = 0;  // submit() calls between taking a slot and queueing
  int64_t running_ = 0;
  std::vector<std::string> running_ids_;
  bool stopping_ = false;
  bool shut_down_ = false;
  bool clean_ = true;  // result of the first shutdown()
  std::atomic<int64_t> done_{0}, error_{0}, rejected_{0};
  std::vector<std::thread> workers_;
  std::thread cleaner_;
};

}  // namespace pxt
