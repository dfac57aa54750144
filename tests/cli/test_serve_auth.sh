#!/usr/bin/env bash
# Bearer-token auth: auth_tokens = ["${API_TOKEN}"] and --auth-token; every route but /healthz
# needs the token (API routes, /openapi.json, /media, /jobs, unknown paths); 401 in FastAPI's shape
# with WWW-Authenticate; the docs pages ask for the token; OpenAPI declares the bearer scheme;
# tokens never reach the log or --dry-run; no exposure warning on loopback (the warning itself is
# unit-tested: these tests bind loopback only).
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.notes"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "text", type = "String" } ]

[[queries]]
name = "note"
table = "app.notes"
match = ["id"]
TOML
cat >service.toml <<'TOML'
[service]
name = "notes"
modules = ["schema"]
auth_tokens = ["${API_TOKEN}", "second-token_2"]

[[routes]]
type = "insert"
table = "app.notes"
path = "/notes"

[[routes]]
type = "query"
path = "/note"
query = "schema.note"
method = "get"
one_row = true
TOML
TOKEN="s3cr3t-Token.value~42"
base() { echo "http://127.0.0.1:$PORT"; }
# curl with an optional Authorization header: auth_http TOKEN|- METHOD PATH [BODY]
auth_http() {
  local token=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}' -X "$method")
  [ "$token" != "-" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  STATUS=$(curl "${args[@]}" "$(base)$path")
  BODY=$(cat "$TMP/body")
  HEADERS=$(tr -d '\r' <"$TMP/headers")
}

# ---- the environment variable must be set ----
expect_status 1 env -u API_TOKEN "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "service.toml:4: auth_tokens: environment variable 'API_TOKEN' is not set" "unset token var"
# ---- bad tokens are refused at start, without quoting them ----
API_TOKEN="has space" expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "service.toml:4: auth_tokens: token 1 contains a character a bearer token cannot carry" \
  "token charset"
expect_not_contains "$ERR" "has space" "bad token not echoed"
API_TOKEN="" expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "auth_tokens: token 1 is empty" "empty token"

export API_TOKEN=$TOKEN
# ---- --dry-run shows the count, never the tokens ----
OUT=$("$PXT" serve notes --config service.toml --dry-run)
expect_contains "$OUT" "Auth:   bearer (2 tokens)" "dry-run text"
expect_not_contains "$OUT" "$TOKEN" "dry-run text hides the token"
OUT=$("$PXT" --json serve notes --config service.toml --dry-run)
expect_eq "$(jq -c '[.auth_token_count, .docs_public]' <<<"$OUT")" '[2,false]' "dry-run json"
expect_not_contains "$OUT" "$TOKEN" "dry-run json hides the token"

start_server notes --config service.toml --log-format json
# ---- no exposure warning on loopback ----
expect_not_contains "$(cat "$TMP/server.log")" "warning" "no warning on 127.0.0.1"

# ---- /healthz stays open ----
auth_http - GET /healthz
expect_eq "$STATUS" 200 "healthz without token"

# ---- API routes: missing, wrong and right tokens ----
auth_http - POST /notes '{"id": 1, "text": "a"}'
expect_eq "$STATUS" 401 "insert without token"
expect_eq "$BODY" '{"detail":"Not authenticated"}' "401 body"
expect_contains "$HEADERS" "WWW-Authenticate: Bearer" "WWW-Authenticate"
auth_http wrong-token POST /notes '{"id": 1, "text": "a"}'
expect_eq "$STATUS" 401 "insert with a wrong token"
expect_eq "$BODY" '{"detail":"Invalid authentication credentials"}' "wrong-token body"
expect_contains "$HEADERS" 'WWW-Authenticate: Bearer error="invalid_token"' "invalid_token"
auth_http "${TOKEN}x" POST /notes '{"id": 1, "text": "a"}'
expect_eq "$STATUS" 401 "token with a suffix"
auth_http "${TOKEN:0:10}" POST /notes '{"id": 1, "text": "a"}'
expect_eq "$STATUS" 401 "prefix of the token"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $TOKEN" "$(base)/note?id=1")
expect_eq "$STATUS" 401 "another scheme"
auth_http - GET "/note?id=1"
expect_eq "$STATUS" 401 "query without token"
auth_http "$TOKEN" POST /notes '{"id": 1, "text": "a"}'
expect_eq "$STATUS" 200 "insert with the token"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: bearer second-token_2" "$(base)/note?id=1")
expect_eq "$STATUS" 200 "second token, lower-case scheme"
# A refused insert changed nothing: only row 1 exists.
auth_http "$TOKEN" POST /notes '{"id": 2, "text": "b"}'
expect_eq "$STATUS" 200 "second insert"

# ---- a refused upload is answered before its body is read ----
head -c 900000 /dev/zero | tr '\0' 'a' >big.txt
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @big.txt "$(base)/notes")
expect_eq "$STATUS" 401 "unauthenticated body"

# ---- every other endpoint, known or not ----
for p in /openapi.json /media/x.png /jobs/123 /nope; do
  auth_http - GET "$p"
  expect_eq "$STATUS" 401 "GET $p without token"
done
auth_http "$TOKEN" GET /openapi.json
expect_eq "$STATUS" 200 "openapi with the token"
expect_eq "$(jq -c '.components.securitySchemes.HTTPBearer' <<<"$BODY")" '{"type":"http","scheme":"bearer"}' "scheme"
expect_eq "$(jq -c '.security' <<<"$BODY")" '[{"HTTPBearer":[]}]' "global security"
auth_http "$TOKEN" GET /nope
expect_eq "$STATUS" 404 "unknown path with the token"

# ---- the docs pages load without a token and ask for it ----
auth_http - GET /docs
expect_eq "$STATUS" 200 "docs page"
expect_contains "$BODY" 'id="pxt-token"' "docs token field"
expect_contains "$BODY" 'requestInterceptor' "docs sends the token"
auth_http - GET /redoc
expect_eq "$STATUS" 200 "redoc page"
expect_contains "$BODY" 'id="pxt-token"' "redoc token field"
auth_http - GET "/docs/assets/swagger-ui.css"
expect_eq "$STATUS" 200 "docs assets"

# ---- the token never reaches the log ----
stop_server
expect_not_contains "$(cat "$TMP/server.log")" "$TOKEN" "token not logged"
expect_not_contains "$(cat "$TMP/server.log")" "second-token_2" "second token not logged"
[ "$(grep -c '"status":401' "$TMP/server.log")" -ge 5 ] || fail "401s are logged: $(cat "$TMP/server.log")"

# ---- docs_public = true: the spec is public, the API still is not ----
sed -i 's/^modules = \["schema"\]/modules = ["schema"]\ndocs_public = true/' service.toml
start_server notes --config service.toml
auth_http - GET /openapi.json
expect_eq "$STATUS" 200 "public openapi"
auth_http - GET /docs
expect_not_contains "$BODY" 'pxt-token' "public docs need no token field"
auth_http - GET "/note?id=1"
expect_eq "$STATUS" 401 "API still protected"
stop_server

# ---- --auth-token on the single-route CLI ----
start_server insert --table app.notes --path /add --auth-token cli-token --auth-token other
auth_http - POST /add '{"id": 3}'
expect_eq "$STATUS" 401 "CLI route without token"
auth_http cli-token POST /add '{"id": 3}'
expect_eq "$STATUS" 200 "CLI route with --auth-token"
auth_http other POST /add '{"id": 4}'
expect_eq "$STATUS" 200 "CLI route with the second --auth-token"
stop_server
expect_status 1 "$PXT" serve insert --table app.notes --path /add --auth-token 'bad token' --dry-run
expect_contains "$ERR" "command line: auth_tokens: token 1 contains a character" "CLI token check"

pass "serve auth"
