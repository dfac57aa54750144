#include "serve/openapi/responses.hpp"

#include <algorithm>

#include "store/model/types.hpp"
#include "util/error_code.hpp"

namespace pxt::openapi {

namespace {

class Errors {
 public:
  Errors& add(int status, std::string when, const char* schema, bool retry_after = false) {
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
    last_ = &*it;
    return *this;
  }
  // What the server answers before the route runs (serve/http/server.cpp, app/gate.cpp), and its
  // catch-all: any request can get these.
  void gate(const ServiceDoc& s, bool reads_body) {
    if (s.auth) {
      add(401, "the bearer token is missing or wrong", kHttpError);
      last_->authenticate = true;
    }
    if (s.rate_limit) add(429, "the client's rate limit is exceeded", kHttpError, true);
    add(413, "the request body is larger than the service's limit", kHttpError);
    if (reads_body)
      add(400, "the body cannot be read (not UTF-8, nested too deep, a malformed multipart form)",
          kHttpError);
    add(500, "an internal error (the cause is in the server's log)", kHttpError);
  }
  std::vector<ResponseDoc> sorted() {
    std::sort(list_.begin(), list_.end(),
              [](const ResponseDoc& a, const ResponseDoc& b) { return a.status < b.status; });
    return list_;
  }

 private:
  std::vector<ResponseDoc> list_;
  ResponseDoc* last_ = nullptr;
};

bool has_computed(const BoundRoute& r) {
  return std::any_of(r.table.columns.begin(), r.table.columns.end(),
                     [](const ColumnDef& c) { return c.is_computed(); });
}

// Media values in the request (files, data: URIs) are validated and stored before the route runs.
bool takes_media(const BoundRoute& r) {
  return !r.uploads.empty() || std::any_of(r.fields.begin(), r.fields.end(),
                                           [](const RequestField& f) { return is_media(f.type); });
}

void table_route_errors(Errors& e, const BoundRoute& r) {
  const RouteType t = r.spec.type;
  e.add(409, "the table changed (or was dropped) since the service started", kHttpError);
  e.add(503, "the store is busy (STORE_UNAVAILABLE)", kPixeltableError, true);
  if (t != RouteType::Compute)
    e.add(507, "the server's disk is full (FILE_CACHE_FULL) while storing the row; nothing was stored",
          kPixeltableError);
  if (t == RouteType::Insert)
    e.add(422,
          "the row breaks a constraint: its primary key exists (CONSTRAINT_VIOLATION), a required column is "
          "null (MISSING_REQUIRED), a value has the wrong type (TYPE_MISMATCH)",
          kPixeltableError);
  if (t == RouteType::Update) {
    e.add(404, "no row has the primary key given", kHttpError);
    e.add(422,
          "a required column is set to null (MISSING_REQUIRED) or a value has the wrong type (TYPE_MISMATCH)",
          kPixeltableError);
  }
  if (t != RouteType::Delete && has_computed(r)) {
    e.add(400, "a computed column failed (UNSUPPORTED_OPERATION, or the code of the function's own error)",
          kPixeltableError);
  }
  if (t == RouteType::Compute && has_computed(r))
    e.add(507, "the server's disk is full (FILE_CACHE_FULL) while keeping a media result", kPixeltableError);
}

// A route whose table or query calls a model (literal model names, BoundRoute::model_uses) also
// answers its provider's failures (store/models/errors.cpp), after the retries.
void model_errors(Errors& e, const BoundRoute& r) {
  if (r.model_uses.empty()) return;
  e.add(400, "the model provider refused the request (PROVIDER_BAD_REQUEST)", kPixeltableError);
  e.add(401, "the model provider refused the server's key (PROVIDER_AUTH_ERROR)", kPixeltableError);
  e.add(429, "the model provider's rate limit held (RATE_LIMITED, with retry_after)", kPixeltableError, true);
  e.add(502, "the model provider failed or answered malformed JSON (PROVIDER_ERROR)", kPixeltableError);
  e.add(503, "the model provider is overloaded (PROVIDER_OVERLOADED)", kPixeltableError, true);
  e.add(504, "the model provider did not answer in time (PROVIDER_TIMEOUT)", kPixeltableError);
}

}  // namespace

std::vector<ResponseDoc> route_errors(const BoundRoute& r, const ServiceDoc& service) {
  Errors e;
  e.gate(service, r.http_method != "GET");
  if (!r.fields.empty() || !r.uploads.empty()) e.add(422, "a field is missing or invalid", kValidationError);
  if (takes_media(r)) {
    e.add(507, "the server's disk is full (FILE_CACHE_FULL) while storing a file of the request",
          kPixeltableError);
    e.add(500, "a media library the server needs cannot be loaded (INTERNAL_ERROR)", kPixeltableError);
  }
  if (r.spec.background) {
    e.add(503, "the job queue is full, or the store is busy", kHttpError, true);
    e.add(507, "the server's disk is full (FILE_CACHE_FULL); the job was not queued", kPixeltableError);
    return e.sorted();
  }
  if (r.spec.type == RouteType::Query) {
    e.add(400, "the query failed for these values (GENERIC_USER_ERROR)", kPixeltableError);
    e.add(404, "a table the query reads no longer exists (PATH_NOT_FOUND)", kPixeltableError);
    e.add(503, "the store is busy (STORE_UNAVAILABLE)", kPixeltableError, true);
    if (r.spec.one_row || r.spec.return_fileresponse) {
      e.add(404, "the query returned no row", kHttpError);
      e.add(409, "the query returned more than one row", kHttpError);
    }
    if (r.spec.return_fileresponse) e.add(404, "the row's file column is null", kHttpError);
  } else {
    table_route_errors(e, r);
  }
  model_errors(e, r);
  if (has_computed(r) && r.spec.type != RouteType::Delete)
    e.add(500, "a function a computed column calls needs a library the server cannot load (INTERNAL_ERROR)",
          kPixeltableError);
  if (r.spec.return_fileresponse && r.spec.type != RouteType::Query) {
    e.add(422, "the file output is null for these inputs; nothing was stored", kHttpError);
    e.add(500, "the output's file is missing", kHttpError);
  }
  if (r.spec.export_sql) e.add(500, "the export_sql write failed (after the row was stored)", kHttpError);
  return e.sorted();
}

std::vector<ResponseDoc> job_status_errors(const ServiceDoc& service) {
  Errors e;
  e.gate(service, false);
  e.add(404, "no job has this id (or it expired)", kHttpError);
  e.add(503, "the store is busy (STORE_UNAVAILABLE)", kPixeltableError, true);
  return e.sorted();
}

std::vector<ResponseDoc> media_errors(const ServiceDoc& service) {
  Errors e;
  e.gate(service, false);
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
