#!/usr/bin/env bash
# `pxt serve` end to end: every route kind through the real binary and curl, every default,
# every error status (422 shapes, 404, 405, 409, 413), and that a refused request changes nothing.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.users"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String", required = true },
  { name = "tag", type = "String" },
  { name = "score", type = "Float" },
  { name = "active", type = "Bool" },
  { name = "born", type = "Date" },
  { name = "seen", type = "Timestamp" },
  { name = "meta", type = "Json" },
  { name = "greeting", type = "String", computed = "'Hello, ' || name" },
]

[[queries]]
name = "lookup"
table = "app.users"
match = ["id"]

[[queries]]
name = "by_tag"
table = "app.users"
match = ["tag"]

[[queries]]
name = "search"
params = [ { name = "q", type = "String" }, { name = "limit", type = "Int", default = 2 } ]
sql = """SELECT id, name, greeting FROM "app.users" WHERE name LIKE '%' || :q || '%' ORDER BY id LIMIT :limit"""
TOML

cat >service.toml <<'TOML'
[[service]]
name = "api"
title = "Users API"
prefix = "/v1"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "app.users"
path = "/users"

[[service.routes]]
type = "insert"
table = "app.users"
path = "/users/brief"
inputs = ["id", "name"]
outputs = ["id", "greeting"]

[[service.routes]]
type = "update"
table = "app.users"
path = "/users/update"
outputs = ["id", "name", "tag", "greeting"]

[[service.routes]]
type = "delete"
table = "app.users"
path = "/users/delete"

[[service.routes]]
type = "delete"
table = "app.users"
path = "/users/delete-by-tag"
match_columns = ["tag"]

[[service.routes]]
type = "compute"
table = "app.users"
path = "/users/preview"
outputs = ["name", "greeting"]

[[service.routes]]
type = "query"
path = "/search"
query = "schema.search"

[[service.routes]]
type = "query"
path = "/lookup"
query = "schema:lookup"
one_row = true
method = "get"

[[service.routes]]
type = "query"
path = "/by-tag"
query = "schema.by_tag"
method = "get"

[[service.routes]]
type = "query"
path = "/one-by-tag"
query = "schema.by_tag"
one_row = true
TOML

count() { "$PXT" count app.users; }
start_server api --config service.toml

# ---- insert: default inputs (every non-computed column) and outputs (every column) ----
http POST /v1/users '{"id": 1, "name": "Ann", "tag": "a", "score": 2.5, "active": true, "born": "1990-05-01",
  "seen": "2024-01-02T03:04:05", "meta": {"k": [1, 2]}, "unknown_field": "ignored"}'
expect_eq "$STATUS" 200 "insert status"
# Both engines answer an instant the same way (PostgreSQL keeps it as timestamptz).
seen='"2024-01-02T03:04:05Z"'  # an instant, answered with its offset (doc/timestamps.md)
expect_eq "$BODY" '{"id":1,"name":"Ann","tag":"a","score":2.5,"active":true,"born":"1990-05-01","seen":'"$seen"',"meta":{"k":[1,2]},"greeting":"Hello, Ann"}' "insert body"
http POST /v1/users '{"id": 2, "name": "Bob", "tag": "a"}'
expect_eq "$BODY" '{"id":2,"name":"Bob","tag":"a","score":null,"active":null,"born":null,"seen":null,"meta":null,"greeting":"Hello, Bob"}' "optional inputs default to null"
http POST /v1/users/brief '{"id": 3, "name": "Cy", "tag": "not an input: ignored"}'
expect_eq "$BODY" '{"id":3,"greeting":"Hello, Cy"}' "explicit inputs and outputs"
expect_eq "$(count)" 3 "three rows stored"
pass "insert"

# ---- request validation: FastAPI's 422 shapes; nothing is stored ----
http POST /v1/users '{"name": 5, "score": "high"}'
expect_eq "$STATUS" 422 "invalid body status"
expect_eq "$BODY" '{"detail":[{"type":"missing","loc":["body","id"],"msg":"Field required","input":{"name":5,"score":"high"}},{"type":"string_type","loc":["body","name"],"msg":"Input should be a valid string","input":5},{"type":"float_parsing","loc":["body","score"],"msg":"Input should be a valid number, unable to parse string as a number","input":"high"}]}' "every bad field listed"
http POST /v1/users '{"id": null, "name": "x"}'
expect_eq "$BODY" '{"detail":[{"type":"int_type","loc":["body","id"],"msg":"Input should be a valid integer","input":null}]}' "null for a required column"
http POST /v1/users '{"id": 9, "name": "x", "born": "yesterday"}'
expect_eq "$STATUS" 422 "bad date"
expect_contains "$BODY" '"loc":["body","born"]' "bad date loc"
http POST /v1/users '{"id": 9, "name": "x",}'
expect_eq "$BODY" '{"detail":[{"type":"json_invalid","loc":["body",22],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}' "malformed JSON"
http POST /v1/users '[{"id": 9}]'
expect_eq "$BODY" '{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[{"id":9}]}]}' "body not an object"
http POST /v1/users
expect_eq "$STATUS" 422 "no body"
expect_eq "$BODY" '{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}' "no body is a missing body"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary '{"id": 9, "name": "x"}' \
  "http://127.0.0.1:$PORT/v1/users")
expect_eq "$STATUS" 422 "text/plain body"
expect_contains "$(cat "$TMP/body")" '"type":"model_attributes_type"' "non-JSON content type is not parsed"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' --data-binary '{"id": 9, "name": "Dee"}' -H 'Content-Type:' \
  "http://127.0.0.1:$PORT/v1/users")
expect_eq "$STATUS" 200 "a body without Content-Type is parsed as JSON (as FastAPI does)"
expect_eq "$(count)" 4 "only the valid request stored a row"
http POST /v1/users '{"id": 1, "name": "again"}'
expect_eq "$STATUS" 409 "duplicate primary key"
expect_contains "$BODY" '"detail":' "duplicate key detail"
expect_eq "$(count)" 4 "duplicate changed nothing"
pass "validation"

# ---- update: key + inputs; left out = unchanged; null = null; computed recomputed ----
http POST /v1/users/update '{"id": 1, "name": "Anna"}'
expect_eq "$STATUS" 200 "update status"
expect_eq "$BODY" '{"id":1,"name":"Anna","tag":"a","greeting":"Hello, Anna"}' "update recomputes, keeps tag"
http POST /v1/users/update '{"id": 1, "tag": null}'
expect_eq "$BODY" '{"id":1,"name":"Anna","tag":null,"greeting":"Hello, Anna"}' "explicit null"
http POST /v1/users/update '{"id": 1}'
expect_eq "$BODY" '{"id":1,"name":"Anna","tag":null,"greeting":"Hello, Anna"}' "key only: row unchanged"
http POST /v1/users/update '{"id": 77, "name": "Nobody"}'
expect_eq "$STATUS" 404 "update of a missing row"
expect_eq "$BODY" '{"detail":"row not found"}' "row not found"
http POST /v1/users/update '{"name": "Nobody"}'
expect_eq "$STATUS" 422 "update without key"
expect_contains "$BODY" '"loc":["body","id"]' "update key required"
http POST /v1/users/update '{"id": 1, "name": null}'
expect_eq "$STATUS" 422 "null for a required column on update"
expect_eq "$("$PXT" rows app.users --where 'id = 1' --columns name --format jsonl)" '{"name":"Anna"}' "refused update changed nothing"
pass "update"

# ---- compute: evaluated, never stored ----
http POST /v1/users/preview '{"id": 50, "name": "Zed"}'
expect_eq "$BODY" '{"name":"Zed","greeting":"Hello, Zed"}' "compute body"
expect_eq "$(count)" 4 "compute stored nothing"
pass "compute"

# ---- query: POST with a default parameter; GET one_row; GET rows; one_row 404/409 ----
http POST /v1/search '{"q": ""}'
expect_eq "$BODY" '{"rows":[{"id":1,"name":"Anna","greeting":"Hello, Anna"},{"id":2,"name":"Bob","greeting":"Hello, Bob"}]}' "search default limit 2"
http POST /v1/search '{"q": "o", "limit": 5}'
expect_eq "$BODY" '{"rows":[{"id":2,"name":"Bob","greeting":"Hello, Bob"}]}' "search with limit"
http POST /v1/search '{"q": "nothing matches"}'
expect_eq "$BODY" '{"rows":[]}' "empty result"
http POST /v1/search '{"limit": "x"}'
expect_eq "$STATUS" 422 "query validation"
expect_contains "$BODY" '{"type":"missing","loc":["body","q"]' "missing query parameter"
http GET '/v1/lookup?id=2'
expect_eq "$STATUS" 200 "lookup status"
expect_eq "$BODY" '{"id":2,"name":"Bob","tag":"a","score":null,"active":null,"born":null,"seen":null,"meta":null,"greeting":"Hello, Bob"}' "one_row answers the bare row"
http GET '/v1/lookup?id=999'
expect_eq "$STATUS" 404 "one_row with no rows"
expect_eq "$BODY" '{"detail":"query returned no rows"}' "no rows detail"
http GET '/v1/lookup?id=abc'
expect_eq "$BODY" '{"detail":[{"type":"int_parsing","loc":["query","id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}' "bad query parameter"
http GET '/v1/lookup'
expect_eq "$BODY" '{"detail":[{"type":"missing","loc":["query","id"],"msg":"Field required","input":null}]}' "missing query parameter"
http POST /v1/users '{"id": 4, "name": "Eve", "tag": "a"}'
http GET '/v1/by-tag?tag=a'
expect_eq "$(jq -c '[.rows[].id]' <<<"$BODY")" '[2,4]' "GET rows"
http POST /v1/one-by-tag '{"tag": "a"}'
expect_eq "$STATUS" 409 "one_row with several rows"
expect_eq "$BODY" '{"detail":"Query returned 2 rows; expected exactly 1 for one_row=True."}' "several rows detail"
pass "query"

# ---- delete: by primary key and by match_columns; 0 rows is not an error ----
http POST /v1/users/delete '{"id": 3}'
expect_eq "$BODY" '{"num_rows":1}' "delete by key"
http POST /v1/users/delete '{"id": 3}'
expect_eq "$STATUS" 200 "delete of nothing"
expect_eq "$BODY" '{"num_rows":0}' "zero rows"
http POST /v1/users/delete-by-tag '{"tag": "a"}'
expect_eq "$BODY" '{"num_rows":2}' "delete by match column"
http POST /v1/users/delete '{"id": "x"}'
expect_eq "$STATUS" 422 "delete validation"
expect_eq "$(count)" 2 "rows left"
pass "delete"

# ---- FastAPI's lax conversions: "12" for an Int, "yes" for a Bool, epoch seconds for dates ----
http POST /v1/users '{"id": "12", "name": "Lax", "score": "2.5", "active": "yes", "born": 86400, "seen": 1700000000.5}'
expect_eq "$STATUS" 200 "lax values accepted"
seen='"2023-11-14T22:13:20.500000Z"'
expect_eq "$("$PXT" rows app.users --where 'id = 12' --columns id,score,active,born,seen --format jsonl)" \
  '{"id":12,"score":2.5,"active":true,"born":"1970-01-02","seen":'"$seen"'}' "lax values converted"
http POST /v1/users '{"id": 13, "name": "x", "active": 2, "born": 86401}'
expect_eq "$(jq -c '[.detail[] | .type]' <<<"$BODY")" '["bool_parsing","date_from_datetime_inexact"]' "lax has limits"
http POST /v1/users/delete '{"id": "12"}'
expect_eq "$BODY" '{"num_rows":1}' "a lax key matches"
pass "lax conversions"

# ---- unknown paths, wrong methods, reserved prefixes, body limit ----
http GET /v1/nope
expect_eq "$STATUS" 404 "unknown path"
expect_eq "$BODY" '{"detail":"Not Found"}' "unknown path detail"
http POST /users '{"id": 1}'
expect_eq "$STATUS" 404 "route outside the prefix"
HEADERS=$(curl -s -D - -o "$TMP/body" "http://127.0.0.1:$PORT/v1/users")
expect_contains "$HEADERS" "405 Method Not Allowed" "wrong method"
expect_contains "$HEADERS" "Allow: POST" "Allow header"
expect_eq "$(cat "$TMP/body")" '{"detail":"Method Not Allowed"}' "405 detail"
http POST /v1/lookup '{"id": 1}'
expect_eq "$STATUS" 405 "POST on a GET query route"
http GET /v1/media/anything.png
expect_eq "$STATUS $BODY" '404 {"detail":"Not Found"}' "no such media file"
http GET /v1/jobs/0123456789abcdef
expect_eq "$STATUS" 404 "unknown job"
expect_eq "$BODY" '{"detail":"unknown job id"}' "unknown job detail"
python3 -c 'import json; print(json.dumps({"id": 5, "name": "x" * (1024 * 1024)}))' >big.json
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @big.json \
  "http://127.0.0.1:$PORT/v1/users")
expect_eq "$STATUS" 413 "body over max_body_mb"
expect_eq "$(cat "$TMP/body")" '{"detail":"request body too large: the limit is 1 MB"}' "413 detail"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
  --data-binary @big.json "http://127.0.0.1:$PORT/v1/users")
expect_eq "$STATUS" 413 "chunked body over the limit"
expect_eq "$(count)" 2 "oversized bodies stored nothing"
pass "404 405 413"

# ---- a table dropped after registration: 409 asking for a restart ----
"$PXT" drop app.users --force >/dev/null
http POST /v1/users '{"id": 6, "name": "late"}'
expect_eq "$STATUS" 409 "schema changed"
expect_eq "$BODY" '{"detail":"table schema changed since route was registered; restart the service"}' "schema changed detail"
stop_server
pass "schema changed"

# ---- the single-endpoint CLI form serves the same way; max_body_mb is honoured ----
"$PXT" schema update schema.toml >/dev/null
start_server insert --table app.users --path /add --inputs id name --outputs greeting
http POST /add '{"id": 1, "name": "Solo"}'
expect_eq "$BODY" '{"greeting":"Hello, Solo"}' "single-endpoint insert"
stop_server
cat >limits.toml <<'TOML'
[[service]]
name = "big"
max_body_mb = 3
modules = ["schema"]
[[service.routes]]
type = "compute"
table = "app.users"
path = "/c"
outputs = ["id"]
TOML
start_server big --config limits.toml
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @big.json \
  "http://127.0.0.1:$PORT/c")
expect_eq "$STATUS" 200 "a 1 MB body under max_body_mb = 3"
stop_server
pass "single endpoint and limits"
