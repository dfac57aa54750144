// Checks on services and routes that need no catalog, shared by the TOML loader and bind_routes.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "serve/config/detail.hpp"
#include "store/model/time_zone.hpp"
#include "util/strings.hpp"

namespace pxt::config_detail {

void Errors::add(const std::string& location, std::string_view key, const std::string& reason) {
  entries_.push_back({location, std::string(key), reason});
}

namespace {
// "dir/file.toml:12" -> ("dir/file.toml", 12); "command line" -> ("command line", 0).
std::pair<std::string, long> split_location(const std::string& loc) {
  size_t colon = loc.rfind(':');
  if (colon == std::string::npos || colon + 1 >= loc.size()) return {loc, 0};
  char* end = nullptr;
  long line = std::strtol(loc.c_str() + colon + 1, &end, 10);
  if (*end != '\0') return {loc, 0};
  return {loc.substr(0, colon), line};
}
}  // namespace

void Errors::sort_by_location() {
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return split_location(a.location) < split_location(b.location);
  });
}

std::vector<std::string> Errors::lines() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    out.push_back(e.location + (e.key.empty() ? "" : ": " + e.key) + ": " + e.reason);
  return out;
}

Error Errors::to_error() const {
  auto all = lines();
  if (all.size() == 1) return make_error(Errc::invalid_argument, all[0]);
  std::string msg = std::to_string(all.size()) + " errors in the service configuration:";
  for (const auto& l : all) msg += "\n  " + l;
  return make_error(Errc::invalid_argument, msg);
}

const std::vector<std::string>& route_type_names() {
  static const std::vector<std::string> names{"insert", "update", "delete", "query", "compute"};
  return names;
}

std::optional<RouteType> parse_route_type(std::string_view name) {
  static const std::map<std::string, RouteType, std::less<>> types{{"insert", RouteType::Insert},
                                                                   {"update", RouteType::Update},
                                                                   {"delete", RouteType::Delete},
                                                                   {"query", RouteType::Query},
                                                                   {"compute", RouteType::Compute}};
  auto it = types.find(name);
  if (it == types.end()) return std::nullopt;
  return it->second;
}

const std::vector<std::string>& route_keys(RouteType t) {
  static const std::map<RouteType, std::vector<std::string>> keys{
      {RouteType::Insert,
       {"type", "path", "background", "table", "inputs", "uploadfile_inputs", "outputs",
        "return_fileresponse", "export_sql"}},
      {RouteType::Update,
       {"type", "path", "background", "table", "inputs", "outputs", "return_fileresponse", "export_sql"}},
      {RouteType::Delete, {"type", "path", "background", "table", "match_columns"}},
      {RouteType::Query,
       {"type", "path", "background", "query", "inputs", "uploadfile_inputs", "one_row",
        "return_fileresponse", "method"}},
      {RouteType::Compute,
       {"type", "path", "background", "table", "inputs", "uploadfile_inputs", "outputs",
        "return_fileresponse", "export_sql"}},
  };
  return keys.at(t);
}

const std::vector<std::string>& all_route_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> all;
    for (const auto& n : route_type_names())
      for (const auto& k : route_keys(*parse_route_type(n)))
        if (std::find(all.begin(), all.end(), k) == all.end()) all.push_back(k);
    return all;
  }();
  return keys;
}

bool route_accepts(RouteType t, std::string_view key) {
  const auto& keys = route_keys(t);
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

const std::vector<std::string>& service_keys() {
  static const std::vector<std::string> keys{"name",
                                             "title",
                                             "prefix",
                                             "host",
                                             "port",
                                             "modules",
                                             "max_body_mb",
                                             "max_upload_mb",
                                             "job_workers",
                                             "job_queue_max",
                                             "job_ttl_s",
                                             "job_shutdown_s",
                                             "job_lease_s",
                                             "auth_tokens",
                                             "docs_public",
                                             "cors_origins",
                                             "rate_limit",
                                             "rate_limit_shared",
                                             "read_timeout_s",
                                             "durability",
                                             "write_timeout_ms",
                                             "forwarded_allow_ips",
                                             "time_zone",
                                             "max_image_pixels",
                                             "max_rows",
                                             "routes"};
  return keys;
}

const std::vector<std::string>& future_service_keys() {
  static const std::vector<std::string> keys{};
  return keys;
}

const std::vector<std::string>& export_sql_keys() {
  static const std::vector<std::string> keys{"db_connect", "table", "db_schema", "method"};
  return keys;
}

std::string location_of(const RouteSpec& r, std::string_view key) {
  auto it = r.key_locations.find(std::string(key));
  return it != r.key_locations.end() ? it->second : r.location;
}

std::string location_of(const ServiceSpec& s, std::string_view key) {
  auto it = s.key_locations.find(std::string(key));
  return it != s.key_locations.end() ? it->second : s.location;
}

bool is_module_name(std::string_view s) {
  auto parts = split(s, '.');
  return std::all_of(parts.begin(), parts.end(), [](const std::string& p) { return is_identifier(p); });
}

std::optional<QueryRef> parse_query_ref(std::string_view ref) {
  size_t colon = ref.find(':');
  size_t cut = colon != std::string_view::npos ? colon : ref.rfind('.');
  if (cut == std::string_view::npos) return std::nullopt;
  QueryRef q{std::string(ref.substr(0, cut)), std::string(ref.substr(cut + 1))};
  if (!is_module_name(q.module) || !is_identifier(q.name)) return std::nullopt;
  return q;
}

bool is_service_name(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

namespace {

// Why these characters: they would change how the URL is parsed (query, fragment), are not
// valid in a path, or would be read as path parameters, which routes do not support.
std::string url_path_problem(std::string_view p) {
  for (char c : p) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return "must not contain whitespace";
    if (c == '?' || c == '#') return std::string("must not contain '") + c + "'";
    if (c == '{' || c == '}') return "path parameters ('{...}') are not supported";
  }
  if (p.find("//") != std::string_view::npos) return "must not contain '//'";
  return "";
}

void check_column_list(const RouteSpec& r, std::string_view key, const std::vector<std::string>& cols,
                       Errors& errs) {
  std::set<std::string> seen;
  for (const auto& c : cols) {
    if (c.empty())
      errs.add(location_of(r, key), key, "empty column name");
    else if (!seen.insert(c).second)
      errs.add(location_of(r, key), key, "'" + c + "' is listed twice");
  }
}

// Fields set to something other than their default, with the key they came from.
std::vector<std::string> keys_set(const RouteSpec& r) {
  std::vector<std::string> keys;
  if (!r.table.empty()) keys.push_back("table");
  if (r.inputs) keys.push_back("inputs");
  if (!r.uploadfile_inputs.empty()) keys.push_back("uploadfile_inputs");
  if (r.outputs) keys.push_back("outputs");
  if (r.return_fileresponse) keys.push_back("return_fileresponse");
  if (r.export_sql) keys.push_back("export_sql");
  if (r.match_columns) keys.push_back("match_columns");
  if (!r.query.empty()) keys.push_back("query");
  if (r.one_row) keys.push_back("one_row");
  if (r.method != "post") keys.push_back("method");
  return keys;
}

void check_export_sql(const RouteSpec& r, Errors& errs) {
  const ExportSqlSpec& x = *r.export_sql;
  auto loc = [&](const char* k) {
    auto it = r.key_locations.find(std::string("export_sql.") + k);
    return it != r.key_locations.end() ? it->second : location_of(r, "export_sql");
  };
  if (x.db_connect.empty()) errs.add(loc("db_connect"), "export_sql.db_connect", "missing (required)");
  if (x.table.empty()) errs.add(loc("table"), "export_sql.table", "missing (required)");
  static const std::vector<std::string> methods{"insert", "update", "merge"};
  if (std::find(methods.begin(), methods.end(), x.method) == methods.end())
    errs.add(loc("method"), "export_sql.method",
             "must be 'insert', 'update' or 'merge', got '" + x.method + "'");
  if (r.return_fileresponse)
    errs.add(location_of(r, "export_sql"), "export_sql", "cannot be combined with return_fileresponse");
}

void check_job_settings(const ServiceSpec& s, Errors& errs) {
  auto at_least = [&](const char* key, int64_t value, int64_t min, const char* note) {
    if (value < min)
      errs.add(location_of(s, key), key,
               "must be at least " + std::to_string(min) + note + ", got " + std::to_string(value));
  };
  at_least("job_workers", s.job_workers, 0, " (0: the number of cores)");
  if (s.job_workers > 1024)
    errs.add(location_of(s, "job_workers"), "job_workers",
             "must be at most 1024, got " + std::to_string(s.job_workers));
  at_least("job_queue_max", s.job_queue_max, 1, "");
  at_least("job_ttl_s", s.job_ttl_s, 1, "");
  at_least("job_shutdown_s", s.job_shutdown_s, 0, "");
  at_least("job_lease_s", s.job_lease_s, 1, "");
}

}  // namespace

void check_service_static(const ServiceSpec& s, Errors& errs) {
  if (!s.name.empty() && !is_service_name(s.name))
    errs.add(
        location_of(s, "name"), "name",
        "'" + s.name +
            "' is not a valid Pixeltable identifier (letters, digits, '_' and '-', starting with a letter)");
  if (!s.prefix.empty()) {
    if (s.prefix[0] != '/')
      errs.add(location_of(s, "prefix"), "prefix", "must be empty or start with '/', got '" + s.prefix + "'");
    else if (s.prefix.size() > 1 && s.prefix.back() == '/')
      errs.add(location_of(s, "prefix"), "prefix", "must not end with '/', got '" + s.prefix + "'");
    else if (s.prefix == "/")
      errs.add(location_of(s, "prefix"), "prefix", "'/' is not a prefix; leave it empty instead");
    else if (auto p = url_path_problem(s.prefix); !p.empty())
      errs.add(location_of(s, "prefix"), "prefix", p + ", got '" + s.prefix + "'");
  }
  if (s.host.empty() || s.host.find_first_of(" \t\r\n/") != std::string::npos)
    errs.add(location_of(s, "host"), "host", "'" + s.host + "' is not a valid bind address");
  if (s.port < 1 || s.port > 65535)
    errs.add(location_of(s, "port"), "port", "must be between 1 and 65535, got " + std::to_string(s.port));
  if (s.max_body_mb < 1)
    errs.add(location_of(s, "max_body_mb"), "max_body_mb",
             "must be at least 1, got " + std::to_string(s.max_body_mb));
  if (s.max_upload_mb < 1)
    errs.add(location_of(s, "max_upload_mb"), "max_upload_mb",
             "must be at least 1, got " + std::to_string(s.max_upload_mb));
  check_job_settings(s, errs);
  check_security_keys(s, errs);
  if (s.durability != "normal" && s.durability != "full")
    errs.add(location_of(s, "durability"), "durability",
             "must be 'normal' or 'full', got '" + s.durability + "'" +
                 did_you_mean(s.durability, {"normal", "full"}));
  if (s.write_timeout_ms < 1 || s.write_timeout_ms > 3600000)
    errs.add(location_of(s, "write_timeout_ms"), "write_timeout_ms",
             "must be between 1 and 3600000 (an hour), got " + std::to_string(s.write_timeout_ms));
  if (!s.time_zone.empty()) {
    if (auto z = TimeZone::load(s.time_zone); !z)
      errs.add(location_of(s, "time_zone"), "time_zone", z.error().message);
  }
  if (s.max_image_pixels < 0)
    errs.add(
        location_of(s, "max_image_pixels"), "max_image_pixels",
        "must be a positive number of pixels (0: the default), got " + std::to_string(s.max_image_pixels));
  if (s.max_rows < 0)
    errs.add(location_of(s, "max_rows"), "max_rows",
             "must be 0 (no cap) or a positive number of rows, got " + std::to_string(s.max_rows));
  std::set<std::string> seen;
  for (const auto& m : s.modules) {
    if (!is_module_name(m))
      errs.add(location_of(s, "modules"), "modules",
               "'" + m + "' is not a module name (dotted identifiers, e.g. 'myapp.schema')");
    else if (!seen.insert(m).second)
      errs.add(location_of(s, "modules"), "modules", "'" + m + "' is listed twice");
  }
}

void check_route_static(const RouteSpec& r, Errors& errs) {
  const std::string type(route_type_name(r.type));
  for (const auto& key : keys_set(r))
    if (!route_accepts(r.type, key))
      errs.add(location_of(r, key), key, "not accepted by " + type + " routes");

  if (r.path.empty())
    errs.add(location_of(r, "path"), "path", "missing (required)");
  else if (r.path[0] != '/')
    errs.add(location_of(r, "path"), "path", "must start with '/', got '" + r.path + "'");
  else if (auto p = url_path_problem(r.path); !p.empty())
    errs.add(location_of(r, "path"), "path", p + ", got '" + r.path + "'");

  if (r.type == RouteType::Query) {
    if (r.query.empty())
      errs.add(location_of(r, "query"), "query", "missing (required for query routes)");
    else if (!parse_query_ref(r.query))
      errs.add(
          location_of(r, "query"), "query",
          "expected 'module.name' or 'module:name' (e.g. 'myapp.queries.search'), got '" + r.query + "'");
  } else if (r.table.empty()) {
    errs.add(location_of(r, "table"), "table", "missing (required for " + type + " routes)");
  }
  if (r.method != "get" && r.method != "post")
    errs.add(location_of(r, "method"), "method", "must be 'get' or 'post', got '" + r.method + "'");

  if (r.inputs) check_column_list(r, "inputs", *r.inputs, errs);
  if (r.outputs) check_column_list(r, "outputs", *r.outputs, errs);
  check_column_list(r, "uploadfile_inputs", r.uploadfile_inputs, errs);
  if (r.match_columns) {
    if (r.match_columns->empty())
      errs.add(location_of(r, "match_columns"), "match_columns", "must not be empty");
    check_column_list(r, "match_columns", *r.match_columns, errs);
  }
  if (r.type == RouteType::Update && r.inputs && r.inputs->empty())
    errs.add(location_of(r, "inputs"), "inputs", "must not be empty (an update route needs a column to set)");
  if (r.inputs)
    for (const auto& u : r.uploadfile_inputs)
      if (std::find(r.inputs->begin(), r.inputs->end(), u) != r.inputs->end())
        errs.add(location_of(r, "uploadfile_inputs"), "uploadfile_inputs",
                 "'" + u + "' is also listed in inputs; a column is either a field or an upload");
  if (r.method == "get" && !r.uploadfile_inputs.empty())
    errs.add(location_of(r, "uploadfile_inputs"), "uploadfile_inputs",
             "GET endpoints cannot have uploadfile_inputs");
  if (r.background && r.return_fileresponse)
    errs.add(location_of(r, "return_fileresponse"), "return_fileresponse",
             "cannot be combined with background = true");
  if (r.export_sql) check_export_sql(r, errs);
}

std::string full_path(const ServiceSpec& s, const RouteSpec& r) { return s.prefix + r.path; }

std::string http_method(const RouteSpec& r) {
  return r.type == RouteType::Query && r.method == "get" ? "GET" : "POST";
}

void check_route_paths(const ServiceSpec& s, Errors& errs) {
  // The docs, the OpenAPI document and the health check live at the root; media and job URLs
  // under the prefix (they are built from the request's base URL).
  std::vector<std::string> builtin{
      "/docs", "/redoc", "/openapi.json", "/healthz", "/metrics", s.prefix + "/media", s.prefix + "/jobs"};
  auto under = [](const std::string& path, const std::string& base) {
    return path == base ||
           (path.size() > base.size() && path.compare(0, base.size(), base) == 0 && path[base.size()] == '/');
  };
  std::map<std::string, std::string> seen;  // "POST /x" -> location of its first route
  for (const auto& r : s.routes) {
    if (r.path.empty() || r.path[0] != '/') continue;  // reported by check_route_static
    const std::string full = full_path(s, r), method = http_method(r);
    for (const auto& b : builtin) {
      if (!under(full, b)) continue;
      errs.add(location_of(r, "path"), "path",
               "'" + full + "' collides with the built-in endpoint '" + b + "'");
      break;
    }
    auto [it, fresh] = seen.emplace(method + " " + full, r.location);
    if (!fresh)
      errs.add(location_of(r, "path"), "path",
               "route already registered: " + method + " '" + full + "' (first at " + it->second + ")");
  }
}

void refuse_unsupported(const RouteSpec&, Errors&) {
  // Each feature has its own issue; until it lands the route is refused here rather than served
  // without it. Every route feature of the reference is served now.
}

}  // namespace pxt::config_detail
