// Group commit for the SQLite store's small writes (insert, update, remove). Threads that write at
// the same time queue their work; one of them (the leader) runs the whole queue in one
// transaction, each piece inside its own SAVEPOINT so a failure undoes only that piece, and commits
// once for all. Under concurrency this replaces many commits (each a WAL write plus lock system
// calls) with one, and a writer that gets CPU time commits everyone's pending work.
#include "store/sqlite_store.hpp"

namespace pxt::sqlite {

struct SqliteStore::WriteJob {
  const std::function<Result<void>(Conn&)>* work;
  Result<void> result;
  bool done = false;
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
  }
}

Result<void> SqliteStore::write_grouped(const std::function<Result<void>(Conn&)>& work) {
  // A write from inside insert_stream's RowSource would wait for a leader that waits for us.
  if (holds_writer_lock(writer_mu_)) return nested_write_error();
  WriteJob job{&work, {}, false};
  std::unique_lock lock(group_mu_);
  group_queue_.push_back(&job);
  while (!job.done) {
    if (group_leader_) {
      group_cv_.wait(lock);
      continue;
    }
    group_leader_ = true;
    std::vector<WriteJob*> batch;
    batch.swap(group_queue_);
    lock.unlock();
    run_batch(batch);
    lock.lock();
    for (WriteJob* j : batch) j->done = true;
    group_leader_ = false;
    group_cv_.notify_all();
  }
  return job.result;
}

}  // namespace pxt::sqlite
