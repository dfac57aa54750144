#!/usr/bin/env bash
# `pxt serve` configuration errors: every mistake at once as file:line: key: reason, service
# selection, usage errors (exit 2), features not supported yet, --json errors, and that a
# rejected configuration changes nothing.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

mkdir -p app
cat >app/schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.users"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "photo", type = "Image" },
  { name = "greeting", type = "String", computed = "'Hello, ' || name" },
]

[[tables]]
path = "app.log"
columns = [ { name = "msg", type = "String" } ]

[[queries]]
name = "search_users"
params = [ { name = "q", type = "String" } ]
sql = """SELECT id, name FROM "app.users" WHERE name LIKE '%' || :q || '%'"""
TOML

# Mistakes in the file's shape: all reported, sorted by line, and nothing is created.
cat >bad.toml <<'TOML'
[[service]]
name = "api"
portt = 8000
prefix = "v1/"
job_workers = "4"
modules = ["app.schema"]

[[service.routes]]
type = "insert"
table = "app.users"
path = "insert"
inptus = ["name"]
background = "yes"

[[service.routes]]
type = "delete"
table = "app.users"
path = "/d"
match_columns = []
one_row = true
TOML
expect_status 1 "$PXT" serve api --config bad.toml --dry-run
expect_eq "$ERR" "pxt: error: 5 errors in the service configuration:
  bad.toml:3: portt: unknown key, did you mean 'port'?
  bad.toml:5: job_workers: expected an integer, got a string
  bad.toml:12: inptus: unknown key, did you mean 'inputs'?
  bad.toml:13: background: expected a boolean (true or false), got a string
  bad.toml:20: one_row: not accepted by delete routes (accepted: type, path, background, table, match_columns)" "load errors"
expect_eq "$OUT" "" "nothing printed on stdout"
expect_eq "$("$PXT" ls)" "" "a rejected config applies no module"
pass "load errors, all at once"

# Mistakes in values and against the catalog (after the modules are loaded), all at once, each
# at its key's line.
cat >cat.toml <<'TOML'
[[service]]
name = "api"
prefix = "/v1"
modules = ["app.schema"]

[[service.routes]]
type = "insert"
table = "app.usrs"
path = "/a"

[[service.routes]]
type = "insert"
table = "app.users"
path = "/b"
inputs = ["id", "nme", "greeting"]

[[service.routes]]
type = "update"
table = "app.log"
path = "/c"

[[service.routes]]
type = "update"
table = "app.users"
path = "/d"
inputs = ["id", "photo"]

[[service.routes]]
type = "delete"
table = "app.log"
path = "/e"

[[service.routes]]
type = "query"
path = "/f"
query = "app.schema.serch_users"
method = "get"

[[service.routes]]
type = "delete"
table = "app.users"
path = "/media/x"

[[service.routes]]
type = "delete"
table = "app.users"
path = "/b"

[[service.routes]]
type = "delete"
table = "app.users"
path = "nope"
match_columns = []
TOML
expect_status 1 "$PXT" serve --config cat.toml --dry-run
for want in \
  "cat.toml:8: table: table 'app.usrs' does not exist, did you mean 'app.users'?" \
  "cat.toml:15: inputs: unknown input column 'nme' in table 'app.users', did you mean 'name'?" \
  "cat.toml:15: inputs: 'greeting' is a computed column and cannot be used as input" \
  "cat.toml:19: table: table has no primary key" \
  "cat.toml:26: inputs: 'id' is a primary key column and cannot be used as input" \
  "cat.toml:26: inputs: 'photo' is a media column (Image) and cannot be updated" \
  "cat.toml:30: match_columns: table has no primary key; specify \`match_columns\` explicitly" \
  "cat.toml:36: query: module 'app.schema' (" \
  "has no query 'serch_users', did you mean 'search_users'?" \
  "cat.toml:42: path: '/v1/media/x' collides with the built-in endpoint '/v1/media'" \
  "cat.toml:47: path: route already registered: POST '/v1/b' (first at cat.toml:11)" \
  "cat.toml:52: path: must start with '/', got 'nope'" \
  "cat.toml:53: match_columns: must not be empty"; do
  expect_contains "$ERR" "$want" "catalog error"
done
pass "catalog errors with lines"

# Features of later issues are validated, then refused; never silently ignored.
cat >later.toml <<'TOML'
[[service]]
name = "later"
modules = ["app.schema"]
[[service.routes]]
type = "insert"
table = "app.users"
path = "/a"
background = true
[[service.routes]]
type = "insert"
table = "app.users"
path = "/b"
inputs = ["id"]
uploadfile_inputs = ["photo"]
outputs = ["photo"]
return_fileresponse = true
[[service.routes]]
type = "insert"
table = "app.users"
path = "/c"
[service.routes.export_sql]
db_connect = "sqlite:///missing-target.db"
table = "out"
TOML
expect_status 1 "$PXT" serve --config later.toml --dry-run
for want in "later.toml:22: export_sql.db_connect: route POST /c: cannot open SQLite database 'missing-target.db'"; do
  expect_contains "$ERR" "$want" "not supported yet"
done
expect_not_contains "$ERR" "uploadfile_inputs" "uploads are supported"
expect_not_contains "$ERR" "return_fileresponse" "file responses are supported"
expect_not_contains "$ERR" "background" "background jobs are supported"
pass "not supported yet"

# Service selection.
cat >two.toml <<'TOML'
[[service]]
name = "alpha"
[[service]]
name = "beta"
TOML
expect_status 1 "$PXT" serve alphaa --config two.toml --dry-run
expect_eq "$ERR" "pxt: error: unknown service 'alphaa', did you mean 'alpha'? Configured in two.toml: 'alpha', 'beta'" "unknown name"
expect_status 1 "$PXT" serve --config two.toml --dry-run
expect_contains "$ERR" "2 services are configured in two.toml ('alpha', 'beta'); name the one to serve" "NAME needed"
cat >dup.toml <<'TOML'
[[service]]
name = "alpha"
[[service]]
name = "alpha"
TOML
expect_status 1 "$PXT" serve alpha --config dup.toml --dry-run
expect_contains "$ERR" "dup.toml:4: name: duplicate service name 'alpha' (first defined at dup.toml:2)" "duplicate"
expect_status 1 "$PXT" serve --config missing.toml --dry-run
expect_contains "$ERR" "config file 'missing.toml' not found" "missing file"
mkdir -p empty && expect_status 1 bash -c "cd empty && '$PXT' serve --dry-run"
expect_contains "$ERR" "no service configuration found" "nothing to serve"
printf '[[service]]\nname = "a"\nport = \n' >syntax.toml
expect_status 1 "$PXT" serve --config syntax.toml --dry-run
expect_contains "$ERR" "syntax.toml:3: TOML syntax error: missing value after key-value separator '='" "syntax error"
pass "service selection and file errors"

# ${VAR} that is not set names the variable.
printf '[[service]]\nname = "a"\nhost = "${PXT_TEST_UNSET_VAR}"\n' >env.toml
expect_status 1 env -u PXT_TEST_UNSET_VAR "$PXT" serve --config env.toml --dry-run
expect_eq "$ERR" "pxt: error: env.toml:3: host: environment variable 'PXT_TEST_UNSET_VAR' is not set" "missing variable"
pass "missing \${VAR}"

# Usage errors exit 2.
expect_status 2 "$PXT" serve insert --path /x --dry-run
expect_contains "$ERR" "--table is required" "required flag"
expect_status 2 "$PXT" serve --config two.toml alpha --port 0 --dry-run
expect_contains "$ERR" "--port" "port range"
expect_status 2 "$PXT" serve query --query app.schema.search_users --path /s --method put --dry-run
expect_status 2 "$PXT" serve alpha insert --table app.users --path /x
expect_contains "$ERR" "a service name ('alpha') cannot be combined with \`pxt serve insert\`" "NAME with a route form"
expect_status 2 "$PXT" serve insert --table app.users --path /x --export-sql-table t --dry-run
expect_contains "$ERR" "require --export-sql-db-connect" "export-sql flags"
expect_status 2 "$PXT" serve insert --table app.users --path /x --export-sql-db-connect postgresql://x --dry-run
expect_contains "$ERR" "--export-sql-db-connect requires --export-sql-table" "export-sql table"
expect_status 2 "$PXT" serve delete --table app.users --path /x --inputs id --dry-run
expect_status 2 "$PXT" serve --config two.toml alpha --log-format xml --dry-run
pass "usage errors"

# CLI-form mistakes are located at "command line".
expect_status 1 "$PXT" serve update --table app.log --path nope --prefix v2 --dry-run
expect_contains "$ERR" "command line: prefix: must be empty or start with '/', got 'v2'" "prefix"
expect_contains "$ERR" "command line: path: must start with '/', got 'nope'" "path"
expect_contains "$ERR" "command line: table: table has no primary key" "no PK"
pass "command-line form errors"

# --json: errors as one JSON object on stderr.
expect_status 1 "$PXT" serve --config two.toml alphaa --dry-run --json
expect_eq "$(jq -r '.status' <<<"$ERR")" "error" "json status"
expect_contains "$(jq -r '.message' <<<"$ERR")" "unknown service 'alphaa'" "json message"
pass "--json errors"
