// Reads service definitions from TOML: pyproject.toml ([tool.pixeltable] or its alias
// [tool.pxt]), standalone files ([[service]] + [[service.routes]], or one [service] table with
// top-level [[routes]]) and Pixeltable's own config.toml. This layer checks the file's shape
// (syntax, keys, types, ${VAR}, service names); the values themselves are checked by
// bind_routes, together with the catalog, so that all of those mistakes are reported at once.
#include <toml.hpp>
#include "util/toml_names.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "serve/config/config.hpp"
#include "serve/config/detail.hpp"
#include "util/strings.hpp"
#include "util/toml_guard.hpp"

namespace pxt {

using namespace config_detail;

namespace {

using TValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

std::string describe_type(const TValue& v) { return std::string(toml_kind_name(v.type())); }

enum class Flavor { Standalone, Pyproject, PixeltableConfig };

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  std::vector<ServiceSpec> read_root(const TValue& root, Flavor flavor, const std::string& where);
  Errors& errors() { return errs_; }

 private:
  std::string loc(const TValue& v) const { return file_ + ":" + std::to_string(v.location().line()); }

  bool expect(const TValue& v, toml::value_t t, std::string_view key, const char* what) {
    if (v.type() == t) return true;
    errs_.add(loc(v), key, std::string("expected ") + what + ", got " + describe_type(v));
    return false;
  }
  std::optional<std::string> str(const TValue& v, std::string_view key) {
    if (!expect(v, toml::value_t::string, key, "a string")) return std::nullopt;
    auto r = substitute_env(v.as_string().str);
    if (!r) {
      errs_.add(loc(v), key, r.error().message);
      return std::nullopt;
    }
    return std::move(r).value();
  }
  std::optional<int64_t> integer(const TValue& v, std::string_view key) {
    if (!expect(v, toml::value_t::integer, key, "an integer")) return std::nullopt;
    return v.as_integer();
  }
  std::optional<bool> boolean(const TValue& v, std::string_view key) {
    if (!expect(v, toml::value_t::boolean, key, "a boolean (true or false)")) return std::nullopt;
    return v.as_boolean();
  }
  std::optional<std::vector<std::string>> str_list(const TValue& v, std::string_view key) {
    if (!expect(v, toml::value_t::array, key, "a list of strings")) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& item : v.as_array()) {
      auto s = str(item, key);
      if (s)
        out.push_back(std::move(*s));
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<ServiceSpec> read_service(const TValue* entry, const TValue* root, bool name_required);
  bool read_service_key(ServiceSpec& s, const std::string& k, const TValue& v);
  void read_routes(ServiceSpec& s, const TValue& routes);
  std::optional<RouteSpec> read_route(const TValue& e);
  void read_route_key(RouteSpec& r, const std::string& k, const TValue& v);
  void read_export_sql(RouteSpec& r, const TValue& v);

  std::string file_;
  Errors errs_;
};

std::vector<ServiceSpec> Loader::read_root(const TValue& root, Flavor flavor, const std::string& where) {
  const auto& t = root.as_table();
  if (flavor == Flavor::Standalone) {
    // [models.NAME] tables are read by models::parse_model_tables (store/models/provider.hpp).
    static const std::vector<std::string> keys{"service", "routes", "modules", "models"};
    for (const auto& [k, v] : t)
      if (std::find(keys.begin(), keys.end(), k) == keys.end())
        errs_.add(loc(v), k,
                  "unknown top-level key" + did_you_mean(k, keys) + " (expected [[service]] or [[routes]])");
  }
  auto service = t.find("service");
  if (service != t.end() && service->second.is_array()) {
    for (const char* k : {"routes", "modules"})
      if (auto it = t.find(k); it != t.end())
        errs_.add(loc(it->second), k,
                  std::string("cannot be combined with [[service]] entries; put it inside each entry (") +
                      "[[service." + k + "]])");
    std::vector<ServiceSpec> out;
    for (const auto& e : service->second.as_array()) {
      if (!expect(e, toml::value_t::table, "service", "a table")) continue;
      if (auto s = read_service(&e, nullptr, true)) out.push_back(std::move(*s));
    }
    return out;
  }
  if (service != t.end() && !service->second.is_table()) {
    expect(service->second, toml::value_t::table, "service", "a table or an array of tables");
    return {};
  }
  if (service == t.end() && t.find("routes") == t.end()) {
    errs_.add(file_ + ":1", "",
              "no service defined: expected [[" + where + "service]] entries or [" + where +
                  "service] with [[" + where + "routes]]");
    return {};
  }
  auto s = read_service(service != t.end() ? &service->second : nullptr, &root, false);
  if (!s) return {};
  return {std::move(*s)};
}

std::optional<ServiceSpec> Loader::read_service(const TValue* entry, const TValue* root, bool name_required) {
  ServiceSpec s;
  s.config_file = file_;
  s.location = entry ? loc(*entry) : file_ + ":1";
  size_t before = errs_.size();
  if (entry) {
    for (const auto& [k, v] : entry->as_table()) {
      s.key_locations[k] = loc(v);
      read_service_key(s, k, v);
    }
  }
  if (root) {  // single-service form: routes and modules may sit at the top level
    for (const char* k : {"routes", "modules"}) {
      auto it = root->as_table().find(k);
      if (it == root->as_table().end()) continue;
      if (entry && entry->as_table().count(k)) {
        errs_.add(loc(it->second), k, "given both here and in [service]; keep one");
        continue;
      }
      s.key_locations[k] = loc(it->second);
      read_service_key(s, k, it->second);
    }
  }
  if (name_required && s.name.empty() && !s.key_locations.count("name"))
    errs_.add(s.location, "name", "missing (every [[service]] entry needs a name)");
  if (errs_.size() != before) return std::nullopt;
  return s;
}

bool Loader::read_service_key(ServiceSpec& s, const std::string& k, const TValue& v) {
  const auto& future = future_service_keys();
  if (std::find(future.begin(), future.end(), k) != future.end()) {
    errs_.add(loc(v), k, "not supported yet");
    return false;
  }
  auto int_field = [&](auto& field) {
    auto i = integer(v, k);
    if (!i) return false;
    if (*i < INT_MIN || *i > INT_MAX) {
      errs_.add(loc(v), k, "value " + std::to_string(*i) + " is out of range");
      return false;
    }
    field = static_cast<std::remove_reference_t<decltype(field)>>(*i);
    return true;
  };
  auto str_field = [&](std::string& field) {
    auto x = str(v, k);
    if (x) field = std::move(*x);
    return x.has_value();
  };
  if (k == "name") {
    if (!str_field(s.name)) return false;
    if (s.name.empty()) errs_.add(loc(v), k, "must not be empty");
    return !s.name.empty();
  }
  if (k == "title") return str_field(s.title);
  if (k == "prefix") return str_field(s.prefix);
  if (k == "host") return str_field(s.host);
  if (k == "port") return int_field(s.port);
  if (k == "max_body_mb") return int_field(s.max_body_mb);
  if (k == "max_upload_mb") return int_field(s.max_upload_mb);
  if (k == "job_workers") return int_field(s.job_workers);
  if (k == "job_queue_max") return int_field(s.job_queue_max);
  if (k == "job_ttl_s") return int_field(s.job_ttl_s);
  if (k == "job_shutdown_s") return int_field(s.job_shutdown_s);
  if (k == "job_lease_s") return int_field(s.job_lease_s);
  if (k == "read_timeout_s") return int_field(s.read_timeout_s);
  if (k == "rate_limit") return str_field(s.rate_limit);
  if (k == "docs_public" || k == "rate_limit_shared") {
    auto b = boolean(v, k);
    if (b) (k == "docs_public" ? s.docs_public : s.rate_limit_shared) = *b;
    return b.has_value();
  }
  if (k == "auth_tokens" || k == "cors_origins" || k == "forwarded_allow_ips") {
    auto l = str_list(v, k);
    if (l)
      (k == "auth_tokens"    ? s.auth_tokens
       : k == "cors_origins" ? s.cors_origins
                             : s.forwarded_allow_ips) = std::move(*l);
    return l.has_value();
  }
  if (k == "durability") return str_field(s.durability);
  if (k == "write_timeout_ms") return int_field(s.write_timeout_ms);
  if (k == "time_zone") return str_field(s.time_zone);
  if (k == "max_image_pixels") return int_field(s.max_image_pixels);
  if (k == "max_rows") return int_field(s.max_rows);
  if (k == "modules") {
    auto m = str_list(v, k);
    if (m) s.modules = std::move(*m);
    return m.has_value();
  }
  if (k == "routes") {
    size_t before = errs_.size();
    if (expect(v, toml::value_t::array, k, "an array of tables ([[routes]])")) read_routes(s, v);
    return errs_.size() == before;
  }
  std::vector<std::string> known = service_keys();
  known.insert(known.end(), future_service_keys().begin(), future_service_keys().end());
  errs_.add(loc(v), k, "unknown key" + did_you_mean(k, known));
  return false;
}

void Loader::read_routes(ServiceSpec& s, const TValue& routes) {
  for (const auto& e : routes.as_array()) {
    if (!expect(e, toml::value_t::table, "routes", "a table")) continue;
    if (auto r = read_route(e)) s.routes.push_back(std::move(*r));
  }
}

std::optional<RouteSpec> Loader::read_route(const TValue& e) {
  RouteSpec r;
  r.location = loc(e);
  const auto& t = e.as_table();
  size_t before = errs_.size();
  std::optional<RouteType> type;
  auto type_it = t.find("type");
  if (type_it == t.end()) {
    errs_.add(r.location, "type", "missing (one of " + join(route_type_names(), ", ") + ")");
  } else if (auto name = str(type_it->second, "type")) {
    type = parse_route_type(*name);
    if (!type)
      errs_.add(loc(type_it->second), "type",
                "unknown route type '" + *name + "'" + did_you_mean(*name, route_type_names()) + " (one of " +
                    join(route_type_names(), ", ") + ")");
  }
  if (type) r.type = *type;
  for (const auto& [k, v] : t) {
    if (k == "type") continue;
    r.key_locations[k] = loc(v);
    const auto& all = all_route_keys();
    if (std::find(all.begin(), all.end(), k) == all.end()) {
      errs_.add(loc(v), k, "unknown key" + did_you_mean(k, type ? route_keys(*type) : all));
    } else if (type && !route_accepts(*type, k)) {
      errs_.add(loc(v), k,
                "not accepted by " + std::string(route_type_name(*type)) +
                    " routes (accepted: " + join(route_keys(*type), ", ") + ")");
    } else {
      read_route_key(r, k, v);
    }
  }
  if (!type || errs_.size() != before) return std::nullopt;
  return r;
}

void Loader::read_route_key(RouteSpec& r, const std::string& k, const TValue& v) {
  auto str_field = [&](std::string& field) {
    if (auto x = str(v, k)) field = std::move(*x);
  };
  auto bool_field = [&](bool& field) {
    if (auto b = boolean(v, k)) field = *b;
  };
  if (k == "path") {
    str_field(r.path);
  } else if (k == "table") {
    str_field(r.table);
  } else if (k == "query") {
    str_field(r.query);
  } else if (k == "method") {
    str_field(r.method);
    r.method = to_lower(r.method);
  } else if (k == "background") {
    bool_field(r.background);
  } else if (k == "return_fileresponse") {
    bool_field(r.return_fileresponse);
  } else if (k == "one_row") {
    bool_field(r.one_row);
  } else if (k == "inputs") {
    r.inputs = str_list(v, k);
  } else if (k == "outputs") {
    r.outputs = str_list(v, k);
  } else if (k == "match_columns") {
    r.match_columns = str_list(v, k);
  } else if (k == "uploadfile_inputs") {
    if (auto l = str_list(v, k)) r.uploadfile_inputs = std::move(*l);
  } else if (k == "export_sql") {
    read_export_sql(r, v);
  }
}

void Loader::read_export_sql(RouteSpec& r, const TValue& v) {
  if (!expect(v, toml::value_t::table, "export_sql", "a table ([routes.export_sql])")) return;
  ExportSqlSpec x;
  for (const auto& [k, item] : v.as_table()) {
    const std::string key = "export_sql." + k;
    r.key_locations[key] = loc(item);
    std::string* field = k == "db_connect"  ? &x.db_connect
                         : k == "table"     ? &x.table
                         : k == "db_schema" ? &x.db_schema
                         : k == "method"    ? &x.method
                                            : nullptr;
    if (!field) {
      errs_.add(loc(item), key, "unknown key" + did_you_mean(k, export_sql_keys()));
      continue;
    }
    if (auto s = str(item, key)) *field = std::move(*s);
  }
  r.export_sql = std::move(x);
}

// Pyproject services live under [tool.pixeltable] or its alias [tool.pxt].
std::optional<std::pair<const TValue*, std::string>> pyproject_root(const TValue& doc, Errors& errs,
                                                                    const std::string& file) {
  const TValue* found = nullptr;
  std::string where;
  if (!doc.contains("tool") || !doc.at("tool").is_table()) return std::nullopt;
  const auto& tool = doc.at("tool");
  for (const char* name : {"pixeltable", "pxt"}) {
    if (!tool.contains(name) || !tool.at(name).is_table()) continue;
    const auto& t = tool.at(name);
    if (!t.contains("service") && !t.contains("routes")) continue;
    if (found) {
      errs.add(file + ":" + std::to_string(t.location().line()), "",
               "services are defined under both [tool.pixeltable] and [tool.pxt]; keep one");
      return std::nullopt;
    }
    found = &t;
    where = std::string("tool.") + name + ".";
  }
  if (!found) return std::nullopt;
  return std::make_pair(found, where);
}

}  // namespace

Result<std::vector<ServiceSpec>> load_services(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return make_error(Errc::not_found, "config file '" + file + "' not found");
  auto text = read_text_file(file);
  if (!text.ok())
    return make_error(Errc::io, "cannot read config file '" + file + "': " + text.error().message);
  return load_services_text(*text, file);
}

Result<std::vector<ServiceSpec>> load_services_text(const std::string& text, const std::string& file) {
  namespace fs = std::filesystem;
  PXT_CHECK(check_toml_shape(text, file));
  TValue doc;
  try {
    std::istringstream in(text);
    doc = toml::parse<toml::discard_comments, std::map, std::vector>(in, file);
  } catch (const toml::exception& e) {
    return make_error(Errc::invalid_argument, toml_syntax_error(file, e));
  } catch (const std::exception& e) {
    // toml11 reports some bad values (e.g. an integer past 64 bits) with other exceptions.
    return make_error(Errc::invalid_argument, file + ": TOML error: " + e.what());
  }
  const std::string base = fs::path(file).filename().string();
  Loader loader(file);
  std::vector<ServiceSpec> services;
  if (base == "pyproject.toml") {
    auto root = pyproject_root(doc, loader.errors(), file);
    if (root)
      services = loader.read_root(*root->first, Flavor::Pyproject, root->second);
    else if (loader.errors().empty())
      return make_error(Errc::not_found,
                        file + ": no [[tool.pixeltable.service]] (or [[tool.pxt.service]]) entry");
  } else {
    services =
        loader.read_root(doc, base == "config.toml" ? Flavor::PixeltableConfig : Flavor::Standalone, "");
  }
  Errors& errs = loader.errors();
  std::map<std::string, std::string> names;  // name -> location of its first definition
  for (const auto& s : services) {
    if (s.name.empty()) continue;
    auto [it, fresh] = names.emplace(s.name, location_of(s, "name"));
    if (!fresh)
      errs.add(location_of(s, "name"), "name",
               "duplicate service name '" + s.name + "' (first defined at " + it->second + ")");
  }
  if (!errs.empty()) {
    errs.sort_by_location();
    return errs.to_error();
  }
  return services;
}

}  // namespace pxt
