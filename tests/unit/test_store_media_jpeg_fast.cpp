// The JPEG fast path: the resampler is a proper (area-weighted) downscale, and scale_file gives a
// JPEG of exactly the target size, in colour or grey.
#include <doctest/doctest.h>
#include <vips/vips8>

#include <filesystem>

#include "image_test_support.hpp"
#include "store/media/jpeg_fast.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
namespace fs = std::filesystem;

TEST_CASE("resample keeps a flat image flat and averages fine detail away") {
  std::string flat(40 * 30 * 3, '\0');
  for (size_t i = 0; i < flat.size(); ++i)
    flat[i] = static_cast<char>(i % 3 == 0 ? 10 : i % 3 == 1 ? 120 : 250);
  std::string small = jpeg::resample(flat, 40, 30, 3, 17, 9);
  REQUIRE(small.size() == 17u * 9u * 3u);
  for (size_t i = 0; i < small.size(); ++i) {
    CHECK(static_cast<unsigned char>(small[i]) == (i % 3 == 0 ? 10 : i % 3 == 1 ? 120 : 250));
  }
  // A one-pixel checkerboard: point sampling would keep 0s and 255s; a proper downscale gives grey.
  std::string board(64 * 64, '\0');
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      board[static_cast<size_t>(y * 64 + x)] = static_cast<char>((x + y) % 2 ? 255 : 0);
  std::string grey = jpeg::resample(board, 64, 64, 1, 16, 16);
  for (char c : grey) {
    CHECK(static_cast<unsigned char>(c) > 110);
    CHECK(static_cast<unsigned char>(c) < 145);
  }
}

TEST_CASE("scale_file makes a JPEG of the target size, keeping grey images grey") {
  std::string home = test::temp_home("jpegfast");
  fs::path media = fs::path(home) / "media";
  test::make_image(media, "a.jpg", 1000, 600);
  auto r = jpeg::scale_file(media / "a.jpg", [](int w, int h) {
    CHECK(w == 1000);
    CHECK(h == 600);
    return std::pair{100, 60};
  });
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  REQUIRE(r->has_value());
  std::string bytes = **r;
  vips::VImage out = vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  CHECK(out.width() == 100);
  CHECK(out.height() == 60);
  CHECK(out.bands() == 3);
  // make_image paints blue (0, 0, 255): the average stays blue after decode, resample, encode.
  CHECK(out.extract_band(2).avg() > 230);
  CHECK(out.extract_band(0).avg() < 25);

  vips::VImage::new_from_file((media / "a.jpg").c_str())
      .colourspace(VIPS_INTERPRETATION_B_W)
      .write_to_file((media / "g.jpg").c_str());
  auto g = jpeg::scale_file(media / "g.jpg", [](int, int) { return std::pair{37, 41}; });  // also enlarges
  REQUIRE(g.ok());
  REQUIRE(g->has_value());
  vips::VImage grey = vips::VImage::new_from_buffer((*g)->data(), (*g)->size(), "");
  CHECK(grey.width() == 37);
  CHECK(grey.height() == 41);
  CHECK(grey.bands() == 1);

  test::write_file(media, "bad.jpg", "\xff\xd8\xff\xe0 not really");
  auto bad = jpeg::scale_file(media / "bad.jpg", [](int w, int h) { return std::pair{w, h}; });
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->has_value());  // left to libvips, which reports it in its own words
  CHECK_FALSE(jpeg::header_ok(media / "bad.jpg").ok());
  CHECK(*jpeg::header_ok(media / "a.jpg"));
  fs::remove_all(home);
}
