// ServeApp's /metrics: which slot a request is counted in, and the page itself.
#include "export/sql_export.hpp"
#include "serve/app/app.hpp"
#include "store/models/metrics.hpp"

namespace pxt {

namespace {

// Built-in endpoints in Endpoint order (after Route), with the route label each is counted under.
// Prefix endpoints use a template so every media file or job id shares one series.
constexpr Endpoint kBuiltins[] = {Endpoint::OpenApi, Endpoint::Docs,  Endpoint::Redoc, Endpoint::DocsAsset,
                                  Endpoint::Healthz, Endpoint::Media, Endpoint::Jobs,  Endpoint::Metrics};

std::string builtin_label(Endpoint e, const std::string& prefix) {
  switch (e) {
    case Endpoint::OpenApi:
      return "/openapi.json";
    case Endpoint::Docs:
      return "/docs";
    case Endpoint::Redoc:
      return "/redoc";
    case Endpoint::DocsAsset:
      return "/docs/assets/{name}";
    case Endpoint::Healthz:
      return "/healthz";
    case Endpoint::Media:
      return prefix + "/media/{path}";
    case Endpoint::Jobs:
      return prefix + "/jobs/{id}";
    case Endpoint::Metrics:
      return "/metrics";
    case Endpoint::Route:
      break;
  }
  return "";
}

// Failed export_sql writes per target (the target names never hold a password).
void append_export_failures(std::string& out) {
  metrics::append_header(out, "pxt_export_failures_total",
                         "export_sql writes that failed since start, by target.", "counter");
  for (const auto& [target, n] : export_failure_counts())
    out += "pxt_export_failures_total{target=\"" + metrics::escape_label(target) + "\"} " +
           std::to_string(n) + "\n";
}

}  // namespace

void ServeApp::add_metric_slots(const std::vector<BoundRoute>& routes, const std::string& prefix) {
  for (const auto& r : routes) metrics_.add_slot(r.http_method, r.full_path);
  for (Endpoint e : kBuiltins) metrics_.add_slot("GET", builtin_label(e, prefix));
  // Unknown paths share one series, so scanners cannot grow the page without bound.
  metrics_.add_slot("other", "unmatched");
}

size_t ServeApp::metrics_slot(const httplib::Request& req) const {
  const size_t unmatched = metrics_.slot_count() - 1;
  RouteMatch m = router_.match(req.method, req.path);
  if (m.kind != RouteMatch::Kind::Found) return unmatched;
  if (m.target->kind == Endpoint::Route) return m.target->route;
  const size_t n = sizeof kBuiltins / sizeof kBuiltins[0];
  for (size_t i = 0; i < n; ++i)
    if (kBuiltins[i] == m.target->kind) return runtimes_.size() + i;
  return unmatched;
}

std::string ServeApp::render_metrics() const {
  std::string out;
  out.reserve(4096);
  metrics_.render(out);
  append_export_failures(out);
  models::render_model_metrics(out);
  metrics::append_header(out, "pxt_store_writes_queued",
                         "Writes waiting for the store's group commit to take them.", "gauge");
  out += "pxt_store_writes_queued " + std::to_string(store_.writes_queued()) + "\n";
  metrics::append_header(out, "pxt_store_writes_grouped_total",
                         "Writes committed in one transaction with other writes (group commit).", "counter");
  out += "pxt_store_writes_grouped_total " + std::to_string(store_.writes_grouped()) + "\n";
  metrics::collect(out);
  return out;
}

}  // namespace pxt
