#pragma once
// The HTTP side of background jobs: a route with `background = true` validates the request at
// once (422 before any job exists), stores a job and answers {"id", "job_url"}; GET
// <prefix>/jobs/{id} reports the job. Both never throw for bad input or store errors.
#include <httplib.h>

#include <string>
#include <string_view>

#include "serve/app/handlers.hpp"
#include "serve/jobs/jobs.hpp"

namespace pxt {

// Answers a background route: the request's 422, a 503 with Retry-After when the job queue is
// full, or 200 {"id": ..., "job_url": base_url + "/jobs/" + id} (base_url: public_base_url()). Uploads are
// adopted into media/ before the job is queued (and removed if it never stores them). The job runs
// run_decoded (the synchronous route's work). `rt` and `store` must outlive `jobs`. Thread-safe.
void handle_background(const RouteRuntime& rt, Store& store, Jobs& jobs, std::string_view base_url,
                       const httplib::Request& req, httplib::Response& res, const Uploads* uploads = nullptr);

// A decoded request as a job's payload (JSON: {"values": [...], "present": [...]}), so that any
// process serving the route can run the job (shared stores), and back. decode_job_payload
// returns false for a payload it cannot read. Thread-safe.
std::string encode_job_payload(const DecodedFields& fields);
bool decode_job_payload(std::string_view payload, DecodedFields& out);

// GET <prefix>/jobs/{id}: 200 {"status": "pending"|"done"|"error", "result": ..., "error": ...}
// (unset fields null; a running job is "pending"), 404 "unknown job id". Thread-safe.
void handle_job_status(const Jobs& jobs, std::string_view id, httplib::Response& res);

}  // namespace pxt
