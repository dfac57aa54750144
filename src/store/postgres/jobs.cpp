// The PostgreSQL store's background jobs, pxt.jobs, and the leases of the processes that run them,
// pxt.processes, and the shared rate-limit buckets, pxt.rate_buckets (doc/catalog.md). Each change is one
// conditional statement, so a job moves pending -> running once and its outcome is final, however many
// processes on however many machines race for it: a claim takes the oldest pending job with SELECT ... FOR
// UPDATE SKIP LOCKED (a row another claim holds is skipped, not waited for).
#include <rapidjson/document.h>

#include "store/postgres/pg_store.hpp"
#include "util/json.hpp"
#include "util/process.hpp"

namespace pxt::pg {

namespace {

constexpr const char* kJobColumns =
    "id, route, status, coalesce(result, ''), coalesce(error, ''), owner, created_ms, coalesce(finished_ms, "
    "0), "
    "coalesce(payload, ''), coalesce(media::text, '[]'), coalesce(runner, '')";

JobRecord read_job(const PgResult& r, int i) {
  JobRecord j;
  j.id = std::string(r.text(i, 0));
  j.route = std::string(r.text(i, 1));
  j.status = std::string(r.text(i, 2));
  j.result = std::string(r.text(i, 3));
  j.error = std::string(r.text(i, 4));
  j.owner = std::string(r.text(i, 5));
  j.created_ms = r.int_at(i, 6);
  j.finished_ms = r.int_at(i, 7);
  j.payload = std::string(r.text(i, 8));
  rapidjson::Document media;
  std::string media_text(r.text(i, 9));
  media.Parse(media_text.c_str());
  if (media.IsArray())
    for (const auto& m : media.GetArray())
      if (m.IsString()) j.media.emplace_back(m.GetString(), m.GetStringLength());
  j.runner = std::string(r.text(i, 10));
  return j;
}

std::string json_array(const std::vector<std::string>& items) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& s : items) write_string(w, s);
  w.EndArray();
  return buf.GetString();
}

}  // namespace

Result<void> PgStore::job_create(const JobRecord& job) {
  PXT_TRY(Lease c, conn());
  Params p;
  p.add(job.id);
  p.add(job.route);
  p.add(job.owner);
  p.add_int(job.created_ms);
  if (job.payload.empty()) {
    p.add_null();
  } else {
    p.add(job.payload);
  }
  if (job.media.empty()) {
    p.add_null();
  } else {
    p.add(json_array(job.media));
  }
  p.add(job.announce ? "true" : "false");
  // The announcement is sent when the row commits, with the row: a woken worker finds it.
  auto r = c->run(
      "WITH j AS (INSERT INTO pxt.jobs (id, route, status, owner, created_ms, payload, media) "
      "VALUES ($1, $2, 'pending', $3, $4, $5, $6::jsonb) RETURNING 1) "
      "SELECT pg_notify('pxt_jobs', '') FROM j WHERE $7::bool",
      p);
  if (!r) {
    if (c->last_error().sqlstate == "23505")
      return make_error(Errc::already_exists, "job '" + job.id + "' already exists");
    return map_error(c->last_error(), "cannot store the job");
  }
  return {};
}

Result<bool> PgStore::job_start(std::string_view id, std::string_view runner) {
  PXT_TRY(Lease c, conn());
  Params p;
  p.add(std::string(id));
  p.add(std::string(runner));
  auto r = c->run(
      "UPDATE pxt.jobs SET status = 'running', runner = $2, "
      "started_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint "
      "WHERE id = $1 AND status = 'pending'",
      p);
  if (!r) return map_error(c->last_error(), "cannot start the job");
  return r->changed() > 0;
}

Result<std::optional<JobRecord>> PgStore::job_claim(const std::vector<std::string>& routes,
                                                    std::string_view runner) {
  PXT_TRY(Lease c, conn());
  Params p;
  p.add(json_array(routes));
  p.add(std::string(runner));
  auto r = c->run(
      std::string("UPDATE pxt.jobs SET status = 'running', runner = $2, "
                  "started_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint "
                  "WHERE id = (SELECT id FROM pxt.jobs WHERE finished_ms IS NULL AND status = 'pending' "
                  "AND payload IS NOT NULL AND route IN (SELECT jsonb_array_elements_text($1::jsonb)) "
                  "ORDER BY created_ms LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ") +
          kJobColumns,
      p);
  if (!r) return map_error(c->last_error(), "cannot claim a job");
  if (r->rows() == 0) return std::optional<JobRecord>();
  return std::optional<JobRecord>(read_job(*r, 0));
}

Result<bool> PgStore::job_finish(const JobRecord& job) {
  if (job.status != "done" && job.status != "error")
    return make_error(Errc::internal, "a job cannot finish with status '" + job.status + "'");
  PXT_TRY(Lease c, conn());
  Params p;
  p.add(job.id);
  p.add(job.status);
  if (job.status == "done") {
    p.add(job.result);
    p.add_null();
  } else {
    p.add_null();
    p.add(job.error);
  }
  p.add_int(job.finished_ms);
  auto r = c->run(
      "UPDATE pxt.jobs SET status = $2, result = $3, error = $4, finished_ms = $5 "
      "WHERE id = $1 AND finished_ms IS NULL",
      p);
  if (!r) return map_error(c->last_error(), "cannot store the job's outcome");
  return r->changed() > 0;
}

Result<std::optional<JobRecord>> PgStore::job_get(std::string_view id) {
  PXT_TRY(Lease c, conn());
  Params p;
  p.add(std::string(id));
  auto r = c->run(std::string("SELECT ") + kJobColumns + " FROM pxt.jobs WHERE id = $1", p);
  if (!r) return map_error(c->last_error(), "cannot read the job");
  if (r->rows() == 0) return std::optional<JobRecord>();
  return std::optional<JobRecord>(read_job(*r, 0));
}

Result<std::vector<JobRecord>> PgStore::jobs_unfinished() {
  PXT_TRY(Lease c, conn());
  auto r = c->run(
      std::string("SELECT ") + kJobColumns + " FROM pxt.jobs WHERE finished_ms IS NULL ORDER BY created_ms",
      Params());
  if (!r) return map_error(c->last_error(), "cannot list unfinished jobs");
  std::vector<JobRecord> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(read_job(*r, i));
  return out;
}

Result<void> PgStore::jobs_scan(const std::function<bool(const JobRecord&)>& cb) {
  PXT_TRY(Lease c, conn());
  auto r = c->stream(std::string("SELECT ") + kJobColumns + " FROM pxt.jobs ORDER BY created_ms", Params(),
                     [&](const PgResult& one) { return cb(read_job(one, 0)); });
  if (!r) return map_error(c->last_error(), "cannot read the jobs");
  return {};
}

Result<int64_t> PgStore::jobs_expire(int64_t finished_before_ms) {
  PXT_TRY(Lease c, conn());
  Params p;
  p.add_int(finished_before_ms);
  auto r = c->run("DELETE FROM pxt.jobs WHERE finished_ms IS NOT NULL AND finished_ms < $1", p);
  if (!r) return map_error(c->last_error(), "cannot remove expired jobs");
  return r->changed();
}

Result<void> PgStore::lease_renew(Conn& c) {
  Params p;
  p.add(process_tag());
  p.add_int(lease_ms_);
  auto r = c.run(
      "INSERT INTO pxt.processes (owner, lease_until) VALUES ($1, now() + $2 * interval '1 ms') "
      "ON CONFLICT (owner) DO UPDATE SET lease_until = greatest(pxt.processes.lease_until, "
      "excluded.lease_until)",
      p);
  if (!r) return map_error(c.last_error(), "cannot renew this process's lease");
  return {};
}

Result<std::vector<std::string>> PgStore::live_processes() {
  PXT_TRY(Lease c, conn());
  auto r = c->run("SELECT owner FROM pxt.processes WHERE lease_until >= now()", Params());
  if (!r) return map_error(c->last_error(), "cannot read the live processes");
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->text(i, 0));
  return out;
}

Result<int64_t> PgStore::jobs_interrupt_expired(std::string_view message, int64_t finished_ms,
                                                const std::vector<std::string>& dead) {
  PXT_TRY(Lease c, conn());
  if (!dead.empty()) {
    Params d;
    d.add(json_array(dead));
    auto ended =
        c->run("DELETE FROM pxt.processes WHERE owner IN (SELECT jsonb_array_elements_text($1::jsonb))", d);
    if (!ended) return map_error(c->last_error(), "cannot end the leases of stopped processes");
  }
  Params p;
  p.add(std::string(message));
  p.add_int(finished_ms);
  auto r = c->run(
      "UPDATE pxt.jobs j SET status = 'error', error = $1, finished_ms = $2 "
      "WHERE finished_ms IS NULL AND status = 'running' AND NOT EXISTS "
      "(SELECT 1 FROM pxt.processes p WHERE p.owner = j.runner AND p.lease_until >= now())",
      p);
  if (!r) return map_error(c->last_error(), "cannot interrupt the jobs of stopped processes");
  // Leases long expired belong to processes that are gone for good.
  (void)c->run("DELETE FROM pxt.processes WHERE lease_until < now() - interval '1 day'", Params());
  return r->changed();
}

void PgStore::on_job_announced(std::function<void()> cb) {
  std::lock_guard lock(announced_mu_);
  announced_ = std::move(cb);
}

}  // namespace pxt::pg

namespace pxt::pg {

Result<Store::RateGrant> PgStore::rate_take(std::string_view key, double burst, double per_second,
                                            int64_t want) {
  PXT_TRY(Lease c, conn());
  Params p;
  p.add(std::string(key));
  add_untyped(p, burst);
  add_untyped(p, per_second);
  p.add_int(want);
  auto r = c->run("SELECT taken, wait_s FROM pxt.rate_take($1, $2::float8, $3::float8, $4)", p);
  if (!r) return map_error(c->last_error(), "cannot take from the shared rate limit");
  RateGrant g;
  g.taken = std::strtoll(std::string(r->text(0, 0)).c_str(), nullptr, 10);
  g.wait_s = std::strtod(std::string(r->text(0, 1)).c_str(), nullptr);
  return g;
}

}  // namespace pxt::pg
