#include "serve/security/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>

namespace pxt {

namespace {
constexpr size_t kShards = 16;
}

Result<RateSpec> parse_rate_limit(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::invalid_argument, "'" + std::string(text) +
                                                  "' is not a rate: expected N/s, N/m or N/h with N >= 1 "
                                                  "(e.g. \"100/s\")");
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return bad();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + slash, n);
  if (ec != std::errc() || end != text.data() + slash || n < 1) return bad();
  std::string_view unit = text.substr(slash + 1);
  double seconds = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  if (seconds == 0) return bad();
  return RateSpec{static_cast<double>(n) / seconds, static_cast<double>(n)};
}

RateLimiter::RateLimiter(RateSpec spec, size_t max_clients)
    : spec_(spec), per_shard_max_(std::max<size_t>(1, max_clients / kShards)) {
  for (size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

RateLimiter::RateLimiter(RateSpec spec, SharedBucket shared, size_t max_clients)
    : RateLimiter(spec, max_clients) {
  shared_ = std::move(shared);
  chunk_ = std::max<int64_t>(1, static_cast<int64_t>(spec.burst / 10));
  // Unspent tokens go back to nobody: held no longer than the bucket takes to refill them, so a
  // process cannot sit on a chunk while the client's other requests are refused elsewhere.
  double hold_s = std::clamp(static_cast<double>(chunk_) / spec.per_second, 0.05, 1.0);
  hold_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(hold_s));
  fallback_ = std::make_unique<RateLimiter>(spec, max_clients);
}

RateLimiter::Bucket& RateLimiter::find(Shard& s, std::string_view client, Clock::time_point now,
                                       double fresh_tokens) {
  auto it = s.index.find(client);
  if (it != s.index.end()) {
    s.lru.splice(s.lru.begin(), s.lru, it->second);  // keeps iterators and string addresses valid
    return s.lru.front();
  }
  if (s.index.size() >= per_shard_max_) {
    s.index.erase(s.lru.back().client);
    s.lru.pop_back();
  }
  s.lru.push_front(Bucket{std::string(client), fresh_tokens, now});
  Bucket& b = s.lru.front();
  s.index.emplace(b.client, s.lru.begin());
  return b;
}

RateDecision RateLimiter::take_shared(std::string_view client, Clock::time_point now) {
  Shard& s = *shards_[std::hash<std::string_view>{}(client) % kShards];
  // One chunk at a time per client: the client's other requests meanwhile take a token each, so
  // a burst of concurrent requests does not take a chunk each (and empty the shared bucket).
  int64_t want = 1;
  bool fetcher = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    Bucket& b = find(s, client, now, 0);
    if (now - b.last > hold_) b.tokens = 0;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return {};
    }
    if (!b.fetching) {
      b.fetching = fetcher = true;
      want = chunk_;
    }
  }
  auto got = shared_(client, want);
  if (fetcher) {
    std::lock_guard<std::mutex> lock(s.mu);
    find(s, client, now, 0).fetching = false;
  }
  if (!got) {
    if (!fallback_logged_.exchange(true))
      std::fprintf(stderr,
                   "pxt: the shared rate limit cannot be read (%s): limiting per process until it can\n",
                   got.error().message.c_str());
    return fallback_->take(client, now);
  }
  fallback_logged_ = false;
  if (got->taken <= 0)
    return RateDecision{false, std::max(1, static_cast<int>(std::ceil(std::max(0.0, got->wait_s))))};
  std::lock_guard<std::mutex> lock(s.mu);
  Bucket& b = find(s, client, now, 0);
  if (now - b.last > hold_) b.tokens = 0;
  b.tokens += static_cast<double>(got->taken - 1);  // one is this request's
  b.last = now;
  return {};
}

RateDecision RateLimiter::take(std::string_view client, Clock::time_point now) {
  if (shared_) return take_shared(client, now);
  Shard& s = *shards_[std::hash<std::string_view>{}(client) % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  bool known = s.index.find(client) != s.index.end();
  Bucket* b = &find(s, client, now, spec_.burst);
  if (known) {
    double elapsed = std::chrono::duration<double>(now - b->last).count();
    if (elapsed > 0) b->tokens = std::min(spec_.burst, b->tokens + elapsed * spec_.per_second);
    b->last = now;
  }
  if (b->tokens >= 1) {
    b->tokens -= 1;
    return {};
  }
  double wait = (1 - b->tokens) / spec_.per_second;
  return RateDecision{false, std::max(1, static_cast<int>(std::ceil(wait)))};
}

size_t RateLimiter::tracked() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->index.size();
  }
  return n;
}

}  // namespace pxt
