// One provider's HTTP client: connection pool, limits, retries (see client.hpp).
#include "store/models/client.hpp"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

#include "store/models/metrics.hpp"
#include "util/blocking.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt::models {

namespace {

using Clock = std::chrono::steady_clock;

// std::chrono duration from seconds (fractions kept to the microsecond).
Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::max(0.0, s)));
}

double backoff_s(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  double full = std::min(16.0, 0.25 * std::pow(2.0, attempt));
  return std::uniform_real_distribution<double>(full / 2, full)(rng);
}

bool retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }

std::string header(const httplib::Headers& h, const char* name) {
  // httplib compares header names case-insensitively.
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

int64_t parse_count(const std::string& s) {
  if (s.empty()) return -1;
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || n < 0) return -1;
  return n;
}

// The upstream's own words about a failure: OpenAI's {"error": {"message": ...}} or the body's
// start, one line, at most 300 characters.
std::string upstream_words(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  std::string text;
  if (!d.HasParseError() && d.IsObject()) {
    const rapidjson::Value* e = member(d, "error");
    if (e && e->IsObject()) {
      const rapidjson::Value* m = member(*e, "message");
      if (m && m->IsString()) text = m->GetString();
    } else if (e && e->IsString()) {
      text = e->GetString();
    } else if (const rapidjson::Value* m = member(d, "detail"); m && m->IsString()) {
      text = m->GetString();
    }
  }
  if (text.empty()) text = body;
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return std::string(trim(text));
}

}  // namespace

double parse_reset_duration(std::string_view s) {
  s = trim(s);
  if (s.empty()) return -1;
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return -1;
    double n = std::strtod(std::string(s.substr(start, i - start)).c_str(), nullptr);
    size_t u = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(u, i - u);
    if (unit.empty()) {
      if (any || i != s.size()) return -1;
      return n;  // plain seconds
    }
    if (unit == "ms") {
      total += n / 1000;
    } else if (unit == "s") {
      total += n;
    } else if (unit == "m") {
      total += n * 60;
    } else if (unit == "h") {
      total += n * 3600;
    } else {
      return -1;
    }
    any = true;
  }
  return total;
}

double parse_retry_after(std::string_view retry_after_ms, std::string_view retry_after) {
  if (!trim(retry_after_ms).empty()) {
    char* end = nullptr;
    std::string ms(trim(retry_after_ms));
    double v = std::strtod(ms.c_str(), &end);
    if (end != ms.c_str() && *end == '\0' && v >= 0) return v / 1000;
  }
  std::string ra(trim(retry_after));
  if (ra.empty()) return -1;
  char* end = nullptr;
  double v = std::strtod(ra.c_str(), &end);
  if (end != ra.c_str() && *end == '\0' && v >= 0) return v;
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  if (strptime(ra.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return -1;
  double wait = std::difftime(timegm(&tm), std::time(nullptr));
  return std::max(0.0, wait);
}

Provider::Provider(ProviderConfig config) : config_(std::move(config)) {
  std::string_view url = config_.base_url;
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  origin_ = std::string(url.substr(0, path));
  prefix_ = path == std::string_view::npos ? std::string() : std::string(url.substr(path));
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

Provider::~Provider() = default;

std::unique_ptr<httplib::Client> Provider::take_client() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<httplib::Client>(origin_);
  c->set_keep_alive(true);
  // Without it, a request body sent after its headers waits for the delayed ACK (~40 ms).
  c->set_tcp_nodelay(true);
  auto whole = std::chrono::duration<double>(config_.timeout_s);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(whole).count();
  auto connect_us = std::min<int64_t>(us, 10'000'000);
  c->set_connection_timeout(connect_us / 1'000'000, connect_us % 1'000'000);
  c->set_read_timeout(us / 1'000'000, us % 1'000'000);
  c->set_write_timeout(us / 1'000'000, us % 1'000'000);
  if (!config_.api_key.empty()) c->set_bearer_token_auth(config_.api_key);
  c->set_follow_location(false);
  return c;
}

void Provider::return_client(std::unique_ptr<httplib::Client> c) {
  std::lock_guard lock(pool_mu_);
  if (static_cast<int>(idle_.size()) < config_.max_concurrency) idle_.push_back(std::move(c));
}

void Provider::acquire_slot() {
  std::unique_lock lock(slot_mu_);
  slot_cv_.wait(lock, [&] { return slots_used_ < config_.max_concurrency; });
  ++slots_used_;
  in_flight_.fetch_add(1, std::memory_order_relaxed);
}

void Provider::release_slot() {
  {
    std::lock_guard lock(slot_mu_);
    --slots_used_;
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
  }
  slot_cv_.notify_one();
}

void Provider::wait_for_budget() {
  while (true) {
    Clock::time_point until{};
    {
      std::lock_guard lock(budget_mu_);
      Clock::time_point now = Clock::now();
      // The provider's announced budget: keep 5% of a known limit free (as Pixeltable does), and
      // wait for its reset once the rest is spent by answers seen and requests sent since.
      auto spent = [&](int64_t limit, int64_t remaining, int extra) {
        if (remaining < 0) return false;
        int64_t reserve = limit > 0 ? limit / 20 : 0;
        return remaining - extra <= reserve;
      };
      if (spent(req_limit_, req_remaining_, sent_since_headers_) && now < req_reset_) until = req_reset_;
      if (spent(tok_limit_, tok_remaining_, 0) && now < tok_reset_) until = std::max(until, tok_reset_);
      if (until == Clock::time_point{} && config_.rpm > 0) {
        // GCRA: requests spaced 60/rpm s apart, with a burst of up to max_concurrency.
        auto interval = seconds(60.0 / config_.rpm);
        auto burst = interval * (std::min(config_.rpm, config_.max_concurrency) - 1);
        Clock::time_point tat = std::max(rpm_tat_, now);
        if (tat - burst > now) {
          until = tat - burst;
        } else {
          rpm_tat_ = tat + interval;
        }
      }
      if (until == Clock::time_point{}) {
        ++sent_since_headers_;
        return;
      }
    }
    std::this_thread::sleep_until(until);
    std::lock_guard lock(budget_mu_);
    // The reset passed: what the headers said no longer holds until the next answer says again.
    if (Clock::now() >= req_reset_) req_remaining_ = -1;
    if (Clock::now() >= tok_reset_) tok_remaining_ = -1;
  }
}

void Provider::note_headers(const void* raw) {
  const auto& h = *static_cast<const httplib::Headers*>(raw);
  std::lock_guard lock(budget_mu_);
  Clock::time_point now = Clock::now();
  auto update = [&](const char* kind, int64_t& limit, int64_t& remaining, Clock::time_point& reset) {
    std::string suffix = kind;
    int64_t rem = parse_count(header(h, ("x-ratelimit-remaining-" + suffix).c_str()));
    if (rem < 0) return false;
    remaining = rem;
    int64_t lim = parse_count(header(h, ("x-ratelimit-limit-" + suffix).c_str()));
    if (lim >= 0) limit = lim;
    double r = parse_reset_duration(header(h, ("x-ratelimit-reset-" + suffix).c_str()));
    reset = now + seconds(r < 0 ? 1.0 : r);
    return true;
  };
  if (update("requests", req_limit_, req_remaining_, req_reset_)) sent_since_headers_ = 0;
  update("tokens", tok_limit_, tok_remaining_, tok_reset_);
}

Provider::Slot Provider::reserve() {
  wait_for_budget();
  acquire_slot();
  return Slot(this);
}

Provider::Attempt Provider::send(std::string_view path, const std::string* body) {
  Attempt a;
  auto client = take_client();
  std::string full = prefix_ + std::string(path);
  auto start = Clock::now();
  httplib::Result res = body ? client->Post(full, *body, "application/json") : client->Get(full);
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (!res) {
    httplib::Error e = res.error();
    a.transport = httplib::to_string(e);
    a.timed_out =
        e == httplib::Error::ConnectionTimeout ||
        ((e == httplib::Error::Read || e == httplib::Error::Write) && elapsed >= config_.timeout_s * 0.95);
    return a;  // the client's connection is in an unknown state: drop it
  }
  a.status = res->status;
  a.body = std::move(res->body);
  note_headers(&res->headers);
  a.retry_after_s =
      parse_retry_after(header(res->headers, "retry-after-ms"), header(res->headers, "retry-after"));
  if (header(res->headers, "Connection") != "close") return_client(std::move(client));
  return a;
}

Result<Reply> Provider::post_json(std::string_view path, const std::string& body, std::string_view model,
                                  Slot first) {
  ModelStats& stats = model_stats(config_.name, model);
  about_to_block();  // the answer takes an upstream round trip at least
  Reply reply;
  for (int attempt = 0;; ++attempt) {
    Slot slot = first.held() ? first.take() : reserve();
    auto start = Clock::now();
    Attempt a = send(path, &body);
    slot.release();
    stats.observe_latency(std::chrono::duration<double>(Clock::now() - start).count());
    bool ok = a.status >= 200 && a.status < 300;
    if (ok) {
      reply.status = a.status;
      reply.body = std::move(a.body);
      stats.count_call(true);
      return reply;
    }
    bool transient =
        a.status == 0 ? a.transport.find("SSL") == std::string::npos : retryable_status(a.status);
    double wait = a.retry_after_s >= 0 ? a.retry_after_s : backoff_s(attempt);
    if (transient && attempt < config_.max_retries && wait <= kMaxHonouredWaitS) {
      stats.count_retry();
      ++reply.retries;
      std::this_thread::sleep_for(seconds(wait));
      continue;
    }
    stats.count_call(false);
    std::string tries = attempt == 0 ? "" : " after " + std::to_string(attempt + 1) + " attempts";
    if (a.status == 0) {
      Failure f = a.timed_out ? Failure::timeout : Failure::provider_error;
      std::string what = a.timed_out
                             ? "no answer within timeout_s = " + std::to_string(int(config_.timeout_s)) + " s"
                             : "request to " + config_.base_url + " failed (" + a.transport + ")";
      return model_error(f, config_.name, model, what + tries);
    }
    Failure f = failure_for_status(a.status);
    std::string words = redact(upstream_words(a.body), config_.api_key);
    std::string what =
        "upstream answered " + std::to_string(a.status) + tries + (words.empty() ? "" : ": " + words);
    double retry_after =
        a.retry_after_s >= 0 ? a.retry_after_s : (f == Failure::rate_limited ? backoff_s(attempt) : -1);
    return model_error(f, config_.name, model, what, retry_after, a.status);
  }
}

Result<Reply> Provider::get(std::string_view path) {
  Slot slot = reserve();
  Attempt a = send(path, nullptr);
  slot.release();
  if (a.status >= 200 && a.status < 300) return Reply{a.status, std::move(a.body), 0};
  if (a.status == 0) {
    Failure f = a.timed_out ? Failure::timeout : Failure::provider_error;
    return model_error(
        f, config_.name, "",
        "request to " + config_.base_url + std::string(path) + " failed (" + a.transport + ")");
  }
  std::string words = redact(upstream_words(a.body), config_.api_key);
  return model_error(failure_for_status(a.status), config_.name, "",
                     "upstream answered " + std::to_string(a.status) + (words.empty() ? "" : ": " + words),
                     a.retry_after_s, a.status);
}

}  // namespace pxt::models
