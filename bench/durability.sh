#!/usr/bin/env bash
# Durability benchmark (issue 7): the insert route of bench/service.toml with durability = "normal"
# (a 2xx survives kill -9: WAL, synchronous=NORMAL) against durability = "full" (it also survives
# power loss: an fsync per commit), in one run, at 8 and 64 connections, with wrk on loopback.
# Group commit shares one commit (and so one fsync) among the writers waiting at that moment, so
# "full" costs less as connections grow. Prints req/s, p99 and the ratio full/normal.
#
# Usage: bench/durability.sh     (about a minute)
# Environment: PXT_BUILD_DIR (build), PXT (binary), BENCH_DURATION seconds per run (5),
#   BENCH_REPEAT rounds per cell, best kept (2), BENCH_CONNS ("8 64").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PXT_BUILD_DIR:-build}
PXT=$(realpath -m "${PXT:-$BUILD/pxt}")
DURATION=${BENCH_DURATION:-5}
REPEAT=${BENCH_REPEAT:-2}
read -r -a CONNS <<<"${BENCH_CONNS:-8 64}"
[ -x "$PXT" ] || { echo "durability.sh: no pxt binary at $PXT (scripts/build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "durability.sh: wrk is not installed (scripts/setup)" >&2; exit 1; }
TMP=$(mktemp -d)
SERVER=""
cleanup() {
  [ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A RPS P99
base=1000000000
for mode in normal full; do
  dir=$TMP/$mode
  mkdir -p "$dir"
  cp bench/bench_schema.toml "$dir/"
  sed "s/^modules = .*/&\ndurability = \"$mode\"/" bench/service.toml >"$dir/service.toml"
  port=$(free_port)
  PXT_HOME=$dir/home "$PXT" serve bench --config "$dir/service.toml" --host 127.0.0.1 --port "$port" \
    >"$dir/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
  for c in "${CONNS[@]}"; do
    best=0
    for _ in $(seq 1 "$REPEAT"); do
      out=$(wrk -t2 -c"$c" -d"${DURATION}s" --latency -s bench/wrk/insert.lua "http://127.0.0.1:$port" -- "$base" 100000000)
      base=$((base + 1000000000))
      rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
      non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
      [ -z "$non2xx" ] || { echo "durability.sh: $mode c=$c: $non2xx non-2xx answers" >&2; exit 1; }
      if ((rps > best)); then
        best=$rps
        P99[$mode,$c]=$(awk '$1 == "99%" {print $2}' <<<"$out")
      fi
    done
    RPS[$mode,$c]=$best
  done
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
done

echo "insert route, ${DURATION}s per run, best of $REPEAT; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %14s %10s %14s %10s %12s\n' conns normal_req/s p99 full_req/s p99 full/normal
for c in "${CONNS[@]}"; do
  ratio=$(awk -v a="${RPS[full,$c]}" -v b="${RPS[normal,$c]}" 'BEGIN {printf "%.2f", b ? a / b : 0}')
  printf '%-6s %14s %10s %14s %10s %12s\n' "$c" "${RPS[normal,$c]}" "${P99[normal,$c]}" "${RPS[full,$c]}" \
    "${P99[full,$c]}" "$ratio"
done
