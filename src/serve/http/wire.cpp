#include "serve/http/wire.hpp"

#include <cstring>
#include <vector>

namespace pxt::wire {

namespace {

constexpr size_t kMaxChunkExt = 4 * 1024;

bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// Field values: visible ASCII, spaces, tabs and obs-text; never NUL, CR, LF or other controls.
bool is_field_value(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Failure bad(std::string detail) { return Failure{400, "Bad Request: " + std::move(detail)}; }

// The target of a request line: origin-form, "*" (OPTIONS only) or absolute-form, which is
// reduced to its path and query. No controls or spaces; raw bytes above 0x7f pass (curl sends
// "?name=héllo" unencoded, and uvicorn's h11 accepts it too).
bool check_target(std::string_view method, std::string& target, Failure& fail) {
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) {
      fail = bad("invalid character in the request target");
      return false;
    }
  }
  if (!target.empty() && target.front() == '/') return true;
  if (target == "*" && method == "OPTIONS") return true;
  size_t sep = target.find("://");
  if (sep != std::string::npos &&
      (iequals(target.substr(0, sep), "http") || iequals(target.substr(0, sep), "https"))) {
    size_t path = target.find_first_of("/?", sep + 3);
    target = path == std::string::npos ? "/" : (target[path] == '?' ? "/" : "") + target.substr(path);
    return true;
  }
  fail = bad("invalid request target");
  return false;
}

bool parse_request_line(std::string_view line, Head& out, Failure& fail) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    fail = bad("malformed request line");
    return false;
  }
  std::string_view method = line.substr(0, sp1), version = line.substr(sp2 + 1);
  if (!is_token(method)) {
    fail = bad("invalid method");
    return false;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    fail = bad("malformed HTTP version");
    return false;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    fail = Failure{505, "HTTP Version Not Supported: " + std::string(version)};
    return false;
  }
  out.method.assign(method);
  out.target.assign(line.substr(sp1 + 1, sp2 - sp1 - 1));
  out.minor = version[7] - '0';
  return check_target(out.method, out.target, fail);
}

// Host = uri-host [":" port]: reg-name, IPv4 or [IPv6] characters; may be empty (RFC 9110 7.2).
bool valid_host(std::string_view h) {
  for (unsigned char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("-._~!$&'()*+,;=:[]%", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  return true;
}

struct Framing {
  int lengths = 0;
  std::string_view length;
  int codings = 0;
  std::string coding;
  int hosts = 0;
  std::string_view host;
  bool close = false, keep_alive = false;
  int expects = 0;
  std::string_view expect;
};

void note_field(std::string_view name, std::string_view value, Framing& f) {
  if (iequals(name, "Content-Length")) {
    ++f.lengths;
    f.length = value;
  } else if (iequals(name, "Transfer-Encoding")) {
    if (f.codings++ > 0) f.coding += ", ";
    f.coding.append(value);
  } else if (iequals(name, "Host")) {
    ++f.hosts;
    f.host = value;
  } else if (iequals(name, "Connection")) {
    for (const auto& t : header_tokens(value)) {
      if (t == "close") f.close = true;
      if (t == "keep-alive") f.keep_alive = true;
    }
  } else if (iequals(name, "Expect")) {
    ++f.expects;
    f.expect = value;
  }
}

bool apply_framing(const Framing& f, Head& out, Failure& fail) {
  if (out.minor == 1 && f.hosts == 0) {
    fail = bad("missing Host header");
    return false;
  }
  if (f.hosts > 1) {
    fail = bad("more than one Host header");
    return false;
  }
  if (f.hosts == 1 && !valid_host(f.host)) {
    fail = bad("invalid Host header");
    return false;
  }
  if (f.codings > 0) {
    if (f.lengths > 0) {
      fail = bad("both Content-Length and Transfer-Encoding");
      return false;
    }
    if (out.minor == 0) {
      fail = bad("Transfer-Encoding in an HTTP/1.0 request");
      return false;
    }
    if (f.codings > 1 || !iequals(trim_ows(f.coding), "chunked")) {
      fail =
          Failure{501, "Not Implemented: transfer coding '" + f.coding + "' (only 'chunked' is supported)"};
      return false;
    }
    out.body = BodyFraming::Chunked;
  } else if (f.lengths > 0) {
    if (f.lengths > 1) {
      fail = bad("more than one Content-Length header");
      return false;
    }
    if (f.length.empty() || f.length.size() > 18 ||
        f.length.find_first_not_of("0123456789") != std::string_view::npos) {
      fail = bad("invalid Content-Length '" + std::string(f.length.substr(0, 40)) + "'");
      return false;
    }
    out.length = std::stoull(std::string(f.length));
    out.body = out.length > 0 ? BodyFraming::Length : BodyFraming::None;
  }
  out.keep_alive = out.minor == 1 ? !f.close : (f.keep_alive && !f.close);
  if (out.minor == 1 && f.expects > 0) {
    if (f.expects > 1 || !iequals(trim_ows(f.expect), "100-continue")) {
      fail = Failure{417, "Expectation Failed: only 'Expect: 100-continue' is supported"};
      return false;
    }
    out.expect_continue = true;
  }
  return true;
}

}  // namespace

Scan scan_head(std::string_view buf, HeadScan& s, size_t& end, Failure& fail) {
  while (s.pos < buf.size()) {
    const void* nl = std::memchr(buf.data() + s.pos, '\n', buf.size() - s.pos);
    size_t stop = nl == nullptr ? buf.size() : static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
    if (s.lines == 0 && stop - s.line_start > kMaxRequestLine) {
      fail = Failure{
          414, "URI Too Long: the request line is longer than " + std::to_string(kMaxRequestLine) + " bytes"};
      return Scan::Failed;
    }
    if (stop >= kMaxHeadBytes) {
      fail = Failure{431, "Request Header Fields Too Large: the request head is longer than " +
                              std::to_string(kMaxHeadBytes / 1024) + " KiB"};
      return Scan::Failed;
    }
    if (nl == nullptr) {
      s.pos = buf.size();
      return Scan::Incomplete;
    }
    size_t len = stop - s.line_start;
    if (len > 0 && buf[stop - 1] == '\r') --len;
    s.pos = stop + 1;
    s.line_start = s.pos;
    if (len == 0 && s.lines > 0) {
      end = s.pos;
      return Scan::Complete;
    }
    if (++s.lines > kMaxFields + 1) {
      fail = Failure{
          431, "Request Header Fields Too Large: more than " + std::to_string(kMaxFields) + " header fields"};
      return Scan::Failed;
    }
  }
  return Scan::Incomplete;
}

bool parse_head(std::string_view head, Head& out, Failure& fail) {
  Framing framing;
  bool first = true;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    if (nl == std::string_view::npos) nl = head.size();
    std::string_view line = head.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) {
      fail = bad("bare CR in the request head");
      return false;
    }
    if (line.empty()) break;  // the blank line ending the head
    if (first) {
      first = false;
      if (!parse_request_line(line, out, fail)) return false;
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      fail = bad("folded header line");
      return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail = bad("header line without a colon");
      return false;
    }
    std::string_view name = line.substr(0, colon);
    if (!is_token(name)) {
      bool space = !name.empty() && (name.back() == ' ' || name.back() == '\t');
      fail = bad(space ? "whitespace before the colon of a header" : "invalid header name");
      return false;
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) {
      fail = bad("invalid character in the value of header '" + std::string(name) + "'");
      return false;
    }
    note_field(name, value, framing);
    out.headers.emplace(std::string(name), std::string(value));
  }
  if (first) {
    fail = bad("empty request");
    return false;
  }
  return apply_framing(framing, out, fail);
}

ChunkedDecoder::Status ChunkedDecoder::feed(std::string_view in, size_t& consumed, const Sink& sink,
                                            Failure& fail) {
  auto failed = [&](const char* why) {
    fail = bad(why);
    return Status::Failed;
  };
  size_t i = 0;
  while (i < in.size() && state_ != State::Done) {
    const char c = in[i];
    switch (state_) {
      case State::Size: {
        int v =
            c >= '0' && c <= '9' ? c - '0' : (lower(c) >= 'a' && lower(c) <= 'f' ? lower(c) - 'a' + 10 : -1);
        if (v >= 0) {
          if (++digits_ > 15) return failed("chunk size too large");
          size_ = size_ * 16 + static_cast<uint64_t>(v);
        } else if (digits_ == 0) {
          return failed("invalid chunk size");
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == ';') {
          state_ = State::Ext;
        } else if (c == ' ' || c == '\t') {
          state_ = State::SizeSpace;
        } else {
          return failed("invalid chunk size");
        }
        ++i;
        break;
      }
      case State::SizeSpace:  // BWS is only allowed before an extension
        if (c == ';')
          state_ = State::Ext;
        else if (c != ' ' && c != '\t')
          return failed("invalid chunk size");
        ++i;
        break;
      case State::Ext:
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          return failed("invalid chunk extension");
        } else if (++line_bytes_ > kMaxChunkExt) {
          return failed("chunk extension too long");
        }
        ++i;
        break;
      case State::SizeLf:
        if (c != '\n') return failed("chunk size line not ended by CRLF");
        ++i;
        line_bytes_ = 0;
        digits_ = 0;
        state_ = size_ == 0 ? State::TrailerStart : State::Data;
        break;
      case State::Data: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(size_, in.size() - i));
        size_ -= n;
        if (size_ == 0) state_ = State::DataCr;
        bool go_on = sink(in.data() + i, n);
        i += n;
        if (!go_on) {
          consumed = i;
          return Status::NeedMore;
        }
        break;
      }
      case State::DataCr:
        if (c != '\r') return failed("chunk data not followed by CRLF");
        state_ = State::DataLf;
        ++i;
        break;
      case State::DataLf:
        if (c != '\n') return failed("chunk data not followed by CRLF");
        state_ = State::Size;
        ++i;
        break;
      case State::TrailerStart:
        if (c == '\r') {
          state_ = State::EndLf;
        } else {
          if (++trailer_fields_ > kMaxFields) return failed("too many trailer fields");
          state_ = State::TrailerLine;
          continue;  // the byte belongs to the line
        }
        ++i;
        break;
      case State::TrailerLine:
        if (c == '\r') {
          state_ = State::TrailerLf;
        } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          return failed("invalid character in a trailer field");
        } else if (++trailer_bytes_ > kMaxHeadBytes) {
          return failed("trailer fields too large");
        }
        ++i;
        break;
      case State::TrailerLf:
        if (c != '\n') return failed("trailer line not ended by CRLF");
        state_ = State::TrailerStart;
        ++i;
        break;
      case State::EndLf:
        if (c != '\n') return failed("chunked body not ended by CRLF");
        state_ = State::Done;
        ++i;
        break;
      case State::Done:
        break;
    }
  }
  consumed = i;
  return state_ == State::Done ? Status::Done : Status::NeedMore;
}

std::vector<std::string> header_tokens(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view t = trim_ows(value.substr(start, comma - start));
    if (!t.empty()) {
      std::string s(t);
      for (char& ch : s) ch = lower(ch);
      out.push_back(std::move(s));
    }
    start = comma + 1;
  }
  return out;
}

bool accepts_gzip(std::string_view value) {
  int gzip = -1, star = -1;  // -1: not listed; 0: q=0; 1: acceptable
  for (const auto& token : header_tokens(value)) {
    std::string_view t = token;
    size_t semi = t.find(';');
    std::string_view coding = trim_ows(t.substr(0, semi));
    int ok = 1;
    while (semi != std::string_view::npos) {
      size_t next = t.find(';', semi + 1);
      std::string_view param =
          trim_ows(t.substr(semi + 1, next == std::string_view::npos ? next : next - semi - 1));
      if (param.size() > 2 && param[0] == 'q' && param[1] == '=') {
        // q=0, q=0.0, q=0.000 refuse; any other weight accepts.
        std::string_view q = param.substr(2);
        ok = q.find_first_not_of("0.") == std::string_view::npos && !q.empty() && q[0] == '0' ? 0 : 1;
      }
      semi = next;
    }
    if (coding == "gzip" || coding == "x-gzip") gzip = std::max(gzip, ok);
    if (coding == "*") star = ok;
  }
  return gzip >= 0 ? gzip == 1 : star == 1;
}

}  // namespace pxt::wire
