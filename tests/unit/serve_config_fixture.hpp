#pragma once
// Shared by the serve-config unit tests: a fresh home and project folder with a schema module
// (tables app.users with a primary key, app.events without; queries lookup_by_id, search_users,
// photos), and helpers that load a service file and bind its routes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "serve/config/config.hpp"

namespace pxt::test {

namespace fs = std::filesystem;

inline const char* kSchema = R"(dirs = ["app"]

[[tables]]
path = "app.users"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String", required = true },
  { name = "tag", type = "String" },
  { name = "photo", type = "Image" },
  { name = "greeting", type = "String", computed = "'Hello, ' || name" },
]

[[tables]]
path = "app.events"
columns = [
  { name = "kind", type = "String" },
  { name = "score", type = "Float" },
]

[[queries]]
name = "lookup_by_id"
table = "app.users"
match = ["id"]

[[queries]]
name = "search_users"
params = [ { name = "q", type = "String" }, { name = "limit", type = "Int", default = 10 } ]
sql = """SELECT id, name, greeting FROM "app.users" WHERE name LIKE '%' || :q || '%' ORDER BY id LIMIT :limit"""

[[queries]]
name = "photos"
params = [ { name = "id", type = "Int" } ]
sql = """SELECT photo FROM "app.users" WHERE id = :id"""
)";

// A fresh home and project folder per test.
struct Fixture {
  fs::path dir;
  std::unique_ptr<Store> store;
  Fixture() {
    char tmpl[] = "/tmp/pxt-bind-test-XXXXXX";
    dir = mkdtemp(tmpl);
    write("proj/app/schema.toml", kSchema);
    StoreOptions o;
    o.home = (dir / "home").string();
    store = Store::open(o).take();
  }
  ~Fixture() {
    store.reset();
    fs::remove_all(dir);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::path p = dir / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  // Loads `routes` (TOML [[service.routes]] entries) in a service that loads app.schema.
  Result<std::vector<BoundRoute>> bind(const std::string& routes, const std::string& service_keys = "") {
    auto f = write("proj/service.toml",
                   "[[service]]\nname = \"t\"\nmodules = [\"app.schema\"]\n" + service_keys + "\n" + routes);
    auto services = load_services(f);
    if (!services) return services.error();
    return bind_routes(*store, services->at(0));
  }
  std::vector<BoundRoute> bind_ok(const std::string& routes, const std::string& service_keys = "") {
    auto r = bind(routes, service_keys);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return *r;
  }
  std::string bind_err(const std::string& routes) {
    auto r = bind(routes);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  }
};

inline std::vector<std::string> names(const std::vector<RequestField>& fields) {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.name);
  return out;
}

inline std::vector<std::string> names(const std::vector<ResultColumn>& cols) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back(c.name);
  return out;
}

using Names = std::vector<std::string>;

}  // namespace pxt::test
