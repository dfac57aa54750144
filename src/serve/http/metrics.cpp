#include "serve/http/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace pxt {

namespace metrics {

namespace {
std::mutex g_mu;
int g_next_id = 0;
std::vector<std::pair<int, Collector>>& collectors() {
  static std::vector<std::pair<int, Collector>> c;
  return c;
}
}  // namespace

int add_collector(Collector collector) {
  std::lock_guard<std::mutex> lock(g_mu);
  collectors().emplace_back(++g_next_id, std::move(collector));
  return g_next_id;
}

void remove_collector(int id) {
  std::lock_guard<std::mutex> lock(g_mu);
  std::erase_if(collectors(), [id](const auto& c) { return c.first == id; });
}

void collect(std::string& out) {
  std::vector<std::pair<int, Collector>> copy;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    copy = collectors();
  }
  for (const auto& c : copy) c.second(out);
}

void append_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace metrics

namespace {

// Shortest text that reads back as the same double ("0.005", "1", "2.5").
std::string format_double(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {  // "10", not "1e+01"
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace

const std::vector<double>& RequestMetrics::buckets() {
  // Finer than Prometheus' defaults at the low end: most answers here take well under 5 ms.
  static const std::vector<double> b{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

size_t RequestMetrics::add_slot(std::string method, std::string route) {
  auto s = std::make_unique<Slot>();
  s->method = metrics::escape_label(method);
  s->route = metrics::escape_label(route);
  const size_t statuses = kMaxStatus - kMinStatus + 1;
  s->by_status = std::make_unique<std::atomic<uint64_t>[]>(statuses);
  s->by_bucket = std::make_unique<std::atomic<uint64_t>[]>(buckets().size() + 1);
  for (size_t i = 0; i < statuses; ++i) s->by_status[i].store(0, std::memory_order_relaxed);
  for (size_t i = 0; i <= buckets().size(); ++i) s->by_bucket[i].store(0, std::memory_order_relaxed);
  slots_.push_back(std::move(s));
  return slots_.size() - 1;
}

void RequestMetrics::record(size_t slot, int status, double seconds) const {
  if (slot >= slots_.size()) return;
  Slot& s = *slots_[slot];
  int st = std::clamp(status, kMinStatus, kMaxStatus);
  s.by_status[static_cast<size_t>(st - kMinStatus)].fetch_add(1, std::memory_order_relaxed);
  const auto& b = buckets();
  size_t i = static_cast<size_t>(std::lower_bound(b.begin(), b.end(), seconds) - b.begin());
  s.by_bucket[i].fetch_add(1, std::memory_order_relaxed);
  double ns = std::max(0.0, seconds) * 1e9;
  s.sum_ns.fetch_add(static_cast<uint64_t>(std::llround(ns)), std::memory_order_relaxed);
}

void RequestMetrics::render(std::string& out) const {
  metrics::append_header(out, "pxt_http_requests_total", "HTTP requests answered, by route and status.",
                         "counter");
  for (const auto& s : slots_) {
    for (int st = kMinStatus; st <= kMaxStatus; ++st) {
      uint64_t n = s->by_status[static_cast<size_t>(st - kMinStatus)].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out.append("pxt_http_requests_total{method=\"")
          .append(s->method)
          .append("\",route=\"")
          .append(s->route);
      out.append("\",status=\"")
          .append(std::to_string(st))
          .append("\"} ")
          .append(std::to_string(n))
          .append("\n");
    }
  }
  metrics::append_header(out, "pxt_http_request_duration_seconds",
                         "Time from the request's headers to the end of its answer, by route.", "histogram");
  const auto& b = buckets();
  for (const auto& s : slots_) {
    uint64_t cumulative = 0;
    std::vector<uint64_t> counts(b.size() + 1);
    for (size_t i = 0; i <= b.size(); ++i) counts[i] = s->by_bucket[i].load(std::memory_order_relaxed);
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    if (total == 0) continue;  // routes never called add no series
    const std::string labels = "method=\"" + s->method + "\",route=\"" + s->route + "\"";
    for (size_t i = 0; i <= b.size(); ++i) {
      cumulative += counts[i];
      out.append("pxt_http_request_duration_seconds_bucket{").append(labels).append(",le=\"");
      out.append(i < b.size() ? format_double(b[i]) : "+Inf").append("\"} ");
      out.append(std::to_string(cumulative)).append("\n");
    }
    out.append("pxt_http_request_duration_seconds_sum{").append(labels).append("} ");
    out.append(format_double(static_cast<double>(s->sum_ns.load(std::memory_order_relaxed)) / 1e9))
        .append("\n");
    out.append("pxt_http_request_duration_seconds_count{").append(labels).append("} ");
    out.append(std::to_string(total)).append("\n");
  }
}

}  // namespace pxt
