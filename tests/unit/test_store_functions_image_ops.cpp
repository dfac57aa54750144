// Issue 17, point 6: the image functions follow Pillow (Pixeltable's image functions are Pillow's
// methods). Each case of tests/fixtures/pil/cases.tsv was run by Debian's python3-pil
// (tests/fixtures/pil/make_references.py); the same operation here must give the same pixels:
// exactly for rotate, convert, crop and resize (the same integer arithmetic: resize is Pillow's
// two-pass bicubic in fixed point), within a small tolerance for thumbnail (Pillow box-reduces
// first when it shrinks by more than 4x; pxt resamples in one step).
#include <doctest/doctest.h>

#include <vips/vips8>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "store/functions/image_ops.hpp"

using namespace pxt;
using imageops::Pixels;

namespace {

std::string fixtures() { return std::string(PXT_SOURCE_DIR) + "/tests/fixtures/pil/"; }

Pixels load(const std::string& file) {
  VIPS_INIT("pxt_unit");
  vips::VImage img = vips::VImage::new_from_file((fixtures() + file).c_str());
  size_t size = 0;
  void* mem = img.write_to_memory(&size);
  Pixels p{img.width(), img.height(), img.bands(), std::string(static_cast<char*>(mem), size)};
  g_free(mem);
  return p;
}

struct Case {
  std::string name, input, op;
  std::vector<std::string> args;
};

std::vector<Case> cases() {
  std::ifstream f(fixtures() + "cases.tsv");
  std::vector<Case> out;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    Case c;
    std::string args, a;
    std::getline(in, c.name, '\t');
    std::getline(in, c.input, '\t');
    std::getline(in, c.op, '\t');
    std::getline(in, args);
    std::istringstream as(args);
    while (std::getline(as, a, ',')) c.args.push_back(a);
    out.push_back(c);
  }
  return out;
}

Pixels run(const Case& c, const Pixels& in) {
  auto num = [&](size_t i) { return std::strtod(c.args.at(i).c_str(), nullptr); };
  auto whole = [&](size_t i) { return std::strtoll(c.args.at(i).c_str(), nullptr, 10); };
  if (c.op == "rotate") return imageops::rotate(in, num(0), false);
  if (c.op == "rotate_expand") return imageops::rotate(in, num(0), true);
  if (c.op == "convert") return imageops::convert(in, c.args.at(0)).value();
  if (c.op == "crop") return imageops::crop(in, whole(0), whole(1), whole(2), whole(3));
  if (c.op == "thumbnail") {
    auto [w, h] = imageops::thumbnail_size(in.width, in.height, int(whole(0)), int(whole(1)));
    return imageops::resize(in, w, h);
  }
  if (c.op == "resize") return imageops::resize(in, int(whole(0)), int(whole(1)));
  FAIL("unknown operation " << c.op);
  return in;
}

}  // namespace

TEST_CASE("image operations give Pillow's pixels (references from python3-pil)") {
  auto all = cases();
  REQUIRE(all.size() >= 25);
  for (const Case& c : all) {
    CAPTURE(c.name);
    Pixels in = load("in_" + c.input + ".png");
    Pixels want = load("out_" + c.name + ".png");
    Pixels got = run(c, in);
    REQUIRE(got.width == want.width);
    REQUIRE(got.height == want.height);
    REQUIRE(got.bands == want.bands);
    REQUIRE(got.data.size() == want.data.size());
    int max_diff = 0;
    double sum = 0;
    size_t differing = 0;
    for (size_t i = 0; i < got.data.size(); ++i) {
      int d = std::abs(int(static_cast<unsigned char>(got.data[i])) -
                       int(static_cast<unsigned char>(want.data[i])));
      max_diff = std::max(max_diff, d);
      sum += d;
      differing += d != 0;
    }
    double mean = sum / double(got.data.size());
    INFO("max difference " << max_diff << ", mean " << mean << ", differing bytes " << differing);
    if (c.op != "thumbnail") {
      CHECK(max_diff == 0);
    } else {
      // Pillow's thumbnail first box-reduces by an integer factor when it shrinks by 4x or more
      // (reducing_gap): pxt resamples in one step. The same size; pixels at most a level apart
      // (exactly equal when there is no reduction).
      CHECK(max_diff <= 1);
      CHECK(mean <= 0.5);
    }
  }
}

TEST_CASE("rotated sizes and thumbnail sizes follow Pillow's rounding") {
  // Pixeltable's rotate(90) on a 160 x 213 image keeps 160 x 213.
  CHECK(imageops::rotated_size(160, 213, 90, false) == std::pair<int64_t, int64_t>{160, 213});
  CHECK(imageops::rotated_size(160, 213, 90, true) == std::pair<int64_t, int64_t>{213, 160});
  CHECK(imageops::rotated_size(160, 213, -270, true) == std::pair<int64_t, int64_t>{213, 160});
  CHECK(imageops::rotated_size(100, 100, 45, true) == std::pair<int64_t, int64_t>{142, 142});
  CHECK(imageops::thumbnail_size(400, 300, 100, 100) == std::pair<int, int>{100, 75});
  CHECK(imageops::thumbnail_size(300, 400, 100, 100) == std::pair<int, int>{75, 100});
  CHECK(imageops::thumbnail_size(40, 30, 100, 100) == std::pair<int, int>{40, 30});
  CHECK(imageops::thumbnail_size(1000, 1, 10, 10) == std::pair<int, int>{10, 1});
  CHECK(!imageops::convert(Pixels{1, 1, 3, "abc"}, "CMYK").has_value());
}
