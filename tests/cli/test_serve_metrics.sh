#!/usr/bin/env bash
# /metrics: Prometheus text with requests by route and status and a latency histogram, protected
# like every route when auth is on; --log-format json access lines without secrets.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.notes"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "text", type = "String" } ]
TOML
cat >service.toml <<'TOML'
[service]
name = "notes"
prefix = "/v1"
modules = ["schema"]

[[routes]]
type = "insert"
table = "app.notes"
path = "/notes"
TOML
base() { echo "http://127.0.0.1:$PORT"; }

start_server notes --config service.toml --log-format json
for i in 1 2 3; do http POST /v1/notes "{\"id\": $i}"; expect_eq "$STATUS" 200 "insert $i"; done
http POST /v1/notes '{"id": "x"}'
expect_eq "$STATUS" 422 "bad insert"
http GET /v1/nope
http GET /v1/media/a/b.png
http GET /v1/media/c.png
curl -s -o /dev/null -D "$TMP/h" "$(base)/metrics"
expect_contains "$(tr -d '\r' <"$TMP/h")" "Content-Type: text/plain; version=0.0.4" "content type"
M=$(curl -s "$(base)/metrics")
expect_contains "$M" "# TYPE pxt_http_requests_total counter" "counter type"
expect_contains "$M" 'pxt_http_requests_total{method="POST",route="/v1/notes",status="200"} 3' "inserts"
expect_contains "$M" 'pxt_http_requests_total{method="POST",route="/v1/notes",status="422"} 1' "422"
expect_contains "$M" 'pxt_http_requests_total{method="GET",route="/healthz",status="200"}' "healthz"
expect_contains "$M" 'pxt_http_requests_total{method="GET",route="/v1/media/{path}",status="404"} 2' "media template"
expect_contains "$M" 'pxt_http_requests_total{method="other",route="unmatched",status="404"} 1' "unmatched"
expect_contains "$M" "# TYPE pxt_http_request_duration_seconds histogram" "histogram type"
expect_contains "$M" 'pxt_http_request_duration_seconds_bucket{method="POST",route="/v1/notes",le="+Inf"} 4' "+Inf bucket"
expect_contains "$M" 'pxt_http_request_duration_seconds_count{method="POST",route="/v1/notes"} 4' "count"
expect_contains "$M" "pxt_slow_clients_closed_total 0" "slow clients"
# Buckets are cumulative: each le count is >= the previous one and the last equals _count.
awk -F'} ' '/^pxt_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/notes"/ {
  if ($2 + 0 < prev) { print "not cumulative: " $0; exit 1 } prev = $2 + 0 }' <<<"$M" ||
  fail "histogram buckets"
# The second scrape counts the first.
M=$(curl -s "$(base)/metrics")
expect_contains "$M" 'pxt_http_requests_total{method="GET",route="/metrics",status="200"} 2' "metrics counts itself"
# Every line is a comment or "name{labels} value" / "name value".
bad=$(grep -vE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{.*\})? [0-9.e+-]+)$' <<<"$M" || true)
expect_eq "$bad" "" "exposition format"
stop_server
# JSON access log: one object per line with method, path, status.
line=$(grep '"path":"/v1/notes"' "$TMP/server.log" | head -n 1)
expect_eq "$(jq -c '[.method, .path, .status]' <<<"$line")" '["POST","/v1/notes",200]' "json access line"

# ---- with auth, /metrics needs the token; the token is never logged ----
export API_TOKEN=metrics-secret-123
sed -i 's/^prefix = "\/v1"/prefix = "\/v1"\nauth_tokens = ["${API_TOKEN}"]/' service.toml
start_server notes --config service.toml --log-format json
http GET /metrics
expect_eq "$STATUS" 401 "metrics without the token"
M=$(curl -s -H "Authorization: Bearer $API_TOKEN" "$(base)/metrics")
expect_contains "$M" 'route="/metrics",status="401"} 1' "the 401 is counted"
stop_server
expect_not_contains "$(cat "$TMP/server.log")" "$API_TOKEN" "token not logged"
pass "serve metrics"
