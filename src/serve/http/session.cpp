#include "serve/http/session.hpp"

#include <cstring>

#include "serve/app/app.hpp"
#include "serve/http/response.hpp"
#include "serve/http/setup.hpp"

namespace pxt {

namespace {

// An idle keep-alive connection costs no thread, only a socket and this object; uvicorn's
// default, so clients tuned for Pixeltable's server reuse connections the same way.
constexpr int64_t kKeepAliveNs = 5'000'000'000;
// A body must arrive at least this fast once its first read_timeout_s has passed.
constexpr double kMinBodyBytesPerSecond = 64 * 1024;
// A client must take some of a pending answer within this (or read_timeout_s if longer).
constexpr int64_t kMinWriteTimeoutNs = 10'000'000'000;
// Answers queued past this wait until the client reads: pipelining cannot pile up memory.
constexpr size_t kMaxBacklog = 256 * 1024;
// A request body above this leaves freed memory the allocator may keep: ask for a trim.
constexpr size_t kTrimAfterBytes = 1 << 20;
// Memory for request bodies, all connections together (see body.hpp).
constexpr size_t kMinBodyBudget = 256u << 20;

const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string too_large_detail(size_t limit) {
  return "request body too large: the limit is " + std::to_string(limit >> 20) + " MB";
}

std::string_view path_of_target(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool says_close(const httplib::Response& res) {
  auto range = res.headers.equal_range("Connection");
  for (auto it = range.first; it != range.second; ++it)
    for (const auto& t : wire::header_tokens(it->second))
      if (t == "close") return true;
  return false;
}

}  // namespace

SessionShared::SessionShared(const ServeApp& a, LogFormat format)
    : app(a),
      log_format(format),
      read_timeout_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(a.read_timeout()).count()),
      keep_alive_ns(kKeepAliveNs),
      budget(std::max(kMinBodyBudget, 2 * std::max(a.max_body_bytes(), a.max_upload_bytes()))) {}

Session::Session(SessionShared& shared, Peer peer, int64_t now_ns)
    : shared_(shared), peer_(std::move(peer)), now_(now_ns), idle_since_(now_ns), write_progress_(now_ns) {}

Session::~Session() = default;

Session::Phase Session::phase() const {
  if (state_ == State::Closing) return Phase::Closing;
  if (!out_.empty()) return Phase::Writing;
  if (state_ == State::Body) return Phase::Body;
  return head_start_ == 0 ? Phase::Idle : Phase::Head;
}

int64_t Session::deadline() const {
  switch (phase()) {
    case Phase::Closing:
      return 0;  // the connection layer bounds its lingering close itself
    case Phase::Writing:
      return write_progress_ + std::max(kMinWriteTimeoutNs, shared_.read_timeout_ns);
    case Phase::Body:
      return body_start_ + shared_.read_timeout_ns +
             static_cast<int64_t>(static_cast<double>(body_bytes_) / kMinBodyBytesPerSecond * 1e9);
    case Phase::Head:
      return head_start_ + shared_.read_timeout_ns;
    case Phase::Idle:
      return idle_since_ + (served_ ? shared_.keep_alive_ns : shared_.read_timeout_ns);
  }
  return 0;
}

Session::Next Session::process(int64_t now_ns) {
  now_ = now_ns;
  for (;;) {
    if (state_ == State::Closing) return Next::Close;
    if (out_.backlog() > kMaxBacklog) return Next::Write;
    const State before = state_;
    const bool progress = state_ == State::Head ? read_head() : read_body();
    if (progress || state_ != before) continue;
    if (!eof_) return Next::Read;
    if (state_ == State::Body) on_lost();
    return Next::Close;
  }
}

// False when the head is not complete yet.
bool Session::read_head() {
  if (scan_.pos == 0) {
    // Empty lines before a request line are ignored (RFC 9112 2.2).
    size_t skip = 0;
    while (skip < in_.size() && (in_[skip] == '\r' || in_[skip] == '\n')) ++skip;
    if (skip > 0) in_.erase(0, skip);
  }
  if (in_.empty()) return false;
  if (head_start_ == 0) head_start_ = now_;
  size_t end = 0;
  wire::Failure fail;
  switch (wire::scan_head(in_, scan_, end, fail)) {
    case wire::Scan::Incomplete:
      return false;
    case wire::Scan::Failed:
      head_ = wire::Head{};
      reject(fail.status, fail.detail);
      return true;
    case wire::Scan::Complete:
      break;
  }
  head_ = wire::Head{};
  scan_ = wire::HeadScan{};
  bool ok = wire::parse_head(std::string_view(in_).substr(0, end), head_, fail);
  in_.erase(0, end);
  if (!ok) {
    reject(fail.status, fail.detail);
    return true;
  }
  begin_request();
  return true;
}

void Session::fill_request() {
  req_.method = std::move(head_.method);
  req_.target = std::move(head_.target);
  req_.version = head_.minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  req_.headers = std::move(head_.headers);
  req_.params.clear();
  req_.files.clear();
  req_.ranges.clear();
  if (req_.body.capacity() > (64u << 10)) std::string().swap(req_.body);
  req_.body.clear();
  size_t q = req_.target.find('?');
  req_.path = httplib::detail::decode_url(req_.target.substr(0, q), false);
  if (q != std::string::npos && q + 1 < req_.target.size())
    httplib::detail::parse_query_text(req_.target.substr(q + 1), req_.params);
  req_.remote_addr = peer_.remote_addr;
  req_.remote_port = peer_.remote_port;
  req_.local_addr = peer_.local_addr;
  req_.local_port = peer_.local_port;
}

void Session::begin_request() {
  started_ = std::chrono::steady_clock::now();
  note_.clear();
  fill_request();
  res_ = std::make_unique<httplib::Response>();
  close_after_ = false;
  const ServeApp& app = shared_.app;
  const bool has_body = head_.body != wire::BodyFraming::None;
  log_request_start();
  const bool admitted = app.admit(req_, *res_);
  note_ = current_error_note();
  if (!admitted) {
    // Refused before any of the body is read; a body still on its way would be read as the
    // next request, so the connection ends unless the whole body is already here.
    answer(has_body && !skip_buffered_body());
    return;
  }
  if (!has_body) return dispatch();
  if (!app.reads_body(req_)) {
    close_after_ = !skip_buffered_body();
    return dispatch();
  }
  std::string boundary;
  if (req_.is_multipart_form_data()) {
    boundary = multipart_boundary(req_.get_header_value("Content-Type"));
    if (boundary.empty()) {
      reply_detail(*res_, 400, "There was an error parsing the body");
      return refuse_body();
    }
  }
  const bool upload = !boundary.empty() && app.upload_route(req_) != nullptr;
  limit_ = upload ? app.max_upload_bytes() : app.max_body_bytes();
  if (head_.body == wire::BodyFraming::Length && head_.length > limit_) {
    reply_detail(*res_, 413, too_large_detail(limit_));
    return refuse_body();
  }
  if (upload) {
    uploads_ = std::make_unique<Uploads>();
    sink_ = multipart_to_disk(app, req_.files, *uploads_, std::move(boundary), limit_, shared_.budget);
  } else if (!boundary.empty()) {
    sink_ = multipart_in_memory(req_.files, std::move(boundary), limit_, shared_.budget);
  } else {
    sink_ = memory_body(req_.body, limit_, shared_.budget);
  }
  // Only now, with auth and the limits passed, is the client told to send its body.
  if (head_.expect_continue) out_.push_raw(kContinue);
  remaining_ = head_.length;
  body_bytes_ = 0;
  body_start_ = now_;
  chunked_ = wire::ChunkedDecoder{};
  state_ = State::Body;
}

// False when more of the body is needed.
bool Session::read_body() {
  if (in_.empty()) return false;
  size_t used = 0;
  bool complete = false, stopped = false;
  if (head_.body == wire::BodyFraming::Length) {
    used = static_cast<size_t>(std::min<uint64_t>(remaining_, in_.size()));
    stopped = !sink_->write(in_.data(), used);
    remaining_ -= used;
    complete = remaining_ == 0;
  } else {
    wire::Failure fail;
    auto sink = [&](const char* data, size_t n) {
      stopped = !sink_->write(data, n);
      return !stopped;
    };
    auto status = chunked_.feed(in_, used, sink, fail);
    if (status == wire::ChunkedDecoder::Status::Failed) {
      in_.erase(0, used);
      reply_detail(*res_, fail.status, fail.detail);
      note_ = fail.detail;
      return refuse_body(), true;
    }
    complete = status == wire::ChunkedDecoder::Status::Done;
  }
  body_bytes_ += used;
  in_.erase(0, used);
  if (!stopped && complete && !sink_->finish()) stopped = true;
  if (stopped) {
    switch (sink_->error()) {
      case BodyError::TooLarge:
        reply_detail(*res_, 413, too_large_detail(limit_));
        break;
      case BodyError::TooManyFiles:
        reply_detail(*res_, 400, "too many files in one request: at most " + std::to_string(kMaxFileParts));
        break;
      case BodyError::NoSpace:
        reply_no_space(*res_, std::string("cannot write an upload to the media folder: ") +
                                  std::strerror(sink_->io_errno()));
        break;
      case BodyError::Io:
        reply_internal(*res_, "cannot write an upload to the media folder");
        break;
      case BodyError::Busy:
        reply_detail(*res_, 503, "the server holds too many request bodies: try again");
        put_header(*res_, "Retry-After", "1");
        break;
      default:
        reply_detail(*res_, 400, "There was an error parsing the body");
    }
    note_ = current_error_note();
    refuse_body();
    return true;
  }
  if (!complete) return used > 0 && !in_.empty();
  if (body_bytes_ > kTrimAfterBytes) shared_.trim_wanted.store(true, std::memory_order_relaxed);
  dispatch();
  return true;
}

// Answers what res_ holds for a request whose body is not (fully) read, and ends the connection.
void Session::refuse_body() {
  shared_.app.decorate(req_, *res_);
  answer(true);
}

void Session::dispatch() {
  log_request_start();
  shared_.app.handle(req_, *res_, uploads_.get());
  if (note_.empty()) note_ = current_error_note();
  answer(close_after_);
}

// A request the layer cannot read: the answer names why, and the connection ends.
void Session::reject(int status, const std::string& detail) {
  started_ = std::chrono::steady_clock::now();
  res_ = std::make_unique<httplib::Response>();
  reply_detail(*res_, status, detail);
  note_ = detail;
  req_.method = head_.method;
  req_.path = std::string(path_of_target(head_.target));
  req_.headers.clear();
  answer(true);
}

// Discards a Content-Length body that has fully arrived already (the connection can then be
// reused). False when it has not: the caller closes the connection instead.
bool Session::skip_buffered_body() {
  if (head_.body != wire::BodyFraming::Length || in_.size() < head_.length) return false;
  in_.erase(0, static_cast<size_t>(head_.length));
  return true;
}

void Session::answer(bool close) {
  httplib::Response& res = *res_;
  if (res.status < 0) res.status = 200;
  close = close || !head_.keep_alive || says_close(res) || shared_.stopping.load(std::memory_order_relaxed);
  WireOptions o;
  o.head = req_.method == "HEAD";
  o.close = close;
  o.keep_alive_10 = !close && head_.minor == 0;
  auto ae = req_.headers.find("Accept-Encoding");
  o.gzip = ae != req_.headers.end() && wire::accepts_gzip(ae->second);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (!req_.method.empty()) shared_.app.record(req_, res.status, elapsed);
  shared_.answered.fetch_add(1, std::memory_order_relaxed);
  OutItem item;
  item.has_note = true;
  item.note.method = req_.method;
  item.note.path = req_.path;
  item.note.status = res.status;
  item.note.start = started_;
  item.note.error = std::move(note_);
  serialize_answer(res, o, item);
  out_.push(std::move(item));
  sink_.reset();
  uploads_.reset();
  res_.reset();
  served_ = true;
  head_start_ = 0;
  idle_since_ = now_;
  write_progress_ = now_;
  state_ = close ? State::Closing : State::Head;
}

void Session::log_line(int status, std::string_view method, std::string_view path, int64_t start_ns,
                       std::string note) {
  AccessRecord r;
  r.remote_addr = peer_.remote_addr;
  r.method = method.empty() ? "-" : method;
  r.path = path.empty() ? "-" : path;
  r.status = status;
  r.duration_ms = start_ns > 0 ? static_cast<double>(now_ - start_ns) / 1e6 : 0;
  r.error = note;
  r.time = std::chrono::system_clock::now();
  write_access_record(shared_.log_format, r);
}

void Session::on_answer_done(OutItem& item, bool sent) {
  if (!item.has_note) return;
  AccessRecord r;
  r.remote_addr = peer_.remote_addr;
  r.method = item.note.method.empty() ? "-" : std::string_view(item.note.method);
  r.path = item.note.path.empty() ? "-" : std::string_view(item.note.path);
  r.status = item.note.status;
  r.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - item.note.start).count();
  std::string error = std::move(item.note.error);
  if (!sent)
    error += std::string(error.empty() ? "" : "; ") + "the client left before the whole answer was sent";
  r.error = error;
  r.time = std::chrono::system_clock::now();
  write_access_record(shared_.log_format, r);
}

void Session::on_timeout(int64_t now_ns) {
  now_ = now_ns;
  const Phase p = phase();
  if (p != Phase::Head && p != Phase::Body) return;
  shared_.slow_closed.fetch_add(1, std::memory_order_relaxed);
  const long secs = static_cast<long>(shared_.read_timeout_ns / 1'000'000'000);
  if (p == Phase::Head) {
    log_line(408, "", "", head_start_,
             "request head not complete within read_timeout_s (" + std::to_string(secs) +
                 " s): connection closed");
  } else {
    log_line(408, req_.method, req_.path, body_start_,
             "request body too slow: " + std::to_string(body_bytes_) + " bytes after " +
                 std::to_string((now_ - body_start_) / 1'000'000'000) + " s (read_timeout_s " +
                 std::to_string(secs) + " s, then at least 64 KiB/s): connection closed");
  }
}

void Session::on_lost() {
  if (state_ != State::Body) return;
  log_line(400, req_.method, req_.path, body_start_,
           "the client closed the connection after " + std::to_string(body_bytes_) + " bytes of the body");
  sink_.reset();
  uploads_.reset();
  state_ = State::Closing;
}

std::string serve_bytes(const ServeApp& app, std::string_view bytes, size_t chunk, LogFormat log_format) {
  SessionShared shared(app, log_format);
  Peer peer{"127.0.0.1", 40000, "127.0.0.1", 8000};
  Session s(shared, peer, 1);
  std::string written;
  auto send = [&written](const char* data, size_t n) {
    written.append(data, n);
    return static_cast<ssize_t>(n);
  };
  auto done = [&s](OutItem& item, bool sent) { s.on_answer_done(item, sent); };
  size_t pos = 0, sent = 0;
  for (;;) {
    size_t n = chunk == 0 ? bytes.size() - pos : std::min(chunk, bytes.size() - pos);
    s.input().append(bytes.substr(pos, n));
    pos += n;
    if (pos == bytes.size()) s.on_eof();
    Session::Next next = s.process(2);
    while (next == Session::Next::Write) {
      s.output().flush(send, done, sent);
      next = s.process(2);
    }
    s.output().flush(send, done, sent);
    if (next == Session::Next::Close || pos == bytes.size()) break;
  }
  s.output().drop(done);
  return written;
}

}  // namespace pxt
