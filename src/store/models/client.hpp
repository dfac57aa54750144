#pragma once
// The HTTP client of one model provider (cpp-httplib, TLS through OpenSSL): a pool of keep-alive
// connections, at most max_concurrency requests in flight, the rpm cap, the provider's own
// x-ratelimit-* headers, and retries of transient failures.
//
// Retries: connection errors, timeouts, 408, 429 and 5xx are tried again up to max_retries times,
// after the provider's retry-after-ms / retry-after when given (a wait longer than kMaxHonouredWaitS
// is not slept: the call fails at once with that retry_after, for the client to come back), else
// after an exponential backoff with jitter (250 ms doubling, capped at 16 s, each wait drawn between
// half and all of it). Other 4xx answers are final.
//
// Errors (model_error(), store/models/errors.hpp) carry Pixeltable's provider error codes, the
// provider, the model and the upstream status, and never the API key.
//
// Thread-safety: every method may be called from any number of threads at once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/models/errors.hpp"
#include "store/models/provider.hpp"

namespace httplib {
class Client;
}

namespace pxt::models {

inline constexpr double kMaxHonouredWaitS = 30;

struct Reply {
  int status = 0;
  std::string body;
  int retries = 0;  // attempts after the first
};

class Provider {
 public:
  explicit Provider(ProviderConfig config);
  ~Provider();
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  const ProviderConfig& config() const { return config_; }

  // Permission to send one request: the rate budget waited for and one of max_concurrency slots
  // held until destroyed (or used by post_json).
  class Slot {
   public:
    Slot() = default;
    explicit Slot(Provider* p) : p_(p) {}
    Slot(Slot&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (p_) p_->release_slot();
    }
    bool held() const { return p_ != nullptr; }
    // The slot, leaving this one empty (a retry loop takes its first slot from here).
    Slot take() {
      Provider* p = p_;
      p_ = nullptr;
      return Slot(p);
    }
    void release() {
      if (p_) p_->release_slot();
      p_ = nullptr;
    }

   private:
    Provider* p_ = nullptr;
  };
  // Blocks until a request may be sent (rpm cap, announced limits, a free slot).
  Slot reserve();

  // POSTs the JSON `body` to base_url + path on behalf of `model`, within the provider's limits,
  // retrying transient failures; the first try uses `first` when it holds a slot. Returns the 2xx
  // reply; otherwise an Error from model_error().
  Result<Reply> post_json(std::string_view path, const std::string& body, std::string_view model, Slot first);
  Result<Reply> post_json(std::string_view path, const std::string& body, std::string_view model) {
    return post_json(path, body, model, Slot());
  }
  // GETs base_url + path once, without retries (pxt models check). Non-2xx answers are errors too.
  Result<Reply> get(std::string_view path);

  // Requests in flight now (for tests and the batcher's choice to wait).
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  struct Attempt {
    int status = 0;  // 0: no answer (transport failure)
    std::string body;
    std::string transport;  // what failed when status is 0
    bool timed_out = false;
    double retry_after_s = -1;  // from the answer's headers; -1: none
  };
  Attempt send(std::string_view path, const std::string* body);
  void acquire_slot();
  void release_slot();
  // Waits for the rpm cap and the provider's announced limits.
  void wait_for_budget();
  void note_headers(const void* headers);  // httplib::Headers
  std::unique_ptr<httplib::Client> take_client();
  void return_client(std::unique_ptr<httplib::Client> c);

  ProviderConfig config_;
  std::string origin_;  // scheme://host[:port]
  std::string prefix_;  // path of base_url, e.g. "/v1"

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;

  std::mutex slot_mu_;
  std::condition_variable slot_cv_;
  int slots_used_ = 0;
  std::atomic<int> in_flight_{0};

  // Rate budget (rpm cap and x-ratelimit-* headers), under budget_mu_.
  using Clock = std::chrono::steady_clock;
  std::mutex budget_mu_;
  Clock::time_point rpm_tat_{};                  // GCRA theoretical arrival time
  int64_t req_limit_ = -1, req_remaining_ = -1;  // -1: unknown
  Clock::time_point req_reset_{};
  int64_t tok_limit_ = -1, tok_remaining_ = -1;
  Clock::time_point tok_reset_{};
  int sent_since_headers_ = 0;
};

// Parses a rate-limit reset ("1s", "6m0s", "20ms", "1m30.5s", or plain seconds) into seconds; -1
// when it is not one. Exposed for tests.
double parse_reset_duration(std::string_view s);
// Parses retry-after-ms / retry-after values into seconds (-1 when absent or malformed; an HTTP date
// counts from now). Exposed for tests.
double parse_retry_after(std::string_view retry_after_ms, std::string_view retry_after);

}  // namespace pxt::models
