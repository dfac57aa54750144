#!/usr/bin/env bash
# What auth, CORS, the rate limiter and /metrics cost on the hot path (issue 7): a GET lookup
# route (one-row retrieval query by primary key) under wrk, served by the same pxt binary
#   plain    no auth_tokens, no rate_limit, no cors_origins (request metrics are always recorded)
#   auth     auth_tokens only, every request carrying the token
#   secured  auth_tokens + rate_limit (high enough never to refuse) + cors_origins, every request
#            carrying the token and an Origin
# and, when PXT_BASELINE names a pxt binary built before these features, that binary too
# (neither auth nor metrics nor the slow-client guard). Rounds alternate the servers; the best
# round of each is kept.
#
# Usage: bench/security_overhead.sh        Environment: PXT (default build/pxt), PXT_BASELINE,
#   BENCH_DURATION seconds per run (5), BENCH_REPEAT rounds (3), BENCH_CONNS (8), BENCH_ROWS (10000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PXT=$(realpath "${PXT:-build/pxt}")
BASELINE=${PXT_BASELINE:-}
DURATION=${BENCH_DURATION:-5}
REPEAT=${BENCH_REPEAT:-3}
CONNS=${BENCH_CONNS:-8}
ROWS=${BENCH_ROWS:-10000}
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup installs it)" >&2; exit 1; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
export PXT_HOME=$TMP/home
cd "$TMP"
cat >schema.toml <<'TOML'
dirs = ["b"]

[[tables]]
path = "b.items"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "name", type = "String" } ]

[[queries]]
name = "lookup"
table = "b.items"
match = ["id"]
TOML
service() {  # extra [service] lines
  cat <<TOML
[service]
name = "bench"
modules = ["schema"]
$1

[[routes]]
type = "query"
path = "/lookup"
query = "schema.lookup"
method = "get"
one_row = true
TOML
}
service "" >plain.toml
service 'auth_tokens = ["bench-token-0123456789"]' >auth.toml
service $'auth_tokens = ["bench-token-0123456789"]\nrate_limit = "100000000/s"\ncors_origins = ["https://app.example.com"]' >secured.toml
"$PXT" schema update schema.toml >/dev/null
python3 -c "
for i in range(1, $ROWS + 1): print('{\"id\": %d, \"name\": \"item %d\"}' % (i, i))" >rows.jsonl
"$PXT" insert b.items --file rows.jsonl >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() {  # binary config -> sets PORT, appends PID
  PORT=$(free_port)
  "$1" serve bench --config "$2" --host 127.0.0.1 --port "$PORT" >/dev/null 2>"$TMP/server.log" &
  PIDS+=($!)
  for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "server did not start: $(cat "$TMP/server.log")" >&2
  exit 1
}
run_wrk() {  # port [wrk header args...] -> "req/s p99_ms"
  local port=$1
  shift
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" -s "$ROOT/bench/wrk/lookup.lua" \
    "http://127.0.0.1:$port" -- "$ROWS" >"$TMP/wrk.out"
  grep -q "Non-2xx" "$TMP/wrk.out" && { echo "non-2xx answers: $(cat "$TMP/wrk.out")" >&2; exit 1; }
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$TMP/wrk.out")
  echo "$rps $p99"
}

declare -A BEST_RPS BEST_P99
names=(plain auth secured)
start "$PXT" plain.toml
declare -A PORTS=([plain]=$PORT)
start "$PXT" auth.toml
PORTS[auth]=$PORT
start "$PXT" secured.toml
PORTS[secured]=$PORT
if [ -n "$BASELINE" ]; then
  start "$(realpath "$BASELINE")" plain.toml
  PORTS[baseline]=$PORT
  names+=(baseline)
fi
TOKEN=(-H "Authorization: Bearer bench-token-0123456789")
AUTH=("${TOKEN[@]}" -H "Origin: https://app.example.com")
for round in $(seq 1 "$REPEAT"); do
  for n in "${names[@]}"; do
    case $n in
      secured) out=$(run_wrk "${PORTS[$n]}" "${AUTH[@]}") ;;
      auth) out=$(run_wrk "${PORTS[$n]}" "${TOKEN[@]}") ;;
      *) out=$(run_wrk "${PORTS[$n]}") ;;
    esac
    read -r rps p99 <<<"$out"
    if [ -z "${BEST_RPS[$n]:-}" ] || awk -v a="$rps" -v b="${BEST_RPS[$n]}" 'BEGIN {exit !(a > b)}'; then
      BEST_RPS[$n]=$rps
      BEST_P99[$n]=$p99
    fi
  done
done
echo "GET /lookup (one row by primary key), $CONNS connections, ${DURATION}s x $REPEAT rounds, best kept; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-9s %10s %9s\n" server "req/s" "p99 ms"
for n in "${names[@]}"; do printf "%-9s %10s %9s\n" "$n" "${BEST_RPS[$n]}" "${BEST_P99[$n]}"; done
awk -v a="${BEST_RPS[auth]}" -v b="${BEST_RPS[plain]}" 'BEGIN {printf "auth/plain: %.3f\n", a / b}'
awk -v a="${BEST_RPS[secured]}" -v b="${BEST_RPS[plain]}" 'BEGIN {printf "secured/plain: %.3f\n", a / b}'
if [ -n "$BASELINE" ]; then
  awk -v a="${BEST_RPS[plain]}" -v b="${BEST_RPS[baseline]}" 'BEGIN {printf "plain/baseline: %.3f\n", a / b}'
fi
