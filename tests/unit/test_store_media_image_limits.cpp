// Issue 18, point 5: image bombs. The pixel limit is checked from sizes alone, the default is
// Pillow's DecompressionBombError threshold, and GLib's log messages (libvips' VIPS-WARNING
// lines, one per bad row of a corrupt image) are rate limited.
#include <doctest/doctest.h>

#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "image_test_support.hpp"
#include "store/functions/context.hpp"
#include "store/functions/registry.hpp"
#include "store/media/image_limits.hpp"
#include "store/media/libs.hpp"
#include "store/media/media.hpp"

using namespace pxt;

TEST_CASE("the pixel limit: Pillow's threshold by default, checked from the size alone") {
  CHECK(media::max_image_pixels() == 178956970);
  CHECK(media::check_image_pixels(13377, 13377, "the image").ok());  // 178,944,129
  auto r = media::check_image_pixels(16384, 16384, "the result");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  CHECK(
      r.error().message ==
      "the result is 16384 x 16384 = 268,435,456 pixels, above the limit of 178,956,970 (max_image_pixels)");
  int64_t before = media::set_max_image_pixels(100);
  CHECK(media::check_image_pixels(10, 10, "x").ok());
  CHECK_FALSE(media::check_image_pixels(10, 11, "x").ok());
  CHECK_FALSE(media::check_image_pixels(0, 5, "x").ok());
  media::set_max_image_pixels(before);
}

TEST_CASE("resize refuses a result above the default limit before any work") {
  // A 2 x 2 PNG resized to 16384 x 16384 took ~12 CPU-seconds and 800 MB before the check.
  auto dir = std::filesystem::temp_directory_path() / ("pxt-unit-bomb-" + std::to_string(::getpid()));
  test::make_image(dir, "in/one.png", 2, 2);
  auto fn = find_sql_function("resize");
  REQUIRE(fn);
  CreatedFiles created(dir);
  FunctionContext ctx{dir, &created};
  auto r = call_sql_function(
      *fn, ctx, {Value(std::string("in/one.png")), Value(int64_t{16384}), Value(int64_t{16384})});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("the result is 16384 x 16384 = 268,435,456 pixels") != std::string::npos);
  CHECK(created.files().empty());
  auto ok =
      call_sql_function(*fn, ctx, {Value(std::string("in/one.png")), Value(int64_t{3}), Value(int64_t{2})});
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  std::filesystem::remove_all(dir);
}

TEST_CASE("library log messages are rate limited") {
  REQUIRE(medialib::vips().ok());  // installs the handler
  // Capture stderr while a corrupt image's worth of warnings is logged.
  std::fflush(stderr);
  auto file = std::filesystem::temp_directory_path() / ("pxt-unit-log-" + std::to_string(::getpid()));
  FILE* sink = std::fopen(file.c_str(), "w");
  REQUIRE(sink != nullptr);
  int saved = ::dup(2);
  ::dup2(::fileno(sink), 2);
  int64_t dropped_before = media::log_messages_dropped();
  for (int i = 0; i < 100000; ++i) g_log("VIPS", G_LOG_LEVEL_WARNING, "not enough data (row %d)", i);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(sink);
  std::ifstream in(file);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  std::filesystem::remove(file);
  CHECK(lines <= media::kLogBurst + 1);
  CHECK(media::log_messages_dropped() - dropped_before >= 100000 - media::kLogBurst);
}
