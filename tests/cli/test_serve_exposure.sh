#!/usr/bin/env bash
# The non-loopback warning, end to end: `pxt serve` without auth on 0.0.0.0 prints exactly one
# warning line on stderr; with auth_tokens, or on 127.0.0.1, it prints none.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

"$PXT" create-dir d >/dev/null
"$PXT" create-table d.t --column id:Int >/dev/null

service() {  # extra [service] lines
  cat >service.toml <<TOML
[[service]]
name = "exp"
$1

[[service.routes]]
type = "insert"
table = "d.t"
path = "/t"
TOML
}

# Starts the server on HOST with a free port, waits for /healthz (on loopback), stops it and
# leaves its stderr in $TMP/err and the number of warning lines in WARNINGS.
serve_on() {  # host
  local port pid
  port=$(free_port)
  "$PXT" serve exp --config service.toml --host "$1" --port "$port" >"$TMP/out" 2>"$TMP/err" &
  pid=$!
  SERVER_PIDS+=("$pid")
  wait_healthz "$pid" "$port" "$TMP/err"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  WARNINGS=$(grep -c '^pxt: warning:' "$TMP/err" || true)
}

service ""
serve_on 0.0.0.0
expect_eq "$WARNINGS" 1 "0.0.0.0 without auth: warning lines"
expect_contains "$(cat "$TMP/err")" "pxt: warning: serving without authentication on 0.0.0.0" "warning text"
expect_contains "$(cat "$TMP/err")" "auth_tokens" "the warning says how to fix it"
pass "0.0.0.0 without auth: one warning line"

serve_on 127.0.0.1
expect_eq "$WARNINGS" 0 "127.0.0.1 without auth: warning lines"
pass "127.0.0.1 without auth: no warning"

export API_TOKEN=secret-token-for-exposure-test
service 'auth_tokens = ["${API_TOKEN}"]'
serve_on 0.0.0.0
expect_eq "$WARNINGS" 0 "0.0.0.0 with auth_tokens: warning lines"
pass "0.0.0.0 with auth_tokens: no warning"
