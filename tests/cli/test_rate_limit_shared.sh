#!/usr/bin/env bash
# backends: postgres
# A rate limit shared by the processes of a service on one PostgreSQL store (issue 15,
# [service] rate_limit_shared = true): two `pxt serve` processes (each with a home of its own, as
# on two machines) allow a client N requests per period together, not N each; the 429 carries
# Retry-After; /healthz stays exempt. Without the key each process keeps its own bucket, as
# documented. The limit is per minute, so no refill happens within the test however slow the
# machine is.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["rl"]
[[tables]]
path = "rl.items"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "name", type = "String" } ]
TOML
service() {  # extra [service] lines
  cat >service.toml <<TOML
[service]
name = "rl"
modules = ["schema"]
rate_limit = "6/m"
$1
[[routes]]
type = "insert"
table = "rl.items"
path = "/items"
TOML
}

PORTS=() PIDS=()
start_node() {  # index
  local i=$1
  PORTS[$i]=$(free_port)
  mkdir -p "$TMP/h$i"
  PXT_HOME=$TMP/h$i "$PXT" serve --config service.toml --host 127.0.0.1 --port "${PORTS[$i]}" >"$TMP/node$i.log" 2>&1 &
  PIDS[$i]=$!
  SERVER_PIDS+=("${PIDS[$i]}")
  wait_healthz "${PIDS[$i]}" "${PORTS[$i]}" "$TMP/node$i.log"
}
stop_nodes() {
  for i in 0 1; do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; wait "${PIDS[$i]}" 2>/dev/null || true; done
}
post() {  # node id -> status (headers in $TMP/h, body in $TMP/body)
  curl -s -D "$TMP/h" -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"id\": $2, \"name\": \"n$2\"}" "http://127.0.0.1:${PORTS[$1]}/items"
}

# ---- shared: six requests in all, whichever process answers ----
service "rate_limit_shared = true"
"$PXT" schema update schema.toml >/dev/null
start_node 0
start_node 1
codes=""
for id in 1 2 3 4 5 6; do codes+="$(post $((id % 2)) "$id") "; done
expect_eq "$codes" "200 200 200 200 200 200 " "six requests spread over two processes"
expect_eq "$(post 0 7)" 429 "the seventh on process 0"
expect_contains "$(tr -d '\r' <"$TMP/h")" "Retry-After: " "429 says when to retry"
expect_contains "$(cat "$TMP/body")" "Rate limit exceeded" "429 detail"
expect_eq "$(post 1 8)" 429 "the eighth on process 1"
expect_eq "$("$PXT" count rl.items)" 6 "refused requests store nothing"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORTS[1]}/healthz")" 200 "/healthz is exempt"
expect_eq "$(store_sql "SELECT count(*) FROM pxt.rate_buckets WHERE key LIKE 'rl|6/m|%'")" 1 "one bucket in the store"
stop_nodes
pass "two processes share one bucket per client: 6 allowed in all, then 429 on both"

# ---- not shared (the default): each process has its own bucket ----
service ""
start_node 0
start_node 1
codes=""
for id in 11 12 13 14 15 16; do codes+="$(post 0 "$id") "; done
expect_eq "$codes" "200 200 200 200 200 200 " "six on process 0"
expect_eq "$(post 0 17)" 429 "the seventh on process 0"
expect_eq "$(post 1 18)" 200 "process 1's own bucket is full"
stop_nodes
pass "without rate_limit_shared each process limits on its own"
