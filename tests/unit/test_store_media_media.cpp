#include <doctest/doctest.h>
#include <unistd.h>
#include <vips/vips.h>

#include <fstream>
#include <sstream>

#include "store/media/media.hpp"
#include "test_store_fixture.hpp"

namespace pxt {

namespace fs = std::filesystem;

namespace {

struct MediaDir {
  std::string home = test::temp_home("media");
  fs::path dir = fs::path(home) / "media";
  MediaDir() { fs::create_directories(dir); }
  ~MediaDir() { fs::remove_all(home); }
  fs::path write(const std::string& name, const std::string& bytes) const {
    fs::path p = dir / ".." / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A real 16x8 image encoded by libvips.
std::string encoded(const char* suffix) {
  REQUIRE(VIPS_INIT("pxt_unit") == 0);
  VipsImage* img = nullptr;
  REQUIRE(vips_black(&img, 16, 8, nullptr) == 0);
  void* buf = nullptr;
  size_t len = 0;
  REQUIRE(vips_image_write_to_buffer(img, suffix, &buf, &len, nullptr) == 0);
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  g_object_unref(img);
  return out;
}

std::string base64(const std::string& in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8 |
                 static_cast<uint8_t>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += a[(v >> k) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16 | static_cast<uint8_t>(in[i + 1]) << 8;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    out += "=";
  }
  return out;
}

}  // namespace

TEST_CASE("media names are random, two-level and keep the extension") {
  std::string a = media::new_relative_name(".jpg"), b = media::new_relative_name(".jpg");
  CHECK(a != b);
  REQUIRE(a.size() == 2 + 1 + 32 + 4);
  CHECK(a.substr(0, 2) == a.substr(3, 2));
  CHECK(a[2] == '/');
  CHECK(a.substr(a.size() - 4) == ".jpg");
}

TEST_CASE("resolve refuses anything but a plain relative path inside the folder") {
  MediaDir m;
  fs::create_directories(m.dir / "ab");
  std::ofstream(m.dir / "ab" / "f.txt") << "x";
  std::ofstream(fs::path(m.home) / "secret") << "s";
  fs::create_symlink(fs::path(m.home) / "secret", m.dir / "ab" / "link");
  fs::create_directory_symlink(m.home, m.dir / "up");
  CHECK(media::resolve(m.dir, "ab/f.txt", true).ok());
  for (const char* bad : {"../secret", "ab/../../secret", "/etc/passwd", "ab//f.txt", "./ab/f.txt", "ab/link",
                          "up/secret", "ab\\f.txt", "", "ab/", "ab/missing"}) {
    INFO(bad);
    CHECK(media::resolve(m.dir, bad, true).error().code == Errc::not_found);
  }
  CHECK(media::resolve(m.dir, "ab/missing", false).ok());
}

TEST_CASE("content types come from the bytes, then the extension") {
  MediaDir m;
  CHECK(media::content_type(m.write("x.bin", encoded(".jpg"))) == "image/jpeg");
  CHECK(media::content_type(m.write("x.txt", encoded(".png"))) == "image/png");  // content wins
  CHECK(media::content_type(m.write("p", "%PDF-1.4\n...")) == "application/pdf");
  CHECK(media::content_type(m.write("h", "\n  <!DOCTYPE html><html></html>")) == "text/html");
  CHECK(media::content_type(m.write("w", std::string("RIFF\x10\0\0\0WAVEfmt ", 16))) == "audio/wav");
  CHECK(media::content_type(m.write("v", std::string("\0\0\0\x18"
                                                     "ftypisom\0\0\0\0",
                                                     16))) == "video/mp4");
  CHECK(media::content_type(m.write("a", std::string("\0\0\0\x18"
                                                     "ftypM4A \0\0\0\0",
                                                     16))) == "audio/mp4");
  CHECK(media::content_type(m.write("n.md", "# hi")) == "text/markdown");
  CHECK(media::content_type(m.write("n", "plain")) == "application/octet-stream");
  CHECK(media::extension_for("image/jpeg") == ".jpg");
  CHECK(media::extension_for("nothing/known").empty());
}

TEST_CASE("validate checks each column type, including truncated images") {
  MediaDir m;
  std::string jpg = encoded(".jpg"), png = encoded(".png");
  CHECK(media::validate(ColumnType::Image, m.write("a.jpg", jpg)).ok());
  CHECK(media::validate(ColumnType::Image, m.write("b.png", png)).ok());
  CHECK(media::validate(ColumnType::Image, m.write("gif", encoded(".gif"))).ok());
  auto cut = media::validate(ColumnType::Image, m.write("c.jpg", jpg.substr(0, jpg.size() / 2)));
  CHECK(cut.error().message.find("truncated") != std::string::npos);
  CHECK_FALSE(media::validate(ColumnType::Image, m.write("d.png", png.substr(0, png.size() - 12))).ok());
  // A JPEG header and trailer around garbage: the header load fails.
  CHECK_FALSE(media::validate(ColumnType::Image, m.write("e.jpg", "\xff\xd8\xff\xe0garbage\xff\xd9")).ok());
  auto wrong = media::validate(ColumnType::Image, m.write("f.pdf", "%PDF-1.4\n"));
  CHECK(wrong.error().message == "expected an image (JPEG, PNG, GIF, WebP, BMP, TIFF), got application/pdf");
  CHECK(media::validate(ColumnType::Image, m.write("empty", "")).error().message == "the file is empty");

  std::string mp4(
      "\0\0\0\x18"
      "ftypisom\0\0\0\0isommp41",
      24);
  CHECK(media::validate(ColumnType::Video, m.write("v", mp4)).ok());
  CHECK_FALSE(media::validate(ColumnType::Audio, m.write("v2", mp4)).ok());
  CHECK(media::validate(ColumnType::Audio, m.write("s", std::string("ID3\x04\0\0\0\0\0\0", 10))).ok());
  CHECK_FALSE(media::validate(ColumnType::Video, m.write("j", jpg)).ok());

  CHECK(media::validate(ColumnType::Document, m.write("t.txt", "text \xc3\xa9\n")).ok());
  CHECK(media::validate(ColumnType::Document, m.write("h.html", "<html><body>x</body></html>")).ok());
  CHECK_FALSE(media::validate(ColumnType::Document, m.write("bin", std::string("ab\0cd", 5))).ok());
  CHECK_FALSE(media::validate(ColumnType::Document, m.write("bad", "\xff\xfe\xfd")).ok());
  CHECK_FALSE(media::validate(ColumnType::Document, m.write("broken.pdf", "%PDF-1.4\nnot really")).ok());
  CHECK_FALSE(media::validate(ColumnType::Document, m.write("img", jpg)).ok());
  CHECK_FALSE(media::validate(ColumnType::String, m.write("s2", "x")).ok());
}

TEST_CASE("temp files are adopted under a fresh name; removal is idempotent") {
  MediaDir m;
  auto tmp = media::temp_file(m.dir);
  REQUIRE(tmp.ok());
  CHECK(tmp->parent_path().filename() == ".tmp");
  std::string png = encoded(".png");
  std::ofstream(*tmp, std::ios::binary) << png;
  auto rel = media::adopt(m.dir, *tmp);
  REQUIRE(rel.ok());
  CHECK_FALSE(fs::exists(*tmp));
  CHECK(rel->substr(rel->size() - 4) == ".png");
  CHECK(read_all(m.dir / *rel) == png);
  CHECK(media::remove(m.dir, *rel));
  CHECK_FALSE(media::remove(m.dir, *rel));
  CHECK_FALSE(media::remove(m.dir, "../outside"));

  auto md = media::temp_file(m.dir, ".md");
  std::ofstream(*md) << "# notes";
  auto rel_md = media::adopt(m.dir, *md);
  REQUIRE(rel_md.ok());
  CHECK(rel_md->substr(rel_md->size() - 3) == ".md");

  auto old = media::temp_file(m.dir);
  auto fresh = media::temp_file(m.dir);
  fs::last_write_time(*old, fs::file_time_type::clock::now() - std::chrono::hours(48));
  media::sweep_temp(m.dir);
  CHECK_FALSE(fs::exists(*old));
  CHECK(fs::exists(*fresh));
}

TEST_CASE("data: URIs become validated files") {
  MediaDir m;
  std::string png = encoded(".png");
  auto rel = media::adopt_data_uri(m.dir, ColumnType::Image, "data:image/png;base64," + base64(png));
  REQUIRE(rel.ok());
  CHECK(read_all(m.dir / *rel) == png);
  auto text =
      media::adopt_data_uri(m.dir, ColumnType::Document, "data:text/markdown;base64," + base64("# a"));
  REQUIRE(text.ok());
  CHECK(text->substr(text->size() - 3) == ".md");
  for (const std::string& bad :
       {std::string("image.png"), std::string("data:image/png,rawbytes"),
        std::string("data:image/png;base64,@@@@"), "data:text/plain;base64," + base64("not an image")}) {
    INFO(bad);
    CHECK(media::adopt_data_uri(m.dir, ColumnType::Image, bad).error().code == Errc::invalid_argument);
  }
  // Only the two good files exist; refused ones left no temp file.
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(m.dir))
    if (e.is_regular_file()) ++files;
  CHECK(files == 2);
}

TEST_CASE("deleting rows, replacing media and dropping tables remove their files") {
  test::StoreFixture fx;
  TableDef t;
  t.path = "photos";
  t.columns = {fx.col("id", ColumnType::Int, true), fx.col("photo", ColumnType::Image)};
  t.primary_key = {"id"};
  t = fx.s().create_table(t, IfExists::error).take();
  const fs::path dir = fx.s().media_dir();
  auto add = [&](const std::string& name) {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name) << "x";
    return name;
  };
  std::string a = add("aa/a.jpg"), b = add("bb/b.jpg"), c = add("cc/c.jpg");
  fx.s().insert(t, {"id", "photo"}, {{int64_t(1), a}, {int64_t(2), b}}).take();
  Filter one;
  one.equals.emplace_back("id", int64_t(1));
  CHECK(fx.s().remove(t, one).take() == 1);
  CHECK_FALSE(fs::exists(dir / a));
  CHECK(fs::exists(dir / b));
  Filter two;
  two.equals.emplace_back("id", int64_t(2));
  fx.s().update(t, two, {{"photo", Value(c)}}).take();
  CHECK_FALSE(fs::exists(dir / b));
  CHECK(fs::exists(dir / c));
  fx.s().drop_table("photos", false).take();
  CHECK_FALSE(fs::exists(dir / c));
}

}  // namespace pxt
