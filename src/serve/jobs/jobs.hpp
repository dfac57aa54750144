#pragma once
// Background jobs: a bounded queue and worker pool in front of the store's jobs table. A job is
// stored (pending) before its id is handed out, so its status survives a restart and any process
// sharing the store can answer /jobs/{id}. A job is started only if it is still pending, so it
// never runs twice.
//
// On a store of one machine (SQLite), a process runs the jobs it queued; a job left unfinished by
// a process that is gone (pid absent or reused, /proc) is marked error "interrupted by shutdown"
// at start and periodically.
//
// On a shared store (Store::shared(): PostgreSQL, processes on many machines), a job also carries
// its request (payload) and adopted media, so any process serving its route can run it:
//   - the process that queued it runs it from its own queue if one of its workers is free, else
//     announces it (LISTEN/NOTIFY) and idle workers of any process claim it (FOR UPDATE SKIP
//     LOCKED); one worker per process also polls for pending jobs every poll_ms, in case an
//     announcement was missed;
//   - each process holds a lease in the store (Store::live_processes, renewed while the store is
//     open; its length is the service's job_lease_s); a running job whose runner's lease expired
//     (it died, or froze past its lease) is marked interrupted by any survivor within a second,
//     never run again (it may have written already);
//   - pending jobs of a process that stopped, cleanly or not, stay pending and are claimed by
//     the others (or by the same service after a restart).
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

// The work of a job: exactly what the synchronous route does after validating the request,
// writing its answer into the response (status and body).
using JobWork = std::function<void(httplib::Response&)>;

// Rebuilds the work of a job another process queued (shared stores), from its route, payload and
// media; nullopt when this process cannot run it (the job is then finished with an error).
using JobReviver = std::function<std::optional<JobWork>(const JobRecord& job)>;

struct JobOptions {
  int workers = 0;               // threads running jobs; 0: the number of cores
  int64_t queue_max = 10000;     // jobs waiting to start beyond which submit() refuses
  int64_t ttl_s = 86400;         // finished jobs are removed this long after finishing
  int64_t shutdown_wait_s = 10;  // how long shutdown waits for running jobs
  // Shared stores only:
  int64_t poll_ms = 1000;           // how often one idle worker looks for unclaimed jobs
  std::vector<std::string> routes;  // the routes ("POST /x") whose jobs this process may claim
  JobReviver revive;                // null: claim nothing
};

// What a background route hands to submit().
struct JobRequest {
  std::string route;               // "POST /v1/x"
  JobWork work;                    // runs it in this process
  std::string payload;             // shared stores: the request, for any process (JobReviver)
  std::vector<std::string> media;  // the media files adopted for it
  std::function<void()> disown;    // another process runs it: its files are that process's now
};

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
  Result<std::string> submit(JobRequest request);

  // The stored job; nullopt for an unknown id or a finished job past its TTL. Thread-safe.
  Result<std::optional<JobRecord>> get(std::string_view id) const;

  // Stops taking jobs, marks queued jobs that never started interrupted (on a shared store they
  // stay pending for other processes) and waits up to options.shutdown_wait_s for running ones. Returns true
  // when no job is running any more (the store may be closed); false when some still run after the wait:
  // their rows are marked interrupted and the caller must exit without closing the store. Idempotent;
  // thread-safe.
  bool shutdown();

  JobCounts counts() const;
  const JobOptions& options() const { return options_; }

 private:
  struct Item {
    std::string id;
    JobWork work;
    std::function<void()> disown;
  };
  Jobs(Store& store, JobOptions options) : store_(store), options_(std::move(options)) {}
  void worker_loop(int index);
  void run_one(Item& item);
  // Claims a pending job from the store and runs it; false when there was none.
  bool run_claimed();
  void execute(const std::string& id, JobWork& work);
  void cleanup_loop();
  // Marks the unfinished jobs of dead owners interrupted; returns how many.
  Result<int64_t> recover_orphans();
  void finish(JobRecord rec);
  bool claims() const { return shared_ && options_.revive && !options_.routes.empty(); }

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
  bool shared_ = false;  // the store is shared by processes on other machines
  int idle_ = 0;         // workers waiting for work
  int announced_ = 0;    // announcements (or a successful claim) not yet acted on
  bool stopping_ = false;
  bool shut_down_ = false;
  bool clean_ = true;  // result of the first shutdown()
  std::atomic<int64_t> done_{0}, error_{0}, rejected_{0};
  std::vector<std::thread> workers_;
  std::thread cleaner_;
};

}  // namespace pxt
