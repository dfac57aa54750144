#include "serve/http/writer.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "serve/http/wire.hpp"

namespace pxt {

namespace {

// Smaller answers are sent as they are: gzip's 18-byte frame would eat most of the gain.
constexpr size_t kMinGzipBytes = 256;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Text types worth compressing (the list cpp-httplib used, which pxt's answers relied on).
bool compressible(std::string_view type) {
  if (type.substr(0, 5) == "text/") return type.substr(0, 17) != "text/event-stream";
  for (std::string_view t : {"application/json", "application/javascript", "application/xml", "image/svg+xml",
                             "application/xhtml+xml"})
    if (type.substr(0, t.size()) == t) return true;
  return type.find("+json") != std::string_view::npos;
}

// The per-second Date header, formatted once per second per thread.
const std::string& date_header() {
  thread_local time_t cached = 0;
  thread_local std::string line;
  time_t now = std::time(nullptr);
  if (now != cached) {
    cached = now;
    struct tm tm {};
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    line.assign(buf, n);
  }
  return line;
}

// gzip with a per-thread stream: deflateInit allocates ~256 KB, deflateReset nothing. False when
// zlib fails (the body is then sent as it is).
bool gzip_into(std::string_view in, std::string& out) {
  struct Stream {
    z_stream z{};
    bool ok = false;
    Stream() {
      ok = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~Stream() {
      if (ok) deflateEnd(&z);
    }
  };
  thread_local Stream s;
  if (!s.ok || deflateReset(&s.z) != Z_OK) return false;
  size_t start = out.size();
  out.resize(start + deflateBound(&s.z, static_cast<uLong>(in.size())));
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.z.avail_in = static_cast<uInt>(in.size());
  s.z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  s.z.avail_out = static_cast<uInt>(out.size() - start);
  if (deflate(&s.z, Z_FINISH) != Z_STREAM_END) {
    out.resize(start);
    return false;
  }
  out.resize(out.size() - s.z.avail_out);
  return true;
}

bool owned_header(std::string_view name) {
  for (std::string_view h :
       {"Connection", "Keep-Alive", "Content-Length", "Transfer-Encoding", "Date", "Vary"})
    if (iequals(name, h)) return true;
  return false;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// The Vary values the handler set (CORS adds Origin), plus Accept-Encoding when asked, once each.
std::string vary_value(const httplib::Response& res, bool encoding) {
  std::string vary;
  auto range = res.headers.equal_range("Vary");
  for (auto it = range.first; it != range.second; ++it) {
    auto tokens = wire::header_tokens(it->second);
    if (tokens.empty()) continue;
    for (const auto& t : tokens)
      if (t == "accept-encoding") encoding = false;
    if (!vary.empty()) vary += ", ";
    vary += it->second;
  }
  if (encoding) vary += vary.empty() ? "Accept-Encoding" : ", Accept-Encoding";
  return vary;
}

}  // namespace

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

void serialize_answer(httplib::Response& res, const WireOptions& o, OutItem& item) {
  if (res.status < 0) res.status = 200;
  const int status = res.status;
  // RFC 9110 8.6 / 15.3.5 / 15.4.5: no body and no Content-Length on 1xx, 204 and 304.
  const bool bodyless = status < 200 || status == 204 || status == 304;
  const bool streamed = static_cast<bool>(res.content_provider_) && !bodyless;
  auto ct = res.headers.find("Content-Type");
  const bool text = ct != res.headers.end() && compressible(ct->second);
  const bool encoded = res.has_header("Content-Encoding");
  // Whether the answer's bytes may depend on Accept-Encoding: then caches must know (Vary).
  const bool negotiable = text && !streamed && !bodyless && !encoded && status != 206;
  const bool gzip = negotiable && o.gzip && res.body.size() >= kMinGzipBytes;

  std::string& out = item.bytes;
  char line[64];
  int n = std::snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
  out.append(line, static_cast<size_t>(n));
  for (const auto& [name, value] : res.headers)
    if (!owned_header(name)) append_header(out, name, value);
  std::string vary = vary_value(res, negotiable);
  if (!vary.empty()) append_header(out, "Vary", vary);
  if (o.close)
    out.append("Connection: close\r\n");
  else if (o.keep_alive_10)
    out.append("Connection: keep-alive\r\n");
  out.append(date_header());

  std::string compressed;
  std::string_view body = bodyless ? std::string_view() : std::string_view(res.body);
  if (gzip && gzip_into(body, compressed)) {
    out.append("Content-Encoding: gzip\r\n");
    body = compressed;
  }
  if (!bodyless) {
    size_t length = streamed ? res.content_length_ : body.size();
    n = std::snprintf(line, sizeof line, "Content-Length: %zu\r\n", length);
    out.append(line, static_cast<size_t>(n));
  }
  out.append("\r\n");
  if (o.head) return;
  if (streamed) {
    item.stream_offset = 0;
    item.stream_length = res.content_length_;
    item.streamed = std::make_unique<httplib::Response>(std::move(res));
    return;
  }
  out.append(body);
}

void OutQueue::push(OutItem item) {
  backlog_ += item.bytes.size() - item.sent;
  items_.push_back(std::move(item));
}

void OutQueue::push_raw(std::string bytes) {
  OutItem item;
  item.bytes = std::move(bytes);
  push(std::move(item));
}

// Pulls the next chunk of a streamed body into item.bytes. False when the provider fails or
// makes no progress (the file shrank): the connection cannot be saved then.
bool OutQueue::refill(OutItem& item) {
  item.bytes.clear();
  item.sent = 0;
  httplib::DataSink sink;
  sink.write = [&item](const char* data, size_t n) {
    item.bytes.append(data, n);
    item.stream_offset += n;
    return true;
  };
  sink.is_writable = [] { return true; };
  sink.done = [] {};
  bool ok =
      item.streamed->content_provider_(item.stream_offset, item.stream_length - item.stream_offset, sink);
  backlog_ += item.bytes.size();
  return ok && !item.bytes.empty();
}

int OutQueue::flush(const SendFn& send, const DoneFn& done, size_t& sent) {
  sent = 0;
  while (!items_.empty()) {
    OutItem& item = items_.front();
    while (item.sent < item.bytes.size()) {
      ssize_t n = send(item.bytes.data() + item.sent, item.bytes.size() - item.sent);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
      item.sent += static_cast<size_t>(n);
      backlog_ -= static_cast<size_t>(n);
      sent += static_cast<size_t>(n);
    }
    if (item.streamed && item.stream_offset < item.stream_length) {
      if (!refill(item)) return -2;
      continue;
    }
    if (item.streamed) item.streamed->content_provider_success_ = true;
    done(item, true);
    items_.pop_front();
  }
  return 0;
}

void OutQueue::drop(const DoneFn& done) {
  for (auto& item : items_) done(item, false);
  items_.clear();
  backlog_ = 0;
}

}  // namespace pxt
