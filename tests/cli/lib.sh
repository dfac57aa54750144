# Shared helpers for the end-to-end tests: source it first. Each test gets a fresh PXT_HOME in a
# temporary folder that is removed (and its servers stopped) on exit.
# With PXT_TEST_BACKEND=postgres (CTest's cli-pg/* tests) every pxt the test runs also gets
# $PXT_STORE: a fresh PostgreSQL database of its own (tests/cli/pg_store.sh), dropped on exit.
set -euo pipefail
: "${PXT:?PXT must point at the built pxt binary}"
PXT_SRC=${PXT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TMP=$(mktemp -d)
export PXT_HOME=$TMP/home
unset PXT_PATH PXT_STORE PXT_MEDIA_DIR
SERVER_PIDS=()
EXIT_HOOKS=()  # commands run by cleanup after the servers stopped
cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for hook in "${EXIT_HOOKS[@]}"; do eval "$hook" || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
# Under set -e a failing command at the test's top level, e.g. `STATUS=$(curl ...)` when curl
# cannot connect, ends the test with no word of why (test_serve_media once failed so under load):
# name the line, the command and its status. Only while errexit is on, so a test's own `set +e`
# section stays quiet; functions do not inherit the trap (no errtrace), and fail() says its own.
trap 'pxt_err_rc=$?; [[ $- == *e* ]] && echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \`$BASH_COMMAND\` exited $pxt_err_rc" >&2' ERR

fail() { echo "FAIL: $*" >&2; exit 1; }
TEST_BACKEND=${PXT_TEST_BACKEND:-sqlite}
pass() { echo "ok: $*"; }
expect_eq() {  # actual expected what
  [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"
}
expect_contains() {  # haystack needle what
  [[ "$1" == *"$2"* ]] || fail "$3: expected to contain [$2], got [$1]"
}
expect_not_contains() {
  [[ "$1" != *"$2"* ]] || fail "$3: expected not to contain [$2], got [$1]"
}
# Runs a command that must fail with the given status; its stderr is left in $ERR, stdout in $OUT.
expect_status() {  # status cmd...
  local want=$1; shift
  set +e
  OUT=$("$@" 2>"$TMP/stderr"); local got=$?
  set -e
  ERR=$(cat "$TMP/stderr")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $ERR"
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# ---- waiting for states, not for time (issue 19) ----
# A test waits for something it can observe (a file, a log line, a metric), never sleeps and
# hopes. The deadline is only a safety net against a hang: far above what a loaded machine needs,
# so load cannot make a correct program fail (PXT_TEST_WAIT_S overrides it).
WAIT_S=${PXT_TEST_WAIT_S:-60}
# Runs CMD... every 20 ms until it succeeds; fails with WHAT after $WAIT_S seconds.
wait_until() {  # what cmd...
  local what=$1 deadline=$((SECONDS + WAIT_S))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "waited ${WAIT_S} s for: $what"
    sleep 0.02
  done
}
# The value of a sample on /metrics of the server on $PORT ("" when absent), e.g.
# metric pxt_jobs_running, metric 'pxt_http_requests_total{method="GET",route="/healthz",status="200"}'.
metric() {  # sample-name
  curl -fs "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }  # sample value
log_has() { grep -qE -- "$2" "$1"; }           # file regex
# Gates, with PXT_TEST_FUNCTIONS=1 (store/functions/test_functions.cpp): a computed column or a
# query calling pxt_gate(path, v) / pxt_gate_ahead(path, v) notes its start in PATH.started and
# waits until PATH exists. gate_wait waits until N calls have started; gate_open lets them go.
gate_started() { [ -f "$1.started" ] && [ "$(wc -l <"$1.started")" -ge "$2" ]; }
gate_wait() { wait_until "$2 call(s) waiting at gate $1" gate_started "$1" "$2"; }  # gate n
gate_open() { touch "$1"; }
# A test that cannot run here (a missing tool, no root for a tmpfs) says why and exits 77, which
# CTest shows as skipped (SKIP_RETURN_CODE). The reason is also left in $PXT_SKIP_DIR, where the
# `required-tests-ran` check fails the suite under CI=true: in CI every test is required.
skip() {  # reason
  echo "SKIP: $*"
  if [ -n "${PXT_SKIP_DIR:-}" ]; then
    mkdir -p "$PXT_SKIP_DIR"
    echo "$(basename "$0" .sh): $*" >"$PXT_SKIP_DIR/$(basename "$0" .sh)"
  fi
  exit 77
}
# After skip: a PostgreSQL-backed run skips when the machine has no PostgreSQL server.
if [ "$TEST_BACKEND" = postgres ]; then source "$PXT_SRC/tests/cli/pg_store.sh"; fi
# Empties the test's store: a fresh home and, on PostgreSQL, a fresh database.
fresh_store() {
  rm -rf "$PXT_HOME"
  if [ "$TEST_BACKEND" = postgres ]; then
    "$STORE_PG_CLUSTER" psql "$STORE_PG_DIR" -c "DROP DATABASE IF EXISTS $STORE_PG_DB WITH (FORCE)" \
      -c "CREATE DATABASE $STORE_PG_DB" >/dev/null
  fi
}
# Mounts a tmpfs of SIZE (e.g. 8m) on $PXT_HOME, a disk a test can fill; unmounted on exit. Skips
# the test when it cannot be mounted (it needs root, as CI has).
small_disk_home() {  # size
  mkdir -p "$PXT_HOME"
  mount -t tmpfs -o "size=$1" pxt-test-full "$PXT_HOME" 2>"$TMP/mount.err" ||
    skip "cannot mount a tmpfs for the home (needs root): $(cat "$TMP/mount.err")"
  trap unmount_small_disk EXIT
}
unmount_small_disk() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  umount "$PXT_HOME" 2>/dev/null || umount -l "$PXT_HOME" 2>/dev/null || true
  cleanup
}
# Waits until the server PID answers /healthz on PORT; fails at once if it exits.
wait_healthz() {  # pid port log
  local deadline=$((SECONDS + WAIT_S))
  until curl -fs "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; do
    kill -0 "$1" 2>/dev/null || fail "server exited: $(cat "$3")"
    [ "$SECONDS" -lt "$deadline" ] || fail "server did not answer /healthz within ${WAIT_S} s: $(cat "$3")"
    sleep 0.02
  done
}
# ---- end of waiting helpers ----

# Starts `pxt serve ARGS...` in the background on $PORT (chosen here) and waits for /healthz.
# The server's stdout+stderr go to $TMP/server.log.
start_server() {
  PORT=$(free_port)
  "$PXT" serve "$@" --host 127.0.0.1 --port "$PORT" >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  wait_healthz "$SERVER_PID" "$PORT" "$TMP/server.log"
}
# Waits until the server on port ${1:-$PORT} says on /metrics that its start-up media
# sweeps are done (they run after the server listens, so /healthz answering says nothing about them).
wait_media_sweep() {
  local port=${1:-$PORT}
  wait_until "the media sweep of the server on port $port to finish" \
    eval "curl -fs 'http://127.0.0.1:$port/metrics' | grep -qx 'pxt_media_sweep_done 1'"
}
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}
# curl helpers: $STATUS gets the HTTP status, $BODY the body.
http() {  # method path [json-body]
  local method=$1 path=$2 body=${3:-}
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$method")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  STATUS=$(curl "${args[@]}" "http://127.0.0.1:$PORT$path")
  BODY=$(cat "$TMP/body")
}
# ---- model stand-in (scripts/model-standin): an OpenAI-compatible server on 127.0.0.1 ----
# Starts it on a free port (extra args go to it: --delay-ms, --dim, --api-key) and sets
# $STANDIN_PORT and $STANDIN_URL (the base_url, ending in /v1). It is stopped on exit.
start_standin() {
  local pf="$TMP/standin.port"
  rm -f "$pf"
  python3 "$PXT_SRC/scripts/model-standin" --port 0 --port-file "$pf" "$@" >"$TMP/standin.log" 2>&1 &
  STANDIN_PID=$!
  SERVER_PIDS+=("$STANDIN_PID")
  for _ in $(seq 1 400); do
    [ -s "$pf" ] && break
    kill -0 "$STANDIN_PID" 2>/dev/null || fail "stand-in exited: $(cat "$TMP/standin.log")"
    sleep 0.05
  done
  [ -s "$pf" ] || fail "stand-in did not start: $(cat "$TMP/standin.log")"
  STANDIN_PORT=$(cat "$pf")
  STANDIN_URL="http://127.0.0.1:$STANDIN_PORT/v1"
}
# Changes the stand-in's behaviour: a JSON object (see scripts/model-standin), e.g.
# standin_control '{"fail": [{"status": 500, "times": 2}]}'.
standin_control() {
  curl -fs -X POST -H 'Content-Type: application/json' --data-binary "$1" \
    "http://127.0.0.1:$STANDIN_PORT/_control" >/dev/null || fail "stand-in control failed: $1"
}
standin_reset() { curl -fs -X POST "http://127.0.0.1:$STANDIN_PORT/_reset" >/dev/null; }
# One counter of the stand-in's /_stats (chat, embeddings, models, inputs, max_in_flight, ...).
standin_stat() {
  curl -fs "http://127.0.0.1:$STANDIN_PORT/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
