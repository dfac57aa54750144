#include "serve/app/app.hpp"

#include "serve/http/access_log.hpp"
#include "serve/http/response.hpp"
#include "serve/jobs/routes.hpp"
#include "serve/openapi/docs_pages.hpp"
#include "serve/openapi/openapi.hpp"

namespace pxt {

namespace {

void set_text(httplib::Response& res, const std::string& body, const char* type) {
  res.status = 200;
  res.body = body;
  put_header(res, "Content-Type", type);
}

// The query string of the request target ("" when none), for redirects.
std::string_view query_of(const httplib::Request& req) {
  size_t q = req.target.find('?');
  return q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q);
}

}  // namespace

Result<std::unique_ptr<ServeApp>> ServeApp::create(Store& store, const ServiceSpec& service,
                                                   const std::vector<BoundRoute>& routes) {
  std::unique_ptr<ServeApp> app(new ServeApp(store));
  app->media_ = std::make_unique<MediaRoot>(store.media_dir());
  app->runtimes_.reserve(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    PXT_TRY(RouteRuntime rt, make_runtime(routes[i], service.prefix, app->media_.get()));
    rt.max_rows = service.max_rows;
    app->runtimes_.push_back(std::move(rt));
    PXT_CHECK(app->router_.add(routes[i].http_method, routes[i].full_path, Target{Endpoint::Route, i}));
  }
  Router& r = app->router_;
  // As in Starlette, plain GET endpoints also answer HEAD (load balancers probe with it); the
  // API routes, like FastAPI's, do not.
  for (const char* method : {"GET", "HEAD"}) {
    PXT_CHECK(r.add(method, "/openapi.json", Target{Endpoint::OpenApi}));
    PXT_CHECK(r.add(method, "/docs", Target{Endpoint::Docs}));
    PXT_CHECK(r.add(method, "/redoc", Target{Endpoint::Redoc}));
    PXT_CHECK(r.add(method, "/healthz", Target{Endpoint::Healthz}));
    PXT_CHECK(r.add(method, "/metrics", Target{Endpoint::Metrics}));
    PXT_CHECK(r.add_prefix(method, kDocsAssetPrefix, Target{Endpoint::DocsAsset}));
  }
  PXT_CHECK(r.add_prefix("GET", service.prefix + "/media/", Target{Endpoint::Media}));
  PXT_CHECK(r.add_prefix("HEAD", service.prefix + "/media/", Target{Endpoint::Media}));
  PXT_CHECK(r.add_prefix("GET", service.prefix + "/jobs/", Target{Endpoint::Jobs}));
  app->openapi_ = build_openapi(service, routes);
  app->add_metric_slots(routes, service.prefix);
  app->auth_ = BearerAuth(service.auth_tokens);
  app->docs_public_ = service.docs_public;
  app->cors_ = Cors(service.cors_origins);
  PXT_TRY(app->proxies_, TrustedProxies::parse(service.forwarded_allow_ips));
  if (!service.rate_limit.empty()) {
    PXT_TRY(RateSpec rate, parse_rate_limit(service.rate_limit));
    if (service.rate_limit_shared && store.shared()) {
      // One bucket per client for every process serving this service with this limit.
      std::string prefix = service.name + "|" + service.rate_limit + "|";
      app->limiter_ = std::make_unique<RateLimiter>(
          rate, [&store, prefix, rate](std::string_view client, int64_t want) -> Result<SharedTake> {
            PXT_TRY(Store::RateGrant g,
                    store.rate_take(prefix + std::string(client), rate.burst, rate.per_second, want));
            return SharedTake{g.taken, g.wait_s};
          });
    } else {
      if (service.rate_limit_shared)
        std::fprintf(stderr,
                     "pxt: rate_limit_shared: this store is one home's SQLite file, not shared: the rate "
                     "limit is per process\n");
      app->limiter_ = std::make_unique<RateLimiter>(rate);
    }
  }
  // A protected spec needs the token in the browser: the pages then ask for it.
  const bool ask_token = app->auth_.enabled() && !service.docs_public;
  app->docs_html_ = swagger_ui_html(service.title, ask_token);
  app->redoc_html_ = redoc_html(service.title, ask_token);
  int64_t mb = service.max_body_mb > 0 ? service.max_body_mb : 1;
  app->max_body_bytes_ = static_cast<size_t>(mb) * 1024 * 1024;
  app->read_timeout_ = std::chrono::seconds(service.read_timeout_s > 0 ? service.read_timeout_s : 10);
  int64_t up = service.max_upload_mb > 0 ? service.max_upload_mb : 100;
  app->max_upload_bytes_ = static_cast<size_t>(up) * 1024 * 1024;
  app->prefix_ = service.prefix;
  JobOptions jo;
  jo.workers = static_cast<int>(service.job_workers);
  jo.queue_max = service.job_queue_max;
  jo.ttl_s = service.job_ttl_s;
  jo.shutdown_wait_s = service.job_shutdown_s;
  // On a shared store this process claims pending jobs of the background routes it serves.
  for (const auto& rt : app->runtimes_)
    if (rt.route->spec.background) jo.routes.push_back(rt.route->http_method + " " + rt.route->full_path);
  jo.revive = [p = app.get()](const JobRecord& job) { return p->revive_job(job); };
  PXT_TRY(app->jobs_, Jobs::start(store, jo));
  return app;
}

void ServeApp::handle(const httplib::Request& req, httplib::Response& res) const noexcept {
  handle(req, res, nullptr);
}

std::optional<JobWork> ServeApp::revive_job(const JobRecord& job) const {
  const RouteRuntime* found = nullptr;
  for (const auto& rt : runtimes_)
    if (rt.route->spec.background && rt.route->http_method + " " + rt.route->full_path == job.route)
      found = &rt;
  if (found == nullptr) return std::nullopt;
  auto in = std::make_shared<DecodedRequest>();
  // The job's files are this run's now: an insert that fails removes them, as it would have in
  // the process that queued it.
  AdoptedMedia& adopted = in->adopted.emplace(media_->dir());
  for (const auto& m : job.media) adopted.add(m);
  if (!decode_job_payload(job.payload, in->fields) || in->fields.values.size() < found->fields.size() ||
      in->fields.present.size() < found->fields.size())
    return std::nullopt;
  const RouteRuntime& rt = *found;
  Store& store = store_;
  return JobWork([&rt, &store, in](httplib::Response& out) { run_decoded(rt, store, *in, out); });
}

const RouteRuntime* ServeApp::upload_route(const httplib::Request& req) const {
  RouteMatch m = router_.match(req.method, req.path);
  if (m.kind != RouteMatch::Kind::Found || m.target->kind != Endpoint::Route) return nullptr;
  const RouteRuntime& rt = runtimes_[m.target->route];
  return rt.route->uploads.empty() ? nullptr : &rt;
}

void ServeApp::handle(const httplib::Request& req, httplib::Response& res,
                      const Uploads* uploads) const noexcept {
  try {
    dispatch(req, res, uploads);
    cors_.decorate(req, res);
  } catch (const std::exception& e) {
    res.headers.clear();
    reply_internal(res, std::string("unhandled exception: ") + e.what());
  } catch (...) {
    res.headers.clear();
    reply_internal(res, "unhandled exception of unknown type");
  }
}

void ServeApp::dispatch(const httplib::Request& req, httplib::Response& res, const Uploads* uploads) const {
  // httplib checks Content-Length against the limit before reading; a chunked body is only
  // known once read.
  if (req.body.size() > max_body_bytes_) {
    return reply_detail(
        res, 413, "request body too large: the limit is " + std::to_string(max_body_bytes_ >> 20) + " MB");
  }
  RouteMatch m = router_.match(req.method, req.path);
  switch (m.kind) {
    case RouteMatch::Kind::Found:
      return serve_target(*m.target, m.rest, req, res, uploads);
    case RouteMatch::Kind::MethodNotAllowed:
      reply_detail(res, 405, "Method Not Allowed");
      put_header(res, "Allow", std::string(m.allow));
      return;
    case RouteMatch::Kind::NotFound:
      return not_found(req, res);
  }
}

void ServeApp::not_found(const httplib::Request& req, httplib::Response& res) const {
  // Starlette's redirect_slashes: "/docs/" -> "/docs" and "/x" -> "/x/" when only the other exists.
  const std::string& path = req.path;
  std::string other = !path.empty() && path.back() == '/' ? path.substr(0, path.size() - 1) : path + "/";
  if (!other.empty() && router_.knows_path(other)) {
    res.status = 307;
    put_header(res, "Location", other + std::string(query_of(req)));
    return;
  }
  reply_detail(res, 404, "Not Found");
}

void ServeApp::serve_target(const Target& target, std::string_view rest, const httplib::Request& req,
                            httplib::Response& res, const Uploads* uploads) const {
  switch (target.kind) {
    case Endpoint::Route: {
      const RouteRuntime& rt = runtimes_[target.route];
      if (rt.route->spec.background)
        return handle_background(rt, store_, *jobs_, public_base_url(req, prefix_, proxies_), req, res,
                                 uploads);
      return handle_route(rt, store_, req, res, uploads);
    }
    case Endpoint::OpenApi:
      return set_text(res, openapi_, kJsonType);
    case Endpoint::Docs:
      return set_text(res, docs_html_, "text/html; charset=utf-8");
    case Endpoint::Redoc:
      return set_text(res, redoc_html_, "text/html; charset=utf-8");
    case Endpoint::DocsAsset:
      return serve_docs_asset(rest, res);
    case Endpoint::Healthz: {
      auto ok = store_.ping();
      if (!ok) {
        log_note_error(ok.error().message);
        return reply_detail(res, 503, "store unavailable");
      }
      JsonBuffer& buf = scratch_json();
      JsonWriter w(buf);
      w.StartObject();
      write_key(w, "status");
      write_string(w, "ok");
      w.EndObject();
      return set_json(res, 200, buf);
    }
    case Endpoint::Media:
      return media_->serve(rest, req, res);
    case Endpoint::Jobs:
      return handle_job_status(*jobs_, rest, res);
    case Endpoint::Metrics:
      return set_text(res, render_metrics(), "text/plain; version=0.0.4; charset=utf-8");
  }
}

}  // namespace pxt
