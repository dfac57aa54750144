#!/usr/bin/env bash
# export_sql benchmark (issue 6): the insert route with export to PostgreSQL on loopback vs. the
# same route without export, at BENCH_CONNS connections, with wrk. Measured twice: the target
# cluster with PostgreSQL's defaults (every commit waits for its WAL fsync), with
# synchronous_commit=off for pxt's sessions only (set in db_connect), and with it off on the whole
# target server. Prints req/s, p99 and the ratio export/no-export.
#
# Usage: bench/export.sh            (about 2 minutes)
# Environment: PXT_BUILD_DIR (build), PXT (default $PXT_BUILD_DIR/pxt), BENCH_DURATION seconds
#   per run (5), BENCH_REPEAT rounds, best kept (3), BENCH_CONNS ("8").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PXT_BUILD_DIR:-build}
PXT=$(realpath -m "${PXT:-$BUILD/pxt}")
DURATION=${BENCH_DURATION:-5}
REPEAT=${BENCH_REPEAT:-3}
read -r -a CONNS <<<"${BENCH_CONNS:-8}"
die() { echo "export.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/setup installs it)"
[ -x "$PXT" ] || die "no pxt binary at $PXT (scripts/build)"

TMP=$(mktemp -d)
PG_DIR=
SERVER=
cleanup() {
  [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  [ -n "$PG_DIR" ] && scripts/pg-cluster stop "$PG_DIR"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

line=$(scripts/pg-cluster start)  # PostgreSQL's defaults: fsync on, synchronous_commit on
PG_DIR=${line%% *}
PG_URL=${line#* }
scripts/pg-cluster psql "$PG_DIR" -c "CREATE TABLE items_log (id bigint, prompt text, result text)"

export PXT_HOME=$TMP/home
"$PXT" schema update bench/bench_schema.toml >/dev/null
export_config() {  # db_connect file: bench/service.toml with export_sql on its insert route
  awk -v url="$1" '{ print } /^outputs = \["id", "prompt", "result"\]/ && !done {
    print "[service.routes.export_sql]"; print "db_connect = \"" url "\""; print "table = \"items_log\""; done = 1 }' \
    bench/service.toml >"$2"
  grep -q items_log "$2" || die "could not add export_sql to the insert route"
}
export_config "$PG_URL" "$TMP/export.toml"
# synchronous_commit=off for pxt's export sessions only, through libpq's options in the URL.
export_config "$PG_URL?options=-csynchronous_commit%3Doff" "$TMP/export-session.toml"
cp bench/bench_schema.toml "$TMP/"
cp bench/service.toml "$TMP/plain.toml"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Every run inserts fresh ids; run() executes in subshells, so the counter lives in a file.
echo 1000000000 >"$TMP/base"
run() {  # config conns -> "req/s p99"
  local port out
  port=$(free_port)
  "$PXT" serve bench --config "$1" --host 127.0.0.1 --port "$port" >"$TMP/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  local t=$(($2 < 2 ? $2 : 2))
  local base
  base=$(($(cat "$TMP/base") + 10000000))
  echo "$base" >"$TMP/base"
  out=$(wrk -t"$t" -c"$2" -d"${DURATION}s" --latency -s bench/wrk/insert.lua "http://127.0.0.1:$port" \
    -- "$base" 1000000)
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=
  grep -q "Non-2xx" <<<"$out" && die "errors during the run: $(grep Non-2xx <<<"$out"); $(tail -3 "$TMP/server.log")"
  local rps p99
  rps=$(awk '/^Requests\/sec/ { printf "%d", $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  echo "$rps $p99"
}
best() {  # config conns -> best "req/s p99" of REPEAT rounds
  local best_rps=0 best_line="" r
  for _ in $(seq 1 "$REPEAT"); do
    r=$(run "$1" "$2")
    if [ "${r%% *}" -gt "$best_rps" ]; then best_rps=${r%% *}; best_line=$r; fi
  done
  echo "$best_line"
}

echo "# pxt export_sql benchmark, $(date '+%Y-%m-%d %H:%M'), $(nproc) cores, best of $REPEAT rounds of ${DURATION}s"
printf '%-28s %5s %12s %9s %12s %9s %7s\n' target conns "plain req/s" "p99" "export req/s" "p99" ratio
for mode in defaults "sync_off (URL)" "sync_off (server)"; do
  config=$TMP/export.toml
  [ "$mode" = "sync_off (URL)" ] && config=$TMP/export-session.toml
  if [ "$mode" = "sync_off (server)" ]; then
    scripts/pg-cluster psql "$PG_DIR" -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null
  fi
  for c in "${CONNS[@]}"; do
    read -r prps pp99 < <(best "$TMP/plain.toml" "$c")
    read -r erps ep99 < <(best "$config" "$c")
    printf '%-28s %5s %12s %9s %12s %9s %7s\n' "PostgreSQL $mode" "$c" "$prps" "$pp99" "$erps" "$ep99" \
      "$(awk -v a="$erps" -v b="$prps" 'BEGIN { printf "%.2f", a / b }')"
  done
done
rows=$(scripts/pg-cluster psql "$PG_DIR" -At -c "SELECT count(*) FROM items_log")
echo "(rows exported: $rows; command: bench/export.sh, BENCH_DURATION=$DURATION BENCH_REPEAT=$REPEAT)"
