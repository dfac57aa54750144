#include "serve/openapi/responses.hpp"

#include <algorithm>

namespace pxt::openapi {

namespace {

class Errors {
 public:
  void add(int status, std::string when, const char* schema, bool retry_after = false) {
    auto it =
        std::find_if(list_.begin(), list_.end(), [&](const ResponseDoc& r) { return r.status == status; });
    if (it == list_.end()) {
      list_.push_back(ResponseDoc{status, {}, {}, false, false});
      it = list_.end() - 1;
    }
    it->whens.push_back(std::move(when));
    if (std::find(it->schemas.begin(), it->schemas.end(), schema) == it->schemas.end())
      it->schemas.emplace_back(schema);
    it->retry_after = it->retry_after || retry_after;
  }
  void gate(const ServiceDoc& s) {
    if (s.auth) {
      add(401, "the bearer token is missing or wrong", kHttpError);
      list_.back().authenticate = true;
    }
    if (s.rate_limit) add(429, "the client's rate limit is exceeded", kHttpError, true);
    add(413, "the request body is larger than the service's limit", kHttpError);
    add(500, "an internal error (the cause is in the server's log)", kHttpError);
  }
  std::vector<ResponseDoc> sorted() {
    std::sort(list_.begin(), list_.end(),
              [](const ResponseDoc& a, const ResponseDoc& b) { return a.status < b.status; });
    return list_;
  }

 private:
  std::vector<ResponseDoc> list_;
};

bool writes(const BoundRoute& r) { return r.spec.type != RouteType::Query; }

}  // namespace

std::vector<ResponseDoc> route_errors(const BoundRoute& r, const ServiceDoc& service) {
  Errors e;
  e.gate(service);
  if (!r.fields.empty() || !r.uploads.empty()) e.add(422, "a field is missing or invalid", kValidationError);
  if (!r.uploads.empty() || writes(r))
    e.add(507, "the server's disk is full; nothing was stored", kHttpError);
  if (r.spec.background) {
    e.add(503, "the job queue is full", kHttpError, true);
    return e.sorted();
  }
  if (r.spec.type != RouteType::Query)
    e.add(409, "the table's schema changed since the service started", kHttpError);
  if (r.spec.type == RouteType::Update) e.add(404, "no row has the primary key given", kHttpError);
  if (r.spec.type == RouteType::Query && (r.spec.one_row || r.spec.return_fileresponse)) {
    e.add(404, "the query returned no row", kHttpError);
    e.add(409, "the query returned more than one row", kHttpError);
  }
  if (writes(r)) e.add(503, "the store is busy", kHttpError, true);
  return e.sorted();
}

std::vector<ResponseDoc> job_status_errors(const ServiceDoc& service) {
  Errors e;
  e.gate(service);
  e.add(404, "no job has this id (or it expired)", kHttpError);
  return e.sorted();
}

std::vector<ResponseDoc> media_errors(const ServiceDoc& service) {
  Errors e;
  e.gate(service);
  e.add(404, "no stored file has this path", kHttpError);
  e.add(416, "the Range asked for lies beyond the file", kHttpError);
  return e.sorted();
}

void write_error_responses(Out& o, const std::vector<ResponseDoc>& errors, std::vector<std::string>& used) {
  for (const auto& r : errors) {
    o.obj(std::to_string(r.status), [&] {
      std::string description;
      for (const auto& when : r.whens) description += (description.empty() ? "When " : "; when ") + when;
      description += ".";
      o.str("description", description);
      if (r.retry_after || r.authenticate) {
        o.obj("headers", [&] {
          if (r.retry_after) {
            o.obj("Retry-After", [&] {
              o.str("description", "Seconds to wait before retrying");
              o.obj("schema", [&] { o.str("type", "integer"); });
            });
          }
          if (r.authenticate) {
            o.obj("WWW-Authenticate", [&] {
              o.str("description", "The authentication scheme: Bearer");
              o.obj("schema", [&] { o.str("type", "string"); });
            });
          }
        });
      }
      o.obj("content", [&] { o.obj("application/json", [&] { o.one_of_refs("schema", r.schemas); }); });
      for (const auto& s : r.schemas)
        if (std::find(used.begin(), used.end(), s) == used.end()) used.push_back(s);
    });
  }
}

}  // namespace pxt::openapi
