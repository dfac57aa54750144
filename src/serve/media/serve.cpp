#include "serve/media/serve.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>

#include "serve/http/response.hpp"
#include "store/media/media.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

constexpr size_t kChunk = 64 * 1024;

// Hidden entries (the upload staging folder ".tmp") and empty segments are never served.
bool servable_name(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view seg = rel.substr(start, end - start);
    if (seg.empty() || seg.front() == '.') return false;
    for (char c : seg)
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return false;
    start = end + 1;
  }
  return true;
}

std::string http_date(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// -1 when the text is not an HTTP date.
time_t parse_http_date(const std::string& s) {
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr) return -1;
  return timegm(&tm);
}

std::string etag_of(const struct stat& st) {
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "\"%llx-%llx-%lx\"", static_cast<unsigned long long>(st.st_size),
                        static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                            static_cast<unsigned long long>(st.st_mtim.tv_nsec),
                        static_cast<unsigned long>(st.st_ino));
  return std::string(buf, static_cast<size_t>(n));
}

bool etag_matches(std::string_view header, const std::string& etag) {
  for (const auto& part : split(header, ',')) {
    std::string_view tag = trim(part);
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // weak comparison, as for GET
    if (tag == etag) return true;
  }
  return false;
}

bool not_modified(const httplib::Request& req, const std::string& etag, time_t mtime) {
  auto inm = req.headers.find("If-None-Match");
  if (inm != req.headers.end()) return etag_matches(inm->second, etag);
  auto ims = req.headers.find("If-Modified-Since");
  if (ims == req.headers.end()) return false;
  time_t since = parse_http_date(ims->second);
  return since >= 0 && mtime <= since;
}

struct Range {
  enum Kind { none, ok, unsatisfiable } kind = none;
  uint64_t first = 0, last = 0;
};

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// One "bytes=" range; several ranges or bad syntax are ignored (the whole file is sent), which
// RFC 9110 allows.
Range parse_range(std::string_view h, uint64_t size) {
  Range r;
  h = trim(h);
  if (h.substr(0, 6) != "bytes=" || h.find(',') != std::string_view::npos) return r;
  std::string_view spec = trim(h.substr(6));
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return r;
  std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  uint64_t x = 0, y = 0;
  if (a.empty()) {  // suffix: the last y bytes
    if (!parse_u64(b, y)) return r;
    if (y == 0 || size == 0) return Range{Range::unsatisfiable};
    r.first = y >= size ? 0 : size - y;
    r.last = size - 1;
  } else {
    if (!parse_u64(a, x)) return r;
    if (!b.empty() && (!parse_u64(b, y) || y < x)) return r;
    if (x >= size) return Range{Range::unsatisfiable};
    r.first = x;
    r.last = b.empty() || y >= size ? size - 1 : y;
  }
  r.kind = Range::ok;
  return r;
}

struct FdOwner {
  int fd;
  explicit FdOwner(int f) : fd(f) {}
  ~FdOwner() { ::close(fd); }
  FdOwner(const FdOwner&) = delete;
  FdOwner& operator=(const FdOwner&) = delete;
};

// Streams [first, first + length) of the file from the open descriptor.
void set_file_body(httplib::Response& res, int fd, uint64_t first, uint64_t length, const std::string& type) {
  auto owner = std::make_shared<FdOwner>(fd);
  if (length == 0) {
    res.body.clear();
    put_header(res, "Content-Type", type);
    return;
  }
  res.set_content_provider(
      static_cast<size_t>(length), type, [owner, first](size_t offset, size_t len, httplib::DataSink& sink) {
        std::string buf(std::min(len, kChunk), '\0');
        ssize_t n = ::pread(owner->fd, buf.data(), buf.size(), static_cast<off_t>(first + offset));
        if (n <= 0) return false;  // the file shrank: end the response early
        return sink.write(buf.data(), static_cast<size_t>(n));
      });
}

// Sniffed from the open file (not re-opened by name), then by extension.
std::string type_of(int fd, std::string_view rel) {
  char head[512];
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  std::string_view t = media::sniff_type(std::string_view(head, n > 0 ? static_cast<size_t>(n) : 0));
  if (t.empty()) {
    size_t slash = rel.rfind('/'), dot = rel.rfind('.');
    if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash))
      t = media::type_for_extension(rel.substr(dot));
  }
  return t.empty() ? "application/octet-stream" : std::string(t);
}

}  // namespace

MediaRoot::MediaRoot(std::string dir) : dir_(std::move(dir)) {
  dir_fd_ = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

MediaRoot::~MediaRoot() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

int MediaRoot::open_beneath(std::string_view rel) const {
  if (dir_fd_ < 0 || !servable_name(rel)) {
    errno = ENOENT;
    return -1;
  }
  std::string name(rel);
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, dir_fd_, name.c_str(), &how, sizeof how));
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: the lexical check plus a per-component symlink check, then O_NOFOLLOW.
    auto full = media::resolve(dir_, rel, true);
    if (!full) {
      errno = ENOENT;
      return -1;
    }
    fd = ::open(full->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  }
  if (fd < 0) return -1;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    errno = ENOENT;
    return -1;
  }
  return fd;
}

void MediaRoot::serve(std::string_view rel, const httplib::Request& req, httplib::Response& res) const {
  int fd = open_beneath(rel);
  if (fd < 0) return reply_detail(res, 404, "Not Found");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return reply_detail(res, 404, "Not Found");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const std::string etag = etag_of(st);
  put_header(res, "ETag", etag);
  put_header(res, "Last-Modified", http_date(st.st_mtim.tv_sec));
  put_header(res, "Accept-Ranges", "bytes");
  if (not_modified(req, etag, st.st_mtim.tv_sec)) {
    ::close(fd);
    res.status = 304;
    return;
  }
  std::string type = type_of(fd, rel);
  if (type.rfind("text/", 0) == 0) type += "; charset=utf-8";

  Range range;
  auto rh = req.headers.find("Range");
  auto if_range = req.headers.find("If-Range");
  bool range_allowed = if_range == req.headers.end() || if_range->second == etag ||
                       if_range->second == http_date(st.st_mtim.tv_sec);
  if (rh != req.headers.end() && range_allowed) range = parse_range(rh->second, size);
  if (range.kind == Range::unsatisfiable) {
    ::close(fd);
    reply_detail(res, 416, "Range Not Satisfiable");
    put_header(res, "Content-Range", "bytes */" + std::to_string(size));
    return;
  }
  if (range.kind == Range::ok) {
    res.status = 206;
    put_header(res, "Content-Range",
               "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                   std::to_string(size));
    return set_file_body(res, fd, range.first, range.last - range.first + 1, type);
  }
  res.status = 200;
  set_file_body(res, fd, 0, size, type);
}

bool MediaRoot::send(std::string_view rel, httplib::Response& res) const {
  int fd = open_beneath(rel);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  std::string type = type_of(fd, rel);
  if (type.rfind("text/", 0) == 0) type += "; charset=utf-8";
  res.status = 200;
  put_header(res, "ETag", etag_of(st));
  put_header(res, "Last-Modified", http_date(st.st_mtim.tv_sec));
  set_file_body(res, fd, 0, static_cast<uint64_t>(st.st_size), type);
  return true;
}

}  // namespace pxt
