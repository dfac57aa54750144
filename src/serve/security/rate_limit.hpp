#pragma once
// Per-client rate limit ([service] rate_limit = "100/s"): a token bucket per client address that
// holds up to N requests and refills at N per period. The table of clients is bounded: past
// max_clients, the client seen least recently is forgotten (a forgotten client starts with a full
// bucket, which is what it would have after being idle anyway).
//
// Shared ([service] rate_limit_shared = true, on a PostgreSQL store): each client's bucket lives
// in the store, one for every process of the service. A round trip per request would cost most of
// a lookup's throughput, so a process takes tokens in chunks (a tenth of the bucket, at least 1)
// and spends them locally; tokens it holds unspent longer than a chunk takes to refill are
// dropped. So processes never allow more than the limit together, and a client whose requests
// are spread over N processes may be refused up to N chunks early. When the store cannot
// answer, the process falls back to a bucket of its own (logged once).
#include <atomic>
#include <chrono>
#include <functional>
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

// The shared bucket of a client: takes up to `want` tokens; returns {taken, seconds until one is
// available when none was}. Called without the limiter's locks held.
struct SharedTake {
  int64_t taken = 0;
  double wait_s = 0;
};
using SharedBucket = std::function<Result<SharedTake>(std::string_view client, int64_t want)>;

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(RateSpec spec, size_t max_clients = 65536);
  // Shared buckets (see above); `shared` must be thread-safe.
  RateLimiter(RateSpec spec, SharedBucket shared, size_t max_clients = 65536);

  // Takes one request from the client's bucket. Thread-safe (sharded locks); O(1), plus one call
  // of the shared bucket per chunk when shared.
  RateDecision take(std::string_view client, Clock::time_point now = Clock::now());
  // Tokens taken from the shared bucket per call.
  int64_t chunk() const { return chunk_; }
  // Clients currently tracked (for tests and metrics).
  size_t tracked() const;

 private:
  struct Bucket {
    std::string client;
    double tokens = 0;         // shared: tokens taken from the store, not yet spent
    Clock::time_point last{};  // shared: when they were taken
    bool fetching = false;     // shared: a chunk is being taken for this client
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Bucket> lru;                                                    // most recently seen first
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;  // keys view lru's strings
  };
  Bucket& find(Shard& s, std::string_view client, Clock::time_point now, double fresh_tokens);
  RateDecision take_shared(std::string_view client, Clock::time_point now);

  RateSpec spec_;
  size_t per_shard_max_;
  std::vector<std::unique_ptr<Shard>> shards_;
  SharedBucket shared_;                    // null: local buckets only
  int64_t chunk_ = 1;                      // tokens taken from the shared bucket at a time
  Clock::duration hold_{};                 // how long taken tokens may be spent
  std::unique_ptr<RateLimiter> fallback_;  // while the shared bucket cannot answer
  std::atomic<bool> fallback_logged_{false};
};

}  // namespace pxt
