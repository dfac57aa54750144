#pragma once
// A fresh folder per test under the system temp folder, removed at scope exit, for tests that write
// the files they read (service files, schema modules).
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace pxt::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pxt-unit-dir-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes `text` to `rel` (its folders created) and returns the file's path.
  std::string write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = path / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

}  // namespace pxt::test
