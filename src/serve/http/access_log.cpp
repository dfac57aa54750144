#include "serve/http/access_log.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>

#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

struct RequestState {
  std::chrono::steady_clock::time_point start{};
  bool started = false;
  std::string error;
};

thread_local RequestState t_request;

constexpr size_t kMaxPathChars = 1024;
constexpr size_t kMaxErrorChars = 2000;

// ISO 8601 UTC with milliseconds: 2026-01-31T12:34:56.789Z
void append_time(std::string& out, std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  int n =
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  out.append(buf, static_cast<size_t>(n));
}

// Text-format escaping: control bytes become \xNN so a crafted path cannot forge log lines.
void append_escaped(std::string& out, std::string_view s, size_t limit, bool quote) {
  if (s.size() > limit) s = s.substr(0, limit);
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || (quote && (c == '"' || c == '\\'))) {
      char buf[8];
      if (quote && (c == '"' || c == '\\')) {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
        continue;
      }
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out.append(buf);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

std::string_view clip(std::string_view s, size_t limit) { return s.size() > limit ? s.substr(0, limit) : s; }

// JSON strings must be UTF-8: a byte that is not part of a valid sequence (a raw byte in a path,
// or a sequence cut by clip()) is written as the text \xNN, as the text format does.
void write_json_text(JsonWriter& w, std::string_view s) {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size() && p[i] < 0x80) ++i;
  if (i == s.size()) return write_string(w, s);
  std::string out(s.substr(0, i));
  while (i < s.size()) {
    size_t n = p[i] < 0x80 ? 1 : utf8_sequence_length(p + i, s.size() - i);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", p[i]);
      out.append(buf);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  write_string(w, out);
}

}  // namespace

LogFormat parse_log_format(std::string_view name) {
  return name == "json" ? LogFormat::Json : LogFormat::Text;
}

void log_request_start() {
  t_request.start = std::chrono::steady_clock::now();
  t_request.started = true;
  t_request.error.clear();
}

void log_note_error(std::string_view detail) { t_request.error.assign(detail); }

const std::string& current_error_note() { return t_request.error; }

std::string redact_secrets(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t scheme = s.find("://", i);
    if (scheme == std::string_view::npos) break;
    size_t auth_start = scheme + 3;
    // The authority ends at the first '/', whitespace or quote; a password sits before its '@'.
    size_t auth_end = auth_start;
    while (auth_end < s.size() && s[auth_end] != '/' && s[auth_end] != ' ' && s[auth_end] != '\'' &&
           s[auth_end] != '"' && s[auth_end] != '\n')
      ++auth_end;
    std::string_view auth = s.substr(auth_start, auth_end - auth_start);
    size_t at = auth.rfind('@');
    size_t colon = at == std::string_view::npos ? std::string_view::npos : auth.substr(0, at).find(':');
    out.append(s.substr(i, auth_start - i));
    if (colon != std::string_view::npos) {
      out.append(auth.substr(0, colon + 1));
      out.append("***");
      out.append(auth.substr(at));
    } else {
      out.append(auth);
    }
    i = auth_end;
  }
  out.append(s.substr(i));
  // Credentials quoted from an Authorization header ("Bearer xyz", "Basic abc").
  for (std::string_view word : {"Bearer ", "Basic ", "bearer ", "basic "}) {
    size_t pos = 0;
    while ((pos = out.find(word, pos)) != std::string::npos) {
      size_t start = pos + word.size();
      size_t end = start;
      while (end < out.size() && out[end] != ' ' && out[end] != '"' && out[end] != '\'' && out[end] != '\n')
        ++end;
      if (end > start) out.replace(start, end - start, "***");
      pos = start + 3;
    }
  }
  return out;
}

std::string format_access_line(LogFormat format, const AccessRecord& r) {
  std::string error = r.error.empty() ? std::string() : redact_secrets(clip(r.error, kMaxErrorChars));
  std::string out;
  if (format == LogFormat::Json) {
    std::string time;
    append_time(time, r.time);
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "time");
    write_string(w, time);
    write_key(w, "remote");
    write_json_text(w, r.remote_addr);
    write_key(w, "method");
    write_json_text(w, r.method);
    write_key(w, "path");
    write_json_text(w, clip(r.path, kMaxPathChars));
    write_key(w, "status");
    w.Int(r.status);
    write_key(w, "duration_ms");
    w.Double(std::round(r.duration_ms * 1000.0) / 1000.0);
    if (!error.empty()) {
      write_key(w, "error");
      write_json_text(w, error);
    }
    w.EndObject();
    out.assign(buf.GetString(), buf.GetSize());
  } else {
    out.reserve(96 + r.path.size());
    append_time(out, r.time);
    out.push_back(' ');
    append_escaped(out, r.remote_addr.empty() ? "-" : r.remote_addr, 64, false);
    out.push_back(' ');
    append_escaped(out, r.method, 32, false);
    out.push_back(' ');
    append_escaped(out, r.path, kMaxPathChars, false);
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, " %d %.2fms", r.status, r.duration_ms);
    out.append(buf, static_cast<size_t>(n));
    if (!error.empty()) {
      out.append(" error=\"");
      append_escaped(out, error, kMaxErrorChars + 100, true);
      out.push_back('"');
    }
  }
  out.push_back('\n');
  return out;
}

void write_access_record(LogFormat format, const AccessRecord& record) {
  if (format == LogFormat::Off) return;
  std::string line = format_access_line(format, record);
  // One write per line: atomic for pipes up to PIPE_BUF and for O_APPEND files; a failed log
  // write must never fail the request, so the result is deliberately ignored.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace pxt
