#pragma once
// ServeApp: everything the server answers, independent of sockets, so unit tests can drive it with
// plain httplib::Request/Response objects. Dispatch: the bound routes under the service prefix,
// /openapi.json, /docs (+ /docs/assets/*), /redoc, /healthz, <prefix>/media/* and <prefix>/jobs/*.
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "serve/app/handlers.hpp"
#include "serve/config/route_spec.hpp"
#include "serve/http/forwarded.hpp"
#include "serve/http/metrics.hpp"
#include "serve/http/router.hpp"
#include "serve/jobs/jobs.hpp"
#include "serve/security/auth.hpp"
#include "serve/security/cors.hpp"
#include "serve/security/rate_limit.hpp"
#include "store/store.hpp"

namespace pxt {

class ServeApp {
 public:
  // Resolves every route, builds the OpenAPI document and starts the background jobs. Errors: a
  // route that cannot be resolved (internal), two routes on the same method and path
  // (invalid_argument), or the store's error when the jobs cannot start. `routes` must
  // outlive the app.
  static Result<std::unique_ptr<ServeApp>> create(Store& store, const ServiceSpec& service,
                                                  const std::vector<BoundRoute>& routes);

  // Answers one request. Never throws: an exception becomes 500 {"detail": "internal server
  // error"} with the details in the access log. Thread-safe: the app is immutable after create().
  void handle(const httplib::Request& req, httplib::Response& res) const noexcept;
  // The checks that run before a body is read (serve/app/gate.cpp): rate limit, CORS preflight, bearer
  // auth. False when `res` already holds the answer (429, preflight, 401). /healthz always
  // passes. Never throws. Thread-safe.
  bool admit(const httplib::Request& req, httplib::Response& res) const noexcept;
  // Whether the request goes to an API route, the only endpoints that read a body. Anything else
  // (/healthz, the docs, /media, /jobs, a 404 or 405) is answered without reading one, so a body
  // sent there costs the server nothing. Thread-safe.
  bool reads_body(const httplib::Request& req) const;
  // Counts the answered request in /metrics (route slot, status, latency). Lock-free.
  void record(const httplib::Request& req, int status, double seconds) const {
    metrics_.record(metrics_slot(req), status, seconds);
  }
  // CORS headers for a response produced outside handle() (e.g. the connection layer's 413).
  void decorate(const httplib::Request& req, httplib::Response& res) const { cors_.decorate(req, res); }
  // The store's caches go back to the system (Store::release_idle_memory). Thread-safe.
  void release_idle_memory() const { store_.release_idle_memory(); }
  // The same for a request whose file parts the server streamed to temp files.
  void handle(const httplib::Request& req, httplib::Response& res, const Uploads* uploads) const noexcept;

  // The route a request goes to when it takes file uploads (multipart bodies are then streamed
  // to disk, up to max_upload_bytes()); nullptr otherwise.
  const RouteRuntime* upload_route(const httplib::Request& req) const;
  // service.max_upload_mb in bytes.
  size_t max_upload_bytes() const { return max_upload_bytes_; }
  const std::string& media_dir() const { return media_->dir(); }

  const std::string& openapi_json() const { return openapi_; }
  size_t route_count() const { return runtimes_.size(); }
  // service.max_body_mb in bytes.
  size_t max_body_bytes() const { return max_body_bytes_; }
  // The background jobs (started by create()); shutdown and counts for the server and /metrics.
  Jobs& jobs() const { return *jobs_; }
  // service.read_timeout_s.
  std::chrono::seconds read_timeout() const { return read_timeout_; }
  // The work of a job another process queued on a shared store (its route, request and media);
  // nullopt when this service does not serve its route in the background or the request cannot
  // be read. Thread-safe.
  std::optional<JobWork> revive_job(const JobRecord& job) const;

 private:
  explicit ServeApp(Store& store) : store_(store) {}
  void dispatch(const httplib::Request& req, httplib::Response& res, const Uploads* uploads) const;
  void serve_target(const Target& target, std::string_view rest, const httplib::Request& req,
                    httplib::Response& res, const Uploads* uploads) const;
  void not_found(const httplib::Request& req, httplib::Response& res) const;
  bool is_public(const httplib::Request& req) const;
  size_t metrics_slot(const httplib::Request& req) const;
  void add_metric_slots(const std::vector<BoundRoute>& routes, const std::string& prefix);
  std::string render_metrics() const;

  Store& store_;
  std::vector<RouteRuntime> runtimes_;
  Router router_;
  std::string openapi_;
  std::string docs_html_;
  std::string redoc_html_;
  size_t max_body_bytes_ = 0;
  size_t max_upload_bytes_ = 0;
  std::unique_ptr<MediaRoot> media_;
  std::chrono::seconds read_timeout_{10};
  BearerAuth auth_;
  bool docs_public_ = false;
  Cors cors_;
  TrustedProxies proxies_;                // forwarded_allow_ips
  std::unique_ptr<RateLimiter> limiter_;  // null: no rate limit (RateLimiter locks internally)
  RequestMetrics metrics_;                // slots: one per route, one per Endpoint kind, "unmatched"
  std::string prefix_;
  // Last, so it is destroyed first: its workers use runtimes_, media_ and store_.
  std::unique_ptr<Jobs> jobs_;
};

}  // namespace pxt
