#pragma once
// Multipart uploads: file parts streamed to temp files under media/.tmp while the body is read
// (a 200 MB video never sits in memory), form fields decoded to their column or parameter
// types, and the media values of a request (uploads and JSON data: URIs) validated and adopted
// under their final names before anything is written.
#include <httplib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "serve/http/request.hpp"

namespace pxt {

struct UploadPart {
  std::string field;     // the form field name
  std::string filename;  // as the client sent it (only for messages)
  std::filesystem::path tmp;
  uint64_t size = 0;
};

// The file parts of one request. The destructor removes every temp file still in place, so a
// refused or failed request leaves nothing behind (adopted files were moved away already).
// Not thread-safe; owned by the request's thread.
class Uploads {
 public:
  Uploads() = default;
  ~Uploads();
  Uploads(const Uploads&) = delete;
  Uploads& operator=(const Uploads&) = delete;

  std::vector<UploadPart> parts;
  // The last part sent for a field, or nullptr.
  const UploadPart* find(std::string_view field) const;
};

// Media files adopted for one request. Unless release()d, the destructor removes them: a request
// that fails after adoption (a refused insert, a query's transient parameter) leaves no file.
class AdoptedMedia {
 public:
  explicit AdoptedMedia(std::string media_dir) : dir_(std::move(media_dir)) {}
  ~AdoptedMedia();
  AdoptedMedia(AdoptedMedia&&) = default;
  AdoptedMedia(const AdoptedMedia&) = delete;
  AdoptedMedia& operator=(const AdoptedMedia&) = delete;
  void add(std::string rel) { names_.push_back(std::move(rel)); }
  // The files now belong to stored rows (or to another process that runs the job).
  void release() { names_.clear(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> names_;
};

// Decodes a multipart/form-data request: `fields` from the text parts (converted like query
// parameters), `uploads` from `parts`. Errors are FastAPI's 422 with loc ["body", name]: a
// missing required field or file, a bad value, text where a file is expected. Returns true on
// success; otherwise `res` holds the answer. Thread-safe.
bool decode_form(const std::vector<RequestField>& fields, const std::vector<RequestField>& uploads,
                 const httplib::Request& req, const Uploads& parts, DecodedFields& out,
                 std::vector<const UploadPart*>& files, httplib::Response& res);

// Validates each given file against its field's media type (all of them first), then adopts them
// into media_dir, writing the relative names into `values` at `value_index[i]`. A bad file is a
// 422 naming the field; nothing is adopted then. Returns true on success; otherwise `res` holds
// the answer.
bool adopt_uploads(const std::string& media_dir, const std::vector<RequestField>& uploads,
                   const std::vector<const UploadPart*>& files, const std::vector<size_t>& value_index,
                   std::vector<Value>& values, AdoptedMedia& adopted, httplib::Response& res);

// Replaces data: URI strings in media-typed fields by adopted files (422 naming the field when a
// value is not a valid data: URI for its type). Returns true on success; otherwise `res` holds
// the answer.
bool adopt_data_uris(const std::string& media_dir, const std::vector<RequestField>& fields, DecodedFields& d,
                     AdoptedMedia& adopted, httplib::Response& res);

}  // namespace pxt
