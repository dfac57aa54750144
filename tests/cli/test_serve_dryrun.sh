#!/usr/bin/env bash
# `pxt serve --dry-run`: both TOML forms, pyproject discovery, $PXT_HOME/config.toml, the
# single-endpoint CLI form, overrides, text and --json output. Binds no port.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

mkdir -p proj/app proj/sub/deeper
cat >proj/app/schema.toml <<'TOML'
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

[[queries]]
name = "lookup_by_id"
table = "app.users"
match = ["id"]

[[queries]]
name = "search_users"
params = [ { name = "q", type = "String" }, { name = "limit", type = "Int", default = 10 } ]
sql = """SELECT id, name, greeting FROM "app.users" WHERE name LIKE '%' || :q || '%' ORDER BY id LIMIT :limit"""
TOML
ROUTES='
[[service.routes]]
type = "insert"
table = "app.users"
path = "/users"

[[service.routes]]
type = "update"
table = "app/users"
path = "/users/update"
inputs = ["name"]
outputs = ["id", "name", "greeting"]

[[service.routes]]
type = "delete"
table = "app.users"
path = "/users/delete"

[[service.routes]]
type = "query"
path = "/lookup"
query = "app.schema.lookup_by_id"
one_row = true
method = "get"

[[service.routes]]
type = "query"
path = "/search"
query = "app.schema:search_users"
'
cat >proj/service.toml <<TOML
[[service]]
name = "demo"
prefix = "/v1"
modules = ["app.schema"]
$ROUTES
[[service]]
name = "other"
port = 8001
TOML

# Text: the service, then each route with method, full path, kind, target, inputs, outputs.
OUT=$("$PXT" serve demo --config proj/service.toml --dry-run)
expect_eq "$OUT" "Service:  demo
  Title:  Pixeltable
  Host:   0.0.0.0
  Port:   8000
  Prefix: /v1
  Modules: app.schema
  Config: proj/service.toml
Routes (5):
  [insert] POST /v1/users  table app.users
      inputs:  id: Int (required), name: String, photo: Image
      outputs: id: Int, name: String, photo: Image, greeting: String
  [update] POST /v1/users/update  table app.users
      inputs:  id: Int (required), name: String
      outputs: id: Int, name: String, greeting: String
  [delete] POST /v1/users/delete  table app.users
      inputs:  id: Int (required)
      outputs: num_rows: Int
  [query] GET /v1/lookup  query app.schema.lookup_by_id (one row)
      inputs:  id: Int (required)
      outputs: id: Int, name: String, photo: Image, greeting: String
  [query] POST /v1/search  query app.schema:search_users
      inputs:  q: String (required), limit: Int = 10
      outputs: id: Int, name: String, greeting: String" "dry-run text"
# The modules were loaded (relative to the config file) and created the table.
"$PXT" describe app.users >/dev/null || fail "module app.schema was not applied"
pass "standalone [[service]] file, text"

# --json: every field with defaults filled in.
J=$("$PXT" serve demo --config proj/service.toml --dry-run --json)
expect_eq "$(jq -c '[.name, .title, .prefix, .host, .port, .modules, .max_body_mb, .max_upload_mb]' <<<"$J")" \
  '["demo","Pixeltable","/v1","0.0.0.0",8000,["app.schema"],1,100]' "service fields"
expect_eq "$(jq -c '[.routes[] | [.type, .http_method, .full_path]]' <<<"$J")" \
  '[["insert","POST","/v1/users"],["update","POST","/v1/users/update"],["delete","POST","/v1/users/delete"],["query","GET","/v1/lookup"],["query","POST","/v1/search"]]' "routes"
expect_eq "$(jq -c '.routes[0] | [.inputs, .outputs, .background, .return_fileresponse, .export_sql, .uploadfile_inputs]' <<<"$J")" \
  '[["id","name","photo"],["id","name","photo","greeting"],false,false,null,[]]' "insert defaults"
expect_eq "$(jq -c '.routes[1].request_fields | map([.name, .required, .nullable])' <<<"$J")" \
  '[["id",true,false],["name",false,true]]' "update fields: PK required, inputs optional"
expect_eq "$(jq -c '.routes[2].match_columns' <<<"$J")" '["id"]' "delete defaults to the PK"
expect_eq "$(jq -c '.routes[3] | [.one_row, .method, .query]' <<<"$J")" '[true,"get","app.schema.lookup_by_id"]' "query fields"
expect_eq "$(jq -c '.routes[4].request_fields[1]' <<<"$J")" \
  '{"name":"limit","type":"Int","required":false,"nullable":false,"default":10}' "query param default"
expect_eq "$(jq -c '.routes[0].response_columns[3]' <<<"$J")" '{"name":"greeting","type":"String","nullable":true}' "response columns"
pass "--dry-run --json"

# Single [service] table with top-level [[routes]], and a file with one service: NAME optional.
cat >proj/single.toml <<'TOML'
modules = ["app.schema"]

[service]
title = "Single"
port = 9001

[[routes]]
type = "delete"
table = "app.users"
path = "/del"
TOML
OUT=$("$PXT" serve --config proj/single.toml --dry-run)
expect_contains "$OUT" "Service:  (unnamed)" "unnamed single service"
expect_contains "$OUT" "  Title:  Single" "title"
expect_contains "$OUT" "  Port:   9001" "port"
expect_contains "$OUT" "  [delete] POST /del  table app.users" "top-level [[routes]]"
pass "single [service] form"

# Overrides next to a NAME; the JSON form reflects them.
J=$("$PXT" serve other --config proj/service.toml --dry-run --json --host 127.0.0.1 --port 9100 --prefix /api --title T)
expect_eq "$(jq -c '[.name, .host, .port, .prefix, .title, (.routes | length)]' <<<"$J")" '["other","127.0.0.1",9100,"/api","T",0]' "overrides"
pass "flags override the file"

# pyproject.toml found from a subfolder; modules resolve next to it.
{ echo '[project]'; echo 'name = "demo"'; echo; sed -e 's/\[\[service/[[tool.pixeltable.service/' proj/service.toml; } >proj/pyproject.toml
cat >proj/sub/deeper/pyproject.toml <<'TOML'
[project]
name = "nested-without-services"
TOML
OUT=$(cd proj/sub/deeper && "$PXT" serve demo --dry-run)
expect_contains "$OUT" "  Config: ../../pyproject.toml" "pyproject found in a parent"
expect_contains "$OUT" "Routes (5):" "pyproject routes"
J=$(cd proj/sub && "$PXT" serve demo --dry-run --json)
expect_eq "$(jq -r '.config_file' <<<"$J")" "../pyproject.toml" "from the middle folder"
# [tool.pxt] is an alias.
mkdir -p alias/app && cp proj/app/schema.toml alias/app/
sed -e 's/tool\.pixeltable/tool.pxt/' proj/pyproject.toml >alias/pyproject.toml
expect_contains "$(cd alias && "$PXT" serve other --dry-run)" "Service:  other" "[tool.pxt] alias"
pass "pyproject discovery"

# $PXT_HOME/config.toml when there is no pyproject entry (Pixeltable's own settings tolerated).
mkdir -p elsewhere "$PXT_HOME"
cat >"$PXT_HOME/config.toml" <<'TOML'
[pixeltable]
verbosity = 1

[[service]]
name = "home-svc"
port = 8123

[[service.routes]]
type = "delete"
table = "app.users"
path = "/gone"
TOML
OUT=$(cd elsewhere && "$PXT" serve --dry-run)
expect_contains "$OUT" "Service:  home-svc" "home config"
expect_contains "$OUT" "  Config: $PXT_HOME/config.toml" "home config path"
pass "\$PXT_HOME/config.toml"

# ${VAR} substitution at load time.
cat >proj/env.toml <<'TOML'
[[service]]
name = "env"
port = 8000
host = "${PXT_TEST_HOST}"
[[service.routes]]
type = "delete"
table = "${PXT_TEST_TABLE}"
path = "/d"
TOML
J=$(PXT_TEST_HOST=127.0.0.7 PXT_TEST_TABLE=app.users "$PXT" serve --config proj/env.toml --dry-run --json)
expect_eq "$(jq -c '[.host, .routes[0].table]' <<<"$J")" '["127.0.0.7","app.users"]' "env substitution"
pass "\${VAR}"

# The single-endpoint form produces the same route as the TOML entry.
route_of() { jq -c '.routes[0] | del(.location)'; }
J_TOML=$("$PXT" serve demo --config proj/service.toml --dry-run --json | jq -c '.routes[1] | del(.location)')
J_CLI=$(cd proj && "$PXT" serve update --table app/users --path /users/update --inputs name --outputs id name greeting \
  --prefix /v1 --dry-run --json | route_of)
expect_eq "$J_CLI" "$J_TOML" "update: CLI == TOML"
J_TOML=$("$PXT" serve demo --config proj/service.toml --dry-run --json | jq -c '.routes[3] | del(.location)')
J_CLI=$(cd proj && "$PXT" serve query --query app.schema.lookup_by_id --path /lookup --one-row --method get \
  --prefix /v1 --dry-run --json | route_of)
expect_eq "$J_CLI" "$J_TOML" "query: CLI == TOML"
J=$(cd proj && "$PXT" serve insert --table app.users --path /gen --inputs id name --outputs id greeting --port 9000 \
  --dry-run --json)
expect_eq "$(jq -c '[.name, .port, .config_file, .routes[0].inputs, .routes[0].outputs, .routes[0].location]' <<<"$J")" \
  '["pxt-serve",9000,null,["id","name"],["id","greeting"],"command line"]' "insert from flags"
J=$("$PXT" serve delete --table app.users --path /d --match-columns name --dry-run --json)
expect_eq "$(jq -c '.routes[0].request_fields | map(.name)' <<<"$J")" '["name"]' "delete --match-columns"
OUT=$("$PXT" serve compute --table app.users --path /preview --inputs name --outputs greeting --dry-run)
expect_contains "$OUT" "  [compute] POST /preview  table app.users" "compute"
# --config with a single-endpoint form: the file's service settings, only this route.
J=$("$PXT" serve delete --config proj/single.toml --table app.users --path /only --dry-run --json)
expect_eq "$(jq -c '[.title, .port, (.routes | map(.path))]' <<<"$J")" '["Single",9001,["/only"]]' "--config with a route form"
pass "single-endpoint form"

# A dry run binds no port: it succeeds while the port is taken.
PORT=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); open(sys.argv[2], "w").close(); time.sleep(300)' \
  "$PORT" "$TMP/holding" &
HOLDER=$!
SERVER_PIDS+=("$HOLDER")
wait_until "the port holder to listen" test -e "$TMP/holding"
expect_status 1 "$PXT" serve demo --config proj/service.toml --host 127.0.0.1 --port "$PORT"
expect_contains "$ERR" "port $PORT is already in use" "the port is taken (without --dry-run)"
"$PXT" serve demo --config proj/service.toml --host 127.0.0.1 --port "$PORT" --dry-run >/dev/null
kill "$HOLDER"
pass "binds no port"
