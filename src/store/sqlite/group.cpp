// Group commit for the SQLite store's small writes (insert, update, remove). Threads that write at
// the same time queue their work; one of them (the leader) runs the whole queue in one
// transaction, each piece inside its own SAVEPOINT so a failure undoes only that piece, and commits
// once for all. Under concurrency this replaces many commits (each a WAL write plus lock system
// calls) with one, and a writer that gets CPU time commits everyone's pending work.
#include <algorithm>
#include <chrono>

#include "store/sqlite/sqlite_store.hpp"

namespace pxt::sqlite {

// Each waiting writer sleeps on its own condition variable and is woken exactly once: when its
// work is done, or when it is handed the leadership. One shared condition variable woke every
// waiter at the end of every batch, and most went back to sleep: at 64 connections that was most
// of the store's context switches.
struct SqliteStore::WriteJob {
  const std::function<Result<void>(Conn&)>* work;
  Result<void> result;
  bool done = false;
  bool lead = false;
  std::condition_variable cv;
};

namespace {

Result<void> run_sql(Conn& c, const char* sql) {
  PXT_TRY(sqlite3_stmt * s, c.cached(sql));
  StmtUse use(s);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return map_error(c.db(), rc);
  return {};
}

}  // namespace

void SqliteStore::run_batch(const std::vector<WriteJob*>& batch) {
  auto fail_all = [&](const Error& e) {
    for (WriteJob* j : batch) j->result = e;
  };
  auto lease = conn();
  if (!lease.ok()) return fail_all(lease.error());
  Conn& c = **lease;
  WriteTxn txn(writer_mu_, c);
  if (auto b = txn.begin(); !b.ok()) return fail_all(b.error());
  if (batch.size() == 1) {
    // Alone: no savepoint needed; a failure rolls the transaction back.
    batch[0]->result = (*batch[0]->work)(c);
    if (batch[0]->result.ok()) batch[0]->result = txn.commit();
    return;
  }
  bool any_ok = false;
  for (WriteJob* j : batch) {
    if (auto sp = run_sql(c, "SAVEPOINT pxt_job"); !sp.ok()) return fail_all(sp.error());
    j->result = (*j->work)(c);
    if (!c.in_transaction()) {
      // SQLite rolled the whole transaction back (e.g. disk full): earlier pieces are lost too.
      txn.abandon();
      Error e = j->result.ok() ? make_error(Errc::internal, "the write was rolled back") : j->result.error();
      return fail_all(e);
    }
    if (!j->result.ok()) {
      if (auto rb = run_sql(c, "ROLLBACK TO pxt_job"); !rb.ok()) return fail_all(rb.error());
    } else {
      any_ok = true;
    }
    if (auto rel = run_sql(c, "RELEASE pxt_job"); !rel.ok()) return fail_all(rel.error());
  }
  if (!any_ok) return;
  if (auto done = txn.commit(); !done.ok()) {
    for (WriteJob* j : batch) {
      if (j->result.ok()) j->result = done.error();
    }
    return;
  }
  grouped_ += std::count_if(batch.begin(), batch.end(), [](const WriteJob* j) { return j->result.ok(); });
}

int64_t SqliteStore::writes_queued() {
  std::lock_guard lock(group_mu_);
  return static_cast<int64_t>(group_queue_.size());
}

Result<void> SqliteStore::write_grouped(const std::function<Result<void>(Conn&)>& work) {
  // A write from inside insert_stream's RowSource would wait for a leader that waits for us.
  if (holds_writer_lock(writer_mu_)) return nested_write_error();
  WriteJob job{&work, {}};
  std::unique_lock lock(group_mu_);
  group_queue_.push_back(&job);
  if (group_leader_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(write_timeout_ms_);
    if (!job.cv.wait_until(lock, deadline, [&] { return job.done || job.lead; })) {
      // Still queued (no leader took it yet): withdraw it, so it never runs after we answered.
      // Once a leader has taken it, it is running and its outcome is what we must report.
      auto it = std::find(group_queue_.begin(), group_queue_.end(), &job);
      if (it != group_queue_.end()) {
        group_queue_.erase(it);
        return write_wait_error(write_timeout_ms_);
      }
      job.cv.wait(lock, [&] { return job.done || job.lead; });
    }
    if (job.done) return job.result;
  }
  // Leader: run everything queued so far (our own work included) in one transaction.
  group_leader_ = true;
  std::vector<WriteJob*> batch;
  batch.swap(group_queue_);
  lock.unlock();
  run_batch(batch);
  lock.lock();
  // Waiters cannot return (and destroy their job) before we release group_mu_.
  for (WriteJob* j : batch) {
    j->done = true;
    if (j != &job) j->cv.notify_one();
  }
  if (group_queue_.empty()) {
    group_leader_ = false;
  } else {
    // Hand over directly, so the queue never waits for a thread that has nothing to do.
    group_queue_.front()->lead = true;
    group_queue_.front()->cv.notify_one();
  }
  return job.result;
}

}  // namespace pxt::sqlite
