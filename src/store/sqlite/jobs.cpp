// The SQLite store's background-job table, pxt$jobs (specified in doc/catalog.md). Job writes go
// through the same group commit as data writes, so submitting a job costs one shared commit.
#include "store/sqlite/sqlite_store.hpp"

namespace pxt {
namespace sqlite {

namespace {

// Added after format 1 shipped: older pxt binaries ignore the table, newer ones create it when
// missing, so the format version did not change.
const char* kJobsDdl = R"sql(
CREATE TABLE IF NOT EXISTS "pxt$jobs" (
  id TEXT PRIMARY KEY,
  route TEXT NOT NULL,
  status TEXT NOT NULL,
  result TEXT,
  error TEXT,
  owner TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  finished_ms INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS "pxt$jobs_unfinished" ON "pxt$jobs"(status) WHERE finished_ms IS NULL;
CREATE INDEX IF NOT EXISTS "pxt$jobs_finished" ON "pxt$jobs"(finished_ms) WHERE finished_ms IS NOT NULL;
)sql";

std::string text_at(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

Result<bool> step_changed(Conn& c, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return map_error(c.db(), rc, what);
  return sqlite3_changes64(c.db()) > 0;
}

}  // namespace

Result<void> SqliteStore::init_jobs_table(Conn& c) {
  PXT_TRY(int64_t exists,
          c.scalar_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pxt$jobs'"));
  if (exists) return {};
  WriteTxn txn(writer_mu_, c);
  PXT_CHECK(txn.begin());
  PXT_CHECK(c.exec(kJobsDdl));
  return txn.commit();
}

Result<void> SqliteStore::job_create(const JobRecord& job) {
  return write_grouped([&](Conn& c) -> Result<void> {
    PXT_TRY(sqlite3_stmt * s, c.cached("INSERT INTO \"pxt$jobs\" (id, route, status, owner, created_ms) "
                                       "VALUES (?1, ?2, 'pending', ?3, ?4)"));
    StmtUse use(s);
    bind_text(s, 1, job.id);
    bind_text(s, 2, job.route);
    bind_text(s, 3, job.owner);
    sqlite3_bind_int64(s, 4, job.created_ms);
    int rc = sqlite3_step(s);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
      return make_error(Errc::already_exists, "job '" + job.id + "' already exists");
    if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot store the job");
    return {};
  });
}

// One process runs the jobs it queued (a SQLite home is not shared across machines): the runner
// is the owner.
Result<bool> SqliteStore::job_start(std::string_view id, std::string_view runner) {
  (void)runner;
  bool started = false;
  PXT_CHECK(write_grouped([&](Conn& c) -> Result<void> {
    PXT_TRY(sqlite3_stmt * s,
            c.cached("UPDATE \"pxt$jobs\" SET status = 'running' WHERE id = ?1 AND status = 'pending'"));
    StmtUse use(s);
    bind_text(s, 1, id);
    PXT_TRY(started, step_changed(c, s, "cannot start the job"));
    return {};
  }));
  return started;
}

Result<bool> SqliteStore::job_finish(const JobRecord& job) {
  if (job.status != "done" && job.status != "error")
    return make_error(Errc::internal, "a job cannot finish with status '" + job.status + "'");
  bool finished = false;
  PXT_CHECK(write_grouped([&](Conn& c) -> Result<void> {
    PXT_TRY(sqlite3_stmt * s, c.cached("UPDATE \"pxt$jobs\" SET status = ?2, result = ?3, error = ?4, "
                                       "finished_ms = ?5 WHERE id = ?1 AND finished_ms IS NULL"));
    StmtUse use(s);
    bind_text(s, 1, job.id);
    bind_text(s, 2, job.status);
    if (job.status == "done") {
      bind_text(s, 3, job.result);
      sqlite3_bind_null(s, 4);
    } else {
      sqlite3_bind_null(s, 3);
      bind_text(s, 4, job.error);
    }
    sqlite3_bind_int64(s, 5, job.finished_ms);
    PXT_TRY(finished, step_changed(c, s, "cannot store the job's outcome"));
    return {};
  }));
  return finished;
}

Result<std::optional<JobRecord>> SqliteStore::job_get(std::string_view id) {
  PXT_TRY(Lease c, conn());
  PXT_TRY(sqlite3_stmt * s, c->cached("SELECT id, route, status, result, error, owner, created_ms, "
                                      "coalesce(finished_ms, 0) FROM \"pxt$jobs\" WHERE id = ?1"));
  StmtUse use(s);
  bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<JobRecord>();
  if (rc != SQLITE_ROW) return map_error(c->db(), rc, "cannot read the job");
  JobRecord j;
  j.id = text_at(s, 0);
  j.route = text_at(s, 1);
  j.status = text_at(s, 2);
  j.result = text_at(s, 3);
  j.error = text_at(s, 4);
  j.owner = text_at(s, 5);
  j.created_ms = sqlite3_column_int64(s, 6);
  j.finished_ms = sqlite3_column_int64(s, 7);
  return std::optional<JobRecord>(std::move(j));
}

Result<std::vector<JobRecord>> SqliteStore::jobs_unfinished() {
  PXT_TRY(Lease c, conn());
  PXT_TRY(sqlite3_stmt * s, c->cached("SELECT id, status, owner, created_ms FROM \"pxt$jobs\" "
                                      "WHERE finished_ms IS NULL ORDER BY created_ms"));
  StmtUse use(s);
  std::vector<JobRecord> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    JobRecord j;
    j.id = text_at(s, 0);
    j.status = text_at(s, 1);
    j.owner = text_at(s, 2);
    j.created_ms = sqlite3_column_int64(s, 3);
    out.push_back(std::move(j));
  }
  if (rc != SQLITE_DONE) return map_error(c->db(), rc, "cannot list unfinished jobs");
  return out;
}

Result<void> SqliteStore::jobs_scan(const std::function<bool(const JobRecord&)>& cb) {
  PXT_TRY(Lease c, conn());
  PXT_TRY(sqlite3_stmt * s, c->cached("SELECT id, route, status, result, error, owner, created_ms, "
                                      "coalesce(finished_ms, 0) FROM \"pxt$jobs\" ORDER BY created_ms"));
  StmtUse use(s);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    JobRecord j;
    j.id = text_at(s, 0);
    j.route = text_at(s, 1);
    j.status = text_at(s, 2);
    j.result = text_at(s, 3);
    j.error = text_at(s, 4);
    j.owner = text_at(s, 5);
    j.created_ms = sqlite3_column_int64(s, 6);
    j.finished_ms = sqlite3_column_int64(s, 7);
    if (!cb(j)) return {};
  }
  if (rc != SQLITE_DONE) return map_error(c->db(), rc, "cannot read the jobs");
  return {};
}

Result<void> SqliteStore::import_jobs(Conn& c, const std::vector<JobRecord>& jobs) {
  PXT_TRY(sqlite3_stmt * s, c.cached("INSERT INTO \"pxt$jobs\" (id, route, status, result, error, owner, "
                                     "created_ms, finished_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  for (const auto& j : jobs) {
    StmtUse use(s);
    bind_text(s, 1, j.id);
    bind_text(s, 2, j.route);
    // An unfinished job cannot run here (it belongs to a process of the other store, and a
    // SQLite home keeps no requests to run it from): it ends interrupted, as its process would
    // have left it when it stopped.
    bool interrupted = j.status == "pending" || j.status == "running";
    bind_text(s, 3, interrupted ? "error" : j.status);
    if (j.status == "done") {
      bind_text(s, 4, j.result);
    } else {
      sqlite3_bind_null(s, 4);
    }
    if (interrupted || j.status == "error") {
      bind_text(s, 5, interrupted ? std::string("interrupted by shutdown") : j.error);
    } else {
      sqlite3_bind_null(s, 5);
    }
    bind_text(s, 6, j.owner);
    sqlite3_bind_int64(s, 7, j.created_ms);
    sqlite3_bind_int64(s, 8, j.finished_ms ? j.finished_ms : j.created_ms);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot copy job '" + j.id + "'");
  }
  return {};
}

Result<int64_t> SqliteStore::jobs_expire(int64_t finished_before_ms) {
  int64_t n = 0;
  PXT_CHECK(write_grouped([&](Conn& c) -> Result<void> {
    PXT_TRY(sqlite3_stmt * s, c.cached("DELETE FROM \"pxt$jobs\" WHERE finished_ms IS NOT NULL AND "
                                       "finished_ms < ?1"));
    StmtUse use(s);
    sqlite3_bind_int64(s, 1, finished_before_ms);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return map_error(c.db(), rc, "cannot remove expired jobs");
    n = sqlite3_changes64(c.db());
    return {};
  }));
  return n;
}

}  // namespace sqlite
}  // namespace pxt
