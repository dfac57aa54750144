// bind_routes' checks of values that need no catalog (formats, combinations, paths), reported
// together with the catalog's.
#include "serve_config_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_CASE("value mistakes are reported together with catalog mistakes") {
  Fixture fx;
  auto f = fx.write("proj/service.toml", R"([[service]]
name = "-bad"
port = 70000
prefix = "v1/"
max_body_mb = 0
modules = ["app.schema", "not a module"]

[[service.routes]]
type = "insert"
table = "app.users"
path = "no-slash"
inputs = ["nme", "nme"]

[[service.routes]]
type = "delete"
table = "app.users"
path = "/d"
match_columns = []

[[service.routes]]
type = "query"
path = "/q"
query = "nodots"
method = "put"

[[service.routes]]
type = "query"
path = "/g"
query = "app.schema.photos"
method = "get"
uploadfile_inputs = ["id"]
inputs = ["id"]

[[service.routes]]
type = "update"
table = "app.users"
path = "/u"
inputs = []
background = true
return_fileresponse = true
[service.routes.export_sql]
table = "out"
method = "upsert"

[[service.routes]]
type = "insert"
table = "app.users"
path = "/x"
)");
  auto res = bind_routes(*fx.store, load_services(f)->at(0));
  REQUIRE_FALSE(res.ok());
  const auto& err = res.error().message;
  const std::string p = "service.toml:";
  for (
      const std::string& want : {
          p + "2: name: '-bad' is not a valid Pixeltable identifier",
          p + "3: port: must be between 1 and 65535, got 70000",
          p + "4: prefix: must be empty or start with '/', got 'v1/'",
          p + "5: max_body_mb: must be at least 1, got 0",
          p + "6: modules: 'not a module' is not a module name",
          p + "11: path: must start with '/', got 'no-slash'",
          p + "12: inputs: 'nme' is listed twice",
          p + "12: inputs: unknown input column 'nme' in table 'app.users', did you mean 'name'?",  // catalog
          p + "18: match_columns: must not be empty",
          p + "23: query: expected 'module.name' or 'module:name'",
          p + "24: method: must be 'get' or 'post', got 'put'",
          p + "31: uploadfile_inputs: GET endpoints cannot have uploadfile_inputs",
          p + "31: uploadfile_inputs: 'id' is also listed in inputs",
          p + "31: uploadfile_inputs: 'id' has type Int; uploads must be media columns",  // catalog
          p + "38: inputs: must not be empty",
          p + "40: return_fileresponse: cannot be combined with background = true",
          p + "41: export_sql.db_connect: missing (required)",
          p + "41: export_sql: cannot be combined with return_fileresponse",
          p + "43: export_sql.method: must be 'insert', 'update' or 'merge', got 'upsert'",
      }) {
    INFO(want);
    CHECK(err.find(want) != std::string::npos);
  }
}

TEST_CASE("duplicate method + full path and collisions with built-in endpoints") {
  Fixture fx;
  auto err = fx.bind_err(R"([[service.routes]]
type = "insert"
table = "app.users"
path = "/c"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/c"
[[service.routes]]
type = "query"
query = "app.schema.lookup_by_id"
path = "/c"
method = "get"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/media/x"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/healthz"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/docsy"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/openapi.json"
)");
  CHECK(err.find("service.toml:12: path: route already registered: POST '/c' (first at ") !=
        std::string::npos);
  CHECK(err.find("GET '/c'") == std::string::npos);  // a GET on the same path is another route
  CHECK(err.find("service.toml:21: path: '/media/x' collides with the built-in endpoint '/media'") !=
        std::string::npos);
  CHECK(err.find("service.toml:25: path: '/healthz' collides") != std::string::npos);
  CHECK(err.find("service.toml:33: path: '/openapi.json' collides") != std::string::npos);
  CHECK(err.find("/docsy") == std::string::npos);
  CHECK(err.find("4 errors") == 0);
}

TEST_CASE("built-in endpoints: docs at the root, media and jobs under the prefix") {
  Fixture fx;
  auto err = fx.bind_err(R"([[service.routes]]
type = "delete"
table = "app.users"
path = "/docs"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/jobs/x"
)");
  CHECK(err.find("'/docs' collides with the built-in endpoint '/docs'") != std::string::npos);
  CHECK(err.find("'/jobs/x' collides with the built-in endpoint '/jobs'") != std::string::npos);
  auto routes = fx.bind_ok(R"([[service.routes]]
type = "delete"
table = "app.users"
path = "/docs"
[[service.routes]]
type = "delete"
table = "app.users"
path = "/healthz"
)",
                           "prefix = \"/v1\"");
  CHECK(routes[0].full_path == "/v1/docs");  // the docs stay at /docs
  auto prefixed = fx.bind(R"([[service.routes]]
type = "delete"
table = "app.users"
path = "/media"
)",
                          "prefix = \"/v1\"");
  REQUIRE_FALSE(prefixed.ok());
  CHECK(prefixed.error().message.find("'/v1/media' collides with the built-in endpoint '/v1/media'") !=
        std::string::npos);
}
