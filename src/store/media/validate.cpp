// Validation of a media file against its column type, and data: URIs. An Image is checked in
// three steps, cheapest first: the file is complete (JPEG EOI, PNG IEND, GIF trailer, RIFF size);
// its header gives a size within max_image_pixels (store/media/image_limits.hpp), so a 74-byte
// PNG claiming 10^10 pixels is refused before any pixel is read; and its pixel data decodes, so a
// corrupt IDAT or scan is refused too. The decode is cheap: a JPEG at 1/8 scale (the scan is read
// whole, the inverse DCT does 1/64 of its work: ~1 ms for 2 MP instead of ~20), anything else
// once, top to bottom, through libvips' sequential access (a few rows in memory at a time).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include "store/media/image_limits.hpp"
#include "store/media/jpeg_fast.hpp"
#include "store/media/libs.hpp"
#include "store/media/media.hpp"
#include "util/strings.hpp"

namespace pxt::media {

namespace fs = std::filesystem;

namespace {

struct Fd {
  int fd = -1;
  explicit Fd(const fs::path& p) : fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// The last n bytes of the file (fewer for a small file).
std::string tail_of(const Fd& f, off_t size, size_t n) {
  size_t len = static_cast<size_t>(std::min<off_t>(size, static_cast<off_t>(n)));
  std::string buf(len, '\0');
  ssize_t got = ::pread(f.fd, buf.data(), len, size - static_cast<off_t>(len));
  buf.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return buf;
}

bool valid_utf8(std::string_view s) {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = p[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((p[i + k] & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Standard base64 (RFC 4648 section 4), padding optional, whitespace ignored (URIs get wrapped).
std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '+' || ch == '-')
      v = 62;
    else if (ch == '/' || ch == '_')
      v = 63;
    else if (ch == '=') {
      ++pad;
      continue;
    } else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
      continue;
    else
      return std::nullopt;
    if (pad > 0) return std::nullopt;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (pad > 2 || bits >= 6) return std::nullopt;
  return out;
}

Result<void> bad(std::string_view expected, std::string_view found) {
  return make_error(Errc::invalid_argument,
                    "expected " + std::string(expected) + ", got " + std::string(found));
}

// Checks the end of an image file: encoders write a trailer, so a cut-off upload lacks it.
Result<void> image_complete(const fs::path& file, std::string_view type) {
  Fd f(file);
  struct stat st {};
  if (f.fd < 0 || ::fstat(f.fd, &st) != 0) return make_error(Errc::io, "cannot read the uploaded file");
  std::string tail = tail_of(f, st.st_size, 4096);
  bool ok = true;
  if (type == "image/jpeg") {
    // EOI, possibly followed by padding some cameras append.
    size_t end = tail.find_last_not_of(std::string_view("\0\r\n ", 4));
    ok = end != std::string::npos && end >= 1 && tail.compare(end - 1, 2, "\xff\xd9") == 0;
  } else if (type == "image/png") {
    ok = tail.size() >= 12 && tail.compare(tail.size() - 8, 8, "IEND\xae\x42\x60\x82") == 0;
  } else if (type == "image/gif") {
    size_t end = tail.find_last_not_of(std::string_view("\0", 1));
    ok = end != std::string::npos && tail[end] == ';';
  } else if (type == "image/webp") {
    unsigned char h[8];
    ok = ::pread(f.fd, h, 8, 0) == 8 &&
         8 + static_cast<off_t>(h[4] | h[5] << 8 | h[6] << 16 | h[7] << 24) <= st.st_size;
  }
  if (!ok) return make_error(Errc::invalid_argument, "the image file is truncated or corrupt");
  return {};
}

Result<void> image_decodes(const fs::path& file, std::string_view type) {
  // A JPEG is verified with libturbojpeg when it is there: no need to load libvips.
  if (type == "image/jpeg") {
    PXT_TRY(bool checked, jpeg::verify(file));
    if (checked) return {};
  }
  PXT_TRY(const medialib::Vips* v, medialib::vips());
  // "fail": a loader's warning (a bad row filter, a short IDAT, a CRC mismatch) is an error.
  VipsImage* img =
      v->vips_image_new_from_file(file.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, "fail", TRUE, nullptr);
  if (img == nullptr) {
    v->vips_error_clear();
    return make_error(Errc::invalid_argument, "the image cannot be decoded");
  }
  std::unique_ptr<VipsImage, void (*)(void*)> owned(img,
                                                    [](void* p) { (*medialib::vips())->g_object_unref(p); });
  PXT_CHECK(check_image_pixels(v->vips_image_get_width(img), v->vips_image_get_height(img), "the image"));
  double avg = 0;
  if (v->vips_avg(img, &avg, nullptr) != 0) {
    std::string why(trim(v->vips_error_buffer()));
    v->vips_error_clear();
    std::replace(why.begin(), why.end(), '\n', ' ');
    return make_error(Errc::invalid_argument, "the image's pixel data is corrupt or truncated: " + why);
  }
  return {};
}

// UTF-8 text without NUL bytes: what a .txt or .md document must be.
bool utf8_text(const fs::path& file) {
  Fd f(file);
  if (f.fd < 0) return false;
  std::string buf(64 * 1024, '\0');
  std::string carry;
  for (;;) {
    ssize_t n = ::read(f.fd, buf.data(), buf.size());
    if (n < 0) return false;
    std::string chunk = carry + buf.substr(0, static_cast<size_t>(n));
    if (chunk.find('\0') != std::string::npos) return false;
    // Keep an incomplete trailing sequence for the next round.
    size_t keep = 0;
    for (size_t k = 1; k <= 3 && k <= chunk.size(); ++k) {
      auto c = static_cast<unsigned char>(chunk[chunk.size() - k]);
      if ((c & 0xc0) == 0xc0) {
        size_t need = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
        if (need > k) keep = k;
        break;
      }
      if ((c & 0xc0) != 0x80) break;
    }
    if (n == 0) {
      if (!chunk.empty()) return valid_utf8(chunk);
      return true;
    }
    if (!valid_utf8(std::string_view(chunk).substr(0, chunk.size() - keep))) return false;
    carry = chunk.substr(chunk.size() - keep);
  }
}

// Whether poppler opens the PDF and finds a page. Error: when poppler-glib cannot be loaded.
Result<bool> pdf_loads(const fs::path& file) {
  PXT_TRY(const medialib::Poppler* p, medialib::poppler());
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec);
  if (ec) return false;
  char* uri = p->g_filename_to_uri(abs.c_str(), nullptr, nullptr);
  if (uri == nullptr) return false;
  std::lock_guard lock(medialib::poppler_mutex());
  GError* err = nullptr;
  PopplerDocument* doc = p->poppler_document_new_from_file(uri, nullptr, &err);
  p->g_free(uri);
  if (err != nullptr) p->g_error_free(err);
  if (doc == nullptr) return false;
  bool ok = p->poppler_document_get_n_pages(doc) > 0;
  p->g_object_unref(doc);
  return ok;
}

}  // namespace

Result<void> validate(ColumnType t, const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) return make_error(Errc::io, "cannot read the uploaded file: " + ec.message());
  if (size == 0) return make_error(Errc::invalid_argument, "the file is empty");
  std::string type = content_type(file);
  auto is = [&](std::string_view major) { return type.rfind(major, 0) == 0; };
  switch (t) {
    case ColumnType::Image:
      if (!is("image/")) return bad("an image (JPEG, PNG, GIF, WebP, BMP, TIFF)", type);
      PXT_CHECK(image_complete(file, type));
      return image_decodes(file, type);
    case ColumnType::Video:
      if (!is("video/")) return bad("a video (MP4, QuickTime, WebM, Matroska, AVI, Ogg)", type);
      return {};
    case ColumnType::Audio:
      if (!is("audio/")) return bad("audio (MP3, WAV, Ogg, FLAC, M4A)", type);
      return {};
    case ColumnType::Document:
      if (type == "application/pdf") {
        PXT_TRY(bool loads, pdf_loads(file));
        if (!loads) return make_error(Errc::invalid_argument, "the PDF cannot be read");
        return {};
      }
      if (type == "text/html" || type == "text/markdown" || type == "text/plain" ||
          type == "application/octet-stream") {
        if (!utf8_text(file)) return bad("a document (PDF, HTML, Markdown or UTF-8 text)", "binary data");
        return {};
      }
      return bad("a document (PDF, HTML, Markdown or UTF-8 text)", type);
    default:
      return make_error(Errc::invalid_argument,
                        "column type " + std::string(type_name(t)) + " does not hold files");
  }
}

Result<std::string> adopt_data_uri(const fs::path& media_dir, ColumnType t, std::string_view uri) {
  constexpr std::string_view kWant = "a data: URI with base64 content (data:<type>;base64,<data>)";
  if (uri.substr(0, 5) != "data:")
    return make_error(Errc::invalid_argument, "expected " + std::string(kWant));
  size_t comma = uri.find(',');
  if (comma == std::string_view::npos)
    return make_error(Errc::invalid_argument, "expected " + std::string(kWant));
  std::string_view meta = uri.substr(5, comma - 5);
  if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64")
    return make_error(Errc::invalid_argument, "expected " + std::string(kWant));
  auto bytes = base64_decode(uri.substr(comma + 1));
  if (!bytes) return make_error(Errc::invalid_argument, "the data: URI is not valid base64");
  std::string mime = to_lower(meta.substr(0, meta.find(';')));
  std::string ext = mime == "text/markdown" ? ".md" : mime == "text/plain" ? ".txt" : "";
  PXT_TRY(fs::path tmp, temp_file(media_dir, ext));
  if (auto w = write_file(tmp, *bytes); !w) {
    return make_error(w.error().code, "cannot write the decoded data: URI: " + w.error().message);
  }
  std::error_code ec;
  if (auto ok = validate(t, tmp); !ok) {
    fs::remove(tmp, ec);
    return ok.error();
  }
  return adopt(media_dir, tmp);
}

Result<std::string> adopt_local_file(const fs::path& media_dir, ColumnType t, const fs::path& file) {
  std::error_code ec;
  auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) return make_error(Errc::not_found, "no such file '" + file.string() + "'");
  if (!fs::is_regular_file(status))
    return make_error(Errc::invalid_argument, "'" + file.string() + "' is not a file");
  // Text documents keep the kind their name says (content cannot tell Markdown from text).
  std::string ext = to_lower(file.extension().string());
  PXT_TRY(fs::path tmp, temp_file(media_dir, ext == ".md" || ext == ".txt" ? ext : ""));
  fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return make_error(io_errc(ec.value()),
                      "cannot copy '" + file.string() + "' into the media folder: " + ec.message());
  }
  if (auto ok = validate(t, tmp); !ok) {
    fs::remove(tmp, ec);
    return make_error(ok.error().code, "'" + file.string() + "': " + ok.error().message);
  }
  return adopt(media_dir, tmp);
}

}  // namespace pxt::media
