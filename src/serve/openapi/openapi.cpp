#include "serve/openapi/openapi.hpp"

#include <cctype>
#include <set>

#include "serve/openapi/jobs.hpp"
#include "serve/openapi/schema.hpp"
#include "store/model/values.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

#ifndef PXT_VERSION
#define PXT_VERSION "0.0.0"
#endif

namespace pxt {

using namespace openapi;

namespace {

// "/v1/generate-text" -> "V1GenerateText"
std::string camel_path(std::string_view path) {
  std::string out;
  bool start = true;
  for (char c : path) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
      start = false;
    } else {
      start = true;
    }
  }
  return out;
}

struct RouteDoc {
  const BoundRoute* route;
  std::string base;  // component name stem, unique per route
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
  bool has_body() const {
    return route->http_method != "GET" && (!route->fields.empty() || !route->uploads.empty());
  }
  bool multipart() const { return !route->uploads.empty(); }
  bool is_table_route() const { return route->spec.type != RouteType::Query; }
  bool one_row() const { return route->spec.type == RouteType::Query && route->spec.one_row; }
};

void write_fields_object(JsonWriter& w, const RouteDoc& doc, const std::string& title) {
  w.StartObject();
  write_key(w, "properties");
  w.StartObject();
  std::vector<std::string> required;
  for (const auto& f : doc.route->fields) {
    write_key(w, f.name);
    bool optional = !doc.required(f);
    std::optional<Value> def = doc.default_of(f);
    // A left-out update input stays unchanged, so it has no default to show.
    bool default_null = optional && f.nullable && !def && !doc.optional_update_field(f);
    write_schema(w, f.type, f.nullable, f.name, def, default_null);
    if (!optional) required.push_back(f.name);
  }
  // File parts, as FastAPI describes an UploadFile.
  for (const auto& f : doc.route->uploads) {
    write_key(w, f.name);
    w.StartObject();
    if (f.required) {
      write_key(w, "type");
      write_string(w, "string");
      write_key(w, "format");
      write_string(w, "binary");
      required.push_back(f.name);
    } else {
      write_key(w, "anyOf");
      w.StartArray();
      w.StartObject();
      write_key(w, "type");
      write_string(w, "string");
      write_key(w, "format");
      write_string(w, "binary");
      w.EndObject();
      w.StartObject();
      write_key(w, "type");
      write_string(w, "null");
      w.EndObject();
      w.EndArray();
    }
    write_key(w, "title");
    std::string label = f.name;
    if (!label.empty()) label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
    write_string(w, label);
    w.EndObject();
  }
  w.EndObject();
  write_key(w, "type");
  write_string(w, "object");
  if (!required.empty()) {
    write_key(w, "required");
    w.StartArray();
    for (const auto& r : required) write_string(w, r);
    w.EndArray();
  }
  write_key(w, "title");
  write_string(w, title);
  w.EndObject();
}

void write_json_content(JsonWriter& w, const std::string& component, const char* type = "application/json") {
  write_key(w, "content");
  w.StartObject();
  write_key(w, type);
  w.StartObject();
  write_key(w, "schema");
  write_ref(w, component);
  w.EndObject();
  w.EndObject();
}

void write_response(JsonWriter& w, const char* code, const char* description, const std::string& component) {
  write_key(w, code);
  w.StartObject();
  write_key(w, "description");
  write_string(w, description);
  write_json_content(w, component);
  w.EndObject();
}

void write_query_parameters(JsonWriter& w, const RouteDoc& doc) {
  write_key(w, "parameters");
  w.StartArray();
  for (const auto& f : doc.route->fields) {
    w.StartObject();
    write_key(w, "name");
    write_string(w, f.name);
    write_key(w, "in");
    write_string(w, "query");
    write_key(w, "required");
    w.Bool(doc.required(f));
    write_key(w, "schema");
    std::optional<Value> def = doc.default_of(f);
    write_schema(w, f.type, f.nullable, f.name, def, !doc.required(f) && f.nullable && !def);
    w.EndObject();
  }
  w.EndArray();
}

std::string summary(const BoundRoute& r) {
  switch (r.spec.type) {
    case RouteType::Insert:
      return "Insert into " + r.table.path;
    case RouteType::Update:
      return "Update " + r.table.path;
    case RouteType::Delete:
      return "Delete from " + r.table.path;
    case RouteType::Compute:
      return "Compute with " + r.table.path;
    case RouteType::Query:
      return "Query " + r.query.qualified_name();
  }
  return "";
}

void write_operation(JsonWriter& w, const RouteDoc& doc) {
  const BoundRoute& r = *doc.route;
  w.StartObject();
  write_key(w, "summary");
  write_string(w, summary(r));
  write_key(w, "operationId");
  write_string(w, operation_id(r));
  if (r.http_method == "GET" && !r.fields.empty()) write_query_parameters(w, doc);
  if (doc.has_body()) {
    write_key(w, "requestBody");
    w.StartObject();
    write_json_content(w, doc.base + "Request", doc.multipart() ? "multipart/form-data" : "application/json");
    write_key(w, "required");
    w.Bool(true);
    w.EndObject();
  }
  write_key(w, "responses");
  w.StartObject();
  if (r.spec.background) {
    // The job's result (GET /jobs/{id}) is what the route would have answered: <base>Response.
    write_response(w, "200", "Job accepted; poll job_url", "JobHandle");
    write_response(w, "503", "Job queue full; retry after Retry-After seconds", "HTTPError");
  } else if (r.spec.return_fileresponse) {
    // The raw file of the single media output.
    write_key(w, "200");
    w.StartObject();
    write_key(w, "description");
    write_string(w, "The file of the media output");
    write_key(w, "content");
    w.StartObject();
    write_key(w, "application/octet-stream");
    w.StartObject();
    write_key(w, "schema");
    w.StartObject();
    write_key(w, "type");
    write_string(w, "string");
    write_key(w, "format");
    write_string(w, "binary");
    w.EndObject();
    w.EndObject();
    w.EndObject();
    w.EndObject();
  } else {
    write_response(w, "200", "Successful Response", doc.one_row() ? doc.base + "Row" : doc.base + "Response");
  }
  if (r.spec.type == RouteType::Update) write_response(w, "404", "Row not found", "HTTPError");
  if (doc.one_row() || (r.spec.type == RouteType::Query && r.spec.return_fileresponse)) {
    write_response(w, "404", "Query returned no rows", "HTTPError");
    write_response(w, "409", "Query returned more than one row", "HTTPError");
  }
  if (doc.is_table_route()) {
    write_response(w, "409", "Table schema changed since the route was registered", "HTTPError");
  }
  if (!r.fields.empty() || !r.uploads.empty())
    write_response(w, "422", "Validation Error", "HTTPValidationError");
  w.EndObject();
  w.EndObject();
}

void write_route_components(JsonWriter& w, const RouteDoc& doc) {
  const BoundRoute& r = *doc.route;
  if (doc.has_body()) {
    write_key(w, doc.base + "Request");
    write_fields_object(w, doc, doc.base + "Request");
  }
  if (r.spec.type == RouteType::Delete) {
    write_key(w, doc.base + "Response");
    w.StartObject();
    write_key(w, "properties");
    w.StartObject();
    write_key(w, "num_rows");
    write_schema(w, ColumnType::Int, false, "num_rows", std::nullopt, false);
    w.EndObject();
    write_key(w, "type");
    write_string(w, "object");
    write_key(w, "required");
    w.StartArray();
    write_string(w, "num_rows");
    w.EndArray();
    write_key(w, "title");
    write_string(w, doc.base + "Response");
    w.EndObject();
  } else if (r.spec.type == RouteType::Query) {
    write_key(w, doc.base + "Row");
    write_row_object(w, r.outputs, doc.base + "Row");
    if (!doc.one_row()) {
      write_key(w, doc.base + "Response");
      w.StartObject();
      write_key(w, "properties");
      w.StartObject();
      write_key(w, "rows");
      w.StartObject();
      write_key(w, "items");
      write_ref(w, doc.base + "Row");
      write_key(w, "type");
      write_string(w, "array");
      write_key(w, "title");
      write_string(w, "Rows");
      w.EndObject();
      w.EndObject();
      write_key(w, "type");
      write_string(w, "object");
      write_key(w, "required");
      w.StartArray();
      write_string(w, "rows");
      w.EndArray();
      write_key(w, "title");
      write_string(w, doc.base + "Response");
      w.EndObject();
    }
  } else {
    write_key(w, doc.base + "Response");
    write_row_object(w, r.outputs, doc.base + "Response");
  }
}

std::vector<RouteDoc> name_routes(const std::vector<BoundRoute>& routes) {
  std::vector<RouteDoc> docs;
  std::set<std::string> used = {"HTTPError", "HTTPValidationError", "ValidationError", "JobHandle",
                                "JobStatus"};
  for (const auto& r : routes) {
    std::string kind = title_case(route_type_name(r.spec.type));
    std::string base = kind + camel_path(r.full_path);
    if (used.count(base) != 0) base += title_case(to_lower(r.http_method));
    std::string unique = base;
    for (int n = 2; used.count(unique) != 0; ++n) unique = base + std::to_string(n);
    used.insert(unique);
    docs.push_back(RouteDoc{&r, unique});
  }
  return docs;
}

}  // namespace

std::string operation_id(const BoundRoute& route) {
  std::string id(route_type_name(route.spec.type));
  for (char c : route.full_path)
    id.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
  id.push_back('_');
  id += to_lower(route.http_method);
  return id;
}

std::string build_openapi(const ServiceSpec& service, const std::vector<BoundRoute>& routes) {
  std::vector<RouteDoc> docs = name_routes(routes);
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "openapi");
  write_string(w, "3.1.0");
  write_key(w, "info");
  w.StartObject();
  write_key(w, "title");
  write_string(w, service.title);
  write_key(w, "version");
  write_string(w, PXT_VERSION);
  w.EndObject();
  // Relative to the document, so "Try it out" keeps working behind a reverse-proxy prefix.
  write_key(w, "servers");
  w.StartArray();
  w.StartObject();
  write_key(w, "url");
  write_string(w, ".");
  w.EndObject();
  w.EndArray();

  write_key(w, "paths");
  w.StartObject();
  std::set<std::string> done;
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string& path = docs[i].route->full_path;
    if (!done.insert(path).second) continue;
    write_key(w, path);
    w.StartObject();
    for (size_t j = i; j < docs.size(); ++j) {
      if (docs[j].route->full_path != path) continue;
      write_key(w, to_lower(docs[j].route->http_method));
      write_operation(w, docs[j]);
    }
    w.EndObject();
  }
  bool background = false;
  for (const auto& r : routes) background = background || r.spec.background;
  if (background) write_job_path(w, service.prefix);
  w.EndObject();

  write_key(w, "components");
  w.StartObject();
  write_key(w, "schemas");
  w.StartObject();
  for (const auto& d : docs) write_route_components(w, d);
  write_error_components(w);
  if (background) write_job_components(w);
  w.EndObject();
  if (!service.auth_tokens.empty()) {
    // FastAPI's HTTPBearer scheme: Swagger UI's Authorize button then offers the token field.
    write_key(w, "securitySchemes");
    w.StartObject();
    write_key(w, "HTTPBearer");
    w.StartObject();
    write_key(w, "type");
    write_string(w, "http");
    write_key(w, "scheme");
    write_string(w, "bearer");
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  if (!service.auth_tokens.empty()) {  // every operation requires it
    write_key(w, "security");
    w.StartArray();
    w.StartObject();
    write_key(w, "HTTPBearer");
    w.StartArray();
    w.EndArray();
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace pxt
