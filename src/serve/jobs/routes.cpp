#include "serve/jobs/routes.hpp"

#include <memory>

#include "serve/http/response.hpp"

namespace pxt {

namespace {

// Ids are random_urlsafe(16): 22 characters of [A-Za-z0-9_-]. Anything else cannot be a job,
// and never reaches the store.
bool plausible_job_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void handle_background(const RouteRuntime& rt, Store& store, Jobs& jobs, std::string_view base_url,
                       const httplib::Request& req, httplib::Response& res, const Uploads* uploads) {
  // Shared: a JobWork must be copyable, and the adopted media are not.
  auto in = std::make_shared<DecodedRequest>();
  if (!decode_request(rt, store, req, uploads, *in, res)) return;
  auto id = jobs.submit(rt.route->http_method + " " + rt.route->full_path,
                        [&rt, &store, in](httplib::Response& out) { run_decoded(rt, store, *in, out); });
  if (!id) {
    if (id.error().code != Errc::busy) return reply_error(res, id.error());
    reply_detail(res, 503, id.error().message);
    put_header(res, "Retry-After", "1");
    return;
  }
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "id");
  write_string(w, *id);
  write_key(w, "job_url");
  write_string(w, std::string(base_url) + "/jobs/" + *id);
  w.EndObject();
  set_json(res, 200, buf);
}

void handle_job_status(const Jobs& jobs, std::string_view id, httplib::Response& res) {
  if (!plausible_job_id(id)) return reply_detail(res, 404, "unknown job id");
  auto job = jobs.get(id);
  if (!job) return reply_error(res, job.error());
  if (!*job) return reply_detail(res, 404, "unknown job id");
  const JobRecord& j = **job;
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "status");
  bool done = j.status == "done", error = j.status == "error";
  write_string(w, done ? "done" : error ? "error" : "pending");
  write_key(w, "result");
  if (done && !j.result.empty()) {
    w.RawValue(j.result.data(), j.result.size(), rapidjson::kObjectType);
  } else {
    w.Null();
  }
  write_key(w, "error");
  if (error) {
    write_string(w, j.error);
  } else {
    w.Null();
  }
  w.EndObject();
  set_json(res, 200, buf);
}

}  // namespace pxt
