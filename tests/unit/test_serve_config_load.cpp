// Loading service definitions from TOML: every file form, defaults, ${VAR}, and every error
// with its line.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "serve/config/config.hpp"
#include "serve/config/detail.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pxt;
using namespace pxt::test;

namespace {

std::vector<ServiceSpec> load_ok(const std::string& file) {
  auto r = load_services(file);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return *r;
}

std::string load_err(const std::string& file) {
  auto r = load_services(file);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

}  // namespace

TEST_CASE("standalone [[service]] file with every field") {
  TempDir d;
  auto f = d.write("service.toml", R"(
[[service]]
name = "my-service"
title = "My API"
prefix = "/v1"
host = "127.0.0.1"
port = 9000
modules = ["myapp.schema", "myapp.udfs"]
max_body_mb = 2
max_upload_mb = 50

[[service.routes]]
type = "insert"
table = "my_dir.my_table"
path = "/insert"
inputs = ["prompt"]
outputs = ["prompt", "result"]
background = false

[[service.routes]]
type = "update"
table = "my_dir/my_table"
path = "/update"

[[service.routes]]
type = "delete"
table = "my_dir.my_table"
path = "/delete-by-tag"
match_columns = ["tag"]

[[service.routes]]
type = "query"
path = "/lookup"
query = "myapp.queries:lookup_by_id"
one_row = true
method = "GET"

[[service.routes]]
type = "compute"
table = "my_dir.my_table"
path = "/preview"
)");
  auto services = load_ok(f);
  REQUIRE(services.size() == 1);
  const auto& s = services[0];
  CHECK(s.name == "my-service");
  CHECK(s.title == "My API");
  CHECK(s.prefix == "/v1");
  CHECK(s.host == "127.0.0.1");
  CHECK(s.port == 9000);
  CHECK(s.modules == std::vector<std::string>{"myapp.schema", "myapp.udfs"});
  CHECK(s.max_body_mb == 2);
  CHECK(s.max_upload_mb == 50);
  CHECK(s.config_file == f);
  CHECK(s.location == f + ":2");
  REQUIRE(s.routes.size() == 5);
  const auto& ins = s.routes[0];
  CHECK(ins.type == RouteType::Insert);
  CHECK(ins.table == "my_dir.my_table");
  CHECK(ins.path == "/insert");
  CHECK(*ins.inputs == std::vector<std::string>{"prompt"});
  CHECK(*ins.outputs == std::vector<std::string>{"prompt", "result"});
  CHECK(ins.location == f + ":12");
  CHECK(ins.key_locations.at("outputs") == f + ":17");
  CHECK(s.routes[1].type == RouteType::Update);
  CHECK_FALSE(s.routes[1].inputs.has_value());  // default resolved at bind time
  CHECK_FALSE(s.routes[1].outputs.has_value());
  CHECK(*s.routes[2].match_columns == std::vector<std::string>{"tag"});
  CHECK(s.routes[3].query == "myapp.queries:lookup_by_id");
  CHECK(s.routes[3].one_row);
  CHECK(s.routes[3].method == "get");  // case-insensitive, normalised
  CHECK(s.routes[4].type == RouteType::Compute);
}

TEST_CASE("defaults of a minimal service") {
  TempDir d;
  auto f = d.write("s.toml",
                   "[[service]]\nname = \"a\"\n[[service.routes]]\ntype = \"delete\"\n"
                   "table = \"t\"\npath = \"/d\"\n");
  auto s = load_ok(f)[0];
  CHECK(s.title == "Pixeltable");
  CHECK(s.prefix == "");
  CHECK(s.host == "0.0.0.0");
  CHECK(s.port == 8000);
  CHECK(s.max_body_mb == 32);
  CHECK(s.max_upload_mb == 100);
  CHECK(s.modules.empty());
  const auto& r = s.routes[0];
  CHECK_FALSE(r.background);
  CHECK_FALSE(r.match_columns.has_value());
  CHECK(r.method == "post");
}

TEST_CASE("single [service] table with top-level [[routes]] and [routes.export_sql]") {
  TempDir d;
  auto f = d.write("service.toml", R"(
modules = ["schema"]

[service]
title = "Single"
port = 8080

[[routes]]
type = "insert"
table = "my_dir.my_table"
path = "/generate"

[routes.export_sql]
db_connect = "postgresql://u@h/db"
table = "generations"
db_schema = "public"
method = "update"

[[routes]]
type = "query"
path = "/search"
query = "myapp.queries.search_docs"
)");
  auto services = load_ok(f);
  REQUIRE(services.size() == 1);
  const auto& s = services[0];
  CHECK(s.name.empty());
  CHECK(s.title == "Single");
  CHECK(s.port == 8080);
  CHECK(s.modules == std::vector<std::string>{"schema"});
  REQUIRE(s.routes.size() == 2);
  REQUIRE(s.routes[0].export_sql.has_value());
  CHECK(s.routes[0].export_sql->db_connect == "postgresql://u@h/db");
  CHECK(s.routes[0].export_sql->table == "generations");
  CHECK(s.routes[0].export_sql->db_schema == "public");
  CHECK(s.routes[0].export_sql->method == "update");
  CHECK(s.routes[0].key_locations.at("export_sql.method") == f + ":17");
}

TEST_CASE("a routes-only file is one unnamed service") {
  TempDir d;
  auto f = d.write("r.toml", "[[routes]]\ntype = \"delete\"\ntable = \"t\"\npath = \"/d\"\n");
  auto s = load_ok(f);
  REQUIRE(s.size() == 1);
  CHECK(s[0].routes.size() == 1);
  CHECK(s[0].port == 8000);
}

TEST_CASE("pyproject.toml: [tool.pixeltable] and the [tool.pxt] alias") {
  TempDir d;
  const std::string body = R"(
[project]
name = "demo"

[[tool.PFX.service]]
name = "one"
[[tool.PFX.service.routes]]
type = "delete"
table = "t"
path = "/d"

[[tool.PFX.service]]
name = "two"
port = 8001
)";
  for (std::string pfx : {"pixeltable", "pxt"}) {
    std::string text = body;
    for (size_t p; (p = text.find("PFX")) != std::string::npos;) text.replace(p, 3, pfx);
    auto f = d.write(pfx + "/pyproject.toml", text);
    auto s = load_ok(f);
    REQUIRE(s.size() == 2);
    CHECK(s[0].name == "one");
    CHECK(s[0].routes.size() == 1);
    CHECK(s[1].port == 8001);
  }
  // Other [tool.pixeltable] settings are Pixeltable's business, not errors.
  auto f = d.write("other/pyproject.toml",
                   "[tool.pixeltable]\nfile_cache_size_g = 10\n[tool.pixeltable.service]\nname = \"x\"\n"
                   "[[tool.pixeltable.routes]]\ntype = \"delete\"\ntable = \"t\"\npath = \"/d\"\n");
  CHECK(load_ok(f)[0].name == "x");
  auto none = d.write("none/pyproject.toml", "[project]\nname = \"x\"\n");
  CHECK(load_err(none).find("no [[tool.pixeltable.service]]") != std::string::npos);
  auto both = d.write("both/pyproject.toml",
                      "[[tool.pixeltable.service]]\nname = \"a\"\n[[tool.pxt.service]]\nname = \"b\"\n");
  CHECK(load_err(both).find("both [tool.pixeltable] and [tool.pxt]") != std::string::npos);
}

TEST_CASE("config.toml tolerates Pixeltable's other sections; standalone files do not") {
  TempDir d;
  const std::string text = "[pixeltable]\nverbosity = 1\n[[service]]\nname = \"a\"\n";
  CHECK(load_ok(d.write("home/config.toml", text))[0].name == "a");
  auto err = load_err(d.write("service.toml", "[[servce]]\nname = \"a\"\n"));
  CHECK(err.find("service.toml:1: servce: unknown top-level key, did you mean 'service'?") !=
        std::string::npos);
}

TEST_CASE("${VAR} is replaced from the environment in every string") {
  TempDir d;
  setenv("PXT_TEST_HOST", "127.0.0.9", 1);
  setenv("PXT_TEST_DB", "postgresql://secret@db/x", 1);
  setenv("PXT_TEST_COL", "prompt", 1);
  auto f = d.write("s.toml", R"([[service]]
name = "a"
host = "${PXT_TEST_HOST}"
[[service.routes]]
type = "insert"
table = "t"
path = "/p-${PXT_TEST_COL}"
inputs = ["${PXT_TEST_COL}"]
[service.routes.export_sql]
db_connect = "${PXT_TEST_DB}"
table = "literal $${NOT_A_VAR} and $5"
)");
  auto s = load_ok(f)[0];
  CHECK(s.host == "127.0.0.9");
  CHECK(s.routes[0].path == "/p-prompt");
  CHECK(*s.routes[0].inputs == std::vector<std::string>{"prompt"});
  CHECK(s.routes[0].export_sql->db_connect == "postgresql://secret@db/x");
  CHECK(s.routes[0].export_sql->table == "literal ${NOT_A_VAR} and $5");

  unsetenv("PXT_TEST_MISSING");
  auto bad = d.write("bad.toml",
                     "[[service]]\nname = \"a\"\nhost = \"${PXT_TEST_MISSING}\"\n"
                     "title = \"${oops\"\n");
  auto err = load_err(bad);
  CHECK(err.find("bad.toml:3: host: environment variable 'PXT_TEST_MISSING' is not set") !=
        std::string::npos);
  CHECK(err.find("bad.toml:4: title: unterminated '${'") != std::string::npos);
}

TEST_CASE("every mistake in the file's shape is reported at once with file:line: key: reason") {
  TempDir d;
  auto f = d.write("s.toml", R"([[service]]
name = "api"
portt = 8000
host = 5
modules = "x"
job_ttl_s = "60"
auth_tokens = "x"

[[service.routes]]
type = "inser"
path = "/a"

[[service.routes]]
type = "insert"
table = "t"
inptus = ["a"]
match_columns = ["id"]
background = "yes"
outputs = "a"
inputs = ["a", 3]

[[service.routes]]
path = "/x"

[[service.routes]]
type = "insert"
path = "/f"
[service.routes.export_sql]
db_conect = "x"
method = 1
)");
  auto err = load_err(f);
  const std::string p = f + ":";
  for (const std::string& want : {
           p + "3: portt: unknown key, did you mean 'port'?",
           p + "4: host: expected a string, got an integer",
           p + "5: modules: expected a list of strings, got a string",
           p + "6: job_ttl_s: expected an integer, got a string",
           p + "7: auth_tokens: expected a list of strings, got a string",
           p + "10: type: unknown route type 'inser', did you mean 'insert'? (one of insert, update, delete, "
               "query, "
               "compute)",
           p + "16: inptus: unknown key, did you mean 'inputs'?",
           p + "17: match_columns: not accepted by insert routes (accepted: type, path, background, table, "
               "inputs, "
               "uploadfile_inputs, outputs, return_fileresponse, export_sql)",
           p + "18: background: expected a boolean (true or false), got a string",
           p + "19: outputs: expected a list of strings, got a string",
           p + "20: inputs: expected a string, got an integer",
           p + "22: type: missing (one of insert, update, delete, query, compute)",
           p + "29: export_sql.db_conect: unknown key, did you mean 'db_connect'?",
           p + "30: export_sql.method: expected a string, got an integer",
       }) {
    INFO(want);
    CHECK(err.find(want) != std::string::npos);
  }
  CHECK(err.find("14 errors in the service configuration:\n  " + p + "3: portt:") == 0);
  // Sorted by line: the line-3 error comes before the line-30 one.
  CHECK(err.find(p + "3:") < err.find(p + "30:"));
}

TEST_CASE("values are not judged at load time (bind_routes checks them with the catalog)") {
  TempDir d;
  auto f = d.write("s.toml",
                   "[[service]]\nname = \"a\"\nport = 0\nprefix = \"v1\"\n[[service.routes]]\n"
                   "type = \"delete\"\ntable = \"t\"\npath = \"no-slash\"\nmatch_columns = []\n");
  auto s = load_ok(f)[0];
  CHECK(s.port == 0);
  CHECK(s.prefix == "v1");
  CHECK(s.routes[0].path == "no-slash");
  CHECK(s.routes[0].match_columns->empty());
  CHECK(s.key_locations.at("port") == f + ":3");
  CHECK(s.routes[0].key_locations.at("match_columns") == f + ":9");
}

TEST_CASE("service names: required in [[service]], unique, not empty") {
  TempDir d;
  auto err = load_err(d.write("s.toml",
                              "[[service]]\nport = 1\n[[service]]\nname = \"a\"\n[[service]]\n"
                              "name = \"a\"\n[[service]]\nname = \"\"\n"));
  CHECK(err.find("s.toml:1: name: missing") != std::string::npos);
  CHECK(err.find("s.toml:6: name: duplicate service name 'a' (first defined at ") != std::string::npos);
  CHECK(err.find("s.toml:8: name: must not be empty") != std::string::npos);
}

TEST_CASE("file-level problems") {
  TempDir d;
  CHECK(load_services((d.path / "missing.toml").string()).error().code == Errc::not_found);
  auto err = load_err(d.write("syntax.toml", "[[service]]\nname = \"a\"\nport = \n"));
  CHECK(err.find("syntax.toml:3: TOML syntax error: missing value") != std::string::npos);
  err = load_err(d.write("empty.toml", "# nothing\n"));
  CHECK(err.find("no service defined") != std::string::npos);
  err = load_err(d.write("mixed.toml", "modules = [\"x\"]\n[[service]]\nname = \"a\"\n"));
  CHECK(err.find("mixed.toml:1: modules: cannot be combined with [[service]] entries") != std::string::npos);
  err = load_err(d.write("twice.toml", "routes = []\n[service]\nroutes = []\n"));
  CHECK(err.find("given both here and in [service]") != std::string::npos);
  err = load_err(d.write("svc.toml", "service = 3\n"));
  CHECK(err.find("svc.toml:1: service: expected a table or an array of tables, got an integer") !=
        std::string::npos);
}

TEST_CASE("select_service") {
  ServiceSpec a, b;
  a.name = "alpha";
  b.name = "beta";
  a.config_file = b.config_file = "service.toml";
  CHECK(select_service({a}, "").value().name == "alpha");
  CHECK(select_service({a, b}, "beta").value().name == "beta");
  auto many = select_service({a, b}, "");
  REQUIRE_FALSE(many.ok());
  CHECK(many.error().message.find("2 services are configured in service.toml") != std::string::npos);
  auto unknown = select_service({a, b}, "alphaa");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == Errc::not_found);
  CHECK(unknown.error().message ==
        "unknown service 'alphaa', did you mean 'alpha'? Configured in service.toml: 'alpha', 'beta'");
  CHECK_FALSE(select_service({}, "").ok());
}

TEST_CASE("every service of a file is validated, whichever one is served (Pixeltable's config load)") {
  auto services = load_services_text(R"([[service]]
name = "good"
[[service.routes]]
type = "insert"
table = "t"
path = "/a"

[[service]]
name = "123bad"
[[service.routes]]
type = "insert"
table = "t"
path = "no-slash"
)",
                                     "svc.toml")
                      .take();
  REQUIRE(services.size() == 2);
  for (const char* name : {"good", ""}) {
    INFO(name);
    auto r = select_service(services, name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("svc.toml:9: name: '123bad' is not a valid Pixeltable identifier") !=
          std::string::npos);
    CHECK(r.error().message.find("svc.toml:13: path: must start with '/', got 'no-slash'") !=
          std::string::npos);
  }
  // The served service's own mistakes are left to bind_routes (reported with the catalog's).
  services.pop_back();
  services[0].name = "9lives";
  CHECK(select_service(services, "9lives").ok());
}

TEST_CASE("find_service_config: pyproject in the current folder or a parent, else PXT_HOME") {
  TempDir d;
  d.write("proj/pyproject.toml", "[[tool.pixeltable.service]]\nname = \"a\"\n");
  d.write("proj/sub/deeper/pyproject.toml", "[project]\nname = \"unrelated\"\n");
  d.write("home/config.toml", "[[service]]\nname = \"h\"\n");
  fs::create_directories(d.path / "elsewhere");
  auto old = fs::current_path();
  fs::current_path(d.path / "proj/sub/deeper");
  auto found = find_service_config((d.path / "home").string());
  fs::current_path(d.path / "proj");
  auto here = find_service_config((d.path / "home").string());
  fs::current_path(d.path / "elsewhere");
  auto home = find_service_config((d.path / "home").string());
  auto none = find_service_config((d.path / "nohome").string());
  fs::current_path(old);
  CHECK(found.value() == "../../pyproject.toml");
  CHECK(here.value() == "pyproject.toml");
  CHECK(home.value() == (d.path / "home/config.toml").string());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == Errc::not_found);
  CHECK(none.error().message.find("no service configuration found") != std::string::npos);
}

TEST_CASE("query references and env substitution helpers") {
  using namespace pxt::config_detail;
  auto dotted = parse_query_ref("myapp.queries.search_docs");
  auto colon = parse_query_ref("myapp.queries:search_docs");
  REQUIRE(dotted);
  REQUIRE(colon);
  CHECK(dotted->module == colon->module);
  CHECK(dotted->name == colon->name);
  CHECK(dotted->module == "myapp.queries");
  CHECK_FALSE(parse_query_ref("search"));
  CHECK_FALSE(parse_query_ref("a.b:c.d"));
  CHECK_FALSE(parse_query_ref("a..b"));
  CHECK_FALSE(parse_query_ref(":b"));
  CHECK(substitute_env("no vars").value() == "no vars");
  CHECK(substitute_env("${1BAD}").error().message.find("not a valid") != std::string::npos);
}
