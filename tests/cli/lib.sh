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

fail() { echo "FAIL: $*" >&2; exit 1; }
TEST_BACKEND=${PXT_TEST_BACKEND:-sqlite}
[ "$TEST_BACKEND" = postgres ] && source "$PXT_SRC/tests/cli/pg_store.sh"
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
# Starts `pxt serve ARGS...` in the background on $PORT (chosen here) and waits for /healthz.
# The server's stdout+stderr go to $TMP/server.log.
start_server() {
  PORT=$(free_port)
  "$PXT" serve "$@" --host 127.0.0.1 --port "$PORT" >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$TMP/server.log")"
    sleep 0.05
  done
  fail "server did not start: $(cat "$TMP/server.log")"
}
# Waits (at most 30 s) until the server on port ${1:-$PORT} says on /metrics that its start-up media
# sweeps are done (they run after the server listens, so /healthz answering says nothing about them).
wait_media_sweep() {
  local port=${1:-$PORT}
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -qx 'pxt_media_sweep_done 1' && return 0
    sleep 0.05
  done
  fail "the media sweep of the server on port $port did not finish within 30 s"
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
