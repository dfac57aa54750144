#include "serve/http/response.hpp"

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
      issue.json_input->Accept(w);
    } else if (issue.has_text) {
      write_string(w, sanitize_utf8(issue.text_input));
    } else if (issue.type == "missing" && body != nullptr) {
      body->Accept(w);  // pydantic echoes the whole model input for a missing field
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

int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return 400;
    case Errc::not_found:
      return 404;
    case Errc::already_exists:
    case Errc::conflict:
    case Errc::schema_changed:
      return 409;
    case Errc::busy:
      return 503;
    case Errc::unsupported:
      return 501;
    case Errc::no_space:
      return 507;
    case Errc::io:
    case Errc::internal:
      return 500;
  }
  return 500;
}

void reply_internal(httplib::Response& res, std::string_view why) {
  log_note_error(why);
  reply_detail(res, 500, "internal server error");
}

// 507 rather than 503 + Retry-After: a full disk does not clear by itself within seconds (an
// operator must free space), so telling clients to retry shortly would only repeat the failure;
// 507 (RFC 4918, "unable to store the representation") names the cause, and nothing was stored.
void reply_no_space(httplib::Response& res, std::string_view cause) {
  log_note_error(cause);
  reply_detail(
      res, 507,
      "insufficient storage: the server's disk is full, nothing was stored; retry once space is freed");
}

void reply_error(httplib::Response& res, const Error& error) {
  switch (error.code) {
    case Errc::schema_changed:
      log_note_error(error.message);
      reply_detail(res, 409, "table schema changed since route was registered; restart the service");
      return;
    case Errc::busy:
      log_note_error(error.message);
      reply_detail(res, 503, "the store is busy; retry shortly");
      put_header(res, "Retry-After", "1");
      return;
    case Errc::io:
    case Errc::internal:
      reply_internal(res, error.message);
      return;
    case Errc::no_space:
      reply_no_space(res, error.message);
      return;
    default:
      reply_detail(res, http_status(error.code), error.message);
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
