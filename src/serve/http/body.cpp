#include "serve/http/body.hpp"

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "serve/app/app.hpp"
#include "store/media/media.hpp"
#include "util/strings.hpp"

namespace pxt {

bool BodyBudget::take(size_t n) {
  size_t used = used_.fetch_add(n, std::memory_order_relaxed);
  if (used + n <= cap_) return true;
  used_.fetch_sub(n, std::memory_order_relaxed);
  return false;
}

namespace {

// Counts the bytes a sink holds in memory against the budget; gives them back when destroyed.
class Held {
 public:
  explicit Held(BodyBudget& budget) : budget_(budget) {}
  ~Held() { budget_.give(held_); }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  bool take(size_t n) {
    if (!budget_.take(n)) return false;
    held_ += n;
    return true;
  }

 private:
  BodyBudget& budget_;
  size_t held_ = 0;
};

class MemoryBody : public BodySink {
 public:
  MemoryBody(std::string& body, size_t limit, BodyBudget& budget)
      : body_(body), limit_(limit), held_(budget) {}
  bool write(const char* data, size_t n) override {
    if (body_.size() + n > limit_) {
      error_ = BodyError::TooLarge;
      return false;
    }
    if (!held_.take(n)) {
      error_ = BodyError::Busy;
      return false;
    }
    body_.append(data, n);
    return true;
  }

 private:
  std::string& body_;
  size_t limit_;
  Held held_;
};

class MultipartMemory : public BodySink {
 public:
  MultipartMemory(httplib::MultipartFormDataMap& files, std::string boundary, size_t limit,
                  BodyBudget& budget)
      : files_(files),
        limit_(limit),
        held_(budget),
        parser_(
            std::move(boundary),
            [this](const PartInfo& p) {
              cur_ =
                  files_.emplace(p.name, httplib::MultipartFormData{p.name, "", p.filename, p.content_type});
              return true;
            },
            [this](const char* data, size_t n) {
              cur_->second.content.append(data, n);
              return true;
            }) {}
  bool write(const char* data, size_t n) override {
    total_ += n;
    if (total_ > limit_) {
      error_ = BodyError::TooLarge;
      return false;
    }
    if (!held_.take(n)) {
      error_ = BodyError::Busy;
      return false;
    }
    if (!parser_.feed(data, n)) {
      error_ = BodyError::Malformed;
      return false;
    }
    return true;
  }
  bool finish() override {
    if (!parser_.done()) error_ = BodyError::Malformed;
    return parser_.done();
  }

 private:
  httplib::MultipartFormDataMap& files_;
  httplib::MultipartFormDataMap::iterator cur_;
  size_t limit_;
  size_t total_ = 0;
  Held held_;
  MultipartParser parser_;
};

class MultipartDisk : public BodySink {
 public:
  MultipartDisk(const ServeApp& app, httplib::MultipartFormDataMap& files, Uploads& uploads,
                std::string boundary, size_t limit, BodyBudget& budget)
      : app_(app),
        files_(files),
        uploads_(uploads),
        limit_(limit),
        held_(budget),
        buffer_(256 * 1024),
        parser_(
            std::move(boundary), [this](const PartInfo& p) { return on_part(p); },
            [this](const char* data, size_t n) { return on_data(data, n); }) {}
  ~MultipartDisk() override { close_out(); }

  bool write(const char* data, size_t n) override {
    total_ += n;
    if (total_ > limit_) {
      error_ = BodyError::TooLarge;
      return false;
    }
    if (parser_.feed(data, n)) return true;
    if (error_ == BodyError::None) error_ = BodyError::Malformed;
    return false;
  }
  bool finish() override {
    close_out();
    if (error_ != BodyError::None) return false;
    if (!parser_.done()) error_ = BodyError::Malformed;
    return parser_.done();
  }

 private:
  void fail_io(int err) {
    errno_ = err != 0 ? err : EIO;
    error_ = media::is_no_space(errno_) ? BodyError::NoSpace : BodyError::Io;
  }
  void close_out() {
    if (out_ != nullptr && std::fclose(out_) != 0 && error_ == BodyError::None) fail_io(errno);
    out_ = nullptr;
  }
  bool on_part(const PartInfo& part) {
    close_out();
    if (error_ != BodyError::None) return false;
    text_ = nullptr;
    if (part.filename.empty()) {
      text_ = &files_.emplace(part.name, httplib::MultipartFormData{part.name, "", "", part.content_type})
                   ->second.content;
      return true;
    }
    if (uploads_.parts.size() >= kMaxFileParts) {
      error_ = BodyError::TooManyFiles;
      return false;
    }
    // Only a text document's extension is kept (it tells Markdown from plain text).
    std::string ext = to_lower(std::filesystem::path(part.filename).extension().string());
    if (ext != ".md" && ext != ".markdown" && ext != ".txt" && ext != ".html" && ext != ".htm") ext.clear();
    auto tmp = media::temp_file(app_.media_dir(), ext);
    if (!tmp) {
      fail_io(tmp.error().code == Errc::no_space ? ENOSPC : EIO);
      return false;
    }
    uploads_.parts.push_back(UploadPart{part.name, part.filename, *tmp, 0});
    out_ = std::fopen(tmp->c_str(), "wb");
    if (out_ == nullptr) {
      fail_io(errno);
      return false;
    }
    std::setvbuf(out_, buffer_.data(), _IOFBF, buffer_.size());
    return true;
  }
  bool on_data(const char* data, size_t n) {
    if (out_ != nullptr) {
      uploads_.parts.back().size += n;
      if (std::fwrite(data, 1, n, out_) != n) {
        fail_io(errno);
        return false;
      }
    } else if (text_ != nullptr) {
      // Form fields stay in memory: they get the JSON body limit, not the upload one.
      text_total_ += n;
      if (text_total_ > app_.max_body_bytes()) {
        error_ = BodyError::TooLarge;
        return false;
      }
      if (!held_.take(n)) {
        error_ = BodyError::Busy;
        return false;
      }
      text_->append(data, n);
    }
    return true;
  }

  const ServeApp& app_;
  httplib::MultipartFormDataMap& files_;
  Uploads& uploads_;
  size_t limit_;
  size_t total_ = 0, text_total_ = 0;
  Held held_;
  std::vector<char> buffer_;
  std::FILE* out_ = nullptr;
  std::string* text_ = nullptr;
  MultipartParser parser_;
};

}  // namespace

std::unique_ptr<BodySink> memory_body(std::string& body, size_t limit, BodyBudget& budget) {
  return std::make_unique<MemoryBody>(body, limit, budget);
}

std::unique_ptr<BodySink> multipart_in_memory(httplib::MultipartFormDataMap& files, std::string boundary,
                                              size_t limit, BodyBudget& budget) {
  return std::make_unique<MultipartMemory>(files, std::move(boundary), limit, budget);
}

std::unique_ptr<BodySink> multipart_to_disk(const ServeApp& app, httplib::MultipartFormDataMap& files,
                                            Uploads& uploads, std::string boundary, size_t limit,
                                            BodyBudget& budget) {
  return std::make_unique<MultipartDisk>(app, files, uploads, std::move(boundary), limit, budget);
}

}  // namespace pxt
