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
#include "util/random.hpp"

namespace pxt {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names one
// process even after the pid is reused. "" when the process does not exist.
std::string start_ticks(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');  // the command name may contain spaces and parentheses
  if (paren == std::string::npos) return {};
  std::istringstream rest(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
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

const std::string& job_owner_self() {
  static const std::string self = [] {
    long pid = static_cast<long>(::getpid());
    return host_name() + ":" + std::to_string(pid) + ":" + start_ticks(pid);
  }();
  return self;
}

bool job_owner_alive(std::string_view owner) {
  size_t last = owner.rfind(':');
  if (last == std::string_view::npos || last == 0) return false;
  size_t mid = owner.rfind(':', last - 1);
  if (mid == std::string_view::npos) return false;
  if (owner == job_owner_self()) return true;  // even where /proc cannot tell
  std::string_view host = owner.substr(0, mid);
  static const std::string self_host = host_name();
  if (host != self_host) return true;  // another machine: cannot tell, leave its jobs alone
  std::string pid_text(owner.substr(mid + 1, last - mid - 1));
  char* end = nullptr;
  long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || pid <= 0) return false;
  std::string ticks = start_ticks(pid);
  return !ticks.empty() && ticks == owner.substr(last + 1);
}

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
  std::unique_ptr<Jobs> jobs(new Jobs(store, options));
  PXT_CHECK(jobs->recover_orphans());
  PXT_CHECK(store.jobs_expire(now_ms() - options.ttl_s * 1000));
  for (int i = 0; i < options.workers; ++i)
    jobs->workers_.emplace_back([p = jobs.get()] { p->worker_loop(); });
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
  }
  JobRecord rec;
  rec.id = random_urlsafe(16);
  rec.route = std::move(route);
  rec.status = "pending";
  rec.owner = job_owner_self();
  rec.created_ms = now_ms();
  auto stored = store_.job_create(rec);
  std::lock_guard lock(mu_);
  --reserved_;
  if (!stored) return stored.error();
  queue_.push_back(Item{rec.id, std::move(work)});
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

void Jobs::worker_loop() {
  while (true) {
    Item item;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping: shutdown() took what was left
      item = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      running_ids_.push_back(item.id);
    }
    run_one(item);
    {
      std::lock_guard lock(mu_);
      --running_;
      running_ids_.erase(std::find(running_ids_.begin(), running_ids_.end(), item.id));
    }
    idle_cv_.notify_all();
  }
}

void Jobs::run_one(Item& item) {
  auto started = store_.job_start(item.id);
  if (!started) {
    std::fprintf(stderr, "pxt: job %s not started: %s\n", item.id.c_str(),
                 redact_secrets(started.error().message).c_str());
    finish(finished(item.id, "error"));
    return;
  }
  if (!*started) return;  // interrupted meanwhile: never run it
  log_request_start();    // the handler's internal-error note, if any, is for this job
  httplib::Response res;
  try {
    item.work(res);
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
  item.work = nullptr;
  bool ok = res.status >= 200 && res.status < 300;
  JobRecord rec = finished(item.id, ok ? "done" : "error");
  if (ok) {
    rec.result = std::move(res.body);
  } else {
    rec.error = job_error_text(res.body);
    if (!current_error_note().empty()) {
      std::fprintf(stderr, "pxt: job %s failed: %s\n", item.id.c_str(),
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
  const auto period = cleanup_period(options_.ttl_s);
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
  work_cv_.notify_all();
  stop_cv_.notify_all();
  for (auto& item : never_started) {
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
