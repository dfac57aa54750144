#include "serve/http/request.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/error.h>

#include <cstdlib>
#include <string>

#include "serve/http/response.hpp"
#include "store/model/values.hpp"
#include "util/json_numbers.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

using Issue = ValidationIssue;

// The pydantic v2 error for an explicit null in a field that does not accept it.
ValueError null_error(ColumnType t) {
  switch (t) {
    case ColumnType::Int:
      return {"int_type", "Input should be a valid integer"};
    case ColumnType::Float:
      return {"float_type", "Input should be a valid number"};
    case ColumnType::Bool:
      return {"bool_type", "Input should be a valid boolean"};
    case ColumnType::Timestamp:
      return {"datetime_type", "Input should be a valid datetime"};
    case ColumnType::Date:
      return {"date_type", "Input should be a valid date"};
    case ColumnType::Array:
    case ColumnType::Vector:
      return {"list_type", "Input should be a valid list"};
    case ColumnType::Json:
      return {"value_error", "Value error, a value is required (null is not allowed)"};
    default:
      return {"string_type", "Input should be a valid string"};
  }
}

struct ScanResult {
  bool utf8_ok = true;
  int max_depth = 0;
  // Literals RapidJSON 1.1 cannot be trusted with (json_numbers.hpp), and the constants below.
  JsonNumberPatch numbers;
  // RapidJSON takes a NUL outside a string for the end of the text, so `{...}\0garbage` would
  // parse; the first one's position lets the decoder report it as Python does ("Extra data").
  size_t first_nul = std::string_view::npos;
};

// A NaN or Infinity at `i` (outside a string). Python's json reads NaN, Infinity and -Infinity,
// nothing else. RapidJSON's kParseNanAndInfFlag also takes "Inf", "-NaN" and "NaN" followed by a
// fraction or an exponent ("NaN.5" as 0.5), and RapidJSON 1.1 reads outside its tables on some of
// those (`NaN.<400 zeros>1` crashed the server, as `NaNe5` did): so it never sees them. The
// first byte of a spelling Python refuses, or the '.'/'e'/'E' after one it reads, becomes '#',
// where RapidJSON stops with the error Python gives there ("Expecting value" for a value,
// "Expecting ',' delimiter" after one, "Extra data" at the top level). Returns where to go on.
size_t scan_constant(std::string_view body, size_t i, JsonNumberPatch& patch) {
  std::string_view rest = body.substr(i);
  size_t n = rest.starts_with("NaN")         ? 3
             : rest.starts_with("Infinity")  ? 8
             : rest.starts_with("-Infinity") ? 9
                                             : 0;
  if (n == 0) {
    patch.add(i, 1, "#");
    return i + 1;
  }
  size_t after = i + n;
  if (after < body.size() && (body[after] == '.' || body[after] == 'e' || body[after] == 'E'))
    patch.add(after, 1, "#");
  return after;
}

// One pass over the body: UTF-8 validity, bracket nesting depth outside strings, the number
// literals to hand RapidJSON in canonical form, and the bytes where Python's json stops but
// RapidJSON would read on, made '#' so that RapidJSON stops there too (scan_constant).
ScanResult scan_body(std::string_view body) {
  ScanResult r;
  auto p = reinterpret_cast<const unsigned char*>(body.data());
  size_t size = body.size();
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < size;) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(p + i, size - i);
      if (n == 0) {
        r.utf8_ok = false;
        return r;
      }
      i += n;
      continue;
    }
    if (in_string) {
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '\0') {
      if (r.first_nul == std::string_view::npos) r.first_nul = i;
    } else if (c == 'N' || c == 'I' || (c == '-' && i + 1 < size && (p[i + 1] == 'N' || p[i + 1] == 'I'))) {
      i = scan_constant(body, i, r.numbers);
      continue;
    } else if ((c >= '0' && c <= '9') || c == '-') {
      size_t n = json_number_prefix(body.substr(i));
      if (n > 0) {
        JsonNumberCheck check = check_json_number(body.substr(i, n));
        // Python's json reads a literal past the double range as infinity (pydantic then
        // takes it for a float and refuses it for an int with finite_number). The sign leads
        // exactly when the literal's does, so the text around it parses (or fails) as before.
        if (check.overflow) check.replacement = body[i] == '-' ? "-Infinity" : "Infinity";
        if (check.rewrite) r.numbers.add(i, n, std::move(check.replacement));
        i += n;
        // Python's number ends here, so an unfinished fraction or exponent after it ("1.",
        // "1e+") is where Python stops, with the message of what may follow a value there;
        // RapidJSON would stop a byte later, always with "Expecting value".
        if (i < size && (p[i] == '.' || p[i] == 'e' || p[i] == 'E')) r.numbers.add(i, 1, "#");
        continue;
      }
      r.numbers.add(i, 1, "#");  // a '-' that starts no number: Python expects a value here
    } else if (c == '[' || c == '{') {
      if (++depth > r.max_depth) r.max_depth = depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
    ++i;
  }
  return r;
}

// Python reports a JSON error position in characters, not bytes.
size_t char_offset(std::string_view body, size_t byte_offset) {
  size_t chars = 0;
  for (size_t i = 0; i < byte_offset && i < body.size(); ++i)
    if ((static_cast<unsigned char>(body[i]) & 0xc0) != 0x80) ++chars;
  return chars;
}

// A body that is not an object: pydantic's model_attributes_type, or missing for no body.
void reply_body_shape(httplib::Response& res, const rapidjson::Value* json, std::string_view raw,
                      bool missing) {
  std::vector<Issue> issues(1);
  Issue& issue = issues[0];
  if (missing) {
    issue.type = "missing";
    issue.msg = "Field required";
  } else {
    issue.type = "model_attributes_type";
    issue.msg = "Input should be a valid dictionary or object to extract fields from";
    issue.json_input = json;
  }
  if (!missing && json == nullptr) {
    issue.text_input = raw;
    issue.has_text = true;
  }
  reply_validation(res, "body", issues);
}

void reply_json_invalid(httplib::Response& res, std::string_view body, size_t byte_offset,
                        std::string_view error) {
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "detail");
  w.StartArray();
  w.StartObject();
  write_key(w, "type");
  write_string(w, "json_invalid");
  write_key(w, "loc");
  w.StartArray();
  write_string(w, "body");
  w.Uint64(char_offset(body, byte_offset));
  w.EndArray();
  write_key(w, "msg");
  write_string(w, "JSON decode error");
  write_key(w, "input");
  w.StartObject();
  w.EndObject();
  write_key(w, "ctx");
  w.StartObject();
  write_key(w, "error");
  write_string(w, error);
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  set_json(res, 422, buf);
}

void prepare(const std::vector<RequestField>& fields, DecodedFields& out) {
  out.values.assign(fields.size(), Value());
  out.present.assign(fields.size(), 0);
}

struct IssueList {
  std::vector<Issue> issues;
  explicit IssueList(size_t n) { issues.reserve(n); }
  Issue& add(std::string type) {
    issues.emplace_back();
    issues.back().type = std::move(type);
    return issues.back();
  }
};

}  // namespace

bool below_minimum(const RequestField& f, const Value& v, ValidationIssue& issue) {
  const auto* n = std::get_if<int64_t>(&v);
  if (!f.minimum || n == nullptr || *n >= *f.minimum) return false;
  issue.type = "greater_than_equal";
  issue.msg = "Input should be greater than or equal to " + std::to_string(*f.minimum);
  issue.field = f.name;
  issue.ctx_ge = f.minimum;
  return true;
}

bool is_json_content_type(std::string_view content_type) {
  std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (media.empty()) return content_type.empty();
  size_t slash = media.find('/');
  if (slash == std::string_view::npos) return false;
  if (!iequals(trim(media.substr(0, slash)), "application")) return false;
  std::string sub = to_lower(trim(media.substr(slash + 1)));
  return sub == "json" || (sub.size() >= 5 && sub.compare(sub.size() - 5, 5, "+json") == 0);
}

std::string_view python_json_error(int code) {
  switch (static_cast<rapidjson::ParseErrorCode>(code)) {
    case rapidjson::kParseErrorDocumentRootNotSingular:
      return "Extra data";
    case rapidjson::kParseErrorObjectMissName:
      return "Expecting property name enclosed in double quotes";
    case rapidjson::kParseErrorObjectMissColon:
      return "Expecting ':' delimiter";
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      return "Expecting ',' delimiter";
    case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
    case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
      return "Invalid \\uXXXX escape";
    case rapidjson::kParseErrorStringEscapeInvalid:
      return "Invalid \\escape";
    case rapidjson::kParseErrorStringMissQuotationMark:
      return "Unterminated string starting at";
    case rapidjson::kParseErrorStringInvalidEncoding:
      return "Invalid control character at";  // UTF-8 was checked before parsing
    default:
      return "Expecting value";
  }
}

bool decode_json_body(const std::vector<RequestField>& fields, const httplib::Request& req,
                      DecodedFields& out, httplib::Response& res) {
  prepare(fields, out);
  // FastAPI does not read the body of an endpoint without body fields.
  if (fields.empty()) return true;
  const std::string& body = req.body;
  if (body.empty()) {
    reply_body_shape(res, nullptr, body, true);
    return false;
  }
  auto ct = req.headers.find("Content-Type");
  if (ct != req.headers.end() && !is_json_content_type(ct->second)) {
    reply_body_shape(res, nullptr, body, false);
    return false;
  }
  ScanResult scan = scan_body(body);
  if (!scan.utf8_ok || scan.max_depth > kMaxJsonDepth) {
    reply_detail(res, 400, "There was an error parsing the body");
    return false;
  }

  // Small bodies parse without touching the heap; bigger ones spill to the allocator's chunks.
  using Pool = rapidjson::MemoryPoolAllocator<>;
  char value_buffer[8192];
  char parse_buffer[2048];
  Pool value_alloc(value_buffer, sizeof value_buffer);
  Pool parse_alloc(parse_buffer, sizeof parse_buffer);
  rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool> doc(&value_alloc, sizeof parse_buffer,
                                                                &parse_alloc);
  std::string patched;
  std::string_view text = body;
  if (!scan.numbers.empty()) text = patched = scan.numbers.apply(body);
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag |
            rapidjson::kParseNanAndInfFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    size_t at = scan.numbers.original_offset(doc.GetErrorOffset());
    reply_json_invalid(res, body, at, python_json_error(doc.GetParseError()));
    return false;
  }
  const rapidjson::Value& root = doc;
  if (scan.first_nul != std::string_view::npos) {
    // A NUL before the value ends would have been a parse error, so this one follows it.
    reply_json_invalid(res, body, scan.first_nul, "Extra data");
    return false;
  }
  if (root.IsNull()) {
    reply_body_shape(res, nullptr, body, true);
    return false;
  }
  if (!root.IsObject()) {
    reply_body_shape(res, &root, body, false);
    return false;
  }

  // Last duplicate key wins, as in Python's json module.
  std::vector<const rapidjson::Value*> given(fields.size(), nullptr);
  for (auto m = root.MemberBegin(); m != root.MemberEnd(); ++m) {
    std::string_view name(m->name.GetString(), m->name.GetStringLength());
    for (size_t j = 0; j < fields.size(); ++j) {
      if (fields[j].name == name) {
        given[j] = &m->value;
        break;
      }
    }
  }

  IssueList list(fields.size());
  for (size_t j = 0; j < fields.size(); ++j) {
    const RequestField& f = fields[j];
    const rapidjson::Value* v = given[j];
    if (v == nullptr) {
      if (f.required) {
        Issue& issue = list.add("missing");
        issue.msg = "Field required";
        issue.field = f.name;
      } else if (f.default_value) {
        out.values[j] = *f.default_value;
      }
      continue;
    }
    out.present[j] = 1;
    if (v->IsNull()) {
      if (!f.nullable) {
        ValueError e = null_error(f.type);
        Issue& issue = list.add(e.type);
        issue.msg = std::move(e.msg);
        issue.field = f.name;
        issue.json_input = v;
      }
      continue;
    }
    Converted c = value_from_json(*v, f.type, Coercion::lax);
    if (auto* err = std::get_if<ValueError>(&c)) {
      Issue& issue = list.add(err->type);
      issue.msg = std::move(err->msg);
      issue.field = f.name;
      issue.json_input = v;
      continue;
    }
    if (Issue low; below_minimum(f, std::get<Value>(c), low)) {
      low.json_input = v;
      list.issues.push_back(std::move(low));
      continue;
    }
    out.values[j] = std::move(std::get<Value>(c));
  }
  if (!list.issues.empty()) {
    reply_validation(res, "body", list.issues, &root);
    return false;
  }
  return true;
}

bool decode_query_params(const std::vector<RequestField>& fields, const httplib::Request& req,
                         DecodedFields& out, httplib::Response& res) {
  prepare(fields, out);
  IssueList list(fields.size());
  for (size_t j = 0; j < fields.size(); ++j) {
    const RequestField& f = fields[j];
    auto range = req.params.equal_range(f.name);
    if (range.first == range.second) {
      if (f.required) {
        Issue& issue = list.add("missing");
        issue.msg = "Field required";
        issue.field = f.name;
      } else if (f.default_value) {
        out.values[j] = *f.default_value;
      }
      continue;
    }
    const std::string& text = std::prev(range.second)->second;
    out.present[j] = 1;
    Converted c = value_from_text(text, f.type);
    if (auto* err = std::get_if<ValueError>(&c)) {
      Issue& issue = list.add(err->type);
      issue.msg = std::move(err->msg);
      issue.field = f.name;
      issue.text_input = text;
      issue.has_text = true;
      continue;
    }
    if (Issue low; below_minimum(f, std::get<Value>(c), low)) {
      low.text_input = text;
      low.has_text = true;
      list.issues.push_back(std::move(low));
      continue;
    }
    out.values[j] = std::move(std::get<Value>(c));
  }
  if (!list.issues.empty()) {
    reply_validation(res, "query", list.issues);
    return false;
  }
  return true;
}

}  // namespace pxt
