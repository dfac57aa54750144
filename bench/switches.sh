#!/usr/bin/env bash
# Context switches and CPU per request under wrk, for pxt binaries and the ceiling in one run
# (issue 18.11): where a latency tail comes from is easier to see in switches per request, which
# a loaded machine disturbs little, than in p99, which it disturbs a lot.
#
# Usage: bench/switches.sh NAME=BINARY... [ceiling]      e.g. new=build/pxt old=/tmp/pxt-old ceiling
# Env: ROUNDS (3), C (64 connections), DUR (3 s), ROUTE (lookup: lookup, update or insert), ROWS
#      (200000), BUILD (build: where pxt_bench_ceiling is), STORE (sqlite, or postgres: one
#      throwaway cluster from scripts/pg-cluster, a database per server, synchronous commit on).
#      Rounds alternate between the servers.
# Prints per round and server: req/s, p50, p99, CPU us/request (user+sys of the process; on
# PostgreSQL also of every postgres process: the store's share), and voluntary / involuntary
# context switches per request (summed over its threads from /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3} C=${C:-64} DUR=${DUR:-3} ROUTE=${ROUTE:-lookup} ROWS=${ROWS:-200000} BUILD=${BUILD:-build}
STORE=${STORE:-sqlite}
TMP=$(mktemp -d)
declare -A PID PORT
PG_DIR=
cleanup() {
  for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$PG_DIR" ] || scripts/pg-cluster stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
if [ "$STORE" = postgres ]; then
  line=$(scripts/pg-cluster start -c max_connections=200)
  PG_DIR=${line%% *} PG_BASE=${line#* }
fi
pg_db() {  # name -> the URL of a new database
  scripts/pg-cluster psql "$PG_DIR" -d postgres -c "CREATE DATABASE $1" >/dev/null
  echo "${PG_BASE%/*}/$1"
}
pg_fill() {  # url table
  scripts/pg-cluster psql "$PG_DIR" -d "${1##*/}" >/dev/null -c "INSERT INTO \"$2\" (id, prompt, result)
    SELECT i, $prompt, upper($prompt) FROM generate_series(1, $ROWS) i" -c "VACUUM ANALYZE \"$2\""
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
prompt="'a photo of a sunset over the ocean number ' || i"
awk -v n="$ROWS" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"id\":%d,\"prompt\":\"a photo of a sunset over the ocean number %d\"}\n", i, i }' >"$TMP/rows.jsonl"
NAMES=()
for arg in "$@"; do
  name=${arg%%=*} port=$(free_port)
  if [ "$arg" = ceiling ] && [ "$STORE" = postgres ]; then
    url=$(pg_db ceiling)
    scripts/pg-cluster psql "$PG_DIR" -d ceiling >/dev/null \
      -c "CREATE TABLE items(id bigint PRIMARY KEY, prompt text, result text)"
    pg_fill "$url" items
    "$BUILD/pxt_bench_ceiling" --pg "$url" --pool 10 --host 127.0.0.1 --port "$port" >"$TMP/$name.log" 2>&1 &
  elif [ "$arg" = ceiling ]; then
    sqlite3 "$TMP/ceiling.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE items(id INTEGER PRIMARY KEY, prompt TEXT, result TEXT);
INSERT INTO items WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $ROWS)
  SELECT i, $prompt, upper($prompt) FROM c;
SQL
    "$BUILD/pxt_bench_ceiling" --db "$TMP/ceiling.db" --host 127.0.0.1 --port "$port" >"$TMP/$name.log" 2>&1 &
  else
    bin=$(realpath "${arg#*=}")
    export PXT_HOME=$TMP/home-$name
    if [ "$STORE" = postgres ]; then
      export PXT_STORE
      PXT_STORE=$(pg_db "pxt_$name")
      "$bin" schema update bench/bench_schema.toml >/dev/null
      pg_fill "$PXT_STORE" bench.items
    else
      "$bin" schema update bench/bench_schema.toml >/dev/null
      "$bin" insert bench.items --file "$TMP/rows.jsonl" >/dev/null
    fi
    "$bin" serve bench --config bench/service.toml --host 127.0.0.1 --port "$port" >"$TMP/$name.log" 2>&1 &
  fi
  PID[$name]=$! PORT[$name]=$port NAMES+=("$name")
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/lookup?id=1")" = 200 ] && break
    sleep 0.1
  done
done
counters() {  # pid -> "voluntary involuntary cpu_ticks"
  local v=0 i=0 a b d
  for d in /proc/$1/task/*; do
    read -r a b < <(awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {n = $2} END {print v + 0, n + 0}' "$d/status" 2>/dev/null) || continue
    v=$((v + a)) i=$((i + b))
  done
  echo "$v $i $(awk '{print $14 + $15}' "/proc/$1/stat")"
}
store_ticks() {  # CPU ticks of every postgres process (0 on SQLite, which runs in the server)
  local t=0 p
  [ "$STORE" = postgres ] || { echo 0; return; }
  for p in $(pgrep -x postgres); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
T=$((C < 2 ? C : 2))
RUN=0  # counted by the caller: run_wrk runs in a subshell
run_wrk() {  # seconds server: inserts get ids no earlier run used
  local args=("$ROWS")
  [ "$ROUTE" = insert ] && args=($((1000000000 + RUN * 20000000)) 10000000)
  wrk -t"$T" -c"$C" -d"$1" --latency -s "bench/wrk/$ROUTE.lua" "http://127.0.0.1:${PORT[$2]}" -- "${args[@]}"
}
for s in "${NAMES[@]}"; do
  RUN=$((RUN + 1))
  run_wrk 1 "$s" >/dev/null
done
echo "# $ROUTE on $STORE, wrk -t$T -c$C, ${DUR}s rounds, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for s in "${NAMES[@]}"; do
    read -r v0 i0 t0 < <(counters "${PID[$s]}")
    g0=$(store_ticks)
    RUN=$((RUN + 1))
    out=$(run_wrk "$DUR" "$s")
    read -r v1 i1 t1 < <(counters "${PID[$s]}")
    g1=$(store_ticks)
    awk -v r="$r" -v s="$s" -v dv=$((v1 - v0)) -v di=$((i1 - i0)) -v dt=$((t1 - t0)) -v dg=$((g1 - g0)) \
      -v pg="$STORE" -v hz="$(getconf CLK_TCK)" '
      /requests in/ { n = $1 } /^Requests\/sec:/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
      /Non-2xx/ { bad = $NF }
      END { if (bad) printf "round %d %s: %d answers were not 2xx (the figures below are not comparable)\n", r, s, bad
            store = pg == "postgres" ? sprintf("  postgres us/req %5.1f", dg * 1e6 / hz / n) : ""
            printf "round %d %-8s req/s %7.0f  p50 %-8s p99 %-8s CPU us/req %5.1f%s  switches/req vol %.2f invol %.3f\n",
            r, s, rps, p50, p99, dt * 1e6 / hz / n, store, dv / n, di / n }' <<<"$out"
  done
done
