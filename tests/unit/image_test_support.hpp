#pragma once
// Small images and file counts for the image and document function tests.
#include <vips/vips8>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace pxt::test {

// Writes a w x h RGB image of one colour under media_dir/rel (format from the extension), with
// one red pixel at (0, 0) so orientation can be checked. Returns rel.
inline std::string make_image(const std::filesystem::path& media_dir, const std::string& rel, int w, int h,
                              std::vector<double> colour = {0, 0, 255}) {
  VIPS_INIT("pxt_unit");
  auto full = media_dir / rel;
  std::filesystem::create_directories(full.parent_path());
  vips::VImage img = vips::VImage::black(w, h, vips::VImage::option()->set("bands", 3)) + colour;
  img = img.cast(VIPS_FORMAT_UCHAR).copy_memory();
  img.draw_rect({255, 0, 0}, 0, 0, 1, 1, vips::VImage::option()->set("fill", true));
  img.write_to_file(full.c_str());
  return rel;
}

inline std::string write_file(const std::filesystem::path& media_dir, const std::string& rel,
                              const std::string& content) {
  auto full = media_dir / rel;
  std::filesystem::create_directories(full.parent_path());
  std::ofstream(full, std::ios::binary) << content;
  return rel;
}

// Regular files under media_dir (temp files excluded).
inline int count_media_files(const std::filesystem::path& media_dir) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(media_dir)) {
    if (e.is_regular_file() && e.path().string().find("/.tmp/") == std::string::npos) ++n;
  }
  return n;
}

}  // namespace pxt::test
