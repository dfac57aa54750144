// Which config file to read when --config is not given, and which service of it to serve.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "serve/config/config.hpp"
#include "serve/config/detail.hpp"
#include "util/strings.hpp"
#include "util/toml_doc.hpp"

namespace pxt {

namespace {

namespace fs = std::filesystem;

// True when the pyproject declares services. A file that does not parse counts when it
// mentions our tables, so that load_services reports its syntax error instead of pxt silently
// moving on to another config.
bool pyproject_has_services(const fs::path& p) {
  try {
    auto doc = parse_toml_file(p.string());
    if (!doc.contains("tool") || !doc.at("tool").is_table()) return false;
    for (const char* name : {"pixeltable", "pxt"}) {
      const auto& tool = doc.at("tool");
      if (!tool.contains(name) || !tool.at(name).is_table()) continue;
      if (tool.at(name).contains("service") || tool.at(name).contains("routes")) return true;
    }
    return false;
  } catch (const std::exception&) {
    std::ifstream in(p);
    std::stringstream text;
    text << in.rdbuf();
    return text.str().find("tool.pixeltable") != std::string::npos ||
           text.str().find("tool.pxt") != std::string::npos;
  }
}

}  // namespace

Result<std::string> find_service_config(const std::string& home) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (ec) return make_error(Errc::io, "cannot determine the current folder: " + ec.message());
  for (fs::path dir = cwd;; dir = dir.parent_path()) {
    fs::path candidate = dir / "pyproject.toml";
    if (fs::is_regular_file(candidate, ec) && pyproject_has_services(candidate)) {
      // Shown relative to where the user is ("pyproject.toml", "../pyproject.toml"): shorter errors.
      return fs::relative(candidate, cwd, ec).string();
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) break;
  }
  fs::path config = fs::path(home) / "config.toml";
  if (fs::is_regular_file(config, ec)) return config.string();
  return make_error(
      Errc::not_found,
      "no service configuration found: no pyproject.toml with a [[tool.pixeltable.service]] entry in " +
          cwd.string() + " or its parents, and no " + config.string() +
          "; pass --config FILE, or serve one endpoint with `pxt serve insert|update|delete|query "
          "...`");
}

namespace {

// Every service of a file is validated, not only the one served (Pixeltable validates its whole
// config when it loads it): the checks that need no catalog, for each service but `served`, which
// bind_routes checks together with the catalog so that all its mistakes are reported at once.
Result<void> check_other_services(const std::vector<ServiceSpec>& services, const ServiceSpec* served) {
  using namespace config_detail;
  Errors errs;
  for (const auto& s : services) {
    if (&s == served) continue;
    check_service_static(s, errs);
    for (const auto& r : s.routes) check_route_static(r, errs);
    check_route_paths(s, errs);
  }
  if (errs.empty()) return {};
  errs.sort_by_location();
  return errs.to_error();
}

}  // namespace

Result<ServiceSpec> select_service(const std::vector<ServiceSpec>& services, const std::string& name) {
  if (services.empty()) return make_error(Errc::not_found, "no services are configured");
  const ServiceSpec* served = nullptr;
  if (name.empty() && services.size() == 1) served = &services[0];
  for (const auto& s : services)
    if (!name.empty() && s.name == name) served = &s;
  PXT_CHECK(check_other_services(services, served));
  std::vector<std::string> names;
  for (const auto& s : services) names.push_back(s.name.empty() ? "(unnamed)" : s.name);
  const std::string where = services[0].config_file.empty() ? "" : " in " + services[0].config_file;
  if (name.empty()) {
    if (services.size() == 1) return services[0];
    return make_error(Errc::invalid_argument, std::to_string(services.size()) + " services are configured" +
                                                  where + " (" + quoted_list(names) +
                                                  "); name the one to serve: pxt serve NAME");
  }
  for (const auto& s : services)
    if (s.name == name) return s;
  std::string hint = did_you_mean(name, names);
  return make_error(Errc::not_found, "unknown service '" + name + "'" + (hint.empty() ? "." : hint) +
                                         " Configured" + where + ": " + quoted_list(names));
}

}  // namespace pxt
