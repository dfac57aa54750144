#pragma once
// Serving stored media files: GET/HEAD <prefix>/media/<relative path> and the raw-file answers of
// return_fileresponse routes. A file is opened beneath the media folder with openat2(2)
// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so "..", absolute paths and symlinks cannot reach
// anything outside it, whatever the decoded URL says; hidden entries (".tmp/") are never served.
// Answers carry the content type sniffed from the file, a strong ETag, Last-Modified, 304 for
// matching conditional requests, and single byte ranges (206 / 416).
#include <httplib.h>

#include <string>
#include <string_view>

namespace pxt {

class MediaRoot {
 public:
  // Opens the media folder (created by the store). Thread-safe after construction.
  explicit MediaRoot(std::string dir);
  ~MediaRoot();
  MediaRoot(const MediaRoot&) = delete;
  MediaRoot& operator=(const MediaRoot&) = delete;

  const std::string& dir() const { return dir_; }

  // Answers GET/HEAD for `rel` (the URL path after "/media/", already percent-decoded): the file,
  // 304, 206, 416, or 404 {"detail": "Not Found"} for anything that is not a regular file inside
  // the folder. Never throws.
  void serve(std::string_view rel, const httplib::Request& req, httplib::Response& res) const;

  // Answers 200 with the whole file `rel` (return_fileresponse). False, leaving res untouched,
  // when there is no such file.
  bool send(std::string_view rel, httplib::Response& res) const;

  // Opens `rel` beneath the folder; -1 (errno set) when it is not a regular file inside it.
  // The caller owns the descriptor.
  int open_beneath(std::string_view rel) const;

 private:
  std::string dir_;
  int dir_fd_ = -1;
};

}  // namespace pxt
