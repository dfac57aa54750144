#include "serve/jobs/routes.hpp"

#include <memory>

#include "serve/http/response.hpp"
#include "util/json.hpp"

namespace pxt {

namespace {

// Ids are random_urlsafe(16): 22 characters of [A-Za-z0-9_-]. Anything else cannot be a job,
// and never reaches the store.
bool plausible_job_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void handle_background(const RouteRuntime& rt, Store& store, Jobs& jobs, std::string_view base_url,
                       const httplib::Request& req, httplib::Response& res, const Uploads* uploads) {
  // Shared: a JobWork must be copyable, and the adopted media are not.
  auto in = std::make_shared<DecodedRequest>();
  if (!decode_request(rt, store, req, uploads, *in, res)) return;
  JobRequest job;
  job.route = rt.route->http_method + " " + rt.route->full_path;
  job.work = [&rt, &store, in](httplib::Response& out) { run_decoded(rt, store, *in, out); };
  if (store.shared()) {
    job.payload = encode_job_payload(in->fields);
    if (in->adopted) job.media = in->adopted->names();
    job.disown = [in] {
      if (in->adopted) in->adopted->release();
    };
  }
  auto id = jobs.submit(std::move(job));
  if (!id) {
    if (id.error().code != Errc::busy) return reply_error(res, id.error());
    reply_detail(res, 503, id.error().message);
    put_header(res, "Retry-After", "1");
    return;
  }
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "id");
  write_string(w, *id);
  write_key(w, "job_url");
  write_string(w, std::string(base_url) + "/jobs/" + *id);
  w.EndObject();
  set_json(res, 200, buf);
}

std::string encode_job_payload(const DecodedFields& fields) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "values");
  w.StartArray();
  for (const Value& v : fields.values) {
    switch (v.index()) {
      case 0:
        w.Null();
        break;
      case 1:
        w.Int64(std::get<int64_t>(v));
        break;
      case 2:
        w.Double(std::get<double>(v));  // written with a point or exponent: read back as a double
        break;
      case 3:
        w.Bool(std::get<bool>(v));
        break;
      default:
        write_string(w, std::get<std::string>(v));
    }
  }
  w.EndArray();
  write_key(w, "present");
  w.StartArray();
  for (char p : fields.present) w.Bool(p != 0);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool decode_job_payload(std::string_view payload, DecodedFields& out) {
  rapidjson::Document doc;
  doc.Parse(payload.data(), payload.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("values") || !doc["values"].IsArray() ||
      !doc.HasMember("present") || !doc["present"].IsArray())
    return false;
  out.values.clear();
  out.present.clear();
  for (const auto& v : doc["values"].GetArray()) {
    if (v.IsNull()) {
      out.values.emplace_back();
    } else if (v.IsBool()) {
      out.values.emplace_back(v.GetBool());
    } else if (v.IsInt64()) {
      out.values.emplace_back(v.GetInt64());
    } else if (v.IsNumber()) {
      out.values.emplace_back(v.GetDouble());
    } else if (v.IsString()) {
      out.values.emplace_back(std::string(v.GetString(), v.GetStringLength()));
    } else {
      return false;
    }
  }
  for (const auto& p : doc["present"].GetArray()) {
    if (!p.IsBool()) return false;
    out.present.push_back(p.GetBool() ? 1 : 0);
  }
  return true;
}

void handle_job_status(const Jobs& jobs, std::string_view id, httplib::Response& res) {
  if (!plausible_job_id(id)) return reply_detail(res, 404, "unknown job id");
  auto job = jobs.get(id);
  if (!job) return reply_error(res, job.error());
  if (!*job) return reply_detail(res, 404, "unknown job id");
  const JobRecord& j = **job;
  JsonBuffer& buf = scratch_json();
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "status");
  bool done = j.status == "done", error = j.status == "error";
  write_string(w, done ? "done" : error ? "error" : "pending");
  write_key(w, "result");
  if (done && !j.result.empty()) {
    w.RawValue(j.result.data(), j.result.size(), rapidjson::kObjectType);
  } else {
    w.Null();
  }
  write_key(w, "error");
  if (error) {
    write_string(w, j.error);
  } else {
    w.Null();
  }
  w.EndObject();
  set_json(res, 200, buf);
}

}  // namespace pxt
