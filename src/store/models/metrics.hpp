#pragma once
// Counters of model calls per provider and model, recorded lock-free on the call path and rendered
// in Prometheus text for /metrics (the serving layer registers render_model_metrics as a
// collector): calls by outcome, retries, tokens from `usage`, embed batch sizes, and the latency of
// each upstream request.
//
// The series are bounded: past kMaxModelSeries distinct (provider, model) pairs (a model name can
// come from a request's input), further pairs share the model label "other".
// Thread-safety: everything here may be called from any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace pxt::models {

inline constexpr size_t kMaxModelSeries = 256;

class ModelStats {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1,    2.5,   5,    10,  30};
  static constexpr std::array<double, 7> kBatchBuckets = {1, 2, 4, 8, 16, 32, 64};

  void count_call(bool ok) { (ok ? calls_ok_ : calls_failed_).fetch_add(1, std::memory_order_relaxed); }
  void count_retry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  void count_tokens(int64_t prompt, int64_t completion);
  void observe_latency(double seconds);
  void observe_batch(size_t inputs);

  // Appends this pair's sample lines (no headers) for each metric family to `out`.
  void render(std::string& out, const std::string& labels) const;

  uint64_t calls_ok() const { return calls_ok_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batch_count_.load(std::memory_order_relaxed); }

 private:
  friend void render_model_metrics(std::string& out);
  std::atomic<uint64_t> calls_ok_{0}, calls_failed_{0}, retries_{0};
  std::atomic<uint64_t> prompt_tokens_{0}, completion_tokens_{0};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_{};
  std::atomic<uint64_t> latency_count_{0}, latency_sum_us_{0};
  std::array<std::atomic<uint64_t>, kBatchBuckets.size() + 1> batch_{};
  std::atomic<uint64_t> batch_count_{0}, batch_sum_{0};
};

// The stats of (provider, model), created on first use; the reference stays valid for the
// process's life.
ModelStats& model_stats(std::string_view provider, std::string_view model);

// Appends every model metric family (HELP and TYPE lines, then samples) to `out`; nothing when no
// model was called yet.
void render_model_metrics(std::string& out);

}  // namespace pxt::models
