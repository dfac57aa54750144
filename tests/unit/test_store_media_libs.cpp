// The lazily loaded media libraries: a missing library names the Debian package to install, and
// the tables load once and resolve every function.
#include <doctest/doctest.h>

#include "store/media/libs.hpp"
#include "util/dynlib.hpp"

using namespace pxt;

TEST_CASE("a missing media library is an error naming the package to install") {
  auto r = dynlib::open("libpxt-no-such-lib.so.7", "image functions", "libpxt-nothing7");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::unsupported);
  CHECK(r.error().message.rfind("image functions need libpxt-no-such-lib.so.7, which cannot be loaded (",
                                0) == 0);
  CHECK(r.error().message.find("): apt-get install libpxt-nothing7") != std::string::npos);
}

TEST_CASE("the media libraries load once and resolve every function") {
  auto v = medialib::vips();
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  CHECK(static_cast<bool>((*v)->vips_image_new_from_file));
  CHECK(static_cast<bool>((*v)->g_object_unref));
  CHECK(*medialib::vips() == *v);  // the same table, not a second load
  auto p = medialib::poppler();
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
  CHECK(static_cast<bool>((*p)->poppler_page_get_text));
  auto t = medialib::turbojpeg();
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  CHECK(static_cast<bool>((*t)->tjDecompress2));
}
