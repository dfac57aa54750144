#include "store/media/image_limits.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace pxt::media {

namespace {

std::atomic<int64_t> g_max_pixels{kDefaultMaxImagePixels};

// 1234567 -> "1,234,567"
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct LogLimit {
  std::mutex mu;
  std::chrono::steady_clock::time_point window_start{};
  int in_window = 0;
  int64_t dropped_in_window = 0;
  std::atomic<int64_t> dropped_total{0};
};

LogLimit& log_limit() {
  static LogLimit l;
  return l;
}

}  // namespace

int64_t max_image_pixels() { return g_max_pixels.load(std::memory_order_relaxed); }

int64_t set_max_image_pixels(int64_t n) { return g_max_pixels.exchange(n < 1 ? 1 : n); }

Result<void> check_image_pixels(int64_t w, int64_t h, std::string_view what) {
  // Both sides are at most 2^31 (libvips and libjpeg use int), so the product fits.
  int64_t pixels = w * h, limit = max_image_pixels();
  if (w > 0 && h > 0 && pixels <= limit) return {};
  if (w <= 0 || h <= 0) {
    return make_error(Errc::invalid_argument, std::string(what) + " has no pixels (" + std::to_string(w) +
                                                  " x " + std::to_string(h) + ")");
  }
  return make_error(Errc::invalid_argument, std::string(what) + " is " + std::to_string(w) + " x " +
                                                std::to_string(h) + " = " + grouped(pixels) +
                                                " pixels, above the limit of " + grouped(limit) +
                                                " (max_image_pixels)");
}

Result<void> max_image_pixels_from_env() {
  const char* v = std::getenv("PXT_MAX_IMAGE_PIXELS");
  if (v == nullptr || *v == '\0') return {};
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || n < 1) {
    return make_error(
        Errc::invalid_argument,
        "PXT_MAX_IMAGE_PIXELS must be a positive whole number of pixels, got '" + std::string(v) + "'");
  }
  set_max_image_pixels(n);
  return {};
}

void rate_limited_log(const char* domain, int level, const char* message, void*) {
  (void)level;
  LogLimit& l = log_limit();
  int64_t dropped_before = 0;
  {
    std::lock_guard lock(l.mu);
    auto now = std::chrono::steady_clock::now();
    if (now - l.window_start >= std::chrono::seconds(kLogWindowSeconds)) {
      dropped_before = l.dropped_in_window;
      l.window_start = now;
      l.in_window = 0;
      l.dropped_in_window = 0;
    }
    if (l.in_window >= kLogBurst) {
      ++l.dropped_in_window;
      l.dropped_total.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ++l.in_window;
  }
  if (dropped_before > 0) {
    std::fprintf(stderr, "pxt: warning: %lld more library messages were dropped (at most %d per %d s)\n",
                 static_cast<long long>(dropped_before), kLogBurst, kLogWindowSeconds);
  }
  std::fprintf(stderr, "pxt: warning: %s: %s\n", domain != nullptr ? domain : "library",
               message != nullptr ? message : "");
}

int64_t log_messages_dropped() { return log_limit().dropped_total.load(std::memory_order_relaxed); }

}  // namespace pxt::media
