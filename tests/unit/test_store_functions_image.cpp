// Image functions in computed columns: results, argument errors, and the media files they leave
// (exactly one per computed value; none after a failed, rolled-back or replaced write).
#include <doctest/doctest.h>

#include <thread>

#include "image_test_support.hpp"
#include "store/functions/context.hpp"
#include "store/functions/registry.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;
using vips::VImage;

namespace {

struct ImageFixture : StoreFixture {
  std::filesystem::path media() { return s().media_dir(); }
  VImage open(const Value& rel) { return VImage::new_from_file((media() / str(rel)).c_str()); }
  // A table with the given computed columns over id, img (Image) and the integer columns a, b.
  TableDef table(std::vector<ColumnDef> computed_cols, std::string path = "t") {
    std::vector<ColumnDef> cols = {col("id", ColumnType::Int, true), col("img", ColumnType::Image),
                                   col("a", ColumnType::Int), col("b", ColumnType::Int)};
    for (auto& c : computed_cols) cols.push_back(std::move(c));
    return make(std::move(path), cols, {"id"});
  }
  Result<std::vector<Row>> put(const TableDef& t, int64_t id, const std::string& img, int64_t a = 0,
                               int64_t b = 0) {
    return s().insert(t, {"id", "img", "a", "b"}, {{id, img, a, b}});
  }
  Row one(const TableDef& t, int64_t id, const std::string& img, int64_t a = 0, int64_t b = 0) {
    auto r = put(t, id, img, a, b);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->at(0);
  }
};

std::string err(const Result<std::vector<Row>>& r) { return r.ok() ? "(succeeded)" : r.error().message; }

}  // namespace

TEST_CASE_FIXTURE(ImageFixture, "thumbnail keeps the aspect ratio, never enlarges, keeps the format") {
  make_image(media(), "in/big.jpg", 400, 300);
  make_image(media(), "in/small.png", 40, 30);
  TableDef t = table(
      {computed("th", "thumbnail(img, 100)"), computed("tw", "width(th)"), computed("tht", "height(th)")});
  CHECK(t.find("th")->type == ColumnType::Image);
  CHECK(t.find("tw")->type == ColumnType::Int);
  Row r = one(t, 1, "in/big.jpg");
  CHECK(num(r[5]) == 100);
  CHECK(num(r[6]) == 75);
  CHECK(str(r[4]).size() > 4);
  CHECK(str(r[4]).substr(str(r[4]).size() - 4) == ".jpg");
  Row small = one(t, 2, "in/small.png");
  CHECK(num(small[5]) == 40);  // not enlarged
  CHECK(str(small[4]).substr(str(small[4]).size() - 4) == ".png");
  // Two inputs, two thumbnails: one file per value even though tw and tht read th.
  CHECK(count_media_files(media()) == 4);
}

TEST_CASE_FIXTURE(ImageFixture, "resize takes its size from other columns") {
  make_image(media(), "in/a.jpg", 400, 300);
  TableDef t = table({computed("r", "resize(img, a, b)")});
  Row r = one(t, 1, "in/a.jpg", 64, 20);
  VImage out = open(r[4]);
  CHECK(out.width() == 64);
  CHECK(out.height() == 20);
  CHECK(err(put(t, 2, "in/a.jpg", 0, 10)) ==
        "computed column 'r' failed: resize(): argument 'w' must be between 1 and 16384, got 0");
  // A null argument gives null, not an error.
  auto n = s().insert(t, {"id", "img", "a"}, {{int64_t(3), std::string("in/a.jpg"), int64_t(5)}});
  REQUIRE(n.ok());
  CHECK(is_null(n->at(0)[4]));
}

TEST_CASE_FIXTURE(ImageFixture, "crop, rotate, grayscale and convert") {
  make_image(media(), "in/p.png", 40, 20);
  TableDef t = table({computed("c", "crop(img, 10, 5, 20, 10)"), computed("r90", "rotate(img, 90, true)"),
                      computed("r180", "rotate(img, -180)"), computed("g", "grayscale(img)"),
                      computed("wp", "convert(img, 'webp')"), computed("jp", "convert(img, 'JPEG')"),
                      computed("same", "rotate(img, 90)")});
  Row r = one(t, 1, "in/p.png");
  VImage c = open(r[4]);
  CHECK(c.width() == 20);
  CHECK(c.height() == 10);
  CHECK(c.getpoint(0, 0)[2] == doctest::Approx(255));  // blue: the red corner was cut away
  // Counter-clockwise, as in Pillow: the top-left corner moves to the bottom-left. With expand
  // the canvas turns too; without it (Pillow's default) the image keeps its size.
  VImage r90 = open(r[5]);
  CHECK(r90.width() == 20);
  CHECK(r90.height() == 40);
  CHECK(r90.getpoint(0, 39)[0] == doctest::Approx(255));
  VImage r180 = open(r[6]);
  CHECK(r180.getpoint(39, 19)[0] == doctest::Approx(255));
  CHECK(open(r[7]).bands() == 1);
  CHECK(str(r[8]).substr(str(r[8]).size() - 5) == ".webp");
  CHECK(open(r[8]).width() == 40);
  CHECK(str(r[9]).substr(str(r[9]).size() - 4) == ".jpg");
  VImage same = open(r[10]);
  CHECK(same.width() == 40);
  CHECK(same.height() == 20);
  CHECK(same.getpoint(0, 0)[0] == doctest::Approx(0));  // a corner Pillow fills with black
  CHECK(count_media_files(media()) == 8);
}

TEST_CASE_FIXTURE(ImageFixture, "errors name the function, the argument and the bad value") {
  make_image(media(), "in/a.png", 40, 20);
  write_file(media(), "in/bad.jpg", "not an image at all");
  TableDef crop = table({computed("c", "crop(img, a, b, 10, 10)")});
  CHECK(err(put(crop, 1, "in/a.png", 35, 0)) ==
        "computed column 'c' failed: crop(): the area x=35, y=0, w=10, h=10 is outside the 40x20 image");
  CHECK(err(put(crop, 2, "in/bad.jpg")) ==
        "computed column 'c' failed: crop(): argument 'img' is not an image that can be decoded (JPEG, PNG, "
        "WebP, GIF, TIFF, ...), got 'in/bad.jpg'");
  CHECK(err(put(crop, 3, "in/missing.png")) ==
        "computed column 'c' failed: crop(): argument 'img' must name an existing media file, got "
        "'in/missing.png'");
  CHECK(err(put(crop, 4, "../outside.png")).find("a media value is a path inside the media folder") !=
        std::string::npos);
  TableDef conv = table({computed("v", "convert(img, 'gif')")}, "t2");
  CHECK(
      err(put(conv, 1, "in/a.png")) ==
      "computed column 'v' failed: convert(): argument 'mode' must be a mode ('L', 'LA', 'RGB', 'RGBA') or a "
      "format ('png', 'jpeg', 'webp'), got 'gif'");
  CHECK(count_media_files(media()) == 2);  // the two inputs; every failed write left nothing
}

TEST_CASE_FIXTURE(ImageFixture, "a failed write removes the files its functions created") {
  make_image(media(), "in/a.jpg", 100, 80);
  // th succeeds, then c fails: th's file must go too.
  TableDef t = table({computed("th", "thumbnail(img, 50)"), computed("c", "crop(img, a, 0, 10, 10)")});
  CHECK(err(put(t, 1, "in/a.jpg", 95)).find("is outside the 100x80 image") != std::string::npos);
  CHECK(count_media_files(media()) == 1);
  one(t, 1, "in/a.jpg", 0);
  CHECK(count_media_files(media()) == 3);
  // Duplicate primary key: the functions ran, the row was refused.
  CHECK(err(put(t, 1, "in/a.jpg", 0)).find("already exists") != std::string::npos);
  CHECK(count_media_files(media()) == 3);
  // A multi-row insert is all or nothing, files included.
  auto multi = s().insert(t, {"id", "img", "a"},
                          {{int64_t(2), std::string("in/a.jpg"), int64_t(0)},
                           {int64_t(3), std::string("in/a.jpg"), int64_t(99)}});
  CHECK_FALSE(multi.ok());
  CHECK(count_media_files(media()) == 3);
  // Identical calls in one write still give each row its own files (results computed ahead of
  // the write are taken once each).
  auto same = s().insert(
      t, {"id", "img", "a"},
      {{int64_t(4), std::string("in/a.jpg"), int64_t(0)}, {int64_t(5), std::string("in/a.jpg"), int64_t(0)}});
  REQUIRE(same.ok());
  CHECK(str(same->at(0)[4]) != str(same->at(1)[4]));
  CHECK(str(same->at(0)[5]) != str(same->at(1)[5]));
  CHECK(count_media_files(media()) == 7);
}

TEST_CASE_FIXTURE(ImageFixture, "group commit: a rolled-back writer's files go, the others' stay") {
  make_image(media(), "in/a.jpg", 100, 80);
  TableDef t = table({computed("th", "thumbnail(img, 20)")});
  constexpr int kThreads = 8, kEach = 6;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < kEach; ++i) {
        // Even threads reuse ids (conflicts), odd threads use their own.
        int64_t id = k % 2 == 0 ? i : 1000 + k * 100 + i;
        if (put(t, id, "in/a.jpg").ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok.load() == kEach + (kThreads / 2) * kEach);
  CHECK(count_media_files(media()) == 1 + ok.load());
  CHECK(rows(t).size() == static_cast<size_t>(ok.load()));
}

TEST_CASE_FIXTURE(ImageFixture, "an update that recomputes an image removes the old file") {
  make_image(media(), "in/a.jpg", 100, 80);
  TableDef t = table({computed("r", "resize(img, a, b)"), computed("th", "thumbnail(img, 30)")});
  Row before = one(t, 1, "in/a.jpg", 10, 10);
  CHECK(count_media_files(media()) == 3);
  auto up = s().update(t, Filter{{{"id", int64_t(1)}}, ""}, {{"a", int64_t(20)}});
  REQUIRE(up.ok());
  REQUIRE(up->size() == 1);
  CHECK(str(up->at(0)[4]) != str(before[4]));
  CHECK(str(up->at(0)[5]) == str(before[5]));  // th does not read a: untouched
  CHECK(open(up->at(0)[4]).width() == 20);
  CHECK_FALSE(std::filesystem::exists(media() / str(before[4])));
  CHECK(count_media_files(media()) == 3);
  // A failing update keeps the old file and leaves no new one.
  auto bad = s().update(t, Filter{{{"id", int64_t(1)}}, ""}, {{"a", int64_t(0)}});
  CHECK_FALSE(bad.ok());
  CHECK(std::filesystem::exists(media() / str(up->at(0)[4])));
  CHECK(count_media_files(media()) == 3);
}

TEST_CASE_FIXTURE(ImageFixture, "width and height work in queries; file-creating functions do not") {
  make_image(media(), "in/a.png", 30, 12);
  TableDef t = table({});
  one(t, 1, "in/a.png");
  SelectSpec spec;
  spec.filter.where_sql = "width(img) = 30 AND height(img) = 12";
  CHECK(rows(t, spec).size() == 1);
  spec.filter.where_sql = "thumbnail(img, 10) IS NOT NULL";
  auto r = s().select(t, spec, [](const Row&) { return true; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(
            "thumbnail(): creates a media file, so it can only be used in a computed column") !=
        std::string::npos);
  CHECK(count_media_files(media()) == 1);
}
