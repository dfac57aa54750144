#pragma once
// Service configuration: TOML files (pyproject.toml's [[tool.pixeltable.service]], standalone
// [[service]] files, a single [service] table with [[routes]], the [tool.pxt] alias, and
// $PXT_HOME/config.toml) and validation of routes against the catalog.
#include <string>
#include <vector>

#include "serve/config/route_spec.hpp"
#include "store/models/uses.hpp"
#include "store/modules/modules.hpp"
#include "store/store.hpp"

namespace pxt {

// Reads every service from a file. Errors: "file:line: key: reason", all at once.
Result<std::vector<ServiceSpec>> load_services(const std::string& file);
// The same for TOML text already read; `file` names it in errors and decides its flavour
// (pyproject.toml, config.toml or standalone). Never throws. Thread-safe.
Result<std::vector<ServiceSpec>> load_services_text(const std::string& text, const std::string& file);
// Finds the config to use when --config is not given: pyproject.toml with a service entry in
// the current folder or a parent, else $PXT_HOME/config.toml. not_found says where it looked.
Result<std::string> find_service_config(const std::string& home);
// Picks the service by name ("" allowed when there is exactly one); unknown names list the
// configured ones with "did you mean". Every other service of the file is validated first (the
// checks that need no catalog: a service named '123bad' is "not a valid Pixeltable identifier"),
// so a broken file is refused whichever service is asked for; the picked one is checked by
// bind_routes.
Result<ServiceSpec> select_service(const std::vector<ServiceSpec>& services, const std::string& name);

// Loads the service's modules (and each query route's module), then validates every route
// against the catalog. Every error is reported at once, one "location: message" per line.
Result<std::vector<BoundRoute>> bind_routes(Store& store, const ServiceSpec& service);

// The models a bound route's table (computed columns) or query calls.
std::vector<models::ModelUse> route_model_uses(const BoundRoute& b);

// --dry-run output: a human listing, or the validated service with defaults filled in as JSON.
// Both list the models the routes call and the provider each goes to (never an API key).
std::string describe_routes_text(const ServiceSpec& service, const std::vector<BoundRoute>& routes);
std::string describe_routes_json(const ServiceSpec& service, const std::vector<BoundRoute>& routes);

}  // namespace pxt
