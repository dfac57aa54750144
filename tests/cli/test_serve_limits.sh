#!/usr/bin/env bash
# Limits: rate_limit (429 with Retry-After, per client, /healthz exempt), max_body_mb answered with
# 413 before the body is sent, read_timeout_s cutting off slow clients (trickled headers and
# bodies) while normal keep-alive clients keep working, and validation of the keys.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.notes"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "text", type = "String" } ]
TOML
write_service() {  # extra [service] lines
  cat >service.toml <<TOML
[service]
name = "notes"
modules = ["schema"]
$1

[[routes]]
type = "insert"
table = "app.notes"
path = "/notes"
TOML
}
base() { echo "http://127.0.0.1:$PORT"; }

# ---- validation ----
write_service $'rate_limit = "100/x"\nread_timeout_s = 0\nmax_body_mb = 0'
expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "service.toml:4: rate_limit: '100/x' is not a rate: expected N/s, N/m or N/h" "rate_limit"
expect_contains "$ERR" "service.toml:5: read_timeout_s: must be between 1 and 3600, got 0" "read_timeout_s"
expect_contains "$ERR" "service.toml:6: max_body_mb: must be at least 1, got 0" "max_body_mb"
write_service 'rate_limt = "1/s"'
expect_status 1 "$PXT" serve notes --config service.toml --dry-run
expect_contains "$ERR" "rate_limt: unknown key, did you mean 'rate_limit'?" "did you mean"

# ---- rate limit ----
write_service 'rate_limit = "5/m"'
start_server notes --config service.toml
for i in 1 2 3 4 5; do http POST /notes "{\"id\": $i}"; expect_eq "$STATUS" 200 "request $i within the limit"; done
HEADERS=$(curl -s -D - -o "$TMP/body" -X POST -H 'Content-Type: application/json' --data '{"id": 6}' "$(base)/notes" | tr -d '\r')
expect_contains "$HEADERS" "HTTP/1.1 429" "6th request"
retry=$(sed -n 's/^Retry-After: //p' <<<"$HEADERS")
[ "$retry" -ge 1 ] && [ "$retry" -le 60 ] || fail "Retry-After in 1..60, got [$retry]"
expect_contains "$(cat "$TMP/body")" '{"detail":"Rate limit exceeded' "429 body"
expect_eq "$("$PXT" count app.notes)" 5 "the refused insert stored nothing"
for _ in 1 2 3; do http GET /healthz; expect_eq "$STATUS" 200 "healthz is not limited"; done
http GET /openapi.json
expect_eq "$STATUS" 429 "the limit covers every other endpoint"
stop_server

# ---- a declared body over max_body_mb is refused before it is sent ----
# The client sends the headers only. A server that waited for the body would answer nothing until
# its read timeout (60 s here); the 413 must come long before, however loaded the machine.
write_service $'read_timeout_s = 60'
start_server notes --config service.toml
python3 - "$PORT" <<'PY' || fail "413 before the body"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
s.sendall(b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n")
t = time.time()
data = b""
while b"\r\n\r\n" not in data or not data.endswith(b"}"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
assert data.startswith(b"HTTP/1.1 413"), data
assert b'{"detail":"request body too large: the limit is 1 MB"}' in data, data
assert time.time() - t < 30, "413 took %.2f s: the server waited for the body" % (time.time() - t)
PY
stop_server

# ---- slow clients: trickled headers and bodies are cut off after read_timeout_s ----
# A guard that only timed single reads would never close these (a byte every 0.25 s): they would
# stay open for the whole 20 s. Closed no earlier than the deadline (read_timeout_s = 2 s for the
# headers, and for the body plus a second per 64 KiB), and well before 20 s on a loaded machine.
write_service $'read_timeout_s = 2'
start_server notes --config service.toml
python3 - "$PORT" <<'PY' || fail "slow clients"
import socket, sys, time
port = int(sys.argv[1])

def trickle(head, per_byte, limit):
    """Sends head at once, then one byte every per_byte seconds; returns seconds until the
    server closed the connection (or None if it was still open after limit seconds)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head)
    t = time.time()
    try:
        while time.time() - t < limit:
            s.sendall(b"a")
            s.settimeout(per_byte)
            try:
                if s.recv(4096) == b"":
                    return time.time() - t
            except socket.timeout:
                pass
    except (BrokenPipeError, ConnectionResetError):
        return time.time() - t
    return None

# Headers that never end (each byte arrives well within the per-read timeout).
took = trickle(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 0.25, 20)
assert took is not None and took < 12, "trickled headers held the connection: %r" % took
assert took >= 1.5, "trickled headers cut off after %.2f s, before read_timeout_s" % took
# A body that arrives at 4 bytes/s.
took = trickle(b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
               0.25, 20)
assert took is not None and took < 12, "trickled body held the connection: %r" % took
assert took >= 1.5, "trickled body cut off after %.2f s, before its deadline" % took
PY

# ---- a normal keep-alive client is not affected: idle 1.5 s between requests on one connection ----
# (read_timeout_s = 2 gives an idle keep-alive connection 4 s: a busy machine has 2.5 s of margin)
python3 - "$PORT" <<'PY' || fail "keep-alive client"
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
for i in range(3):
    c.request("POST", "/notes", body='{"id": %d}' % (100 + i), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, (r.status, r.read())
    r.read()
    time.sleep(1.5)
c.request("GET", "/healthz")
assert c.getresponse().status == 200
PY
M=$(curl -s "$(base)/metrics")
closed=$(sed -n 's/^pxt_slow_clients_closed_total //p' <<<"$M")
[ "$closed" -ge 2 ] || fail "slow connections counted in /metrics, got [$closed]"
stop_server
# Each cut is logged with the client's address and what was missing (issue 18.9).
grep -qE 'Z 127\.0\.0\.1 - - 408 .*request head not complete within read_timeout_s' "$TMP/server.log" ||
  fail "the slow head's 408 is not logged with the client address: $(grep ' 408 ' "$TMP/server.log")"
grep -qE 'Z 127\.0\.0\.1 POST /notes 408 .*request body too slow' "$TMP/server.log" ||
  fail "the slow body's 408 is not logged with the client address: $(grep ' 408 ' "$TMP/server.log")"
pass "serve limits"
