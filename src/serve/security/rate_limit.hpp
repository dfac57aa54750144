#pragma once
// Per-client rate limit ([service] rate_limit = "100/s"): a token bucket per client address that
// holds up to N requests and refills at N per period. The table of clients is bounded: past
// max_clients, the client seen least recently is forgotten (a forgotten client starts with a full
// bucket, which is what it would have after being idle anyway).
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/result.hpp"

namespace pxt {

struct RateSpec {
  double per_second = 0;  // refill rate
  double burst = 0;       // bucket size (N of "N/period")
};

// "100/s", "6000/m" or "10/h" (N >= 1). Errors (invalid_argument) quote the text and show the form.
Result<RateSpec> parse_rate_limit(std::string_view text);

struct RateDecision {
  bool allowed = true;
  int retry_after_s = 0;  // when refused: whole seconds until one request is allowed again (>= 1)
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(RateSpec spec, size_t max_clients = 65536);

  // Takes one request from the client's bucket. Thread-safe (sharded locks); O(1).
  RateDecision take(std::string_view client, Clock::time_point now = Clock::now());
  // Clients currently tracked (for tests and metrics).
  size_t tracked() const;

 private:
  struct Bucket {
    std::string client;
    double tokens = 0;
    Clock::time_point last{};
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Bucket> lru;                                                    // most recently seen first
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;  // keys view lru's strings
  };
  RateSpec spec_;
  size_t per_shard_max_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace pxt
