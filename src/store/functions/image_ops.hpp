#pragma once
// Pixel operations of the image functions that follow Pillow's definitions exactly, since
// Pixeltable's image functions are Pillow's methods: rotate (nearest neighbour around the centre,
// the canvas kept, corners filled with zeros), the conversions between the modes L, LA, RGB and
// RGBA (ITU-R 601-2 luma in Pillow's integer arithmetic; dropping alpha leaves colours as they
// are), crop boxes (left, upper, right, lower; outside the image is zeros), thumbnail sizes (its
// aspect-ratio rounding) and resizing (bicubic, alpha premultiplied as Pillow does).
// Images are 8-bit, interleaved, 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) bands.
// Pure functions, thread-safe. tests/unit/test_store_functions_image_ops.cpp compares them with
// outputs of Debian's python3-pil.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pxt::imageops {

struct Pixels {
  int width = 0, height = 0, bands = 0;
  std::string data;  // width * height * bands bytes, rows top to bottom
  size_t at(int x, int y) const {
    return (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) *
           static_cast<size_t>(bands);
  }
};

// Pillow's Image.rotate(degrees, expand=expand): counter-clockwise about the centre. Without
// expand the result keeps the input's size; with it, the size that holds the whole turned image.
// Multiples of 90 degrees are exact transpositions.
Pixels rotate(const Pixels& in, double degrees, bool expand);
// The size rotate(in, degrees, expand) will have, without computing it.
std::pair<int64_t, int64_t> rotated_size(int width, int height, double degrees, bool expand);

// Pillow's Image.convert(mode) between "L", "LA", "RGB" and "RGBA". nullopt for another mode.
std::optional<Pixels> convert(const Pixels& in, std::string_view mode);
// The number of bands of a supported mode, 0 for others.
int mode_bands(std::string_view mode);

// Pillow's Image.crop((left, upper, right, lower)): right - left by lower - upper pixels; the
// parts of the box outside the image are zeros. Requires right >= left and lower >= upper.
Pixels crop(const Pixels& in, int64_t left, int64_t upper, int64_t right, int64_t lower);

// Pillow's Image.thumbnail((max_w, max_h)) size: the largest size within the box with the
// image's aspect ratio (rounded as Pillow rounds it), never larger than the image.
std::pair<int, int> thumbnail_size(int width, int height, int max_w, int max_h);

// Pillow's Image.resize((w, h)) (bicubic; an alpha band is premultiplied while resampling).
Pixels resize(const Pixels& in, int w, int h);

}  // namespace pxt::imageops
