#pragma once
// Internals shared by the config_*.cpp files (not part of the serving interface): the error
// collector, route-type tables, and the checks that need no catalog, which both the TOML loader
// and bind_routes (for the command-line form) run.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "util/result.hpp"
#include "util/strings.hpp"

namespace pxt::config_detail {

// Collects "location: key: reason" problems so every mistake is reported at once.
class Errors {
 public:
  struct Entry {
    std::string location;
    std::string key;
    std::string reason;
  };
  void add(const std::string& location, std::string_view key, const std::string& reason);
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // Orders entries by file and line number (stable), so errors read top to bottom.
  void sort_by_location();
  // One line for a single error; otherwise a count followed by the indented lines.
  Error to_error() const;
  std::vector<std::string> lines() const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

std::optional<RouteType> parse_route_type(std::string_view name);
const std::vector<std::string>& route_type_names();
// The keys a route of this type accepts in TOML ("type", "path", "background", then its own).
const std::vector<std::string>& route_keys(RouteType t);
// Every key any route type accepts.
const std::vector<std::string>& all_route_keys();
bool route_accepts(RouteType t, std::string_view key);

// Keys of a service entry, and the keys of later issues' settings that are refused for now.
const std::vector<std::string>& service_keys();
const std::vector<std::string>& future_service_keys();
const std::vector<std::string>& export_sql_keys();

// Where to report a problem with `key`: the key's own line if known, else the entry's.
std::string location_of(const RouteSpec& r, std::string_view key);
std::string location_of(const ServiceSpec& s, std::string_view key);

// "mod.sub.name" or "mod.sub:name" -> {module, name}; nullopt when malformed.
struct QueryRef {
  std::string module;
  std::string name;
};
std::optional<QueryRef> parse_query_ref(std::string_view ref);
bool is_module_name(std::string_view s);  // dotted identifiers
bool is_service_name(std::string_view s);

// Checks that need no catalog: formats, required fields, keys that do not fit the route type,
// incompatible combinations. Reported against each key's location.
void check_service_static(const ServiceSpec& s, Errors& errs);
// auth_tokens, cors_origins, rate_limit, read_timeout_s (serve/config/security.cpp). Token values are
// never quoted in errors.
void check_security_keys(const ServiceSpec& s, Errors& errs);
void check_route_static(const RouteSpec& r, Errors& errs);
// Duplicate method + full path and collisions with built-in endpoints.
void check_route_paths(const ServiceSpec& s, Errors& errs);
// Features parsed and validated but whose implementation lands in later issues.
void refuse_unsupported(const RouteSpec& r, Errors& errs);

// export_sql: opens and validates the route's target (needs b.outputs bound) and sets
// b.exporter. Errors are added to errs against export_sql.db_connect or export_sql.table.
bool bind_export_sql(BoundRoute& b, Errors& errs);

// prefix + path, and "POST" / "GET".
std::string full_path(const ServiceSpec& s, const RouteSpec& r);
std::string http_method(const RouteSpec& r);

// ${VAR} substitution (util/strings.hpp), shared with the model provider tables.
using ::pxt::substitute_env;

}  // namespace pxt::config_detail
