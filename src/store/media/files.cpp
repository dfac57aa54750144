// Media content: sniffing the type of a file from its first bytes, temp files for uploads and
// adoption under a final name. Validation per column type lives in store/media/validate.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <system_error>

#include "store/media/media.hpp"
#include "util/random.hpp"
#include "util/strings.hpp"

namespace pxt::media {

namespace fs = std::filesystem;

namespace {

constexpr size_t kSniffBytes = 512;

std::string head_of(const fs::path& file, size_t n) {
  std::string buf(n, '\0');
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return {};
  ssize_t got = ::read(fd, buf.data(), n);
  ::close(fd);
  buf.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return buf;
}

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// HTML is recognised by its first tag, after an optional BOM and whitespace (as browsers sniff).
bool looks_html(std::string_view s) {
  if (starts(s, "\xef\xbb\xbf")) s.remove_prefix(3);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  std::string low = to_lower(s.substr(0, 15));
  return starts(low, "<!doctype html") || starts(low, "<html") || starts(low, "<head") ||
         starts(low, "<body") || starts(low, "<!--");
}

std::string_view iso_bmff_type(std::string_view h) {
  std::string_view brand = h.substr(8, 4);
  if (brand == "M4A " || brand == "M4B " || brand == "M4P ") return "audio/mp4";
  if (brand == "qt  ") return "video/quicktime";
  if (starts(brand, "heic") || starts(brand, "heix") || starts(brand, "mif1")) return "image/heif";
  if (brand == "avif") return "image/avif";
  return "video/mp4";
}

// Ogg and Matroska carry audio or video; the codec header in the first bytes tells which.
std::string_view ogg_type(std::string_view h) {
  if (h.find("\x80theora") != std::string_view::npos) return "video/ogg";
  return "audio/ogg";
}

std::string_view sniff(std::string_view h) {
  if (starts(h, "\xff\xd8\xff")) return "image/jpeg";
  if (starts(h, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts(h, "GIF87a") || starts(h, "GIF89a")) return "image/gif";
  if (starts(h, "RIFF") && h.size() >= 12) {
    std::string_view kind = h.substr(8, 4);
    if (kind == "WEBP") return "image/webp";
    if (kind == "WAVE") return "audio/wav";
    if (kind == "AVI ") return "video/x-msvideo";
  }
  if (starts(h, "BM") && h.size() >= 26) return "image/bmp";
  if (starts(h, std::string_view("II*\0", 4)) || starts(h, std::string_view("MM\0*", 4))) return "image/tiff";
  if (h.size() >= 12 && h.substr(4, 4) == "ftyp") return iso_bmff_type(h);
  if (starts(h, "\x1a\x45\xdf\xa3")) {
    return h.find("webm") != std::string_view::npos ? "video/webm" : "video/x-matroska";
  }
  if (starts(h, "OggS")) return ogg_type(h);
  if (starts(h, "fLaC")) return "audio/flac";
  if (starts(h, "ID3")) return "audio/mpeg";
  if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0xff &&
      (static_cast<unsigned char>(h[1]) & 0xe0) == 0xe0)
    return "audio/mpeg";
  if (starts(h, "%PDF-")) return "application/pdf";
  if (looks_html(h)) return "text/html";
  return {};
}

struct ExtType {
  std::string_view ext, type;
};
// The first entry for a type is its usual extension.
constexpr std::array<ExtType, 27> kExtTypes{{
    {".jpg", "image/jpeg"},      {".jpeg", "image/jpeg"},      {".png", "image/png"},
    {".gif", "image/gif"},       {".webp", "image/webp"},      {".bmp", "image/bmp"},
    {".tif", "image/tiff"},      {".tiff", "image/tiff"},      {".heic", "image/heif"},
    {".avif", "image/avif"},     {".mp4", "video/mp4"},        {".mov", "video/quicktime"},
    {".webm", "video/webm"},     {".mkv", "video/x-matroska"}, {".avi", "video/x-msvideo"},
    {".ogv", "video/ogg"},       {".mp3", "audio/mpeg"},       {".wav", "audio/wav"},
    {".ogg", "audio/ogg"},       {".flac", "audio/flac"},      {".m4a", "audio/mp4"},
    {".pdf", "application/pdf"}, {".html", "text/html"},       {".htm", "text/html"},
    {".md", "text/markdown"},    {".txt", "text/plain"},       {".markdown", "text/markdown"},
}};

}  // namespace

std::string_view sniff_type(std::string_view head) { return sniff(head); }

std::string_view type_for_extension(std::string_view ext) {
  std::string low = to_lower(ext);
  for (const auto& e : kExtTypes)
    if (e.ext == low) return e.type;
  return {};
}

std::string content_type(const fs::path& file) {
  std::string head = head_of(file, kSniffBytes);
  std::string_view t = sniff(head);
  if (t.empty()) t = type_for_extension(file.extension().string());
  return t.empty() ? "application/octet-stream" : std::string(t);
}

std::string_view extension_for(std::string_view type) {
  for (const auto& e : kExtTypes)
    if (e.type == type) return e.ext;
  return {};
}

Result<fs::path> temp_file(const fs::path& media_dir) { return temp_file(media_dir, ""); }

Result<fs::path> temp_file(const fs::path& media_dir, std::string_view ext) {
  fs::path dir = media_dir / ".tmp";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(io_errc(ec.value()), "cannot create '" + dir.string() + "': " + ec.message());
  fs::path file = dir / (random_hex(16) + std::string(ext));
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    int err = errno;
    return make_error(io_errc(err), "cannot create '" + file.string() + "': " + std::strerror(err));
  }
  ::close(fd);
  return file;
}

void sweep_temp(const fs::path& media_dir) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (fs::directory_iterator it(media_dir / ".tmp", ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2) && it->last_write_time(e2) < cutoff) fs::remove(it->path(), e2);
  }
}

Result<std::string> adopt(const fs::path& media_dir, const fs::path& tmp) {
  std::error_code ec;
  std::string ext(extension_for(content_type(tmp)));
  // Text documents keep the extension the upload gave (.md vs .txt); content cannot tell.
  if (ext.empty() || ext == ".txt") {
    std::string own = to_lower(tmp.extension().string());
    if (own == ".md" || own == ".markdown" || own == ".txt") ext = own;
  }
  std::string rel = new_relative_name(ext);
  fs::path dest = media_dir / rel;
  fs::create_directories(dest.parent_path(), ec);
  if (!ec) fs::rename(tmp, dest, ec);
  if (ec) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    return make_error(io_errc(ec.value()), "cannot store media file '" + rel + "': " + ec.message());
  }
  return rel;
}

}  // namespace pxt::media
