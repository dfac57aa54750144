#pragma once
// Access log: one line per request on stderr (text or JSON), plus the details of internal
// failures, which never reach the HTTP response. Secrets never reach it either: request headers
// and query strings are not logged, and messages pass through redact_secrets().
//
// A handler runs on one thread, so the note it attaches to its request lives in a thread_local
// (see log_request_start()); the connection layer collects it after the handler returns.
#include <chrono>
#include <string>
#include <string_view>

namespace pxt {

// Off writes nothing (the fuzz targets); the CLI offers text and json.
enum class LogFormat { Text, Json, Off };

// "text" | "json"; anything else is treated as text.
LogFormat parse_log_format(std::string_view name);

// Marks the start of a request on this thread (resets the error note).
void log_request_start();
// Attaches a detail to this thread's current request (e.g. an internal error message); it is
// written with the request's access line. Later notes replace earlier ones.
void log_note_error(std::string_view detail);
// The note attached so far on this thread ("" when none); for tests.
const std::string& current_error_note();

struct AccessRecord {
  std::string_view remote_addr;
  std::string_view method;
  std::string_view path;
  int status = 0;
  double duration_ms = 0;
  std::string_view error;  // "" when none
  std::chrono::system_clock::time_point time;
};

// One log line, newline-terminated. Control characters are escaped, long paths truncated and
// the error note redacted. Pure; thread-safe.
std::string format_access_line(LogFormat format, const AccessRecord& record);

// Formats the record and writes it to stderr with a single write(2), so lines from concurrent
// requests never interleave. Thread-safe.
void write_access_record(LogFormat format, const AccessRecord& record);

// Replaces the password of every "scheme://user:password@host" in s with "***", and the value
// of bearer/basic credentials with "***". Pure; thread-safe.
std::string redact_secrets(std::string_view s);

}  // namespace pxt
