#!/usr/bin/env bash
# export_sql to PostgreSQL end to end: insert, update and merge through real routes; every
# validation error at registration; the 500 paths (target table dropped, server stopped);
# reconnecting after a restart; passwords never shown.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"
cd "$TMP"

pg_database export_sql
pg_sql "CREATE TABLE gen (id bigint, name text, score double precision, active boolean, meta jsonb,
          greeting text, at timestamptz DEFAULT now());
        CREATE TABLE cur (id bigint PRIMARY KEY, name text, greeting text);
        CREATE TABLE nokey (id bigint, name text);
        CREATE TABLE strict (id bigint, name text, must text NOT NULL);
        CREATE TABLE typed (id text, name integer, greeting text);
        CREATE TABLE media_t (photo integer);
        CREATE SCHEMA other; CREATE TABLE other.gen2 (id bigint, name text);
        INSERT INTO cur VALUES (1, 'old', 'Hello, old');"

cat >schema.toml <<'TOML'
dirs = ["app"]
[[tables]]
path = "app.users"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "score", type = "Float" },
  { name = "active", type = "Bool" },
  { name = "meta", type = "Json" },
  { name = "photo", type = "Image" },
  { name = "greeting", type = "String", computed = "'Hello, ' || name" },
]
TOML

# The password travels in ${PG_PASSWORD}; trust authentication ignores it, but it must never show.
export PG_PASSWORD=s3cret-pw
PG_URL_PW=${PG_URL/postgres@/postgres:\$\{PG_PASSWORD\}@}
PG_SCHEME_URL=${PG_URL_PW/postgresql:/postgresql+psycopg:}
cat >service.toml <<TOML
[[service]]
name = "api"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "app.users"
path = "/users"
inputs = ["id", "name", "score", "active", "meta"]
outputs = ["id", "name", "score", "active", "meta", "greeting"]
[service.routes.export_sql]
db_connect = "$PG_SCHEME_URL"
table = "gen"

[[service.routes]]
type = "update"
table = "app.users"
path = "/users/update"
inputs = ["name"]
outputs = ["id", "name", "greeting"]
[service.routes.export_sql]
db_connect = "$PG_URL_PW"
table = "cur"
method = "update"

[[service.routes]]
type = "insert"
table = "app.users"
path = "/users/merge"
inputs = ["id", "name"]
outputs = ["id", "name", "greeting"]
[service.routes.export_sql]
db_connect = "$PG_URL_PW"
table = "cur"
db_schema = "public"
method = "merge"

[[service.routes]]
type = "update"
table = "app.users"
path = "/users/merge-update"
inputs = ["name"]
outputs = ["id", "name", "greeting"]
[service.routes.export_sql]
db_connect = "$PG_URL_PW"
table = "cur"
method = "merge"
TOML

"$PXT" serve --config service.toml --dry-run --json >dry.json
expect_eq "$(jq -r '.routes[0].export_sql.db_connect' dry.json)" "${PG_SCHEME_URL/\$\{PG_PASSWORD\}/***}" "dry-run redacts"
expect_not_contains "$(cat dry.json)" "s3cret" "dry-run JSON"
expect_not_contains "$("$PXT" serve --config service.toml --dry-run)" "s3cret" "dry-run text"
pass "dry-run validates and redacts"

start_server --config service.toml
http POST /users '{"id": 1, "name": "old", "score": 1.5, "active": true, "meta": {"k": [1, 2]}}'
expect_eq "$STATUS" 200 "insert: $BODY"
http POST /users '{"id": 2, "name": "ann", "score": null, "active": false, "meta": null}'
expect_eq "$STATUS" 200 "insert 2: $BODY"
expect_eq "$(pg_sql "SELECT id, name, score, active, meta, greeting, at IS NOT NULL FROM gen ORDER BY id")" \
  $'1|old|1.5|t|{"k": [1, 2]}|Hello, old|t\n2|ann||f||Hello, ann|t' "insert wrote the response rows"
pass "insert"

http POST /users/update '{"id": 1, "name": "new"}'
expect_eq "$STATUS" 200 "update: $BODY"
expect_eq "$(pg_sql "SELECT id, name, greeting FROM cur ORDER BY id")" "1|new|Hello, new" "update by key"
# Row 2 exists in pxt but not in the target: strict update fails after the pxt write.
http POST /users/update '{"id": 2, "name": "bob"}'
expect_eq "$STATUS" 500 "no target row: $BODY"
expect_eq "$BODY" '{"detail":"export_sql update affected 0 rows; expected 1"}' "Pixeltable's detail"
log=$(cat "$TMP/server.log")
expect_contains "$log" "export to table 'public.cur' in postgresql://postgres:***@127.0.0.1" "the log names the target"
expect_contains "$log" "no row matches the primary key (id = 2)" "the log says why"
expect_eq "$("$PXT" rows app.users --where 'id = 2' --format csv | tail -1 | cut -d, -f2)" "bob" "pxt write kept"
pass "update (strict)"

http POST /users/merge '{"id": 3, "name": "cy"}'
expect_eq "$STATUS" 200 "merge insert: $BODY"
http POST /users/merge-update '{"id": 3, "name": "cyd"}'
expect_eq "$STATUS" 200 "merge update: $BODY"
http POST /users/merge-update '{"id": 2, "name": "bo"}'
expect_eq "$STATUS" 200 "merge of a missing target row inserts it: $BODY"
expect_eq "$(pg_sql "SELECT id, name, greeting FROM cur ORDER BY id")" \
  $'1|new|Hello, new\n2|bo|Hello, bo\n3|cyd|Hello, cyd' "merge upserts"
pass "merge"

# One pool per distinct db_connect: the three routes with the same URL share one connection
# (requests here are sequential), the psycopg-spelled one has its own.
expect_eq "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pxt-export' AND datname = '$PG_DB'")" \
  2 "connections per db_connect"
pass "pools shared per db_connect"

# The target table disappears while serving: 500 naming the target, the pxt row stays.
pg_sql "DROP TABLE gen"
http POST /users '{"id": 4, "name": "dee"}'
expect_eq "$STATUS" 500 "dropped target: $BODY"
expect_contains "$BODY" "export to table 'public.gen' in postgresql+psycopg://postgres:***@" "dropped: target"
expect_contains "$BODY" 'relation \"gen\" does not exist' "dropped: reason"
expect_eq "$("$PXT" count app.users)" 4 "pxt insert not rolled back"
pg_sql "CREATE TABLE gen (id bigint, name text, score double precision, active boolean, meta jsonb, greeting text)"
http POST /users '{"id": 5, "name": "eve"}'
expect_eq "$STATUS" 200 "target back: $BODY"
expect_not_contains "$(cat "$TMP/server.log")" "s3cret" "server log"
expect_contains "$(cat "$TMP/server.log")" "relation" "the failure is logged"
http GET /openapi.json
expect_not_contains "$BODY" "s3cret" "OpenAPI"
stop_server
pass "500 when the target table is dropped"

# A statement past statement_timeout (here set through the URL's libpq options, which win over
# pxt's 10 s default) fails the request with 500; the connection stays usable.
pg_sql "CREATE TABLE slow (id bigint, name text);
        CREATE FUNCTION nap() RETURNS trigger LANGUAGE plpgsql AS \$\$
          BEGIN IF NEW.name = 'slow' THEN PERFORM pg_sleep(2); END IF; RETURN NEW; END \$\$;
        CREATE TRIGGER nap BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION nap();"
start_server insert --table app.users --path /slow --inputs id name --outputs id name \
  --export-sql-db-connect "$PG_URL?options=-c%20statement_timeout%3D300" --export-sql-table slow
http POST /slow '{"id": 20, "name": "slow"}'
expect_eq "$STATUS" 500 "statement timeout: $BODY"
expect_contains "$BODY" "canceling statement due to statement timeout" "timeout reason"
http POST /slow '{"id": 21, "name": "quick"}'
expect_eq "$STATUS" 200 "after a timeout: $BODY"
expect_eq "$(pg_sql "SELECT string_agg(id::text, ',') FROM slow")" "21" "only the quick row"
stop_server
pass "statement timeout"

# Every validation error at registration, each naming route, target and column.
check_route() {  # want route-fragment
  local want=$1
  printf '[[service]]\nname = "v"\nmodules = ["schema"]\n[[service.routes]]\n%s\n' "$2" >v.toml
  expect_status 1 "$PXT" serve --config v.toml --dry-run
  expect_contains "$ERR" "$want" "validation"
  expect_not_contains "$ERR" "s3cret" "validation redacts"
}
route() {  # type outputs export-lines
  printf 'type = "%s"\ntable = "app.users"\npath = "/p"\noutputs = %s\n[service.routes.export_sql]\n%s' "$1" "$2" "$3"
}
U="db_connect = \"$PG_URL_PW\""
check_route "v.toml:11: export_sql.table: route POST /p: table 'gne' in postgresql://postgres:***@127.0.0.1" \
  "$(route insert '["id"]' "$U"$'\ntable = "gne"')"
check_route "does not exist (create it first), did you mean 'gen'?" "$(route insert '["id"]' "$U"$'\ntable = "gne"')"
check_route "output column 'greeting' has no column in table 'public.nokey'" \
  "$(route insert '["id", "greeting"]' "$U"$'\ntable = "nokey"')"
check_route "column 'name' of table 'public.typed' in postgresql://postgres:***@127.0.0.1:" \
  "$(route insert '["id", "name"]' "$U"$'\ntable = "typed"')"
check_route "has type integer, but output 'name' is String and needs a text column" \
  "$(route insert '["name"]' "$U"$'\ntable = "typed"')"
check_route "column 'id' of table 'public.typed' in" "$(route insert '["id"]' "$U"$'\ntable = "typed"')"
check_route "output 'id' is Int and needs an integer column, a numeric column or a floating-point column" \
  "$(route insert '["id"]' "$U"$'\ntable = "typed"')"
check_route "output 'photo' is Image (written as its URL) and needs a text column" \
  "$(route insert '["photo"]' "$U"$'\ntable = "media_t"')"
check_route "column 'must' of table 'public.strict'" "$(route insert '["id", "name"]' "$U"$'\ntable = "strict"')"
check_route "is NOT NULL without a default, but the route does not output it" \
  "$(route insert '["id", "name"]' "$U"$'\ntable = "strict"')"
check_route "table 'public.nokey' in postgresql://postgres:***@127.0.0.1:" \
  "$(route update '["id", "name"]' "$U"$'\ntable = "nokey"\nmethod = "update"')"
check_route "has no primary key; method 'update' finds rows by it" \
  "$(route update '["id", "name"]' "$U"$'\ntable = "nokey"\nmethod = "update"')"
check_route "primary key column 'id' of table 'public.cur'" \
  "$(route update '["name", "greeting"]' "$U"$'\ntable = "cur"\nmethod = "update"')"
check_route "method 'merge' on table 'public.cur' in postgresql://postgres:***@127.0.0.1" \
  "$(route insert '["id"]' "$U"$'\ntable = "cur"\nmethod = "merge"')"
check_route "needs an output column besides the primary key (id)" \
  "$(route insert '["id"]' "$U"$'\ntable = "cur"\nmethod = "merge"')"
check_route "table 'nope.gen' in postgresql://postgres:***@127.0.0.1:" \
  "$(route insert '["id"]' "$U"$'\ntable = "gen"\ndb_schema = "nope"')"
check_route "v.toml:10: export_sql.db_connect: route POST /p: unsupported database URL 'mysql://u:***@h/db': supported schemes are postgresql://, postgresql+psycopg://, postgresql+psycopg2:// and sqlite:///" \
  "$(route insert '["id"]' 'db_connect = "mysql://u:s3cret@h/db"'$'\ntable = "t"')"
check_route "export_sql.db_connect: route POST /p: cannot connect to postgresql://postgres:***@127.0.0.1:1/x" \
  "$(route insert '["id"]' 'db_connect = "postgresql://postgres:s3cret@127.0.0.1:1/x"'$'\ntable = "t"')"
check_route "v.toml:10: export_sql.db_connect: environment variable 'PXT_NO_SUCH_VAR' is not set" \
  "$(route insert '["id"]' 'db_connect = "${PXT_NO_SUCH_VAR}"'$'\ntable = "t"')"
pass "validation errors"

# The CLI form, with a schema.
expect_status 0 "$PXT" serve insert --table app.users --path /x --inputs id name --outputs id name \
  --export-sql-db-connect "${PG_URL/postgres@/postgres:s3cret@}" --export-sql-table gen2 \
  --export-sql-db-schema other --dry-run
expect_contains "$OUT" "export_sql insert to gen2 in postgresql://postgres:***@" "CLI dry-run"
expect_not_contains "$OUT" "s3cret" "CLI dry-run redacts"
pass "CLI flags"

# Restart and stop: a private cluster, so other tests sharing the cluster are not disturbed.
pg_private
"$PG_CLUSTER" psql "$PG_DIR" -c "CREATE TABLE log (id bigint, name text)"
start_server insert --table app.users --path /log --inputs id name --outputs id name \
  --export-sql-db-connect "$PG_BASE_URL" --export-sql-table log
http POST /log '{"id": 10, "name": "a"}'
expect_eq "$STATUS" 200 "before restart: $BODY"
"$PG_CLUSTER" restart "$PG_DIR"
http POST /log '{"id": 11, "name": "b"}'
expect_eq "$STATUS" 200 "reconnected after a restart: $BODY"
"$PG_CLUSTER" psql "$PG_DIR" -c "SELECT 1" >/dev/null
"$PG_CLUSTER" halt "$PG_DIR"
http POST /log '{"id": 12, "name": "c"}'
expect_eq "$STATUS" 500 "server stopped: $BODY"
expect_contains "$BODY" "export to table 'public.log' in postgresql://postgres@127.0.0.1:" "stopped: target"
"$PG_CLUSTER" restart "$PG_DIR"  # starts it again with the options it last ran with
http POST /log '{"id": 13, "name": "d"}'
expect_eq "$STATUS" 200 "back after start: $BODY"
expect_eq "$("$PG_CLUSTER" psql "$PG_DIR" -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM log")" \
  "10,11,13" "rows exported exactly once"
stop_server
pass "restart and stopped server"
