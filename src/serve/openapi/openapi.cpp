#include "serve/openapi/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "serve/openapi/jobs.hpp"
#include "serve/openapi/json_out.hpp"
#include "serve/openapi/names.hpp"
#include "serve/openapi/responses.hpp"
#include "serve/openapi/schema.hpp"
#include "store/model/values.hpp"
#include "util/strings.hpp"

#ifndef PXT_VERSION
#define PXT_VERSION "0.0.0"
#endif

namespace pxt {

using namespace openapi;

namespace {

inline constexpr const char* kDeleteResponse = "DeleteResponse";

struct RouteDoc {
  const BoundRoute* route;
  OperationNames names;
  bool optional_update_field(const RequestField& f) const {
    return route->spec.type == RouteType::Update && !route->table.is_pk(f.name);
  }
  // A query parameter's default may sit on the query definition only.
  std::optional<Value> default_of(const RequestField& f) const {
    if (f.default_value || route->spec.type != RouteType::Query) return f.default_value;
    for (const auto& p : route->query.params)
      if (p.name == f.name) return p.default_value;
    return std::nullopt;
  }
  bool required(const RequestField& f) const {
    return f.required && !optional_update_field(f) && !default_of(f);
  }
  bool get() const { return route->http_method == "GET"; }
  bool has_body() const { return !get() && (!route->fields.empty() || !route->uploads.empty()); }
  bool multipart() const { return !route->uploads.empty(); }
  bool one_row() const { return route->spec.type == RouteType::Query && route->spec.one_row; }
  bool file() const { return route->spec.return_fileresponse; }
  std::string body_title() const { return "Body_" + names.operation_id; }
  // The component of the JSON body the route answers (a background route: its job's result).
  std::string response_component() const {
    if (route->spec.type == RouteType::Delete) return kDeleteResponse;
    if (one_row()) return names.stem + "RowResponse";
    return names.stem + "Response";
  }
  std::string job_status_component() const { return names.stem + "JobStatus"; }
  std::optional<ColumnType> file_type() const {
    for (const auto& c : route->outputs)
      if (c.type && is_media(*c.type)) return c.type;
    return std::nullopt;
  }
};

void write_upload_property(Out& o, const RequestField& f) {
  auto members = [&] {
    o.str("type", "string");
    o.str("format", "binary");
    o.str("contentMediaType", media_range(f.type));
  };
  o.obj(f.name, [&] {
    if (f.required) {
      members();
    } else {
      o.arr("anyOf", [&] {
        o.obj(members);
        o.obj([&] { o.str("type", "null"); });
      });
    }
    o.str("title", title_case(f.name));
  });
}

// The request body's schema, written inline rather than as a component: openapi-typescript (the
// usual TypeScript generator) makes a property with a default optional only inside a requestBody,
// so a component would force clients to send every nullable input and every defaulted parameter.
void write_fields_object(Out& o, const RouteDoc& doc, const std::string& title) {
  o.obj("schema", [&] {
    std::vector<std::string> required;
    o.obj("properties", [&] {
      for (const auto& f : doc.route->fields) {
        o.key(f.name);
        bool optional = !doc.required(f);
        std::optional<Value> def = doc.default_of(f);
        // A left-out update input stays unchanged, so it has no default to show.
        bool default_null = optional && f.nullable && !def && !doc.optional_update_field(f);
        // Form fields carry text; only a JSON body can carry a media value (as a data: URI).
        write_schema(o.w, f.type, f.nullable, f.name, def, default_null, MediaForm::DataUri);
        if (!optional) required.push_back(f.name);
      }
      for (const auto& f : doc.route->uploads) {
        write_upload_property(o, f);
        if (f.required) required.push_back(f.name);
      }
    });
    o.str("type", "object");
    if (!required.empty()) {
      o.arr("required", [&] {
        for (const auto& r : required) write_string(o.w, r);
      });
    }
    o.str("title", title);
  });
}

void write_query_parameters(Out& o, const RouteDoc& doc) {
  o.arr("parameters", [&] {
    for (const auto& f : doc.route->fields) {
      o.obj([&] {
        o.str("name", f.name);
        o.str("in", "query");
        o.boolean("required", doc.required(f));
        o.key("schema");
        std::optional<Value> def = doc.default_of(f);
        write_schema(o.w, f.type, f.nullable, f.name, def, !doc.required(f) && f.nullable && !def);
      });
    }
  });
}

void write_success(Out& o, const RouteDoc& doc) {
  const BoundRoute& r = *doc.route;
  o.obj("200", [&] {
    if (r.spec.background) {
      o.str("description", "The job is queued: poll job_url");
      o.obj("content", [&] { o.obj("application/json", [&] { o.ref("schema", kJobHandle); }); });
      o.obj("links", [&] {
        o.obj("JobStatus", [&] {
          o.str("operationId", kJobStatusOperation);
          o.obj("parameters", [&] { o.str("job_id", "$response.body#/id"); });
          o.str("description", "The job's status; its result is a " + doc.response_component());
        });
      });
    } else if (doc.file()) {
      o.str("description", "The file of the media output");
      o.obj("content", [&] {
        for (std::string_view type : file_content_types(doc.file_type().value_or(ColumnType::Image))) {
          o.obj(type, [&] {
            o.obj("schema", [&] {
              o.str("type", "string");
              o.str("format", "binary");
            });
          });
        }
      });
    } else {
      o.str("description", "Successful Response");
      o.obj("content",
            [&] { o.obj("application/json", [&] { o.ref("schema", doc.response_component()); }); });
    }
  });
}

void write_operation(Out& o, const RouteDoc& doc, const ServiceDoc& service, std::vector<std::string>& used) {
  const BoundRoute& r = *doc.route;
  o.obj(to_lower(r.http_method), [&] {
    o.str("summary", doc.names.summary);
    o.str("description", doc.names.description);
    o.str("operationId", doc.names.operation_id);
    if (doc.get() && !r.fields.empty()) write_query_parameters(o, doc);
    if (doc.has_body()) {
      o.obj("requestBody", [&] {
        o.obj("content", [&] {
          o.obj(doc.multipart() ? "multipart/form-data" : "application/json",
                [&] { write_fields_object(o, doc, doc.body_title()); });
        });
        o.boolean("required", true);
      });
    }
    o.obj("responses", [&] {
      write_success(o, doc);
      write_error_responses(o, route_errors(r, service), used);
    });
  });
}

void write_delete_response(Out& o) {
  o.obj(kDeleteResponse, [&] {
    o.obj("properties", [&] {
      o.key("num_rows");
      write_schema(o.w, ColumnType::Int, false, "num_rows", std::nullopt, false);
    });
    o.str("type", "object");
    o.arr("required", [&] { write_string(o.w, "num_rows"); });
    o.str("title", kDeleteResponse);
    o.str("description", "Response from a delete endpoint.");
  });
}

// The components of one route: the body it answers unless that is a file (or the shared
// DeleteResponse).
void write_route_components(Out& o, const RouteDoc& doc) {
  const BoundRoute& r = *doc.route;
  if (r.spec.type == RouteType::Delete || doc.file()) return;
  if (r.spec.type != RouteType::Query) {
    o.key(doc.response_component());
    return write_row_object(o.w, r.outputs, doc.response_component());
  }
  const std::string row = doc.names.stem + "RowResponse";
  o.key(row);
  write_row_object(o.w, r.outputs, row);
  if (doc.one_row()) return;
  const std::string rows = doc.names.stem + "Response";
  o.obj(rows, [&] {
    o.obj("properties", [&] {
      o.obj("rows", [&] {
        o.ref("items", row);
        o.str("type", "array");
        o.str("title", "Rows");
        o.str("description", "Query result rows");
      });
    });
    o.str("type", "object");
    o.arr("required", [&] { write_string(o.w, "rows"); });
    o.str("title", rows);
  });
}

void write_info(Out& o, const ServiceSpec& service) {
  o.obj("info", [&] {
    o.str("title", service.title);
    std::string what = service.name.empty() ? "this service" : "the service `" + service.name + "`";
    o.str("description",
          "The routes of " + what +
              ", served by pxt (a native `pxt serve`). Media values are URLs relative to the "
              "service (/media/...); background routes answer a job to poll at /jobs/{job_id}.");
    o.str("version", PXT_VERSION);
  });
}

void write_security(Out& o, const ServiceSpec& service) {
  // Every operation, the job and media routes included, needs the token when auth is on; without
  // it, an explicit empty list says no operation needs any.
  o.arr("security", [&] {
    if (service.auth_tokens.empty()) return;
    o.obj([&] { o.arr("HTTPBearer", [] {}); });
  });
}

}  // namespace

std::string build_openapi(const ServiceSpec& service, const std::vector<BoundRoute>& routes) {
  const std::vector<std::string> shared = {kHttpError,       kValidationError,       kValidationItem,
                                           kPixeltableError, kPixeltableErrorDetail, kJobHandle,
                                           kJobStatus,       kDeleteResponse};
  std::vector<OperationNames> names = name_operations(routes, service.prefix, shared);
  std::vector<RouteDoc> docs;
  for (size_t i = 0; i < routes.size(); ++i) docs.push_back(RouteDoc{&routes[i], names[i]});
  ServiceDoc sd;
  sd.auth = !service.auth_tokens.empty();
  sd.rate_limit = !service.rate_limit.empty();

  JsonBuffer buf;
  JsonWriter w(buf);
  Out o{w};
  std::vector<std::string> used;  // shared components referenced
  o.obj([&] {
    o.str("openapi", "3.1.0");
    write_info(o, service);
    // Relative to the document, so "Try it out" keeps working behind a reverse-proxy prefix.
    o.arr("servers", [&] { o.obj([&] { o.str("url", "."); }); });
    o.obj("paths", [&] {
      std::set<std::string> done;
      for (size_t i = 0; i < docs.size(); ++i) {
        const std::string& path = docs[i].route->full_path;
        if (!done.insert(path).second) continue;
        o.obj(path, [&] {
          for (size_t j = i; j < docs.size(); ++j)
            if (docs[j].route->full_path == path) write_operation(o, docs[j], sd, used);
        });
      }
      write_job_path(o, service.prefix, sd, used);
      write_media_path(o, service.prefix, sd, used);
    });
    o.obj("components", [&] {
      o.obj("schemas", [&] {
        std::vector<BackgroundRoute> background;
        bool deletes = false;
        for (const auto& d : docs) {
          write_route_components(o, d);
          deletes = deletes || d.route->spec.type == RouteType::Delete;
          if (d.route->spec.background)
            background.push_back({d.job_status_component(), d.response_component()});
        }
        if (deletes) write_delete_response(o);
        write_job_components(o, background);
        auto is_used = [&](const char* c) { return std::find(used.begin(), used.end(), c) != used.end(); };
        write_error_components(w, is_used(kValidationError), is_used(kPixeltableError));
      });
      if (!service.auth_tokens.empty()) {
        // FastAPI's HTTPBearer scheme: Swagger UI's Authorize button then offers the token field.
        o.obj("securitySchemes", [&] {
          o.obj("HTTPBearer", [&] {
            o.str("type", "http");
            o.str("scheme", "bearer");
          });
        });
      }
    });
    write_security(o, service);
  });
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace pxt
