// bind_routes against a real store: defaults per route type, typed request fields, query
// resolution through schema modules, registration errors, and the --dry-run descriptions.
#include "serve_config_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_CASE("insert and compute defaults: non-computed inputs, every column out") {
  Fixture fx;
  auto routes = fx.bind_ok(R"(
[[service.routes]]
type = "insert"
table = "app/users"
path = "/users"
[[service.routes]]
type = "compute"
table = "app.users"
path = "/preview"
inputs = ["id", "name"]
outputs = ["greeting"]
)",
                           "prefix = \"/v1\"");
  REQUIRE(routes.size() == 2);
  const auto& ins = routes[0];
  CHECK(ins.full_path == "/v1/users");
  CHECK(ins.http_method == "POST");
  CHECK(ins.table.path == "app.users");
  CHECK(names(ins.fields) == Names{"id", "name", "tag", "photo"});
  CHECK(*ins.spec.inputs == Names{"id", "name", "tag", "photo"});
  CHECK(ins.fields[0].required);
  CHECK_FALSE(ins.fields[0].nullable);
  CHECK(ins.fields[0].type == ColumnType::Int);
  CHECK_FALSE(ins.fields[2].required);
  CHECK(ins.fields[2].nullable);
  CHECK(names(ins.outputs) == Names{"id", "name", "tag", "photo", "greeting"});
  CHECK(ins.outputs[4].type == ColumnType::String);
  CHECK(routes[1].spec.type == RouteType::Compute);
  CHECK(names(routes[1].outputs) == Names{"greeting"});
}

TEST_CASE("update defaults: primary key required, then optional non-PK, non-computed, non-media inputs") {
  Fixture fx;
  auto routes = fx.bind_ok("[[service.routes]]\ntype = \"update\"\ntable = \"app.users\"\npath = \"/u\"\n");
  const auto& u = routes[0];
  CHECK(names(u.fields) == Names{"id", "name", "tag"});
  CHECK(*u.spec.inputs == Names{"name", "tag"});
  CHECK(u.fields[0].required);
  CHECK_FALSE(u.fields[0].nullable);
  CHECK_FALSE(u.fields[1].required);  // inputs are optional on update
  CHECK_FALSE(u.fields[1].nullable);  // ... but a required column cannot be set to null
  CHECK(u.fields[2].nullable);
  CHECK(names(u.outputs).size() == 5);
}

TEST_CASE("delete defaults to the primary key; match_columns overrides") {
  Fixture fx;
  auto routes = fx.bind_ok(R"(
[[service.routes]]
type = "delete"
table = "app.users"
path = "/d"
[[service.routes]]
type = "delete"
table = "app.events"
path = "/d-kind"
match_columns = ["kind", "score"]
)");
  CHECK(names(routes[0].fields) == Names{"id"});
  CHECK(routes[0].fields[0].required);
  CHECK(*routes[0].spec.match_columns == Names{"id"});
  CHECK(names(routes[1].fields) == Names{"kind", "score"});
  CHECK(names(routes[0].outputs) == Names{"num_rows"});
}

TEST_CASE("query routes: both reference forms, params with defaults optional, GET") {
  Fixture fx;
  auto routes = fx.bind_ok(R"(
[[service.routes]]
type = "query"
path = "/search"
query = "app.schema.search_users"
[[service.routes]]
type = "query"
path = "/search2"
query = "app.schema:search_users"
[[service.routes]]
type = "query"
path = "/lookup"
query = "app.schema.lookup_by_id"
one_row = true
method = "get"
[[service.routes]]
type = "query"
path = "/search-fixed"
query = "app.schema.search_users"
inputs = ["q"]
)");
  const auto& s = routes[0];
  CHECK(s.query.name == "search_users");
  CHECK(s.query.module == "app.schema");
  CHECK(names(s.fields) == Names{"q", "limit"});
  CHECK(s.fields[0].required);
  CHECK_FALSE(s.fields[1].required);
  REQUIRE(s.fields[1].default_value.has_value());
  CHECK(std::get<int64_t>(*s.fields[1].default_value) == 10);
  CHECK(names(s.outputs) == Names{"id", "name", "greeting"});
  CHECK(names(routes[1].fields) == names(s.fields));
  CHECK(names(routes[1].outputs) == names(s.outputs));
  const auto& l = routes[2];
  CHECK(l.http_method == "GET");
  CHECK(names(l.fields) == Names{"id"});
  CHECK(l.fields[0].type == ColumnType::Int);
  CHECK(l.outputs.size() == 5);
  CHECK(names(routes[3].fields) == Names{"q"});  // limit keeps its default
}

TEST_CASE("every registration error at once, each at its key's line") {
  Fixture fx;
  auto err = fx.bind_err(R"([[service.routes]]
type = "insert"
table = "app.usres"
path = "/a"

[[service.routes]]
type = "insert"
table = "app.users"
path = "/b"
inputs = ["id", "nme", "greeting"]
outputs = ["id", "greting"]

[[service.routes]]
type = "update"
table = "app.users"
path = "/c"
inputs = ["id", "greeting", "photo"]

[[service.routes]]
type = "update"
table = "app.events"
path = "/d"

[[service.routes]]
type = "delete"
table = "app.events"
path = "/e"

[[service.routes]]
type = "delete"
table = "app.users"
path = "/f"
match_columns = ["tagg"]

[[service.routes]]
type = "query"
path = "/g"
query = "app.schema.serch_users"

[[service.routes]]
type = "query"
path = "/h"
query = "app.nothere.q"

[[service.routes]]
type = "query"
path = "/i"
query = "app.schema.search_users"
inputs = ["limit", "qq"]
)");
  // Lines are relative to the routes text, which starts after the 4 service lines.
  auto at = [&](int line) { return "service.toml:" + std::to_string(line + 4) + ": "; };
  for (const std::string& want : {
           at(3) + "table: table 'app.usres' does not exist, did you mean 'app.users'?",
           at(10) + "inputs: unknown input column 'nme' in table 'app.users', did you mean 'name'?",
           at(10) + "inputs: 'greeting' is a computed column and cannot be used as input",
           at(11) + "outputs: unknown output column 'greting' in table 'app.users', did you mean 'greeting'?",
           at(17) + "inputs: 'id' is a primary key column and cannot be used as input",
           at(17) + "inputs: 'greeting' is a computed column and cannot be used as input",
           at(17) + "inputs: 'photo' is a media column (Image) and cannot be updated",
           at(21) + "table: table has no primary key",
           at(26) + "match_columns: table has no primary key; specify `match_columns` explicitly",
           at(33) + "match_columns: unknown match column 'tagg' in table 'app.users', did you mean 'tag'?",
           at(38) + "query: module 'app.schema' (",
           std::string(") has no query 'serch_users', did you mean 'search_users'?"),
           at(43) + "query: module 'app.nothere' could not be loaded: module 'app.nothere' not found",
           at(49) + "inputs: unknown input parameter 'qq' of query 'app.schema.search_users'",
       }) {
    INFO(want);
    CHECK(err.find(want) != std::string::npos);
  }
  CHECK(err.find(at(10) + "inputs: required column 'name' is not an input") != std::string::npos);
  CHECK(err.find(at(49) + "inputs: parameter 'q' of query") != std::string::npos);
  CHECK(err.find("15 errors in the service configuration:") == 0);
}

TEST_CASE("inputs that can never work are refused") {
  Fixture fx;
  auto err = fx.bind_err(R"([[service.routes]]
type = "insert"
table = "app.users"
path = "/a"
inputs = ["tag"]

[[service.routes]]
type = "query"
path = "/b"
query = "app.schema.search_users"
inputs = ["limit"]
)");
  CHECK(err.find(":9: inputs: required column 'id' is not an input, so every insert would fail") !=
        std::string::npos);
  CHECK(err.find(":9: inputs: required column 'name' is not an input") != std::string::npos);
  CHECK(
      err.find(":15: inputs: parameter 'q' of query 'app.schema.search_users' has no default, so it must be "
               "an input") != std::string::npos);
}

TEST_CASE("uploads and file responses are validated; unsupported features refused") {
  Fixture fx;
  auto err = fx.bind_err(R"([[service.routes]]
type = "insert"
table = "app.users"
path = "/a"
inputs = ["id", "name"]
uploadfile_inputs = ["photo", "tag"]
return_fileresponse = true
outputs = ["id", "tag"]

[[service.routes]]
type = "insert"
table = "app.users"
path = "/b"
background = true

[[service.routes]]
type = "query"
path = "/c"
query = "app.schema.photos"
return_fileresponse = true

[[service.routes]]
type = "update"
table = "app.users"
path = "/d"
[service.routes.export_sql]
db_connect = "sqlite:///no-such-dir/y.db"
table = "out"
)");
  auto at = [&](int line) { return "service.toml:" + std::to_string(line + 4) + ": "; };
  for (const std::string& want : {
           at(6) + "uploadfile_inputs: 'tag' has type String; uploads must be media columns",
           at(7) + "return_fileresponse: return_fileresponse = true requires exactly one media-typed output "
                   "column; "
                   "outputs are ['id', 'tag']",
           at(27) + "export_sql.db_connect: route POST /d: cannot open SQLite database 'no-such-dir/y.db'",
       }) {
    INFO(want);
    CHECK(err.find(want) != std::string::npos);
  }
  // The query's single media output satisfies return_fileresponse.
  CHECK(err.find(at(20) + "return_fileresponse") == std::string::npos);
  CHECK(err.find("uploadfile_inputs: not supported yet") == std::string::npos);
  CHECK(err.find(at(14)) == std::string::npos);  // background routes are served
}

TEST_CASE("the command-line form is checked the same way, located at 'command line'") {
  Fixture fx;
  auto f = fx.write("proj/service.toml", "[[service]]\nname = \"t\"\nmodules = [\"app.schema\"]\n");
  ServiceSpec s = load_services(f)->at(0);
  s.prefix = "v1";
  s.port = 0;
  RouteSpec r;
  r.type = RouteType::Delete;
  r.table = "app.users";
  r.path = "del";
  r.inputs = std::vector<std::string>{"id"};
  r.location = "command line";
  s.routes.push_back(r);
  RouteSpec q;
  q.type = RouteType::Query;
  q.query = "app.schema.lookup_by_id";
  q.path = "/q";
  q.method = "get";
  q.uploadfile_inputs = {"id"};
  q.location = "command line";
  s.routes.push_back(q);
  auto res = bind_routes(*fx.store, s);
  REQUIRE_FALSE(res.ok());
  const auto& err = res.error().message;
  CHECK(err.find("prefix: must be empty or start with '/', got 'v1'") != std::string::npos);
  CHECK(err.find("port: must be between 1 and 65535, got 0") != std::string::npos);
  CHECK(err.find("command line: path: must start with '/', got 'del'") != std::string::npos);
  CHECK(err.find("command line: inputs: not accepted by delete routes") != std::string::npos);
  CHECK(err.find("command line: uploadfile_inputs: GET endpoints cannot have uploadfile_inputs") !=
        std::string::npos);
}

TEST_CASE("a module that fails to load is reported at the modules key") {
  Fixture fx;
  fx.write("proj/broken.toml",
           "[[tables]]\npath = \"x.y\"\ncolumns = [ { name = \"a\", type = \"Strng\" } ]\n");
  auto f =
      fx.write("proj/service.toml", "[[service]]\nname = \"t\"\nmodules = [\"broken\", \"missing_mod\"]\n");
  auto res = bind_routes(*fx.store, load_services(f)->at(0));
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().message.find("service.toml:3: modules: module 'broken' could not be loaded: ") !=
        std::string::npos);
  CHECK(res.error().message.find("Strng") != std::string::npos);
  CHECK(res.error().message.find("module 'missing_mod' could not be loaded") != std::string::npos);
}

TEST_CASE("describe_routes_text and describe_routes_json") {
  Fixture fx;
  auto f = fx.write("proj/service.toml", R"([[service]]
name = "demo"
prefix = "/v1"
modules = ["app.schema"]
[[service.routes]]
type = "insert"
table = "app.users"
path = "/users"
inputs = ["id", "name"]
outputs = ["id", "greeting"]
[[service.routes]]
type = "query"
path = "/search"
query = "app.schema:search_users"
method = "get"
)");
  ServiceSpec s = load_services(f)->at(0);
  auto routes = bind_routes(*fx.store, s).take();
  auto text = describe_routes_text(s, routes);
  CHECK(text.find("Service:  demo\n") != std::string::npos);
  CHECK(text.find("  Prefix: /v1\n") != std::string::npos);
  CHECK(text.find("Routes (2):\n") != std::string::npos);
  CHECK(text.find("  [insert] POST /v1/users  table app.users\n"
                  "      inputs:  id: Int (required), name: String (required)\n"
                  "      outputs: id: Int, greeting: String\n") != std::string::npos);
  CHECK(text.find("  [query] GET /v1/search  query app.schema:search_users\n"
                  "      inputs:  q: String (required), limit: Int = 10\n") != std::string::npos);

  auto json = describe_routes_json(s, routes);
  for (const std::string& want : {
           std::string("\"name\": \"demo\""),
           std::string("\"port\": 8000"),
           std::string("\"host\": \"0.0.0.0\""),
           std::string("\"max_body_mb\": 32"),
           std::string("\"full_path\": \"/v1/users\""),
           std::string("\"http_method\": \"GET\""),
           std::string("\"return_fileresponse\": false"),
           std::string("\"export_sql\": null"),
           std::string("\"default\": 10"),
       }) {
    INFO(want);
    CHECK(json.find(want) != std::string::npos);
  }
}

TEST_CASE(
    "return_fileresponse: exactly one output, media-typed; the inputs its file depends on are required") {
  Fixture fx;
  // Pixeltable's rule: a second output would be dropped silently, so it is refused.
  auto err = fx.bind_err(R"([[service.routes]]
type = "insert"
table = "app.users"
path = "/a"
outputs = ["id", "photo"]
return_fileresponse = true

[[service.routes]]
type = "insert"
table = "app.users"
path = "/b"
return_fileresponse = true
)");
  CHECK(err.find("service.toml:10: return_fileresponse: return_fileresponse = true requires exactly one "
                 "media-typed output column; outputs are ['id', 'photo']; set outputs = [\"photo\"]") !=
        std::string::npos);
  CHECK(err.find("service.toml:16: return_fileresponse: return_fileresponse = true requires exactly one "
                 "media-typed output column; outputs default to every column, ['id', 'name', 'tag', 'photo', "
                 "'greeting']; set outputs = [\"photo\"]") != std::string::npos);
  auto routes = fx.bind_ok(R"([[service.routes]]
type = "insert"
table = "app.users"
path = "/a"
inputs = ["id", "name", "tag"]
uploadfile_inputs = ["photo"]
outputs = ["photo"]
return_fileresponse = true
)");
  const auto& r = routes[0];
  REQUIRE(r.uploads.size() == 1);
  CHECK(r.uploads[0].required);  // the photo column itself is nullable
  CHECK_FALSE(r.uploads[0].nullable);
  CHECK(names(r.fields) == Names{"id", "name", "tag"});
  CHECK_FALSE(r.fields[2].required);  // tag: the file does not depend on it
}

TEST_CASE(
    "a retrieval query's parameter for a nullable column is optional, default null (Pixeltable's Optional)") {
  Fixture fx;
  fx.write("proj/app/extra.toml", R"([[queries]]
name = "by_tag"
table = "app.users"
match = ["tag", "id"]
)");
  auto routes = fx.bind_ok(R"([[service.routes]]
type = "query"
path = "/t"
query = "app.extra.by_tag"
inputs = ["id"]
)");
  const auto& q = routes[0].query;
  REQUIRE(q.params.size() == 2);
  REQUIRE(q.params[0].default_value);
  CHECK(is_null(*q.params[0].default_value));
  CHECK_FALSE(q.params[1].default_value);  // id is required
  auto both = fx.bind_ok(R"([[service.routes]]
type = "query"
path = "/t"
query = "app.extra.by_tag"
)");
  const auto& f = both[0].fields;
  REQUIRE(f.size() == 2);
  CHECK_FALSE(f[0].required);
  CHECK(f[0].nullable);
  CHECK(f[1].required);
  CHECK_FALSE(f[1].nullable);
}
