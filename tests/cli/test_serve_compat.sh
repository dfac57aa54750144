#!/usr/bin/env bash
# What Pixeltable's own serving tests expect of a server, end to end (issues 12 and 17): float
# parameters take nan/inf as pydantic does and an Int past the double range is a field error; the
# default body limit takes a prompt with a pasted document; return_fileresponse needs exactly one
# media output; every service of a file is validated; --json errors are JSON; compute routes
# export what they computed.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

sqlite3 target.db "CREATE TABLE previews (prompt TEXT, shout TEXT);"
cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.notes"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "prompt", type = "String" },
  { name = "score", type = "Float" },
  { name = "frame", type = "Image" },
  { name = "shout", type = "String", computed = "upper(prompt)" },
]

[[queries]]
name = "above"
params = [ { name = "x", type = "Float" }, { name = "lim", type = "Int", default = 10 } ]
sql = """SELECT id FROM "app.notes" WHERE score > :x ORDER BY id LIMIT :lim"""
TOML

cat >service.toml <<'TOML'
[[service]]
name = "notes"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "app.notes"
path = "/notes"

[[service.routes]]
type = "query"
path = "/above"
query = "schema.above"
method = "get"

[[service.routes]]
type = "query"
path = "/above/post"
query = "schema.above"

[[service.routes]]
type = "compute"
table = "app.notes"
path = "/preview"
inputs = ["prompt"]
outputs = ["prompt", "shout"]
[service.routes.export_sql]
db_connect = "sqlite:///target.db"
table = "previews"
TOML

# ---- --json: the start record says "status": "started" (and "event", as before) ----
start_server notes --config service.toml --json
record=$(head -n 1 "$TMP/server.log")
expect_eq "$(jq -c '[.status, .event, .port, .host]' <<<"$record")" "[\"started\",\"started\",$PORT,\"127.0.0.1\"]" "start record"
# A port in use: Pixeltable's JSON error record on stderr, exit 1.
expect_status 1 "$PXT" --json serve notes --config service.toml --host 127.0.0.1 --port "$PORT"
in_use="port $PORT is already in use; stop what listens there or choose another with --port $((PORT + 1))"
expect_eq "$ERR" "{\"status\":\"error\",\"code\":\"EADDRINUSE\",\"port\":$PORT,\"message\":\"$in_use\"}" \
  "port in use under --json"
expect_status 1 "$PXT" serve notes --config service.toml --host 127.0.0.1 --port "$PORT"
expect_eq "$ERR" "pxt: error: $in_use" "port in use without --json"
# Other errors under --json are JSON too (configuration, usage).
expect_status 1 "$PXT" --json serve nosuch --config service.toml --dry-run
expect_eq "$(jq -r .status <<<"$ERR")" error "unknown service under --json"
expect_contains "$(jq -r .message <<<"$ERR")" "unknown service 'nosuch'" "its message"
expect_status 2 "$PXT" --json serve insert --table app.notes --path /x --export-sql-table t
expect_eq "$(jq -r .status <<<"$ERR")" error "usage error under --json"
pass "--json start record and errors"

# ---- float parameters take nan and inf (pydantic v2's default); an Int past the range is a field error ----
for row in '{"id": 1, "score": 0.5}' '{"id": 2, "score": 7}' '{"id": 3}'; do
  http POST /notes "$row"
  expect_eq "$STATUS" 200 "insert $row"
done
http GET '/above?x=-inf'
expect_eq "$STATUS $BODY" '200 {"rows":[{"id":1},{"id":2}]}' "x=-inf"
http GET '/above?x=inf'
expect_eq "$STATUS $BODY" '200 {"rows":[]}' "x=inf"
http GET '/above?x=nan'
expect_eq "$STATUS $BODY" '200 {"rows":[]}' "x=nan (no row compares with NaN)"
http GET '/above?x=Infinity'
expect_eq "$STATUS" 200 "x=Infinity"
http POST /above/post '{"x": -Infinity}'
expect_eq "$STATUS $BODY" '200 {"rows":[{"id":1},{"id":2}]}' "JSON -Infinity (Python's json reads it)"
http POST /above/post '{"x": -1e400}'
expect_eq "$STATUS $BODY" '200 {"rows":[{"id":1},{"id":2}]}' "JSON -1e400 is -inf for a Float"
http POST /above/post '{"x": 1, "lim": 1e400}'
expect_eq "$STATUS $BODY" '422 {"detail":[{"type":"finite_number","loc":["body","lim"],"msg":"Input should be a finite number","input":"inf"}]}' \
  "1e400 for an Int: pydantic's finite_number at the field"
# A Float column does not store them: the store refuses (TYPE_MISMATCH), nothing stored.
http POST /notes '{"id": 4, "score": NaN}'
expect_eq "$(jq -r .detail.error_code <<<"$BODY") $STATUS" "TYPE_MISMATCH 422" "NaN for a Float column"
expect_eq "$("$PXT" count app.notes)" 3 "nothing stored"
pass "nan/inf parameters"

# ---- the default body limit takes a prompt with a pasted document (2 MB) ----
python3 -c 'import json; print(json.dumps({"id": 10, "prompt": "lorem ipsum " * 180000}))' >doc.json
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @doc.json \
  "http://127.0.0.1:$PORT/notes")
expect_eq "$STATUS" 200 "a 2 MB prompt under the default max_body_mb"
expect_eq "$("$PXT" count app.notes --where 'id = 10')" 1 "stored"
python3 -c 'import sys; sys.stdout.write("{\"id\": 11, \"prompt\": \"" + "a" * (33 << 20) + "\"}")' >huge.json
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @huge.json \
  "http://127.0.0.1:$PORT/notes")
expect_eq "$STATUS $(cat "$TMP/body")" '413 {"detail":"request body too large: the limit is 32 MB"}' "past 32 MB"
pass "default max_body_mb is 32"

# ---- compute routes export what they computed ----
http POST /preview '{"prompt": "hello"}'
expect_eq "$STATUS $BODY" '200 {"prompt":"hello","shout":"HELLO"}' "compute"
expect_eq "$(sqlite3 target.db 'SELECT prompt, shout FROM previews')" "hello|HELLO" "exported the computed row"
expect_eq "$("$PXT" count app.notes --where "prompt = 'hello'")" 0 "compute stored nothing"
stop_server
"$PXT" serve compute --table app.notes --path /p --inputs prompt --outputs prompt shout \
  --export-sql-db-connect sqlite:///target.db --export-sql-table previews --dry-run >/dev/null \
  || fail "the single-endpoint compute form takes --export-sql-*"
pass "export_sql on compute routes"

# ---- return_fileresponse needs exactly one output, media-typed (Pixeltable refuses at registration) ----
cat >two.toml <<'TOML'
[[service]]
name = "frames"
modules = ["schema"]
[[service.routes]]
type = "insert"
table = "app.notes"
path = "/frames"
outputs = ["id", "frame"]
return_fileresponse = true
TOML
expect_status 1 "$PXT" serve frames --config two.toml --dry-run
expect_contains "$ERR" "two.toml:9: return_fileresponse: return_fileresponse = true requires exactly one media-typed output column; outputs are ['id', 'frame']; set outputs = [\"frame\"]" \
  "two outputs refused"
sed -i 's/outputs = \["id", "frame"\]/outputs = ["frame"]/' two.toml
"$PXT" serve frames --config two.toml --dry-run >/dev/null || fail "one media output accepted"
pass "return_fileresponse: exactly one media output"

# ---- every service of a file is validated, whichever is served, --dry-run too ----
cat >>two.toml <<'TOML'

[[service]]
name = "123bad"
TOML
expect_status 1 "$PXT" serve frames --config two.toml --dry-run
expect_contains "$ERR" "two.toml:12: name: '123bad' is not a valid Pixeltable identifier" "the other service is checked"
expect_status 1 "$PXT" serve frames --config two.toml --host 127.0.0.1 --port "$(free_port)"
expect_contains "$ERR" "not a valid Pixeltable identifier" "also when serving"
pass "every service validated"
