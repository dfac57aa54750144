#!/usr/bin/env bash
# Route benchmark on PostgreSQL (issue 15, "Performance"): pxt serve on a PostgreSQL store against
# a FastAPI + psycopg2 peer (2 uvicorn workers) and a raw cpp-httplib + libpq ceiling (prepared
# statements, a pool of 10), in one run, on loopback, with wrk; then three pxt serve behind nginx
# on the same cores. Same table, routes insert and GET lookup, at 8 and 64 connections; prints
# req/s, the ratios pxt/ceiling and pxt/fastapi, p99 latencies, and the commit rate of the WAL
# device (pg_test_fsync) that bounds writes across machines.
#
# Usage: bench/routes_pg.sh          (about 5 minutes)
# Environment: PXT_BUILD_DIR (build), PXT (a pxt binary), BENCH_DURATION seconds per run (3),
#   BENCH_REPEAT rounds per cell, best kept (2), BENCH_CONNS ("8 64"), BENCH_ROUTES
#   ("lookup insert"), BENCH_ROWS pre-filled rows (200000), BENCH_PG_OPTS extra server settings
#   (default none: fsync and synchronous_commit on, as a real deployment), BENCH_NO_NGINX=1,
#   BENCH_PXT_PARAMS (pxt's store URL parameters, e.g. "group_commit=4&pool_size=20"),
#   BENCH_RATE=0 (leaves out pxt with a rate limit per process and shared), BENCH_GROUP=0 (leaves
#   out pxt without group commit, store URL group_commit=0), PXT_CEILING (a built
#   ceiling server; with PXT, nothing is built).
# Output: the table on stdout, saved with the raw wrk output under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PXT_BUILD_DIR:-build}
DURATION=${BENCH_DURATION:-3}
REPEAT=${BENCH_REPEAT:-2}
read -r -a CONNS <<<"${BENCH_CONNS:-8 64}"
read -r -a ROUTES <<<"${BENCH_ROUTES:-lookup insert}"
ROWS=${BENCH_ROWS:-200000}
HOT=100000
PY=/usr/bin/python3
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
die() { echo "routes_pg.sh: $*" >&2; exit 1; }
note() { echo "routes_pg.sh: $*" >&2; }
((ROWS >= HOT)) || die "BENCH_ROWS must be at least $HOT"
command -v wrk >/dev/null || die "wrk is not installed (scripts/setup)"
"$PY" -c 'import fastapi, uvicorn, psycopg2' 2>/dev/null || die "$PY lacks fastapi/uvicorn/psycopg2 (scripts/setup)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WITH_NGINX=1
{ [ "${BENCH_NO_NGINX:-}" != 1 ] && [ -x "$NGINX" ]; } || WITH_NGINX=0

# PXT and PXT_CEILING both given: binaries built elsewhere (e.g. a copy, while the build folder
# is busy); else both are built here.
if [ -z "${PXT:-}" ] || [ -z "${PXT_CEILING:-}" ]; then
  [ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
  cmake --build "$BUILD" --target pxt_bench_ceiling pxt >"$BUILD/bench-pg-build.log" 2>&1 ||
    die "build failed: see $BUILD/bench-pg-build.log"
fi
CEILING=$(realpath -m "${PXT_CEILING:-$BUILD/pxt_bench_ceiling}")
PXT=$(realpath -m "${PXT:-$BUILD/pxt}")

TMP=$(mktemp -d)
declare -A PID PORT
PG_DIR=""
cleanup() {
  for s in "${!PID[@]}"; do kill ${PID[$s]} 2>/dev/null || true; done
  for s in "${!PID[@]}"; do for p in ${PID[$s]}; do wait "$p" 2>/dev/null || true; done; done
  [ -f "$TMP/nginx/nginx.pid" ] && kill -QUIT "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null || true
  [ -n "$PG_DIR" ] && scripts/pg-cluster stop "$PG_DIR"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT=$ROOT/bench/out
mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
RAW=$OUT/routes_pg-$STAMP.wrk.txt
: >"$RAW"
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- PostgreSQL: one cluster, one database per server, the same rows in each ----
read -r -a pg_opts <<<"${BENCH_PG_OPTS:-}"
line=$(scripts/pg-cluster start -c max_connections=200 "${pg_opts[@]}")
PG_DIR=${line%% *}
PG_BASE=${line#* }
psql_db() { scripts/pg-cluster psql "$PG_DIR" -d "$1" "${@:2}"; }
prompt_sql="'a photo of a sunset over the ocean number ' || i"
for db in fastapi ceiling pxt; do psql_db postgres -c "CREATE DATABASE $db"; done
for db in fastapi ceiling; do
  psql_db "$db" -c "CREATE TABLE items(id bigint PRIMARY KEY, prompt text, result text);
    INSERT INTO items SELECT i, $prompt_sql, upper($prompt_sql) FROM generate_series(1, $ROWS) i" \
    -c "VACUUM ANALYZE items"
done
url() { echo "${PG_BASE%/*}/$1"; }
export PXT_HOME=$TMP/pxt-home PXT_STORE
PXT_STORE=$(url pxt)${BENCH_PXT_PARAMS:+?$BENCH_PXT_PARAMS}
"$PXT" schema update bench/bench_schema.toml >/dev/null
# pxt's tables are real tables: the rows go in with SQL too.
psql_db pxt -c "INSERT INTO \"bench.items\" (id, prompt, result) SELECT i, $prompt_sql, upper($prompt_sql)
  FROM generate_series(1, $ROWS) i" -c "VACUUM ANALYZE \"bench.items\""

# ---- servers ----
start() {  # name command... : starts it, waits for GET /lookup?id=1 to answer 200
  local name=$1 port
  shift
  port=$(free_port)
  "$@" --host 127.0.0.1 --port "$port" >"$TMP/$name.log" 2>&1 &
  PID[$name]="${PID[$name]:-} $!"
  PORT[$name]=$port
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/lookup?id=1")" = 200 ] && return 0
    sleep 0.05
  done
  die "$name did not answer within 30 s: $(tail -5 "$TMP/$name.log")"
}
start fastapi "$PY" bench/fastapi_pg_peer.py --dsn "$(url fastapi)"
start ceiling "$CEILING" --pg "$(url ceiling)" --pool 10
start pxt "$PXT" serve bench --config bench/service.toml
SERVERS=(fastapi ceiling pxt)
if [ "${BENCH_GROUP:-1}" = 1 ]; then
  # The same service without group commit (store URL group_commit=0): what it brings.
  start pxtng env PXT_STORE="$(url pxt)?group_commit=0" "$PXT" serve bench --config bench/service.toml
  SERVERS+=(pxtng)
fi
if [ "${BENCH_RATE:-1}" = 1 ]; then
  # The same service with a rate limit that never bites (one client, wrk), per process and
  # shared through the store (rate_limit_shared): what the shared bucket costs.
  cp bench/bench_schema.toml "$TMP/"  # modules are found beside the config
  for shared in false true; do
    sed "s|^title = .*|&\nrate_limit = \"1000000/s\"\nrate_limit_shared = $shared|" bench/service.toml >"$TMP/rl-$shared.toml"
  done
  start pxtrl "$PXT" serve bench --config "$TMP/rl-false.toml"
  start pxtrls "$PXT" serve bench --config "$TMP/rl-true.toml"
  SERVERS+=(pxtrl pxtrls)
fi
if ((WITH_NGINX)); then
  # Three pxt serve behind nginx, on the same two cores: what scaling out looks like when the
  # machines are in fact one.
  ups=""
  for i in 1 2 3; do
    start "pxt$i" "$PXT" serve bench --config bench/service.toml
    ups+="server 127.0.0.1:${PORT[pxt$i]};"
  done
  mkdir -p "$TMP/nginx"
  nport=$(free_port)
  cat >"$TMP/nginx/nginx.conf" <<EOF
$([ "$(id -u)" -eq 0 ] && echo "user root;")
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body; proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/f; uwsgi_temp_path $TMP/nginx/u; scgi_temp_path $TMP/nginx/s;
  upstream pxt { $ups keepalive 64; }
  server { listen 127.0.0.1:$nport;
    location / { proxy_pass http://pxt; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
EOF
  "$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx"
  PORT[pxt3]=$nport
  for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$nport/lookup?id=1" >/dev/null && break; sleep 0.05; done
  SERVERS+=(pxt3)
fi

ms() {
  awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); n = v + 0;
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; printf "%.2f", n }'
}
declare -A RPS P99 BAD
run_idx=0
for route in "${ROUTES[@]}"; do
  for c in "${CONNS[@]}"; do
    t=$((c < 2 ? c : 2))
    for ((rep = 0; rep < REPEAT; rep++)); do
      run_idx=$((run_idx + 1))
      case $route in
        lookup) args=("$HOT") ;;
      esac
      order=("${SERVERS[@]}")
      ((rep % 2 == 0)) || mapfile -t order < <(printf '%s\n' "${SERVERS[@]}" | tac)
      for s in "${order[@]}"; do
        # Every pxt server writes the same database: each run of each server gets ids of its own.
        if [ "$route" = insert ]; then
          si=0
          for k in "${!SERVERS[@]}"; do [ "${SERVERS[$k]}" = "$s" ] && si=$k; done
          args=($((1000000000 + (run_idx * 16 + si) * 30000000)) 10000000)
        fi
        out=$(timeout $((DURATION + 30)) wrk -t"$t" -c"$c" -d"${DURATION}s" --latency \
          -s "$ROOT/bench/wrk/$route.lua" "http://127.0.0.1:${PORT[$s]}" -- "${args[@]}") || die "wrk failed on $s"
        printf '== %s %s c=%s round %s\n%s\n' "$s" "$route" "$c" "$rep" "$out" >>"$RAW"
        key=$route/$c/$s
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
        bad=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { n += 1 } END { print n + 0 }' <<<"$out")
        BAD[$key]=$((${BAD[$key]:-0} + bad))
        if ((rps > ${RPS[$key]:-0})); then
          RPS[$key]=$rps
          P99[$key]=$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
        fi
      done
    done
  done
done

# The WAL device's commit rate: what bounds the writes of every machine together.
FSYNC=$(/usr/lib/postgresql/15/bin/pg_test_fsync -s 2 -f "$PG_DIR/data/fsync.test" 2>/dev/null |
  awk '/fdatasync/ && /ops\/sec/ { print $(NF-3); exit }')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
report() {
  echo "# pxt on PostgreSQL, $(date '+%Y-%m-%d %H:%M'), $(nproc) cores, best of $REPEAT rounds of ${DURATION}s, wrk -t min(c,2)"
  echo "# load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg); rows: $ROWS; PostgreSQL 15 settings: ${BENCH_PG_OPTS:-defaults}"
  printf '%-7s %5s %9s %9s %9s %9s %9s %11s %9s %10s %10s %10s %10s\n' route conns fastapi ceiling pxt pxt3nginx \
    pxt/ceil pxt/fastapi pxt3/pxt p99:fapi p99:ceil p99:pxt p99:pxt3
  for route in "${ROUTES[@]}"; do
    for c in "${CONNS[@]}"; do
      local f=${RPS[$route/$c/fastapi]} ce=${RPS[$route/$c/ceiling]} p=${RPS[$route/$c/pxt]} p3=${RPS[$route/$c/pxt3]:-}
      printf '%-7s %5s %9s %9s %9s %9s %9s %11s %9s %10s %10s %10s %10s\n' "$route" "$c" "$f" "$ce" "$p" "${p3:-n/a}" \
        "$(ratio "$p" "$ce")" "$(ratio "$p" "$f")" "$(ratio "$p3" "$p")" "${P99[$route/$c/fastapi]}" \
        "${P99[$route/$c/ceiling]}" "${P99[$route/$c/pxt]}" "${P99[$route/$c/pxt3]:-n/a}"
    done
  done
  local errs=0
  for k in "${!BAD[@]}"; do errs=$((errs + BAD[$k])); done
  echo "non-2xx or socket errors in all runs: $errs"
  echo "WAL device: pg_test_fsync fdatasync ${FSYNC:-?} ops/s (one commit each without group commit)"
  if [ -n "${RPS[${ROUTES[0]}/${CONNS[0]}/pxtng]:-}" ]; then
    for route in "${ROUTES[@]}"; do
      for c in "${CONNS[@]}"; do
        echo "group commit $route c=$c: on ${RPS[$route/$c/pxt]} req/s (p99 ${P99[$route/$c/pxt]} ms), off ${RPS[$route/$c/pxtng]} req/s (p99 ${P99[$route/$c/pxtng]} ms); on/off $(ratio "${RPS[$route/$c/pxt]}" "${RPS[$route/$c/pxtng]}")"
      done
    done
  fi
  if [ -n "${RPS[lookup/${CONNS[0]}/pxtrl]:-}" ]; then
    for route in "${ROUTES[@]}"; do
      for c in "${CONNS[@]}"; do
        echo "rate limit $route c=$c: none ${RPS[$route/$c/pxt]}, per process ${RPS[$route/$c/pxtrl]}, shared ${RPS[$route/$c/pxtrls]} req/s; shared/per-process $(ratio "${RPS[$route/$c/pxtrls]}" "${RPS[$route/$c/pxtrl]}") (target >= 0.90)"
      done
    done
  fi
  echo
  echo "targets (issue 15): at 8 and 64 connections insert and lookup >= 0.70 of the ceiling and >= 5x fastapi; p99 <= 15 ms at 64"
  for route in "${ROUTES[@]}"; do
    for c in "${CONNS[@]}"; do
      local rc rf ok
      rc=$(ratio "${RPS[$route/$c/pxt]}" "${RPS[$route/$c/ceiling]}")
      rf=$(ratio "${RPS[$route/$c/pxt]}" "${RPS[$route/$c/fastapi]}")
      ok=$(awk -v a="$rc" -v b="$rf" -v p="${P99[$route/$c/pxt]}" -v c="$c" \
        'BEGIN { print (a >= 0.70 && b >= 5 && (c != 64 || p <= 15)) ? "PASS" : "FAIL" }')
      echo "  $route c=$c: pxt/ceiling $rc, pxt/fastapi $rf, p99 ${P99[$route/$c/pxt]} ms: $ok"
    done
  done
}
report | tee "$OUT/routes_pg-$STAMP.txt"
echo "(raw wrk output: $RAW)"
