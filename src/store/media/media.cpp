// Media file names, path checks and removal. Content sniffing, validation, temp files and
// adoption live in store/media/files.cpp.
#include "store/media/media.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/random.hpp"

namespace pxt::media {

namespace fs = std::filesystem;

std::string new_relative_name(std::string_view ext) {
  std::string hex = random_hex(16);
  std::string name = hex.substr(0, 2);
  name += '/';
  name += hex;
  name += ext;
  return name;
}

namespace {

// A stored name is a plain relative path: segments of printable characters, no "." or "..",
// no backslash (a Windows separator a client might use to sneak "..\" past a check).
bool plain_relative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.back() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view seg = rel.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || c == '\\' || u == 0x7f) return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<fs::path> resolve(const fs::path& media_dir, std::string_view rel, bool must_exist) {
  auto missing = [&] { return make_error(Errc::not_found, "no media file '" + std::string(rel) + "'"); };
  if (!plain_relative(rel)) return missing();
  fs::path full = media_dir / fs::path(std::string(rel));
  std::error_code ec;
  // No component below media_dir may be a symlink: a link could point anywhere.
  fs::path walk = media_dir;
  for (const auto& part : fs::path(std::string(rel))) {
    walk /= part;
    auto st = fs::symlink_status(walk, ec);
    if (ec || st.type() == fs::file_type::not_found) {
      if (must_exist) return missing();
      return full;
    }
    if (st.type() == fs::file_type::symlink) return missing();
  }
  if (!fs::is_regular_file(fs::symlink_status(full, ec))) return missing();
  return full;
}

bool is_no_space(int err) { return err == ENOSPC || err == EDQUOT || err == EFBIG; }

Errc io_errc(int err) { return is_no_space(err) ? Errc::no_space : Errc::io; }

Result<void> write_file(const std::filesystem::path& full, std::string_view bytes) {
  int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  while (err == 0 && !bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : ENOSPC;  // 0 bytes written for a non-empty buffer: no room
    if (n > 0) bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (fd >= 0 && ::close(fd) != 0 && err == 0) err = errno;
  if (err == 0) return {};
  std::error_code ignored;
  std::filesystem::remove(full, ignored);
  return make_error(io_errc(err), "cannot write " + full.string() + ": " + std::strerror(err));
}

bool remove(const fs::path& media_dir, std::string_view rel) {
  auto full = resolve(media_dir, rel, true);
  if (!full) return false;
  std::error_code ec;
  return fs::remove(*full, ec);
}

}  // namespace pxt::media
