#pragma once
// /metrics in Prometheus text format (version 0.0.4): requests by route and status and a latency
// histogram per route, recorded lock-free on the request path, plus collectors that other modules
// register to add their own series (jobs by status, export failures, ...).
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pxt {

namespace metrics {

// A collector appends complete Prometheus text ("# HELP", "# TYPE" and sample lines, each ending
// in '\n') for its own metric names to `out`. It runs on the thread answering /metrics, so it
// must be thread-safe and quick (read counters; no store queries on the hot path).
using Collector = std::function<void(std::string& out)>;

// Registers a collector (e.g. from a module's startup code) until remove_collector is called
// with the id returned. Thread-safe.
int add_collector(Collector collector);
// Removes the collector `id` names (a no-op for an unknown id). Thread-safe.
void remove_collector(int id);
// Runs every registered collector in registration order. Thread-safe.
void collect(std::string& out);

// Helpers for collectors: "# HELP name help\n# TYPE name type\n".
void append_header(std::string& out, std::string_view name, std::string_view help, std::string_view type);
// A label value with \, " and newline escaped as the text format requires.
std::string escape_label(std::string_view value);

}  // namespace metrics

// Request counters for a fixed set of slots (one per route, built-in endpoint, plus "unmatched"),
// created before serving. record() is lock-free (relaxed atomics); render() reads a consistent
// enough snapshot for monitoring. Thread-safe after construction.
class RequestMetrics {
 public:
  // Latency buckets (seconds, upper bounds); a +Inf bucket is implied.
  static const std::vector<double>& buckets();

  // Adds a slot and returns its index. Not thread-safe: call before serving.
  size_t add_slot(std::string method, std::string route);
  size_t slot_count() const { return slots_.size(); }

  void record(size_t slot, int status, double seconds) const;
  // Appends pxt_http_requests_total and pxt_http_request_duration_seconds.
  void render(std::string& out) const;

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;
  struct Slot {
    std::string method, route;                           // label values, escaped
    std::unique_ptr<std::atomic<uint64_t>[]> by_status;  // kMaxStatus - kMinStatus + 1
    std::unique_ptr<std::atomic<uint64_t>[]> by_bucket;  // buckets().size() + 1 (+Inf)
    std::atomic<uint64_t> sum_ns{0};
  };
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace pxt
