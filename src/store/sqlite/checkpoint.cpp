// Background WAL checkpoints and WAL restarts for the SQLite store.
//
// Commits never checkpoint (automatic checkpoints are off): a background thread runs PASSIVE
// checkpoints, which copy WAL frames into the database without waiting for readers or writers.
// That alone does not bound the WAL: SQLite rewinds it to its beginning only when a write starts
// on a fully checkpointed log, which never happens under a steady stream of commits. So once the
// WAL passes kWalRestartPages, the thread holds this process's writers for one last pass that
// copies the remaining frames; the next write then restarts the WAL.
//
// That last pass must be short, because every write waits for it, and it fsyncs what it copies
// (the WAL, then the database): on this kind of disk an fsync takes ~0.1 ms for a few pages but
// 7-40 ms for 1 MB. So the thread first catches up with writers running, until the frames
// committed since its last pass are few, and syncs the WAL itself; only then does it hold writers,
// for a pass over those few frames. Each restart still costs the writers those two short fsyncs and
// one more (the first commit after a restart syncs the new WAL header), so restarts are rare:
// every 64 MB of WAL.
//
// The WAL's bound: kWalForcePages (128 MB) plus what is committed during one checkpoint pass,
// unless a read transaction stays open the whole time (no checkpoint can copy frames a reader may
// still need; reads in pxt last one request or one export). Slow work never runs inside one: a
// write's image functions and document_text are computed ahead outside any transaction
// (store/sqlite/write.cpp), and so are those of a named query (store/functions/query_calls.hpp).
// They used to run in a read transaction, and with uploads overlapping some reader always pinned
// the WAL: it grew to 1.9 GB in a soak with 5% uploads (issue 18). journal_size_limit (160 MB, set in
// store/sqlite/db.cpp) is above that bound on purpose: the first commit after a restart truncates the
// WAL to that limit, and dropping 190 MB of a cached file took ~150 ms here, inside that commit.
#include <chrono>
#include <cstdio>

#include "store/sqlite/sqlite_store.hpp"

namespace pxt::sqlite {

namespace {

struct Pass {
  int log = 0;   // frames in the WAL when the pass began
  int done = 0;  // frames copied into the database so far
};

// One PASSIVE checkpoint: copies the frames no reader still needs and never waits for anyone.
Pass passive(sqlite3* db) {
  Pass p;
  sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &p.log, &p.done);
  return p;
}

// fsyncs the WAL through db's own handle of it (opening the file again is unsafe with SQLite's
// POSIX locks), so that the pass holding writers only syncs what was committed after this.
void sync_wal(sqlite3* db) {
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db, nullptr, SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK) return;
  if (wal && wal->pMethods) wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

}  // namespace

int SqliteStore::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  // Same threshold as SQLite's default automatic checkpoint, but the work happens elsewhere. The
  // flag keeps commits from waking the thread again while a checkpoint is pending or running.
  auto* s = static_cast<SqliteStore*>(self);
  s->wal_frames_.store(pages, std::memory_order_relaxed);
  if (pages >= s->ckpt_pages_ && !s->ckpt_wanted_.exchange(true)) {
    std::lock_guard lock(s->ckpt_mu_);
    s->ckpt_cv_.notify_one();
  }
  return SQLITE_OK;
}

SqliteStore::Restart SqliteStore::restart_wal(sqlite3* db) {
  auto backlog = [&](const Pass& p) { return wal_frames_.load(std::memory_order_relaxed) - p.done; };
  auto forced = [&] { return wal_frames_.load(std::memory_order_relaxed) >= wal_force_pages_; };
  Pass p = passive(db);
  for (int i = 0; i < kWalCatchUpPasses && backlog(p) > kWalFinalFrames && !forced(); ++i) p = passive(db);
  if (backlog(p) > kWalFinalFrames && !forced()) return Restart::not_yet;
  sync_wal(db);
  std::lock_guard writers(writer_mu_);
  auto start = std::chrono::steady_clock::now();
  p = passive(db);
  // Every write of this process waits while this pass runs: a long one is worth a line in the log.
  auto held = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (held.count() >= kWalLongHoldMs) {
    std::fprintf(stderr, "pxt: store: a WAL restart held writes for %lld ms (%d frames copied)\n",
                 static_cast<long long>(held.count()), p.done);
  }
  return p.done == p.log ? Restart::done : Restart::blocked;
}

void SqliteStore::checkpoint_loop() {
  int blocked_at = 0;  // WAL size when a reader last kept a restart from completing
  while (true) {
    {
      std::unique_lock lock(ckpt_mu_);
      ckpt_cv_.wait(lock, [&] { return ckpt_wanted_.load() || ckpt_stop_; });
      if (ckpt_stop_) return;
    }
    if (auto c = conn(); c.ok()) {  // this thread's own connection
      Pass p = passive((*c)->db());
      if (p.log < blocked_at) blocked_at = 0;  // restarted since
      // After a blocked attempt, wait for more growth before holding writers again.
      if (p.log >= wal_restart_pages_ && p.log >= blocked_at + wal_restart_pages_ / 4) {
        if (restart_wal((*c)->db()) == Restart::blocked) blocked_at = p.log;
      }
    }
    // Under a steady stream of commits, checkpointing after every few frames would mostly cost
    // fsyncs; a short pause lets each checkpoint do more work.
    std::unique_lock lock(ckpt_mu_);
    ckpt_cv_.wait_for(lock, std::chrono::milliseconds(kCheckpointPauseMs), [&] { return ckpt_stop_; });
    ckpt_wanted_ = false;
  }
}

}  // namespace pxt::sqlite
