#!/usr/bin/env bash
# export_sql to SQLite end to end: relative and absolute URLs, insert/update/merge, validation at
# registration, and a 500 when the target table is dropped while serving.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

sqlite3 target.db "CREATE TABLE gen (id INTEGER, name TEXT, score REAL, active BOOLEAN, meta JSON, greeting TEXT);
  CREATE TABLE cur (id INTEGER PRIMARY KEY, name TEXT, greeting TEXT);
  CREATE TABLE nokey (id INTEGER, name TEXT);
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
  { name = "greeting", type = "String", computed = "'Hello, ' || name" },
]
TOML
cat >service.toml <<TOML
[[service]]
name = "api"
modules = ["schema"]
[[service.routes]]
type = "insert"
table = "app.users"
path = "/users"
[service.routes.export_sql]
db_connect = "sqlite:///target.db"
table = "gen"
[[service.routes]]
type = "update"
table = "app.users"
path = "/update"
inputs = ["name"]
outputs = ["id", "name", "greeting"]
[service.routes.export_sql]
db_connect = "sqlite:///$TMP/target.db"
table = "cur"
method = "update"
[[service.routes]]
type = "insert"
table = "app.users"
path = "/merge"
inputs = ["id", "name"]
outputs = ["id", "name", "greeting"]
[service.routes.export_sql]
db_connect = "sqlite+pysqlite:///$TMP/target.db"
table = "cur"
db_schema = "main"
method = "merge"
TOML

start_server --config service.toml
http POST /users '{"id": 1, "name": "old", "score": 2.5, "active": true, "meta": {"a": 1}}'
expect_eq "$STATUS" 200 "insert: $BODY"
expect_eq "$(sqlite3 target.db "SELECT id, name, score, active, meta, greeting FROM gen")" \
  '1|old|2.5|1|{"a":1}|Hello, old' "insert row"
http POST /update '{"id": 1, "name": "new"}'
expect_eq "$STATUS" 200 "update: $BODY"
http POST /merge '{"id": 2, "name": "two"}'
expect_eq "$STATUS" 200 "merge: $BODY"
expect_eq "$(sqlite3 target.db "SELECT id, name, greeting FROM cur ORDER BY id")" \
  $'1|new|Hello, new\n2|two|Hello, two' "update + merge"
http POST /update '{"id": 1, "name": "newer"}'
sqlite3 target.db "DELETE FROM cur WHERE id = 1"
http POST /update '{"id": 1, "name": "gone"}'
expect_eq "$STATUS" 500 "strict update: $BODY"
expect_eq "$BODY" '{"detail":"export_sql update affected 0 rows; expected 1"}' "Pixeltable's detail"
expect_contains "$(cat "$TMP/server.log")" "export to table 'main.cur' in sqlite:///$TMP/target.db failed: no row matches the primary key (id = 1)" "the log says why"
sqlite3 target.db "DROP TABLE gen"
http POST /users '{"id": 3, "name": "x"}'
expect_eq "$STATUS" 500 "dropped: $BODY"
expect_contains "$BODY" "no such table: gen" "dropped reason"
sqlite3 target.db "CREATE TABLE gen (id INTEGER, name TEXT, score REAL, active BOOLEAN, meta JSON, greeting TEXT)"
http POST /users '{"id": 4, "name": "y"}'
expect_eq "$STATUS" 200 "re-created: $BODY"
stop_server
pass "sqlite insert, update, merge, 500s"

dry() {  # url table [method] -> $ERR
  expect_status 1 "$PXT" serve insert --table app.users --path /x --inputs id name --outputs id name \
    --export-sql-db-connect "$1" --export-sql-table "$2" --export-sql-method "${3:-insert}" --dry-run
}
dry sqlite:///missing.db gen
expect_contains "$ERR" "export_sql.db_connect: route POST /x: cannot open SQLite database 'missing.db'" "missing file"
dry sqlite:///target.db genn
expect_contains "$ERR" "export_sql.table: route POST /x: table 'genn' in sqlite:///target.db does not exist (create it first), did you mean 'gen'?" "missing table"
dry sqlite:///target.db nokey update
expect_contains "$ERR" "table 'main.nokey' in sqlite:///target.db has no primary key; method 'update' finds rows by it" "no key"
sqlite3 target.db "CREATE TABLE typed (id TEXT, name INTEGER)"
dry sqlite:///target.db typed
expect_contains "$ERR" "column 'name' of table 'main.typed' in sqlite:///target.db has type INTEGER, but output 'name' is String and needs a text column" "types"
dry sqlite:// gen
expect_contains "$ERR" "SQLite URL 'sqlite://' must name a file" "bad url"
pass "sqlite validation"

# A media output is exported as the URL the response carries.
/usr/bin/python3 -c "from PIL import Image; Image.new('RGB', (4, 4), 'red').save('a.jpg')"
sqlite3 target.db "CREATE TABLE pics (id INTEGER, photo TEXT)"
cat >media.toml <<'TOML'
dirs = ["pix"]
[[tables]]
path = "pix.photos"
columns = [ { name = "id", type = "Int" }, { name = "photo", type = "Image" } ]
TOML
"$PXT" schema update media.toml >/dev/null
start_server insert --table pix.photos --path /pics --inputs id --uploadfile-inputs photo --outputs id photo \
  --export-sql-db-connect sqlite:///target.db --export-sql-table pics
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F id=1 -F photo=@a.jpg "http://127.0.0.1:$PORT/pics")
BODY=$(cat "$TMP/body")
expect_eq "$STATUS" 200 "upload: $BODY"
url=$(jq -r .photo <<<"$BODY")
expect_contains "$url" "/media/" "response URL"
expect_eq "$(sqlite3 target.db "SELECT id, photo FROM pics")" "1|$url" "exported URL"
stop_server
pass "media exported as URLs"
