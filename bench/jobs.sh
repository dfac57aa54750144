#!/usr/bin/env bash
# Background-job benchmark (issue 5): pxt serve with `background = true` on an insert route
# against a FastAPI + uvicorn peer that runs jobs the way Pixeltable's serving layer does (a
# 16-thread pool, jobs in a dict in memory; bench/fastapi_jobs_peer.py), in one run, on loopback.
#   1. accepted: wrk at 64 connections submits jobs (fresh ids) for BENCH_DURATION seconds:
#      jobs accepted per second, then how long the backlog takes to drain (every job done).
#   2. latency: 64 client threads each submit a job and poll its job_url every 2 ms until done
#      (bench/jobs_latency.py): submit-to-done p50/p90/p99 and jobs completed per second.
#
# Usage: bench/jobs.sh    (about 1 minute)
# Environment: PXT_BUILD_DIR (build), PXT (a pxt binary), BENCH_DURATION seconds (5),
#   BENCH_CONNS (64), BENCH_NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PXT_BUILD_DIR:-build}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-64}
PY=/usr/bin/python3
die() { echo "jobs.sh: $*" >&2; exit 1; }
note() { echo "jobs.sh: $*" >&2; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/setup installs it)"
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (scripts/setup installs it)"
"$PY" -c 'import fastapi, uvicorn' 2>/dev/null || die "$PY lacks fastapi/uvicorn (scripts/setup)"
PXT=${PXT:-$BUILD/pxt}
if [ "$PXT" = "$BUILD/pxt" ] && [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  cmake --build "$BUILD" --target pxt >/dev/null || die "building pxt failed"
fi
PXT=$(realpath "$PXT")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

TMP=$(mktemp -d)
declare -A PID PORT
cleanup() {
  for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null || true; done
  for s in "${!PID[@]}"; do wait "${PID[$s]}" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PXT_HOME=$TMP/pxt-home
"$PXT" schema update bench/bench_schema.toml >/dev/null

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() {  # name
  local port
  port=$(free_port)
  case $1 in
    fastapi) "$PY" bench/fastapi_jobs_peer.py --db "$TMP/fastapi.db" --host 127.0.0.1 --port "$port" ;;
    pxt) "$PXT" serve jobs --config bench/jobs_service.toml --host 127.0.0.1 --port "$port" ;;
  esac >"$TMP/$1.log" 2>&1 &
  PID[$1]=$!
  PORT[$1]=$port
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/jobs/x")" = 404 ] && return 0
    sleep 0.05
  done
  die "$1 did not start: $(tail -5 "$TMP/$1.log")"
}
# Jobs not yet done: pxt keeps them in its store; the peer's done jobs are the rows it inserted.
unfinished() {  # name accepted
  case $1 in
    pxt) sqlite3 "$PXT_HOME/pxt.db" 'SELECT count(*) FROM "pxt$jobs" WHERE finished_ms IS NULL' ;;
    fastapi) echo $(($2 - $(sqlite3 "$TMP/fastapi.db" 'SELECT count(*) FROM items'))) ;;
  esac
}
start fastapi
start pxt

# The same job result from both before timing them.
probe() {  # name
  local url
  url=$(curl -s -H 'Content-Type: application/json' -d '{"id": 999999999, "prompt": "Probe"}' \
    "http://127.0.0.1:${PORT[$1]}/insert" | jq -r .job_url)
  for _ in $(seq 1 200); do
    local j
    j=$(curl -s "$url")
    [ "$(jq -r .status <<<"$j")" = pending ] || { jq -cS '[.status, .result]' <<<"$j"; return; }
    sleep 0.02
  done
  die "$1: probe job still pending"
}
[ "$(probe pxt)" = "$(probe fastapi)" ] || die "pxt and the peer answer the probe job differently"

declare -A ACC DRAIN NON2XX LAT
for s in fastapi pxt; do
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/wrk/insert.lua" "http://127.0.0.1:${PORT[$s]}" \
    -- 1000000000 10000000)
  ACC[$s]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  NON2XX[$s]=$(awk '/Non-2xx/ { n += $NF } END { print n + 0 }' <<<"$out")
  total=$(awk '/requests in/ { print $1 }' <<<"$out")
  t0=$(date +%s.%N)
  for _ in $(seq 1 6000); do
    [ "$(unfinished "$s" "$((total - NON2XX[$s] + 1))")" -le 0 ] && break
    sleep 0.05
  done
  DRAIN[$s]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  note "$s: $total submitted, ${ACC[$s]}/s accepted, drained in ${DRAIN[$s]} s"
  LAT[$s]=$("$PY" bench/jobs_latency.py --port "${PORT[$s]}" --connections "$CONNS" --duration "$DURATION" \
    --base 2000000000)
  note "$s latency: ${LAT[$s]}"
done

f() { jq -r ".$2" <<<"${LAT[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
printf '\nBackground jobs, %s connections, %s s per phase (load before: %s)\n' "$CONNS" "$DURATION" "$LOAD_BEFORE"
printf '%-34s %12s %12s %8s\n' "" fastapi pxt pxt/fa
printf '%-34s %12s %12s %8s\n' "jobs accepted/s (wrk)" "${ACC[fastapi]}" "${ACC[pxt]}" "$(ratio "${ACC[pxt]}" "${ACC[fastapi]}")"
printf '%-34s %12s %12s\n' "non-2xx answers" "${NON2XX[fastapi]}" "${NON2XX[pxt]}"
printf '%-34s %12s %12s\n' "backlog drained after (s)" "${DRAIN[fastapi]}" "${DRAIN[pxt]}"
printf '%-34s %12s %12s %8s\n' "submit+poll: jobs done/s" "$(f fastapi jobs_per_s)" "$(f pxt jobs_per_s)" \
  "$(ratio "$(f pxt jobs_per_s)" "$(f fastapi jobs_per_s)")"
for p in p50 p90 p99; do
  printf '%-34s %12s %12s\n' "submit-to-done $p (ms)" "$(f fastapi "${p}_ms")" "$(f pxt "${p}_ms")"
done
printf '%-34s %12s %12s\n' "errors while polling" "$(f fastapi errors)" "$(f pxt errors)"
