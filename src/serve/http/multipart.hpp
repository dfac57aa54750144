#pragma once
// A streaming multipart/form-data parser (RFC 7578): parts are reported as their headers are
// read and their data as it arrives, so an upload can go to disk without ever being held in
// memory. Part headers are bounded (kMaxPartHead); data between boundaries is passed through
// with at most one delimiter's length held back.
#include <functional>
#include <string>
#include <string_view>

namespace pxt {

struct PartInfo {
  std::string name;          // the form field
  std::string filename;      // empty for a text field
  std::string content_type;  // as sent, may be empty
};

// The boundary parameter of a multipart/form-data Content-Type, or "" when the type is not
// multipart/form-data or the boundary is missing or invalid (1 to 70 characters). Pure.
std::string multipart_boundary(std::string_view content_type);

// Not thread-safe; one per body.
class MultipartParser {
 public:
  static constexpr size_t kMaxPartHead = 8 * 1024;
  using OnPart = std::function<bool(const PartInfo&)>;
  using OnData = std::function<bool(const char* data, size_t n)>;

  MultipartParser(std::string boundary, OnPart on_part, OnData on_data);

  // Parses the next bytes of the body. False when the body is malformed or a callback returned
  // false (the callbacks' owner knows which); the parser must not be fed again then.
  bool feed(const char* data, size_t n);
  // True once the closing delimiter was read (what follows it is ignored).
  bool done() const { return state_ == State::Done; }

 private:
  enum class State { Preamble, AfterBoundary, PartHead, Data, Done, Failed };
  bool step();
  bool parse_part_head(std::string_view head);

  std::string delimiter_;  // "\r\n--" + boundary
  OnPart on_part_;
  OnData on_data_;
  std::string buf_;
  State state_ = State::Preamble;
};

}  // namespace pxt
