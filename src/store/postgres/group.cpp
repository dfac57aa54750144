// Group commit for the PostgreSQL store's one-row inserts (the insert routes' hot path). Alone, each
// insert is one statement and one commit: a round trip, two context switches and a WAL flush per
// row, which bound a route at well under what the server can store. Inserts arriving at the same
// moment instead queue; a leader takes the queue, sends every row's statement in one pipeline
// (libpq's pipeline mode: one round trip) ended by one Sync, so the server runs them as one
// implicit transaction and flushes the WAL once for all. Up to group_max_leaders_ batches run at
// once, each on its own pooled connection, so a slow batch does not stall the rest.
//
// A batch is all or nothing: when one statement fails (a duplicate key, a schema change), the
// server rolls the whole batch back and the leader reruns each row on its own, so each gets its
// own answer (one row's 409 never fails another, nor loses it). A lost connection fails the whole
// batch with busy (503, retryable), as it fails a single insert: whether the commit happened is
// unknown either way.
#include <algorithm>
#include <chrono>
#include <condition_variable>

#include "store/postgres/pg_store.hpp"
#include "util/blocking.hpp"

namespace pxt::pg {

// A queued insert. Its waiter sleeps on its own condition variable and is woken once: when its
// row is done or when it is handed the leadership (as the SQLite store's group commit).
struct PgStore::InsertJob {
  InsertJob(std::shared_ptr<const TableInfo> i, const std::vector<int>* x, const Row* r, std::vector<Value> s)
      : info(std::move(i)), idx(x), row(r), slots(std::move(s)) {}
  std::shared_ptr<const TableInfo> info;
  const std::vector<int>* idx;
  const Row* row;
  std::vector<Value> slots;  // results of pxt's calls, made by the inserting thread
  Result<std::vector<Row>> result = std::vector<Row>();
  bool done = false;
  bool lead = false;
  std::condition_variable cv;
};

namespace {

// Rows per batch: libpq sends the whole pipeline before reading, and a batch holds one
// connection; past a few dozen rows the commit saved per row is negligible.
constexpr size_t kMaxBatch = 64;

}  // namespace

void PgStore::run_insert_batch(const std::vector<std::shared_ptr<InsertJob>>& batch) {
  auto lease = conn();
  if (!lease) {
    for (const auto& j : batch) j->result = lease.error();
    return;
  }
  Conn& c = **lease;
  if (batch.size() > 1) {
    std::vector<std::pair<std::string, Params>> statements;
    statements.reserve(batch.size());
    for (const auto& j : batch) statements.push_back(insert_statement(*j->info, *j->idx, *j->row, j->slots));
    auto res = c.pipeline(statements);
    if (res && res->size() == batch.size()) {
      grouped_ += static_cast<int64_t>(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) batch[i]->result = returned_rows((*res)[i], *batch[i]->info);
      return;
    }
    if (!res && (c.broken() || is_connection_error(c.last_error()))) {
      for (const auto& j : batch) j->result = res.error();
      return;
    }
    // A statement failed: nothing of the batch was stored. Each row on its own, below.
    if (pq().PQtransactionStatus(c.raw()) != PQTRANS_IDLE && !c.broken()) (void)c.exec("ROLLBACK");
  }
  for (const auto& j : batch) {
    std::vector<Row> out;
    auto one = insert_one(c, *j->info, *j->idx, *j->row, j->slots, true, out, nullptr);
    j->result = one ? Result<std::vector<Row>>(std::move(out)) : Result<std::vector<Row>>(one.error());
  }
}

int64_t PgStore::writes_queued() {
  std::lock_guard lock(group_mu_);
  return static_cast<int64_t>(group_queue_.size());
}

Result<std::vector<Row>> PgStore::insert_grouped(std::shared_ptr<const TableInfo> info,
                                                 const std::vector<int>& idx, const Row& row,
                                                 std::vector<Value> slots) {
  // Shared: the leader wakes the waiters after it has released group_mu_ (a waiter woken under
  // it would only block on it again), so a job must outlive a waiter that returns at once.
  auto job = std::make_shared<InsertJob>(std::move(info), &idx, &row, std::move(slots));
  std::unique_lock lock(group_mu_);
  group_queue_.push_back(job);
  if (group_leaders_ >= group_max_leaders_) {
    // Every batch slot is taken: wait to be done by a leader, or to become one. A row no leader
    // took within the pool's timeout is withdrawn (it never runs after we answered), as a caller
    // waiting that long for a connection is.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(pool_->timeout_ms());
    // While we wait, the HTTP server lets another thread read the next request, which may join
    // the batch behind us (util/blocking.hpp).
    about_to_block();
    if (!job->cv.wait_until(lock, deadline, [&] { return job->done || job->lead; })) {
      auto it = std::find(group_queue_.begin(), group_queue_.end(), job);
      if (it != group_queue_.end()) {
        group_queue_.erase(it);
        return make_error(Errc::busy, "the PostgreSQL store is busy: the insert waited " +
                                          std::to_string(pool_->timeout_ms()) +
                                          " ms for a connection of this process; retry");
      }
      job->cv.wait(lock, [&] { return job->done || job->lead; });
    }
    if (job->done) return std::move(job->result);
  } else {
    ++group_leaders_;
  }
  // Leader: the queue so far (our own row first among them when we were handed the lead).
  std::vector<std::shared_ptr<InsertJob>> batch;
  size_t n = std::min(group_queue_.size(), kMaxBatch);
  batch.assign(group_queue_.begin(), group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
  group_queue_.erase(group_queue_.begin(), group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
  if (std::find(batch.begin(), batch.end(), job) == batch.end()) {
    // Our row is still queued behind a full batch: it goes first.
    batch.insert(batch.begin(), job);
    group_queue_.erase(std::find(group_queue_.begin(), group_queue_.end(), job));
  }
  lock.unlock();
  run_insert_batch(batch);
  lock.lock();
  for (const auto& j : batch) j->done = true;
  std::shared_ptr<InsertJob> next;  // handed the lead, so the queue never waits for an idle thread
  if (group_queue_.empty()) {
    --group_leaders_;
  } else {
    next = group_queue_.front();
    next->lead = true;
  }
  lock.unlock();
  for (const auto& j : batch)
    if (j != job) j->cv.notify_one();
  if (next) next->cv.notify_one();
  return std::move(job->result);
}

}  // namespace pxt::pg
