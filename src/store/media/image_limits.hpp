#pragma once
// The limits that keep an image from costing more than it is worth: a 74-byte PNG can claim
// 100000 x 100000 pixels, and a 1.2 MB bilevel PNG can decode to 1.25 GB. Every image pxt decodes
// or produces is checked against max_image_pixels() from its header, before any pixel is read:
// uploads and data: URIs (422), image function inputs and outputs (the write fails naming the
// function and the size).
//
// Thread-safety: the setting is process-wide and atomic; set it at start-up (pxt serve's
// [service] max_image_pixels, or PXT_MAX_IMAGE_PIXELS for any command).
#include <cstdint>
#include <string_view>

#include "util/result.hpp"

namespace pxt::media {

// Pillow raises DecompressionBombError above twice its MAX_IMAGE_PIXELS (89,478,485), so what
// Pixeltable accepts, pxt accepts: 178,956,970 pixels (about 13,377 x 13,377).
inline constexpr int64_t kDefaultMaxImagePixels = 2 * 89478485;

int64_t max_image_pixels();
// n >= 1. Returns the previous value (tests restore it).
int64_t set_max_image_pixels(int64_t n);

// Whether a w x h image is within the limit. Error: invalid_argument
// "<what> is 100000 x 100000 = 10,000,000,000 pixels, above the limit of 178,956,970 (max_image_pixels)".
Result<void> check_image_pixels(int64_t w, int64_t h, std::string_view what);

// Reads PXT_MAX_IMAGE_PIXELS when set. Error: invalid_argument naming the bad value.
Result<void> max_image_pixels_from_env();

// Routes GLib log messages of the libraries pxt loads (libvips' "VIPS-WARNING" lines, one per
// undecodable row of a corrupt image: 100,000 lines for one request) through a rate limit: at most
// kLogBurst lines per kLogWindowSeconds, then one line saying how many were dropped. Called once
// libvips is loaded (store/media/libs.cpp) with its g_log_set_default_handler.
inline constexpr int kLogBurst = 20;
inline constexpr int kLogWindowSeconds = 10;
// The handler (GLogFunc's signature); exposed for tests. Writes to stderr.
void rate_limited_log(const char* domain, int level, const char* message, void* unused);
// How many messages the rate limit dropped since the process started.
int64_t log_messages_dropped();

}  // namespace pxt::media
