#include "serve/http/multipart.hpp"

#include <cstring>

#include "util/strings.hpp"

namespace pxt {

namespace {

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One parameter value: a token or a quoted-string (backslash escapes honoured).
std::string param_value(std::string_view v) {
  v = trim_ws(v);
  if (v.size() < 2 || v.front() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out.push_back(v[++i]);
    } else if (v[i] == '"') {
      break;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'lang'percent-encoded; only the bytes are decoded.
std::string ext_value(std::string_view v) {
  size_t q1 = v.find('\'');
  size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::string(v);
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && hex_value(v[i + 1]) >= 0 && hex_value(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2])));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// Splits "a; b=c; d=\"e;f\"" at the semicolons outside quotes.
std::vector<std::string_view> split_params(std::string_view s) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ';' && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  auto params = split_params(content_type);
  if (params.empty() || to_lower(std::string(trim_ws(params[0]))) != "multipart/form-data") return "";
  for (size_t i = 1; i < params.size(); ++i) {
    std::string_view p = trim_ws(params[i]);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos || to_lower(std::string(trim_ws(p.substr(0, eq)))) != "boundary")
      continue;
    std::string b = param_value(p.substr(eq + 1));
    if (b.empty() || b.size() > 70) return "";
    for (unsigned char c : b)
      if (c < 0x20 || c == 0x7f) return "";
    return b;
  }
  return "";
}

MultipartParser::MultipartParser(std::string boundary, OnPart on_part, OnData on_data)
    : delimiter_("\r\n--" + boundary), on_part_(std::move(on_part)), on_data_(std::move(on_data)) {
  // The first delimiter may open the body without the CRLF in front of it.
  buf_ = "\r\n";
}

bool MultipartParser::feed(const char* data, size_t n) {
  if (state_ == State::Failed) return false;
  if (state_ == State::Done) return true;
  buf_.append(data, n);
  while (step()) {
  }
  if (state_ == State::Failed) return false;
  return true;
}

// One move of the state machine over buf_; false when it needs more bytes (or failed or done).
bool MultipartParser::step() {
  switch (state_) {
    case State::Preamble: {
      size_t at = buf_.find(delimiter_);
      if (at == std::string::npos) {
        // Keep what could be the start of a delimiter; a huge preamble is refused.
        if (buf_.size() > kMaxPartHead) state_ = State::Failed;
        return false;
      }
      buf_.erase(0, at + delimiter_.size());
      state_ = State::AfterBoundary;
      return true;
    }
    case State::AfterBoundary: {
      // "--" ends the body; otherwise optional whitespace, then CRLF, then a part.
      if (buf_.size() < 2) return false;
      if (buf_[0] == '-' && buf_[1] == '-') {
        state_ = State::Done;
        buf_.clear();
        return false;
      }
      size_t i = 0;
      while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
      if (i + 2 > buf_.size()) return false;
      if (buf_[i] != '\r' || buf_[i + 1] != '\n') {
        state_ = State::Failed;
        return false;
      }
      buf_.erase(0, i + 2);
      state_ = State::PartHead;
      return true;
    }
    case State::PartHead: {
      size_t end = buf_.find("\r\n\r\n");
      // A part without headers starts with the blank line at once.
      if (buf_.compare(0, 2, "\r\n") == 0) end = 0;
      if (end == std::string::npos) {
        if (buf_.size() > kMaxPartHead) state_ = State::Failed;
        return false;
      }
      if (end > kMaxPartHead || !parse_part_head(std::string_view(buf_).substr(0, end))) {
        state_ = State::Failed;
        return false;
      }
      buf_.erase(0, end == 0 ? 2 : end + 4);
      state_ = State::Data;
      return true;
    }
    case State::Data: {
      // A delimiter counts only when "--", CRLF or whitespace follows it; a longer look-alike
      // ("--XyZZ" for boundary "XyZ") stays data, as in a lenient reader.
      size_t from = 0, at = 0;
      for (;;) {
        at = buf_.find(delimiter_, from);
        if (at == std::string::npos || buf_.size() < at + delimiter_.size() + 2) break;
        char a = buf_[at + delimiter_.size()], b = buf_[at + delimiter_.size() + 1];
        if ((a == '-' && b == '-') || (a == '\r' && b == '\n') || a == ' ' || a == '\t') break;
        from = at + 1;
      }
      // Without a delimiter, everything but what could start one is data; with one not yet
      // followed by two bytes, the data before it.
      size_t n = at != std::string::npos           ? at
                 : buf_.size() < delimiter_.size() ? 0
                                                   : buf_.size() - (delimiter_.size() - 1);
      if (n > 0 && !on_data_(buf_.data(), n)) {
        state_ = State::Failed;
        return false;
      }
      if (at == std::string::npos || buf_.size() < at + delimiter_.size() + 2) {
        buf_.erase(0, n);
        return false;
      }
      buf_.erase(0, at + delimiter_.size());
      state_ = State::AfterBoundary;
      return true;
    }
    case State::Done:
    case State::Failed:
      return false;
  }
  return false;
}

bool MultipartParser::parse_part_head(std::string_view head) {
  PartInfo part;
  bool disposition = false;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find("\r\n", pos);
    if (nl == std::string_view::npos) nl = head.size();
    std::string_view line = head.substr(pos, nl - pos);
    pos = nl + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string name = to_lower(std::string(trim_ws(line.substr(0, colon))));
    std::string_view value = trim_ws(line.substr(colon + 1));
    if (name == "content-type") {
      part.content_type.assign(value);
    } else if (name == "content-disposition") {
      auto params = split_params(value);
      if (to_lower(std::string(trim_ws(params[0]))) != "form-data") return false;
      disposition = true;
      bool star = false;
      for (size_t i = 1; i < params.size(); ++i) {
        std::string_view p = trim_ws(params[i]);
        size_t eq = p.find('=');
        if (eq == std::string_view::npos) continue;
        std::string key = to_lower(std::string(trim_ws(p.substr(0, eq))));
        std::string_view raw = trim_ws(p.substr(eq + 1));
        if (key == "name") {
          part.name = param_value(raw);
        } else if (key == "filename" && !star) {
          part.filename = param_value(raw);
        } else if (key == "filename*") {
          part.filename = ext_value(param_value(raw));
          star = true;
        }
      }
    }
  }
  return disposition && on_part_(part);
}

}  // namespace pxt
