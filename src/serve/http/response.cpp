#include "serve/http/response.hpp"

#include <cmath>

#include "serve/http/access_log.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {
thread_local JsonBuffer t_buffer;
// A thread keeps up to this much buffer between requests; one huge answer is not kept forever.
constexpr size_t kKeepBytes = 1 << 20;

// Text that is not valid UTF-8 has each bad byte replaced by U+FFFD, so an echoed input is
// always valid JSON.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(p + i, s.size() - i);
    if (n == 0) {
      out.append("\xef\xbf\xbd");
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace

JsonBuffer& scratch_json() {
  bool large = t_buffer.GetSize() > kKeepBytes;
  t_buffer.Clear();  // keeps the capacity: no allocation once warmed up
  if (large) t_buffer.ShrinkToFit();
  return t_buffer;
}

void put_header(httplib::Response& res, const std::string& key, std::string value) {
  res.headers.erase(key);
  res.headers.emplace(key, std::move(value));
}

void set_json(httplib::Response& res, int status, const JsonBuffer& buf) {
  static const std::string kContentType = "Content-Type";
  res.status = status;
  res.body.assign(buf.GetString(), buf.GetSize());
  put_header(res, kContentType, kJsonType);
}

void reply_detail(httplib::Response& res, int status, std::string_view detail) {
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "detail");
  write_string(w, detail);
  w.EndObject();
  set_json(res, status, buf);
}

void reply_validation(httplib::Response& res, std::string_view where,
                      const std::vector<ValidationIssue>& issues, const rapidjson::Value* body) {
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "detail");
  w.StartArray();
  for (const ValidationIssue& issue : issues) {
    w.StartObject();
    write_key(w, "type");
    write_string(w, issue.type);
    write_key(w, "loc");
    w.StartArray();
    write_string(w, where);
    if (!issue.field.empty()) write_string(w, issue.field);
    w.EndArray();
    write_key(w, "msg");
    write_string(w, issue.msg);
    write_key(w, "input");
    if (issue.json_input != nullptr) {
      write_value_finite(w, *issue.json_input);
    } else if (issue.has_text) {
      write_string(w, sanitize_utf8(issue.text_input));
    } else if (issue.type == "missing" && body != nullptr) {
      write_value_finite(w, *body);  // pydantic echoes the whole model input for a missing field
    } else {
      w.Null();
    }
    if (issue.ctx_ge) {
      write_key(w, "ctx");
      w.StartObject();
      write_key(w, "ge");
      w.Int64(*issue.ctx_ge);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  set_json(res, 422, buf);
}

int http_status(const Error& error) {
  if (const ErrorCodeInfo* info = error_code_info(effective_code(error))) return info->http_status;
  return error.code == Errc::conflict || error.code == Errc::schema_changed ? 409 : 500;
}

namespace {

void write_error_detail(JsonWriter& w, const ErrorCodeInfo& info, std::string_view message, const Error& e) {
  w.StartObject();
  write_key(w, "error_code");
  write_string(w, info.name);
  write_key(w, "message");
  write_string(w, sanitize_utf8(redact_secrets(message)));
  write_key(w, "retryable");
  w.Bool(info.retryable);
  if (!e.cause.empty()) {
    write_key(w, "cause");
    write_string(w, sanitize_utf8(redact_secrets(e.cause)));
  }
  if (e.retry_after >= 0) {
    write_key(w, "retry_after");
    w.Double(e.retry_after);  // a float, as Pixeltable's (1.0)
  }
  if (!e.provider.empty()) {
    write_key(w, "provider");
    write_string(w, e.provider);
  }
  if (e.provider_status != 0) {
    write_key(w, "provider_http_status_code");
    w.Int(e.provider_status);
  }
  w.EndObject();
}

// Pixeltable's body for `e` answered as `info`, with `message` in place of e.message.
void reply_coded(httplib::Response& res, const ErrorCodeInfo& info, std::string_view message,
                 const Error& e) {
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "detail");
  write_error_detail(w, info, message, e);
  w.EndObject();
  set_json(res, info.http_status, buf);
  if (e.retry_after >= 0) {
    put_header(res, "Retry-After", std::to_string(static_cast<int64_t>(std::ceil(e.retry_after))));
  }
  if (info.http_status >= 500) log_note_error(e.message);
}

}  // namespace

void reply_internal(httplib::Response& res, std::string_view why) {
  log_note_error(why);
  reply_detail(res, 500, "internal server error");
}

// 507 rather than 503 + Retry-After: a full disk does not clear by itself within seconds (an
// operator must free space), so telling clients to retry shortly would only repeat the failure;
// 507 (RFC 4918, "unable to store the representation") names the cause, and nothing was stored.
// Pixeltable's code for it is FILE_CACHE_FULL (507, not retryable).
void reply_no_space(httplib::Response& res, std::string_view cause) {
  Error e = make_error(ErrorCode::file_cache_full, std::string(cause));
  reply_coded(
      res, *error_code_info(ErrorCode::file_cache_full),
      "insufficient storage: the server's disk is full, nothing was stored; retry once space is freed", e);
}

void reply_error(httplib::Response& res, const Error& error) {
  const ErrorCode code = effective_code(error);
  if (const ErrorCodeInfo* info = error_code_info(code)) {
    if (error.pxt_code == ErrorCode::none && error.code == Errc::no_space)
      return reply_no_space(res, error.message);
    if (error.pxt_code == ErrorCode::none && error.code == Errc::busy) {
      // SQLite's own wording (locks, timeouts) means nothing to a client; a second is usually enough.
      Error busy = error;
      if (busy.retry_after < 0) busy.retry_after = 1;
      return reply_coded(res, *info, "the store is busy; retry shortly", busy);
    }
    return reply_coded(res, *info, error.message, error);
  }
  switch (error.code) {
    case Errc::schema_changed:
      log_note_error(error.message);
      return reply_detail(res, 409, kSchemaChangedDetail);
    case Errc::conflict:
      return reply_detail(res, 409, error.message);
    default:
      return reply_internal(res, error.message);
  }
}

std::string_view status_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Long";
    case 416:
      return "Requested Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
    default:
      return status >= 500 ? "Internal Server Error" : "Bad Request";
  }
}

}  // namespace pxt
