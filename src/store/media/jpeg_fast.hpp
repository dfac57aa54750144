#pragma once
// The JPEG fast path of the image functions and of upload validation, on libjpeg-turbo's
// TurboJPEG API (loaded on first use: store/media/libs.hpp) instead of libvips. For a 2 MP JPEG
// thumbnail libvips spent most of its time in its own machinery (GObject operation building,
// hash tables, runtime code generation by orc), not in libjpeg: the fast path decodes with the
// DCT scaled to the smallest size that still covers the target (1/8 .. 1 in eighths), resamples
// once with an antialiasing bicubic filter (as Pillow's thumbnail does), and encodes at quality
// 75 (libvips' and Pillow's default) with 4:2:0 chroma.
//
// Thread-safety: every function may run on many threads at once (per-thread TurboJPEG handles).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "util/result.hpp"

namespace pxt::jpeg {

// The output size for a source of w x h pixels.
using TargetSize = std::function<std::pair<int, int>(int w, int h)>;

// The JPEG file src scaled to target(w, h), encoded as a JPEG. Returns nullopt when the fast path
// does not apply (libturbojpeg missing, a header it cannot read, a CMYK/YCCK JPEG), so the caller
// uses libvips and its error messages; invalid_argument when the pixels cannot be decoded; io
// when the file cannot be read.
Result<std::optional<std::string>> scale_file(const std::filesystem::path& src, const TargetSize& target);

// Verifies a JPEG before it is stored: its header, its size against max_image_pixels
// (store/media/image_limits.hpp) and its entropy-coded data, decoded at the smallest DCT scale
// (1/8: the inverse DCT does a fraction of its work, the whole scan is still read) with libjpeg's
// warnings treated as errors, so a corrupt or truncated scan is refused. Returns false when
// libturbojpeg is missing (the caller checks with libvips); invalid_argument naming the problem.
Result<bool> verify(const std::filesystem::path& file);

// The JPEG's header parses and gives a non-empty image. Returns false when libturbojpeg is
// missing (the caller checks with libvips instead); invalid_argument when the header is bad.
Result<bool> header_ok(const std::filesystem::path& file);

// Resamples an 8-bit interleaved image (bands 1..4) of sw x sh to dw x dh with a bicubic kernel
// (a = -0.5) widened by the scale factor when shrinking, so every source pixel contributes
// (a proper downscale, not point sampling). Exposed for tests.
std::string resample(const std::string& src, int sw, int sh, int bands, int dw, int dh);

}  // namespace pxt::jpeg
