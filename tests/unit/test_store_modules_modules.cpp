#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/modules/modules.hpp"
#include "util/strings.hpp"

using namespace pxt;
namespace fs = std::filesystem;

namespace {
// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() /
           ("pxt_modules_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = path / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path path;
  static inline int counter = 0;
};

const char* kFullModule = R"TOML(# myapp/schema.toml
dirs = ["myapp"]

[[tables]]
path = "myapp.users"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "photo", type = "Image" },
  { name = "greeting", type = "String", computed = "'Hello, ' || name" },
]

[[tables]]
path = "myapp/logs"
if_exists = "replace"
columns = [ { name = "msg", type = "String" }, { name = "n", computed = "length(msg)" } ]

[[queries]]
name = "lookup_by_id"
table = "myapp.users"
match = ["id"]

[[queries]]
name = "search_users"
params = [ { name = "q", type = "String" }, { name = "limit", type = "Int", default = 10 } ]
sql = """SELECT id, name, greeting FROM "myapp.users" WHERE name LIKE '%' || :q || '%' ORDER BY id LIMIT :limit"""
)TOML";

// The error text of parsing `text`, or "" when it parses.
std::string parse_error(const std::string& text) {
  TempDir dir;
  auto file = dir.write("m.toml", text);
  auto r = parse_module(file, "m");
  if (r) return "";
  std::string msg = r.error().message;
  // Errors name the file; strip its folder so tests read "m.toml:LINE: ...".
  for (size_t pos; (pos = msg.find(file)) != std::string::npos;) msg.replace(pos, file.size(), "m.toml");
  return msg;
}
}  // namespace

TEST_CASE("a full module parses") {
  TempDir dir;
  auto file = dir.write("myapp/schema.toml", kFullModule);
  auto r = parse_module(file, "myapp.schema");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  const ModuleDef& m = *r;
  CHECK(m.name == "myapp.schema");
  CHECK(m.dirs == std::vector<std::string>{"myapp"});
  REQUIRE(m.tables.size() == 2);
  const TableDef& users = m.tables[0].def;
  CHECK(users.path == "myapp.users");
  CHECK(users.primary_key == std::vector<std::string>{"id"});
  REQUIRE(users.columns.size() == 4);
  CHECK(users.columns[0].required);
  CHECK(users.columns[2].type == ColumnType::Image);
  CHECK(users.columns[3].computed == "'Hello, ' || name");
  CHECK_FALSE(users.columns[3].infer_type);
  CHECK(m.tables[0].if_exists == IfExists::error);
  CHECK(m.tables[0].location == file + ":4");
  CHECK(m.tables[1].def.path == "myapp.logs");
  CHECK(m.tables[1].if_exists == IfExists::replace);
  CHECK(m.tables[1].def.columns[1].infer_type);

  REQUIRE(m.queries.size() == 2);
  const QueryDef& lookup = m.queries[0];
  CHECK(lookup.kind == QueryDef::Kind::Retrieval);
  CHECK(lookup.qualified_name() == "myapp.schema.lookup_by_id");
  CHECK(lookup.table == "myapp.users");
  CHECK(lookup.limit == 10);
  REQUIRE(lookup.params.size() == 1);  // typed from the table declared in the module
  CHECK(lookup.params[0].name == "id");
  CHECK(lookup.params[0].type == ColumnType::Int);
  const QueryDef& search = m.queries[1];
  CHECK(search.kind == QueryDef::Kind::Sql);
  REQUIRE(search.params.size() == 2);
  CHECK_FALSE(search.params[0].default_value.has_value());
  REQUIRE(search.params[1].default_value.has_value());
  CHECK(std::get<int64_t>(*search.params[1].default_value) == 10);
  CHECK(search.location == file + ":24");
}

TEST_CASE("module errors carry file:line, all at once, sorted") {
  std::string err = parse_error(R"TOML(dirs = ["a"]
[[tables]]
path = "a.t"
colums = []
primary_key = ["idd"]
columns = [
  { name = "id", type = "Imt" },
  { name = "x", typ = "String" },
  { name = "id", type = "Int" },
]
)TOML");
  const std::vector<std::string> expected = {
      "m.toml:4: unknown key 'colums' in [[tables]], did you mean 'columns'?",
      "m.toml:5: table 'a.t': primary key column 'idd' is not a column, did you mean 'id'?",
      "m.toml:7: table 'a.t': column 'id': unknown column type 'Imt', did you mean 'Int'?",
      "m.toml:8: unknown key 'typ' in a column of table 'a.t', did you mean 'type'?",
      "m.toml:8: table 'a.t': column 'x': missing key 'type' (one of String, Int, Float,",
  };
  std::vector<std::string> lines;
  for (size_t start = 0, nl; start <= err.size(); start = nl + 1) {
    nl = err.find('\n', start);
    if (nl == std::string::npos) nl = err.size();
    lines.push_back(err.substr(start, nl - start));
  }
  REQUIRE_MESSAGE(lines.size() == expected.size(), err);
  for (size_t i = 0; i < lines.size(); ++i) CHECK(lines[i].rfind(expected[i], 0) == 0);
}

TEST_CASE("every module mistake is refused") {
  struct Case {
    const char* toml;
    const char* expected;  // a substring of the error
  };
  const Case cases[] = {
      {"dirz = [\"a\"]",
       "m.toml:1: unknown key 'dirz' in module (expected dirs, [[tables]], [[queries]], [[indexes]]), did "
       "you mean "
       "'dirs'?"},
      {"dirs = \"a\"", "m.toml:1: 'dirs' must be an array of strings"},
      {"dirs = [\"a b\"]", "m.toml:1: dirs: "},
      {"dirs = [\"a\", \"a\"]", "dirs: 'a' is listed twice"},
      {"tables = 3", "'tables' must be an array of tables ([[tables]])"},
      {"[[tables]]\ncolumns = [{name = \"a\", type = \"Int\"}]", "m.toml:1: [[tables]]: missing key 'path'"},
      {"[[tables]]\npath = \"t\"", "m.toml:1: table 't': missing key 'columns'"},
      {"[[tables]]\npath = \"t\"\ncolumns = []", "m.toml:3: table 't': 'columns' must be a non-empty array"},
      {"[[tables]]\npath = 5\ncolumns = [{name = \"a\", type = \"Int\"}]",
       "m.toml:2: [[tables]]: 'path' must be a string, got an integer"},
      {"[[tables]]\npath = \"t\"\nif_exists = \"replac\"\ncolumns = [{name = \"a\", type = \"Int\"}]",
       "m.toml:3: table 't': if_exists must be \"error\" or \"replace\", got \"replac\", did you mean "
       "'replace'?"},
      {"[[tables]]\npath = \"t\"\ncolumns = [{name = \"a\", type = \"Int\"}]\n[[tables]]\npath = "
       "\"t\"\ncolumns = [{name = \"a\", type = \"Int\"}]",
       "m.toml:4: table 't' is declared twice (first at "},
      {"[[tables]]\npath = \"t\"\ncolumns = [{name = \"a b\", type = \"Int\"}]", "invalid column name 'a b'"},
      {"[[tables]]\npath = \"t\"\ncolumns = [{name = \"a\", type = \"Int\", required = \"yes\"}]",
       "column 'a': 'required' must be true or false, got a string"},
      {"[[tables]]\npath = \"t\"\ncolumns = [{name = \"a\", computed = \"1\", required = true}]",
       "a computed column cannot be required"},
      {"[[tables]]\npath = \"t\"\ncolumns = [\"a\"]", "each column must be a table"},
      {"[[tables]]\npath = \"t\"\ncolumns = [{name = \"a\", type = \"Int\"}, {name = \"a\", type = \"Int\"}]",
       "column 'a' is declared twice"},
      {"[[queries]]\nname = \"q\"",
       "m.toml:1: query 'q': give either 'sql' (an SQL query) or 'table' with 'match' (a retrieval query) or "
       "with 'similar' (a similarity query)"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT 1\"\ntable = \"t\"", "give either 'sql'"},
      {"[[queries]]\nsql = \"SELECT 1\"", "m.toml:1: [[queries]]: missing key 'name'"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT 1\"\nmatch = [\"id\"]",
       "m.toml:4: query 'q': 'match' is only for retrieval"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT :x\"",
       "m.toml:3: query 'q': ':x' is not a declared parameter"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT :lmit\"\nparams = [{name = \"limit\", type = \"Int\"}]",
       "':lmit' is not a declared parameter, did you mean 'limit'?"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT :a\"\nparams = [{name = \"a\", type = \"Int\", default = "
       "\"ten\"}]",
       "m.toml:4: query 'q': parameter 'a': default must be Int value, got a string"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT :a\"\nparams = [{name = \"a\"}]",
       "parameter 'a': missing key 'type'"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT :a\"\nparams = [{name = \"a\", type = \"Int\", dflt = 1}]",
       "unknown key 'dflt' in a parameter of query 'q'"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT :a\"\nparams = [{name = \"a\", type = \"Int\"}, {name = "
       "\"a\", type = \"Int\"}]",
       "parameter 'a' is declared twice"},
      {"[[queries]]\nname = \"q\"\ntable = \"t\"", "query 'q': 'match' must list the columns to match"},
      {"[[queries]]\nname = \"q\"\ntable = \"t\"\nmatch = []", "'match' must list the columns"},
      {"[[queries]]\nname = \"q\"\ntable = \"t\"\nmatch = [\"id\"]\nlimit = 0",
       "'limit' must be a positive integer"},
      {"[[queries]]\nname = \"q\"\ntable = \"t\"\nmatch = [\"id\"]\nparams = []",
       "'params' is only for SQL queries"},
      {"[[tables]]\npath = \"t\"\ncolumns = [{name = \"id\", type = \"Int\"}]\n[[queries]]\nname = "
       "\"q\"\ntable = \"t\"\nmatch = [\"idd\"]",
       "m.toml:7: query 'q': unknown column 'idd' in table 't', did you mean 'id'?"},
      {"[[queries]]\nname = \"q\"\nsql = \"SELECT 1\"\n[[queries]]\nname = \"q\"\nsql = \"SELECT 2\"",
       "query 'q' is declared twice"},
      {"dirs = [\"a\"]\nfoo bar",
       "m.toml:2: TOML syntax error: missing key-value separator `=`\n  2 | foo bar\n    |    ^"},
      {"dirs = [\"a\"]\ndirs = [\"b\"]", "m.toml:2: "},
  };
  for (const auto& c : cases) {
    CAPTURE(c.toml);
    std::string err = parse_error(c.toml);
    CHECK_MESSAGE(err.find(c.expected) != std::string::npos, err);
  }
}

TEST_CASE("SQL parameter check ignores quotes and casts") {
  CHECK(parse_error("[[queries]]\nname = \"q\"\nsql = \"SELECT ':x', \\\"a:b\\\", 1::int, :p\"\n"
                    "params = [{name = \"p\", type = \"String\"}]") == "");
}

TEST_CASE("defaults of every kind") {
  TempDir dir;
  auto file = dir.write("m.toml", R"TOML([[queries]]
name = "q"
sql = "SELECT :f, :b, :d, :s"
params = [
  { name = "f", type = "Float", default = 1 },
  { name = "b", type = "Bool", default = true },
  { name = "d", type = "Date", default = 2024-01-02 },
  { name = "s", type = "String", default = "x" },
]
)TOML");
  auto r = parse_module(file, "");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  const auto& p = r->queries[0].params;
  CHECK(std::get<double>(*p[0].default_value) == 1.0);
  CHECK(std::get<bool>(*p[1].default_value));
  CHECK(std::get<std::string>(*p[2].default_value) == "2024-01-02");
  CHECK(r->queries[0].qualified_name() == "q");
}

TEST_CASE("a missing module file") {
  auto r = parse_module("/nonexistent/x.toml", "");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK(r.error().message == "module file '/nonexistent/x.toml' not found");
}

TEST_CASE("module search path and lookup") {
  TempDir a, b;
  b.write("myapp/schema.toml", "dirs = []\n");
  a.write("other.toml", "dirs = []\n");
  ::setenv("PXT_PATH", (b.path.string() + "::/nowhere").c_str(), 1);
  auto search = module_search_path({a.path.string()});
  ::unsetenv("PXT_PATH");
  CHECK(search == std::vector<std::string>{a.path.string(), ".", b.path.string(), "/nowhere"});

  auto found = find_module_file("myapp.schema", search);
  REQUIRE(found);
  CHECK(*found == (b.path / "myapp/schema.toml").string());
  CHECK(*find_module_file("other", search) == (a.path / "other.toml").string());

  auto missing = find_module_file("myapp.nothere", search);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  CHECK(missing.error().message.find("looked for myapp/nothere.toml in ") != std::string::npos);
  auto bad = find_module_file("my-app", search);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid_argument);
}

namespace {
std::unique_ptr<Store> open_store(const TempDir& dir) {
  StoreOptions o;
  o.home = (dir.path / "home").string();
  auto s = Store::open(o);
  REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
  return std::move(s).value();
}

ModuleDef parse_text(const TempDir& dir, const std::string& rel, const std::string& text) {
  auto r = parse_module(dir.write(rel, text), "m");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return std::move(r).value();
}

const char* kV1 = R"TOML(dirs = ["app.sub"]
[[tables]]
path = "app.sub.items"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "old", type = "Float" },
  { name = "shout", computed = "upper(name)" },
]
[[queries]]
name = "by_id"
table = "app.sub.items"
match = ["id"]
[[queries]]
name = "search"
params = [ { name = "q", type = "String" } ]
sql = """SELECT id, shout FROM "app.sub.items" WHERE name = :q"""
)TOML";

// kV1 with: name String -> Int, `old` dropped, `extra` added, shout's expression changed,
// primary key (id) -> (id, name).
const char* kV2 = R"TOML(dirs = ["app.sub"]
[[tables]]
path = "app.sub.items"
primary_key = ["id", "name"]
IF_EXISTS
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "Int" },
  { name = "shout", computed = "lower(name)" },
  { name = "extra", type = "Bool" },
]
)TOML";

std::string v2(const char* if_exists) {
  std::string s = kV2;
  s.replace(s.find("IF_EXISTS"), 9, if_exists);
  return s;
}
}  // namespace

TEST_CASE("apply and diff a module against a store") {
  TempDir dir;
  auto store = open_store(dir);
  ModuleDef m1 = parse_text(dir, "v1.toml", kV1);

  auto before = diff_module(*store, m1);
  REQUIRE_MESSAGE(before, (before ? "" : before.error().message));
  CHECK(*before ==
        std::vector<std::string>{"+ dir app", "+ dir app.sub", "+ table app.sub.items (4 columns)"});

  auto applied = apply_module(*store, m1);
  REQUIRE_MESSAGE(applied, (applied ? "" : applied.error().message));
  CHECK(*applied == std::vector<std::string>{"created dir app", "created dir app.sub",
                                             "created table app.sub.items (4 columns)"});
  auto t = store->get_table("app.sub.items");
  REQUIRE(t);
  CHECK(t->find("shout")->type == ColumnType::String);  // inferred

  SUBCASE("applying again is a no-op") {
    CHECK(diff_module(*store, m1)->empty());
    auto again = apply_module(*store, m1);
    REQUIRE(again);
    CHECK(again->empty());
    CHECK(store->get_table("app.sub.items")->version == t->version);
  }

  SUBCASE("a differing table is refused with the diff, and nothing changes") {
    ModuleDef m2 = parse_text(dir, "v2.toml", v2(""));
    const std::vector<std::string> changes = {
        "~ table app.sub.items: column 'name' type String -> Int",
        "~ table app.sub.items: column 'name' required false -> true",  // it joins the primary key
        "~ table app.sub.items: column 'shout' computed 'upper(name)' -> computed 'lower(name)'",
        "~ table app.sub.items: add column 'extra' (Bool)",
        "~ table app.sub.items: drop column 'old' (Float)",
        "~ table app.sub.items: primary key (id) -> (id, name)",
    };
    auto d = diff_module(*store, m2);
    REQUIRE(d);
    CHECK_MESSAGE(*d == changes, join(*d, "\n"));
    auto r = apply_module(*store, m2);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::conflict);
    CHECK(r.error().message.find(m2.file + ":2: table 'app.sub.items' differs from its declaration") == 0);
    for (const auto& c : changes) CHECK(r.error().message.find("  " + c) != std::string::npos);
    auto after = store->get_table("app.sub.items");
    REQUIRE(after);
    CHECK(after->version == t->version);
    CHECK(after->column_names() == t->column_names());
  }

  SUBCASE("if_exists = replace re-creates it") {
    ModuleDef m2 = parse_text(dir, "v2.toml", v2("if_exists = \"replace\""));
    auto d = diff_module(*store, m2);
    REQUIRE(d);
    CHECK(d->back() == "~ table app.sub.items: re-created (if_exists = \"replace\"; its rows are dropped)");
    auto r = apply_module(*store, m2);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    CHECK(*r == std::vector<std::string>{"replaced table app.sub.items (4 columns)"});
    auto after = store->get_table("app.sub.items");
    REQUIRE(after);
    CHECK(after->column_names() == std::vector<std::string>{"id", "name", "shout", "extra"});
    auto again = diff_module(*store, m2);
    REQUIRE(again);
    CHECK_MESSAGE(again->empty(), join(*again, "\n"));
  }
}

TEST_CASE("apply reports store errors at the declaration") {
  TempDir dir;
  auto store = open_store(dir);
  SUBCASE("a table in a directory that does not exist") {
    ModuleDef m = parse_text(dir, "m.toml",
                             "[[tables]]\npath = \"nodir.t\"\ncolumns = [{name = \"a\", type = \"Int\"}]\n");
    auto r = apply_module(*store, m);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(m.file + ":1: ") == 0);
  }
  SUBCASE("a computed column over an unknown column") {
    ModuleDef m = parse_text(dir, "m.toml",
                             "[[tables]]\npath = \"t\"\ncolumns = [{name = \"name\", type = \"String\"},\n"
                             "  {name = \"s\", computed = \"upper(nme)\"}]\n");
    auto r = apply_module(*store, m);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(m.file + ":1: ") == 0);
    CHECK(r.error().message.find("did you mean 'name'?") != std::string::npos);
  }
  SUBCASE("a query over an unknown table") {
    ModuleDef m = parse_text(dir, "m.toml", "[[queries]]\nname = \"q\"\nsql = 'SELECT * FROM \"nope\"'\n");
    auto r = apply_module(*store, m);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(m.file + ":1: query 'q': ") == 0);
  }
  SUBCASE("a retrieval query over a table declared elsewhere") {
    REQUIRE(store->create_table(TableDef{"ext", {{"k", ColumnType::String}}}, IfExists::error));
    ModuleDef m = parse_text(dir, "m.toml", "[[queries]]\nname = \"q\"\ntable = \"ext\"\nmatch = [\"k\"]\n");
    CHECK(m.queries[0].params.empty());
    QueryDef q = m.queries[0];
    REQUIRE(resolve_retrieval_params(*store, q));
    REQUIRE(q.params.size() == 1);
    CHECK(q.params[0].type == ColumnType::String);
    CHECK(apply_module(*store, m));
    QueryDef bad = m.queries[0];
    bad.match = {"kk"};
    auto r = resolve_retrieval_params(*store, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("did you mean 'k'?") != std::string::npos);
  }
}
