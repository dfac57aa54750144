#!/usr/bin/env bash
# CORS: cors_origins validation (file:line), preflights answered for listed origins (before auth),
# 400 for others, Access-Control-Allow-Origin and Vary: Origin on answers, "*".
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.notes"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "text", type = "String" } ]
TOML
write_service() {  # cors_origins value, extra [service] lines
  cat >service.toml <<TOML
[service]
name = "notes"
modules = ["schema"]
cors_origins = $1
${2:-}

[[routes]]
type = "insert"
table = "app.notes"
path = "/notes"
TOML
}
base() { echo "http://127.0.0.1:$PORT"; }
# headers_of ARGS...: curl's response headers (CR stripped) in $HEADERS, status in $STATUS.
headers_of() {
  STATUS=$(curl -s -D "$TMP/h" -o "$TMP/body" -w '%{http_code}' "$@")
  HEADERS=$(tr -d '\r' <"$TMP/h")
  BODY=$(cat "$TMP/body")
}

# ---- validation ----
write_service '["https://app.example.com/", "ftp//x", "*"]'
expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "service.toml:4: cors_origins: 'https://app.example.com/' is not an origin: remove the path (the trailing '/')" "trailing slash"
expect_contains "$ERR" "service.toml:4: cors_origins: 'ftp//x' is not an origin" "not an origin"
expect_contains "$ERR" "\"*\" already allows every origin" "star with others"
write_service '"https://a.example"'
expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "service.toml:4: cors_origins: expected a list of strings, got a string" "type"
write_service '[]' 'cors_origin = ["x"]'
expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "cors_origin: unknown key, did you mean 'cors_origins'?" "did you mean"

# ---- listed origins, with auth on ----
write_service '["https://app.example.com", "http://localhost:3000"]' 'auth_tokens = ["tok"]'
start_server notes --config service.toml
headers_of -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: authorization, content-type' "$(base)/notes"
expect_eq "$STATUS" 200 "preflight without a token"
expect_contains "$HEADERS" "Access-Control-Allow-Origin: https://app.example.com" "preflight origin"
expect_contains "$HEADERS" "Access-Control-Allow-Methods: GET, HEAD, POST, OPTIONS" "preflight methods"
expect_contains "$HEADERS" "Access-Control-Allow-Headers: authorization, content-type" "preflight headers"
expect_contains "$HEADERS" "Access-Control-Max-Age: 600" "preflight max-age"
expect_contains "$HEADERS" "Vary: Origin" "preflight vary"

headers_of -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' "$(base)/notes"
expect_eq "$STATUS" 400 "preflight from another origin"
expect_eq "$BODY" '{"detail":"Disallowed CORS origin"}' "disallowed body"
expect_not_contains "$HEADERS" "Access-Control-Allow-Origin" "no allow-origin for others"

headers_of -X POST -H 'Origin: http://localhost:3000' -H 'Authorization: Bearer tok' \
  -H 'Content-Type: application/json' --data '{"id": 1}' "$(base)/notes"
expect_eq "$STATUS" 200 "insert from a listed origin"
expect_contains "$HEADERS" "Access-Control-Allow-Origin: http://localhost:3000" "answer allow-origin"
expect_contains "$HEADERS" "Vary: Origin" "answer vary"
headers_of -X POST -H 'Origin: http://localhost:3000' -H 'Content-Type: application/json' --data '{"id": 2}' "$(base)/notes"
expect_eq "$STATUS" 401 "no token"
expect_contains "$HEADERS" "Access-Control-Allow-Origin: http://localhost:3000" "a 401 is readable by the page"
headers_of -X POST -H 'Origin: https://evil.example' -H 'Authorization: Bearer tok' \
  -H 'Content-Type: application/json' --data '{"id": 3}' "$(base)/notes"
expect_not_contains "$HEADERS" "Access-Control-Allow-Origin" "other origins get no allow-origin"
expect_contains "$HEADERS" "Vary: Origin" "but still Vary"
headers_of -H 'Origin: http://localhost:3000' -H 'Authorization: Bearer tok' "$(base)/nope"
expect_eq "$STATUS" 404 "404"
expect_contains "$HEADERS" "Access-Control-Allow-Origin: http://localhost:3000" "on a 404 too"
stop_server

# ---- "*" ----
write_service '["*"]'
start_server notes --config service.toml
headers_of -X OPTIONS -H 'Origin: https://anything.example' -H 'Access-Control-Request-Method: POST' "$(base)/notes"
expect_eq "$STATUS" 200 "preflight with *"
expect_contains "$HEADERS" "Access-Control-Allow-Origin: *" "star"
headers_of -H 'Origin: https://anything.example' "$(base)/healthz"
expect_contains "$HEADERS" "Access-Control-Allow-Origin: *" "star on answers"
stop_server

# ---- without cors_origins: no CORS headers, OPTIONS is 405 ----
write_service '[]'
start_server notes --config service.toml
headers_of -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' "$(base)/notes"
expect_eq "$STATUS" 405 "no CORS: OPTIONS not allowed"
expect_not_contains "$HEADERS" "Access-Control" "no CORS headers"
pass "serve cors"
