// --dry-run output: the routes a service would serve, as text for people or JSON for scripts.
#include <rapidjson/prettywriter.h>

#include <optional>
#include <sstream>

#include "export/sql_url.hpp"
#include "serve/config/config.hpp"
#include "serve/config/detail.hpp"
#include "store/models/provider.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

using namespace config_detail;

namespace {

std::string value_text(const Value& v) {
  if (is_null(v)) return "null";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    std::ostringstream s;
    s << *d;
    return s.str();
  }
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "'" + std::get<std::string>(v) + "'";
}

std::string fields_text(const std::vector<RequestField>& fields) {
  if (fields.empty()) return "(none)";
  std::vector<std::string> parts;
  for (const auto& f : fields) {
    std::string p = f.name + ": " + std::string(type_name(f.type));
    if (f.default_value)
      p += " = " + value_text(*f.default_value);
    else if (f.required)
      p += " (required)";
    parts.push_back(p);
  }
  return join(parts, ", ");
}

std::string columns_text(const std::vector<ResultColumn>& cols) {
  if (cols.empty()) return "(none)";
  std::vector<std::string> parts;
  for (const auto& c : cols)
    parts.push_back(c.type ? c.name + ": " + std::string(type_name(*c.type)) : c.name);
  return join(parts, ", ");
}

std::string target_text(const BoundRoute& b) {
  const RouteSpec& r = b.spec;
  std::string t = r.type == RouteType::Query ? "query " + r.query : "table " + b.table.path;
  if (r.one_row) t += " (one row)";
  if (r.background) t += " (background)";
  if (r.return_fileresponse) t += " (file response)";
  if (r.export_sql)
    t += " (export_sql " + r.export_sql->method + " to " + r.export_sql->table + " in " +
         redact_url(r.export_sql->db_connect) + ")";
  return t;
}

using Pretty = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// Each distinct model the routes call, with where it is used and the provider it goes to.
struct ModelLine {
  std::string model, function, where;
  std::optional<models::ProviderConfig> provider;
};
std::vector<ModelLine> model_lines(const std::vector<BoundRoute>& routes) {
  std::vector<ModelLine> out;
  for (const auto& b : routes) {
    for (const auto& u : route_model_uses(b)) {
      bool seen = false;
      for (const auto& l : out) seen = seen || (l.model == u.model && l.where == u.where);
      if (seen) continue;
      ModelLine line{u.model, u.function, u.where, std::nullopt};
      if (auto ref = models::parse_model_ref(u.model)) {
        for (auto& p : models::provider_configs())
          if (p.name == ref->provider) line.provider = std::move(p);
      }
      out.push_back(std::move(line));
    }
  }
  return out;
}

void str(Pretty& w, std::string_view s) { write_string(w, s); }
void key(Pretty& w, std::string_view s) { write_key(w, s); }

void str_list(Pretty& w, const std::vector<std::string>& v) {
  w.StartArray();
  for (const auto& s : v) str(w, s);
  w.EndArray();
}

void value_json(Pretty& w, const Value& v) {
  if (is_null(v))
    w.Null();
  else if (auto* i = std::get_if<int64_t>(&v))
    w.Int64(*i);
  else if (auto* d = std::get_if<double>(&v))
    w.Double(*d);
  else if (auto* b = std::get_if<bool>(&v))
    w.Bool(*b);
  else
    str(w, std::get<std::string>(v));
}

void fields_json(Pretty& w, const std::vector<RequestField>& fields) {
  w.StartArray();
  for (const auto& f : fields) {
    start_column_object(w, f.name, type_name(f.type));
    key(w, "required");
    w.Bool(f.required);
    key(w, "nullable");
    w.Bool(f.nullable);
    if (f.default_value) {
      key(w, "default");
      value_json(w, *f.default_value);
    }
    w.EndObject();
  }
  w.EndArray();
}

// The route's own keys, in the order the reference lists them, with defaults filled in.
void route_key_json(Pretty& w, const BoundRoute& b, const std::string& k) {
  const RouteSpec& r = b.spec;
  key(w, k);
  if (k == "type") return str(w, route_type_name(r.type));
  if (k == "path") return str(w, r.path);
  if (k == "background") return (void)w.Bool(r.background);
  if (k == "table") return str(w, b.table.path.empty() ? r.table : b.table.path);
  if (k == "inputs") return str_list(w, r.inputs.value_or(std::vector<std::string>{}));
  if (k == "uploadfile_inputs") return str_list(w, r.uploadfile_inputs);
  if (k == "outputs") return str_list(w, r.outputs.value_or(std::vector<std::string>{}));
  if (k == "return_fileresponse") return (void)w.Bool(r.return_fileresponse);
  if (k == "match_columns") return str_list(w, r.match_columns.value_or(std::vector<std::string>{}));
  if (k == "query") return str(w, r.query);
  if (k == "one_row") return (void)w.Bool(r.one_row);
  if (k == "method") return str(w, r.method);
  if (k == "export_sql") {
    if (!r.export_sql) return (void)w.Null();
    w.StartObject();
    for (const auto& [name, val] :
         {std::pair<const char*, const std::string*>{"db_connect", &r.export_sql->db_connect},
          {"table", &r.export_sql->table},
          {"db_schema", &r.export_sql->db_schema},
          {"method", &r.export_sql->method}}) {
      key(w, name);
      str(w, val == &r.export_sql->db_connect ? redact_url(*val) : *val);
    }
    w.EndObject();
    return;
  }
  w.Null();  // unreachable: k comes from route_keys()
}

void route_json(Pretty& w, const BoundRoute& b) {
  w.StartObject();
  for (const auto& k : route_keys(b.spec.type)) route_key_json(w, b, k);
  key(w, "http_method");
  str(w, b.http_method);
  key(w, "full_path");
  str(w, b.full_path);
  key(w, "request_fields");
  fields_json(w, b.fields);
  key(w, "upload_fields");
  fields_json(w, b.uploads);
  key(w, "response_columns");
  w.StartArray();
  for (const auto& c : b.outputs) {
    w.StartObject();
    key(w, "name");
    str(w, c.name);
    key(w, "type");
    if (c.type)
      str(w, type_name(*c.type));
    else
      w.Null();
    key(w, "nullable");
    w.Bool(c.nullable);
    w.EndObject();
  }
  w.EndArray();
  key(w, "location");
  str(w, b.spec.location);
  w.EndObject();
}

}  // namespace

std::string describe_routes_text(const ServiceSpec& service, const std::vector<BoundRoute>& routes) {
  std::ostringstream out;
  out << "Service:  " << (service.name.empty() ? "(unnamed)" : service.name) << "\n";
  out << "  Title:  " << service.title << "\n";
  out << "  Host:   " << service.host << "\n";
  out << "  Port:   " << service.port << "\n";
  if (!service.prefix.empty()) out << "  Prefix: " << service.prefix << "\n";
  if (!service.modules.empty()) out << "  Modules: " << join(service.modules, ", ") << "\n";
  if (!service.auth_tokens.empty())  // the count only: tokens are secrets
    out << "  Auth:   bearer (" << service.auth_tokens.size()
        << (service.auth_tokens.size() == 1 ? " token)\n" : " tokens)\n");
  if (!service.cors_origins.empty()) out << "  CORS:   " << join(service.cors_origins, ", ") << "\n";
  if (!service.rate_limit.empty())
    out << "  Rate limit: " << service.rate_limit << " per client"
        << (service.rate_limit_shared ? ", shared by every process of the store" : "") << "\n";
  if (!service.forwarded_allow_ips.empty())
    out << "  Proxies: " << join(service.forwarded_allow_ips, ", ") << " (Host and X-Forwarded-* believed)\n";
  out << "  Config: " << (service.config_file.empty() ? "command line" : service.config_file) << "\n";
  out << "Routes (" << routes.size() << "):\n";
  for (const auto& b : routes) {
    out << "  [" << route_type_name(b.spec.type) << "] " << b.http_method << " " << b.full_path << "  "
        << target_text(b) << "\n";
    out << "      inputs:  " << fields_text(b.fields) << "\n";
    if (!b.uploads.empty()) out << "      uploads: " << fields_text(b.uploads) << "\n";
    out << "      outputs: " << columns_text(b.outputs) << "\n";
  }
  auto lines = model_lines(routes);
  if (!lines.empty()) {
    out << "Models (" << lines.size() << "):\n";
    for (const auto& l : lines) {
      out << "  " << l.function << "(" << l.model << ")  " << l.where << "\n";
      if (l.provider) out << "      provider " << models::describe_provider(*l.provider) << "\n";
    }
  }
  return out.str();
}

std::string describe_routes_json(const ServiceSpec& service, const std::vector<BoundRoute>& routes) {
  rapidjson::StringBuffer buf;
  Pretty w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  key(w, "name");
  str(w, service.name);
  key(w, "title");
  str(w, service.title);
  key(w, "prefix");
  str(w, service.prefix);
  key(w, "host");
  str(w, service.host);
  key(w, "port");
  w.Int(service.port);
  key(w, "modules");
  str_list(w, service.modules);
  key(w, "max_body_mb");
  w.Int64(service.max_body_mb);
  key(w, "max_upload_mb");
  w.Int64(service.max_upload_mb);
  for (auto [name, value] : {std::pair<const char*, int64_t>{"job_workers", service.job_workers},
                             {"job_queue_max", service.job_queue_max},
                             {"job_ttl_s", service.job_ttl_s},
                             {"job_shutdown_s", service.job_shutdown_s},
                             {"job_lease_s", service.job_lease_s}}) {
    key(w, name);
    w.Int64(value);
  }
  key(w, "auth_token_count");  // the tokens themselves are secrets
  w.Uint64(service.auth_tokens.size());
  key(w, "docs_public");
  w.Bool(service.docs_public);
  key(w, "cors_origins");
  str_list(w, service.cors_origins);
  key(w, "rate_limit");
  if (service.rate_limit.empty())
    w.Null();
  else
    str(w, service.rate_limit);
  key(w, "rate_limit_shared");
  w.Bool(service.rate_limit_shared);
  key(w, "read_timeout_s");
  w.Int64(service.read_timeout_s);
  key(w, "forwarded_allow_ips");
  str_list(w, service.forwarded_allow_ips);
  key(w, "durability");
  str(w, service.durability);
  key(w, "write_timeout_ms");
  w.Int64(service.write_timeout_ms);
  key(w, "time_zone");
  if (service.time_zone.empty())
    w.Null();
  else
    str(w, service.time_zone);
  key(w, "max_image_pixels");
  w.Int64(service.max_image_pixels);
  key(w, "max_rows");
  w.Int64(service.max_rows);
  key(w, "config_file");
  if (service.config_file.empty())
    w.Null();
  else
    str(w, service.config_file);
  key(w, "routes");
  w.StartArray();
  for (const auto& b : routes) route_json(w, b);
  w.EndArray();
  key(w, "models");  // providers without their API keys
  w.StartArray();
  for (const auto& l : model_lines(routes)) {
    w.StartObject();
    key(w, "function");
    str(w, l.function);
    key(w, "model");
    str(w, l.model);
    key(w, "used_by");
    str(w, l.where);
    if (l.provider) {
      key(w, "provider");
      str(w, l.provider->name);
      key(w, "base_url");
      str(w, l.provider->base_url);
      key(w, "api_key_set");
      w.Bool(!l.provider->api_key.empty());
      key(w, "max_concurrency");
      w.Int(l.provider->max_concurrency);
      key(w, "timeout_s");
      w.Double(l.provider->timeout_s);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace pxt
