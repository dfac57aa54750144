#include "store/models/metrics.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace pxt::models {

namespace {

struct Series {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ModelStats>> by_pair;
};

Series& series() {
  static auto* s = new Series();  // never destroyed: calls may still run while the process exits
  return *s;
}

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* help, const char* type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <size_t N, size_t M>
void histogram(std::string& out, const char* name, const std::string& labels,
               const std::array<double, N>& bounds, const std::array<std::atomic<uint64_t>, M>& counts,
               uint64_t count, double sum) {
  // fmt rather than a chain of std::string operator+: g++ 12 at -O2 reports a false
  // -Warray-bounds in the inlined concatenations (an error in CI's -Werror build).
  auto line = std::back_inserter(out);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < N; ++i) {
    cumulative += counts[i].load(std::memory_order_relaxed);
    fmt::format_to(line, "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, number(bounds[i]), cumulative);
  }
  fmt::format_to(line, "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count);
  fmt::format_to(line, "{}_sum{{{}}} {}\n", name, labels, number(sum));
  fmt::format_to(line, "{}_count{{{}}} {}\n", name, labels, count);
}

}  // namespace

void ModelStats::count_tokens(int64_t prompt, int64_t completion) {
  if (prompt > 0) prompt_tokens_.fetch_add(static_cast<uint64_t>(prompt), std::memory_order_relaxed);
  if (completion > 0)
    completion_tokens_.fetch_add(static_cast<uint64_t>(completion), std::memory_order_relaxed);
}

void ModelStats::observe_latency(double seconds) {
  size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  latency_[i].fetch_add(1, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void ModelStats::observe_batch(size_t inputs) {
  size_t i = 0;
  while (i < kBatchBuckets.size() && static_cast<double>(inputs) > kBatchBuckets[i]) ++i;
  batch_[i].fetch_add(1, std::memory_order_relaxed);
  batch_count_.fetch_add(1, std::memory_order_relaxed);
  batch_sum_.fetch_add(inputs, std::memory_order_relaxed);
}

ModelStats& model_stats(std::string_view provider, std::string_view model) {
  Series& s = series();
  std::lock_guard lock(s.mu);
  auto key = std::make_pair(std::string(provider), std::string(model));
  auto it = s.by_pair.find(key);
  if (it != s.by_pair.end()) return *it->second;
  if (s.by_pair.size() >= kMaxModelSeries) key.second = "other";
  auto& slot = s.by_pair[key];
  if (!slot) slot = std::make_unique<ModelStats>();
  return *slot;
}

void render_model_metrics(std::string& out) {
  Series& s = series();
  std::lock_guard lock(s.mu);
  if (s.by_pair.empty()) return;
  std::vector<std::pair<std::string, const ModelStats*>> all;
  for (const auto& [key, stats] : s.by_pair)
    all.emplace_back("provider=\"" + escape(key.first) + "\",model=\"" + escape(key.second) + "\"",
                     stats.get());
  auto load = [](const std::atomic<uint64_t>& a) {
    return std::to_string(a.load(std::memory_order_relaxed));
  };
  header(out, "pxt_model_calls_total", "Model calls by provider, model and outcome (after retries).",
         "counter");
  for (const auto& [labels, st] : all) {
    out += "pxt_model_calls_total{" + labels + ",outcome=\"ok\"} " + load(st->calls_ok_) + "\n";
    out += "pxt_model_calls_total{" + labels + ",outcome=\"error\"} " + load(st->calls_failed_) + "\n";
  }
  header(out, "pxt_model_retries_total", "Upstream requests tried again (connection errors, 408, 429, 5xx).",
         "counter");
  for (const auto& [labels, st] : all)
    out += "pxt_model_retries_total{" + labels + "} " + load(st->retries_) + "\n";
  header(out, "pxt_model_tokens_total", "Tokens the provider reported in `usage`, by kind.", "counter");
  for (const auto& [labels, st] : all) {
    out += "pxt_model_tokens_total{" + labels + ",kind=\"prompt\"} " + load(st->prompt_tokens_) + "\n";
    out +=
        "pxt_model_tokens_total{" + labels + ",kind=\"completion\"} " + load(st->completion_tokens_) + "\n";
  }
  header(out, "pxt_model_request_duration_seconds", "Duration of each upstream request (every attempt).",
         "histogram");
  for (const auto& [labels, st] : all)
    histogram(out, "pxt_model_request_duration_seconds", labels, ModelStats::kLatencyBuckets, st->latency_,
              st->latency_count_.load(std::memory_order_relaxed),
              static_cast<double>(st->latency_sum_us_.load(std::memory_order_relaxed)) / 1e6);
  header(out, "pxt_model_batch_size", "Inputs per embeddings request sent upstream.", "histogram");
  for (const auto& [labels, st] : all) {
    if (st->batch_count_.load(std::memory_order_relaxed) == 0) continue;
    histogram(out, "pxt_model_batch_size", labels, ModelStats::kBatchBuckets, st->batch_,
              st->batch_count_.load(std::memory_order_relaxed),
              static_cast<double>(st->batch_sum_.load(std::memory_order_relaxed)));
  }
}

}  // namespace pxt::models
