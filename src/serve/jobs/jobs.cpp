#include "serve/jobs/jobs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "serve/http/access_log.hpp"
#include "serve/http/metrics.hpp"
#include "util/json.hpp"
#include "util/process.hpp"
#include "util/random.hpp"

namespace pxt {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Cleanup runs often enough that a job outlives its TTL by at most about a quarter of it.
std::chrono::milliseconds cleanup_period(int64_t ttl_s) {
  int64_t ms = std::clamp<int64_t>(ttl_s * 250, 250, 60000);
  return std::chrono::milliseconds(ms);
}

JobRecord finished(std::string id, const std::string& status) {
  JobRecord r;
  r.id = std::move(id);
  r.status = status;
  r.finished_ms = now_ms();
  return r;
}

// /metrics: the collector is registered once per process and reads the live Jobs, if any.
std::mutex g_metrics_mu;
const Jobs* g_metrics_jobs = nullptr;

void append_job_metrics(std::string& out) {
  std::lock_guard lock(g_metrics_mu);
  if (g_metrics_jobs == nullptr) return;
  JobCounts c = g_metrics_jobs->counts();
  auto line = [&](const char* sample, int64_t v) {
    out += std::string(sample) + " " + std::to_string(v) + "\n";
  };
  metrics::append_header(out, "pxt_jobs_queued", "Background jobs waiting for a worker", "gauge");
  line("pxt_jobs_queued", c.queued);
  metrics::append_header(out, "pxt_jobs_running", "Background jobs being run", "gauge");
  line("pxt_jobs_running", c.running);
  metrics::append_header(out, "pxt_jobs_finished_total",
                         "Background jobs finished by this process, by status", "counter");
  line("pxt_jobs_finished_total{status=\"done\"}", c.done);
  line("pxt_jobs_finished_total{status=\"error\"}", c.error);
  metrics::append_header(out, "pxt_jobs_rejected_total",
                         "Background jobs refused with 503 (queue full or stopping)", "counter");
  line("pxt_jobs_rejected_total", c.rejected);
}

void publish_metrics(const Jobs* jobs) {
  static std::once_flag once;
  std::call_once(once, [] { metrics::add_collector(append_job_metrics); });
  std::lock_guard lock(g_metrics_mu);
  g_metrics_jobs = jobs;
}

void unpublish_metrics(const Jobs* jobs) {
  std::lock_guard lock(g_metrics_mu);
  if (g_metrics_jobs == jobs) g_metrics_jobs = nullptr;
}

}  // namespace

const std::string& job_owner_self() { return process_tag(); }

bool job_owner_alive(std::string_view owner) { return process_alive(owner); }

std::string job_error_text(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::string(body);
  if (!doc.HasMember("detail")) return std::string(body);
  const auto& detail = doc["detail"];
  if (detail.IsString()) return std::string(detail.GetString(), detail.GetStringLength());
  JsonBuffer buf;
  JsonWriter w(buf);
  detail.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

Result<std::unique_ptr<Jobs>> Jobs::start(Store& store, JobOptions options) {
  if (options.workers <= 0)
    options.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::unique_ptr<Jobs> jobs(new Jobs(store, std::move(options)));
  jobs->shared_ = store.shared();
  // On a shared store, the store holds this process's lease (registered when it opened, renewed
  // while it is open): a survivor never takes this process for dead while it runs jobs.
  if (jobs->shared_) {
    if (jobs->claims()) {
      store.on_job_announced([p = jobs.get()] {
        std::lock_guard lock(p->mu_);
        p->announced_ = std::min(p->announced_ + 1, p->options_.workers);
        p->work_cv_.notify_one();
      });
    }
  }
  PXT_CHECK(jobs->recover_orphans());
  PXT_CHECK(store.jobs_expire(now_ms() - jobs->options_.ttl_s * 1000));
  // Pending jobs left by processes that stopped are claimed as soon as the workers start.
  if (jobs->claims()) jobs->announced_ = 1;
  for (int i = 0; i < jobs->options_.workers; ++i)
    jobs->workers_.emplace_back([p = jobs.get(), i] { p->worker_loop(i); });
  jobs->cleaner_ = std::thread([p = jobs.get()] { p->cleanup_loop(); });
  publish_metrics(jobs.get());
  return jobs;
}

Jobs::~Jobs() {
  unpublish_metrics(this);
  bool clean = shutdown();
  for (auto& t : workers_) {
    // A worker still inside a job after the wait cannot be stopped; the caller was told to exit.
    if (clean) {
      t.join();
    } else {
      t.detach();
    }
  }
  if (cleaner_.joinable()) cleaner_.join();
}

Result<std::string> Jobs::submit(std::string route, JobWork work) {
  JobRequest r;
  r.route = std::move(route);
  r.work = std::move(work);
  return submit(std::move(r));
}

Result<std::string> Jobs::submit(JobRequest request) {
  bool announce = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      rejected_.fetch_add(1);
      return make_error(Errc::busy, "the service is shutting down and takes no new jobs");
    }
    if (static_cast<int64_t>(queue_.size()) + reserved_ >= options_.queue_max) {
      rejected_.fetch_add(1);
      return make_error(Errc::busy, "the job queue is full (" + std::to_string(options_.queue_max) +
                                        " jobs waiting); retry later");
    }
    ++reserved_;
    // No worker here is free: let idle workers elsewhere take it.
    announce = idle_ <= static_cast<int>(queue_.size() + static_cast<size_t>(reserved_) - 1);
  }
  JobRecord rec;
  rec.id = random_urlsafe(16);
  rec.route = std::move(request.route);
  rec.status = "pending";
  rec.owner = job_owner_self();
  rec.created_ms = now_ms();
  if (shared_) {
    rec.payload = std::move(request.payload);
    rec.media = std::move(request.media);
    rec.announce = announce;
  }
  auto stored = store_.job_create(rec);
  std::lock_guard lock(mu_);
  --reserved_;
  if (!stored) return stored.error();
  queue_.push_back(Item{rec.id, std::move(request.work), std::move(request.disown)});
  work_cv_.notify_one();
  return rec.id;
}

Result<std::optional<JobRecord>> Jobs::get(std::string_view id) const {
  PXT_TRY(std::optional<JobRecord> job, store_.job_get(id));
  if (job && job->finished_ms != 0 && job->finished_ms < now_ms() - options_.ttl_s * 1000) {
    return std::optional<JobRecord>();  // expired; the cleanup thread removes it soon
  }
  return job;
}

void Jobs::worker_loop(int index) {
  // Worker 0 of a claiming process also polls, so a job whose announcement was lost (a listener
  // reconnecting) still runs.
  const bool poller = index == 0 && claims();
  while (true) {
    Item item;
    bool claim = false;
    {
      std::unique_lock lock(mu_);
      ++idle_;
      auto ready = [&] { return stopping_ || !queue_.empty() || (claims() && announced_ > 0); };
      if (poller) {
        claim = !work_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), ready);
      } else {
        work_cv_.wait(lock, ready);
      }
      --idle_;
      if (stopping_ && queue_.empty()) return;  // shutdown() took what was left
      if (!queue_.empty()) {
        claim = false;
        item = std::move(queue_.front());
        queue_.pop_front();
        running_ids_.push_back(item.id);
      } else if (announced_ > 0) {
        --announced_;
        claim = true;
      }
      if (!claim && item.id.empty()) continue;
      ++running_;
    }
    if (claim) {
      bool found = run_claimed();
      std::lock_guard lock(mu_);
      --running_;
      // More may be waiting: let another idle worker look too.
      if (found) {
        announced_ = std::min(announced_ + 1, options_.workers);
        work_cv_.notify_one();
      }
    } else {
      run_one(item);
      std::lock_guard lock(mu_);
      --running_;
      running_ids_.erase(std::find(running_ids_.begin(), running_ids_.end(), item.id));
    }
    idle_cv_.notify_all();
  }
}

void Jobs::run_one(Item& item) {
  auto started = store_.job_start(item.id, job_owner_self());
  if (!started) {
    std::fprintf(stderr, "pxt: job %s not started: %s\n", item.id.c_str(),
                 redact_secrets(started.error().message).c_str());
    finish(finished(item.id, "error"));
    return;
  }
  if (!*started) {
    // Interrupted meanwhile, or (shared store) claimed by another process, which owns its files now.
    if (shared_ && item.disown) item.disown();
    return;
  }
  execute(item.id, item.work);
}

bool Jobs::run_claimed() {
  auto got = store_.job_claim(options_.routes, job_owner_self());
  if (!got) {
    std::fprintf(stderr, "pxt: cannot claim a job: %s\n", redact_secrets(got.error().message).c_str());
    return false;
  }
  if (!*got) return false;
  JobRecord& rec = **got;
  {
    std::lock_guard lock(mu_);
    running_ids_.push_back(rec.id);
  }
  std::optional<JobWork> work = options_.revive(rec);
  if (!work) {
    JobRecord out = finished(rec.id, "error");
    out.error = "this process cannot run a job of route '" + rec.route + "'";
    finish(std::move(out));
  } else {
    execute(rec.id, *work);
  }
  std::lock_guard lock(mu_);
  running_ids_.erase(std::find(running_ids_.begin(), running_ids_.end(), rec.id));
  return true;
}

void Jobs::execute(const std::string& id, JobWork& work) {
  log_request_start();  // the handler's internal-error note, if any, is for this job
  httplib::Response res;
  try {
    work(res);
  } catch (const std::exception& e) {
    res.status = 500;
    res.body = R"({"detail":"internal server error"})";
    log_note_error(std::string("unhandled exception: ") + e.what());
  } catch (...) {
    res.status = 500;
    res.body = R"({"detail":"internal server error"})";
    log_note_error("unhandled exception of unknown type");
  }
  // Drop what the work held (e.g. uploaded files it did not store) before the outcome is visible.
  work = nullptr;
  bool ok = res.status >= 200 && res.status < 300;
  JobRecord rec = finished(id, ok ? "done" : "error");
  if (ok) {
    rec.result = std::move(res.body);
  } else {
    rec.error = job_error_text(res.body);
    if (!current_error_note().empty()) {
      std::fprintf(stderr, "pxt: job %s failed: %s\n", id.c_str(),
                   redact_secrets(current_error_note()).c_str());
    }
  }
  finish(std::move(rec));
}

void Jobs::finish(JobRecord rec) {
  if (rec.status == "error" && rec.error.empty()) rec.error = "internal server error";
  // A busy store (another process holding the lock) is worth a few retries: the outcome is
  // what the client is waiting for.
  for (int attempt = 0;; ++attempt) {
    auto r = store_.job_finish(rec);
    if (r) break;
    if (r.error().code != Errc::busy || attempt == 4) {
      std::fprintf(stderr, "pxt: cannot store the outcome of job %s: %s\n", rec.id.c_str(),
                   redact_secrets(r.error().message).c_str());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
  }
  (rec.status == "done" ? done_ : error_).fetch_add(1);
}

Result<int64_t> Jobs::recover_orphans() {
  if (shared_) {
    // A process of this machine that no longer exists is known dead without waiting for its
    // lease to expire (a restart after kill -9 answers its jobs at once, as on SQLite).
    std::vector<std::string> dead;
    if (auto live = store_.live_processes(); live.ok()) {
      for (const auto& owner : *live)
        if (tag_host(owner) == process_host() && !process_alive(owner)) dead.push_back(owner);
    }
    return store_.jobs_interrupt_expired(kJobInterrupted, now_ms(), dead);
  }
  PXT_TRY(std::vector<JobRecord> open, store_.jobs_unfinished());
  int64_t n = 0;
  // A backlog holds many jobs of few owners: look each owner up in /proc once.
  std::map<std::string, bool, std::less<>> alive{{job_owner_self(), true}};
  for (const auto& j : open) {
    auto it = alive.find(j.owner);
    if (it == alive.end()) it = alive.emplace(j.owner, job_owner_alive(j.owner)).first;
    if (it->second) continue;
    JobRecord rec = finished(j.id, "error");
    rec.error = kJobInterrupted;
    PXT_TRY(bool changed, store_.job_finish(rec));
    if (changed) ++n;
  }
  return n;
}

void Jobs::cleanup_loop() {
  auto period = cleanup_period(options_.ttl_s);
  // On a shared store a dead process's running jobs are interrupted within a second of its lease
  // expiring.
  if (shared_) period = std::min(period, std::chrono::milliseconds(1000));
  std::unique_lock lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, period, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    auto expired = store_.jobs_expire(now_ms() - options_.ttl_s * 1000);
    auto recovered = recover_orphans();
    for (const Error* e : {expired ? nullptr : &expired.error(), recovered ? nullptr : &recovered.error()}) {
      if (e) std::fprintf(stderr, "pxt: job cleanup failed: %s\n", redact_secrets(e->message).c_str());
    }
    lock.lock();
  }
}

bool Jobs::shutdown() {
  std::deque<Item> never_started;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return clean_;
    shut_down_ = true;
    stopping_ = true;
    never_started.swap(queue_);
  }
  if (claims()) store_.on_job_announced(nullptr);
  work_cv_.notify_all();
  stop_cv_.notify_all();
  for (auto& item : never_started) {
    if (shared_) {
      // Still pending in the store, with its request: another process (or this service after
      // a restart) claims it. Its files are kept for that run.
      if (item.disown) item.disown();
      continue;
    }
    JobRecord rec = finished(item.id, "error");
    rec.error = kJobInterrupted;
    finish(std::move(rec));
  }
  std::vector<std::string> still_running;
  {
    std::unique_lock lock(mu_);
    if (running_ > 0) {
      std::fprintf(stderr, "pxt: waiting up to %llds for %lld running job(s)\n",
                   static_cast<long long>(options_.shutdown_wait_s), static_cast<long long>(running_));
    }
    clean_ = idle_cv_.wait_for(lock, std::chrono::seconds(options_.shutdown_wait_s),
                               [&] { return running_ == 0; });
    if (!clean_) still_running = running_ids_;
  }
  for (auto& id : still_running) {
    JobRecord rec = finished(id, "error");
    rec.error = kJobInterrupted;
    finish(std::move(rec));
  }
  return clean_;
}

JobCounts Jobs::counts() const {
  JobCounts c;
  {
    std::lock_guard lock(mu_);
    c.queued = static_cast<int64_t>(queue_.size());
    c.running = running_;
  }
  c.done = done_.load();
  c.error = error_.load();
  c.rejected = rejected_.load();
  return c;
}

}  // namespace pxt
