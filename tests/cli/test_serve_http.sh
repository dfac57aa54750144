#!/usr/bin/env bash
# The connection layer as real clients see it (issues 12 and 18): HTTP/1.1 pipelining on raw
# sockets and with undici; framing a proxy could read differently refused (400/501) and the
# connection closed; an answer that says Connection: close closes (a 401's body is never read as
# a request); 100 Continue only after auth; /healthz 405 without reading a body; the headers this
# layer owns (Vary, gzip;q=0, 304 without Content-Length, Accept-Ranges only on /media, HTTP/1.0
# and 413 with Connection: close and no Keep-Alive); rejected requests logged with the client's
# address; JSON log lines valid whatever bytes the path holds.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
export PYTHONPATH=$PXT_SRC/tests/cli

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.t"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "img", type = "Image" },
]
TOML
write_service() {  # extra [service] lines
  cat >service.toml <<TOML
[service]
name = "h"
modules = ["schema"]
cors_origins = ["https://app.example"]
max_body_mb = 1  # the 413 checks send 5 MB (the default limit is 32 MB)
$1

[[routes]]
type = "insert"
table = "app.t"
path = "/t"
inputs = ["id", "name"]
outputs = ["id", "name"]

[[routes]]
type = "insert"
table = "app.t"
path = "/u"
inputs = ["id"]
uploadfile_inputs = ["img"]
outputs = ["id", "img"]
TOML
}
python3 "$PXT_SRC/tests/cli/make_png.py" pic.png 8 8 1

write_service ''
start_server h --config service.toml

# ---- pipelining: every request answered, in order (before: 1 answer of 3, then a 2 s close) ----
python3 - "$PORT" <<'PY' || fail "pipelining"
import sys, time, rawhttp
port = int(sys.argv[1])
GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
def post(path, body, ctype=b"application/json"):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype +
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

c = rawhttp.Conn(port, timeout=5)
c.send(GET * 3)
a = c.answers(3)
assert [x[0] for x in a] == [200, 200, 200], a
assert all(x[3] == b'{"status":"ok"}' for x in a), a

c.send(post(b"/t", b'{"id": 1, "name": "one"}') + GET)
a = c.answers(2)
assert [x[0] for x in a] == [200, 200], a
assert b'"name":"one"' in a[0][3] and a[1][3] == b'{"status":"ok"}', a

# The body arrives in the same packet as the next request's head.
body = b'{"id": 2, "name": "two"}'
c.send(post(b"/t", body)[:-len(body)])
time.sleep(0.05)
c.send(body + GET + b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
a = c.answers(3)
assert [x[0] for x in a] == [200, 200, 404], a
assert b'"name":"two"' in a[0][3], a

# A multipart upload followed by a GET, in one write.
png = open("pic.png", "rb").read()
mp = (b"--BoUnDaRy\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n3\r\n"
      b"--BoUnDaRy\r\nContent-Disposition: form-data; name=\"img\"; filename=\"p.png\"\r\n"
      b"Content-Type: image/png\r\n\r\n" + png + b"\r\n--BoUnDaRy--\r\n")
c.send(post(b"/u", mp, b"multipart/form-data; boundary=BoUnDaRy") + GET)
a = c.answers(2)
assert [x[0] for x in a] == [200, 200], a
assert b'"img":"/media/' in a[0][3], a
c.close()
PY
expect_eq "$("$PXT" count app.t)" 3 "rows stored by the pipelined requests"
pass "pipelining: 3 GETs, POST+GET, body sharing a packet with the next head, upload+GET"

# ---- undici with pipelining: 3 (before: 21 of 30 answers, UND_ERR_SOCKET) ----
UNDICI=$PXT_SRC/third_party/undici
[ -f "$UNDICI/package.json" ] || fail "undici is missing from third_party/: run scripts/setup"
out=$(UNDICI=$UNDICI PORT=$PORT node - <<'JS'
const { Client } = require(process.env.UNDICI);
const client = new Client(`http://127.0.0.1:${process.env.PORT}`, { pipelining: 3 });
(async () => {
  let ok = 0;
  const jobs = [];
  for (let i = 0; i < 30; i++) {
    const post = i % 5 === 0;
    jobs.push(client.request(post
      ? { path: '/t', method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: 100 + i }) }
      : { path: '/healthz', method: 'GET' })
      .then(async (r) => { await r.body.text(); if (r.statusCode === 200) ok++; }));
  }
  const results = await Promise.allSettled(jobs);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason.code || r.reason.message);
  console.log(ok + (errors.length ? ' ' + errors[0] : ''));
  await client.close();
})();
JS
)
expect_eq "$out" 30 "undici Client({pipelining: 3}): answers"
pass "undici pipelining"

# ---- framing a front proxy could read differently: refused, and the connection closed ----
python3 - "$PORT" <<'PY' || fail "strict framing"
import sys, rawhttp
port = int(sys.argv[1])
GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
P = b"POST /t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
cases = [
    (b"CL + TE", P + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"listed CL", P + b"Content-Length: 0, 70\r\n\r\n", 400),
    (b"CL 12abc", P + b"Content-Length: 12abc\r\n\r\n", 400),
    (b"CL +12", P + b"Content-Length: +12\r\n\r\n", 400),
    (b"two CLs", P + b"Content-Length: 9\r\nContent-Length: 9\r\n\r\n{\"id\": 9}", 400),
    (b"TE gzip, chunked", P + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    (b"TE identity", P + b"Transfer-Encoding: identity\r\n\r\n", 501),
    (b"space before colon", P + b"Content-Length : 9\r\n\r\n{\"id\": 9}", 400),
    (b"NUL in a value", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    (b"CR in a value", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    (b"no Host", b"GET /healthz HTTP/1.1\r\n\r\n", 400),
    (b"two Hosts", b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"chunk size 0x5", P + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    (b"chunk size +5", P + b"Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400),
]
for name, data, want in cases:
    c = rawhttp.Conn(port, timeout=5)
    c.send(data + GET)
    a = c.answer()
    assert a is not None and a[0] == want, (name, want, a)
    assert a[1].get("connection") == "close" and "keep-alive" not in a[1], (name, a[2])
    assert c.closed(), (name, "the connection stayed open: the next request would be answered")
    c.close()
PY
expect_eq "$("$PXT" count app.t)" 9 "nothing stored by the refused requests"
pass "strict framing: 400/501 and close"

# ---- response headers this layer owns ----
python3 - "$PORT" <<'PY' || fail "response headers"
import sys, rawhttp
port = int(sys.argv[1])
def get(path, extra=b"", version=b"HTTP/1.1"):
    c = rawhttp.Conn(port, timeout=5)
    c.send(b"GET " + path + b" " + version + b"\r\nHost: x\r\n" + extra + b"\r\n")
    a = c.answer()
    closed = c.closed()
    c.close()
    return a, closed

a, _ = get(b"/openapi.json", b"Accept-Encoding: gzip\r\n")
assert a[1].get("content-encoding") == "gzip", a[2]
assert "Accept-Encoding" in a[1].get("vary", ""), a[2]
a, _ = get(b"/openapi.json", b"Accept-Encoding: gzip;q=0\r\n")
assert "content-encoding" not in a[1] and a[3].startswith(b"{"), a[2]
assert "Accept-Encoding" in a[1].get("vary", ""), a[2]
a, _ = get(b"/openapi.json", b"Origin: https://app.example\r\n")
assert a[1].get("vary") == "Origin, Accept-Encoding", a[2]
for path in (b"/healthz", b"/docs", b"/openapi.json", b"/t"):
    a, _ = get(path)
    assert "accept-ranges" not in a[1], (path, a[2])
# HTTP/1.0: answered, then closed, saying Connection: close only.
a, closed = get(b"/healthz", version=b"HTTP/1.0")
assert a[0] == 200 and a[1].get("connection") == "close" and "keep-alive" not in a[1] and closed, a[2]
# 413 on a declared length: Connection: close only, and closed.
c = rawhttp.Conn(port, timeout=5)
c.send(b"POST /t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n")  # over the default 32 MB
a = c.answer()
assert a[0] == 413 and a[1].get("connection") == "close" and "keep-alive" not in a[1], a[2]
assert c.closed()
PY
# /media: ranges honoured (Accept-Ranges), and a 304 without Content-Length.
media=$(curl -s -F id=60 -F img=@pic.png "http://127.0.0.1:$PORT/u" | jq -r .img)
[[ "$media" == /media/* ]] || fail "upload answered $media"
python3 - "$PORT" "$media" <<'PY' || fail "media headers"
import sys, rawhttp
port, path = int(sys.argv[1]), sys.argv[2].encode()
c = rawhttp.Conn(port, timeout=5)
c.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
a = c.answer()
assert a[0] == 200 and a[1].get("accept-ranges") == "bytes", a[2]
etag = a[1]["etag"].encode()
c.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + b"\r\n\r\n")
a = c.answer()
assert a[0] == 304 and "content-length" not in a[1], a[2]
c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
assert c.answer()[0] == 200  # the 304 left the connection usable
PY
pass "Vary, gzip;q=0, Accept-Ranges, 304, HTTP/1.0 and 413 closing"

# ---- /healthz: GET and HEAD only; others 405 at once, the body never read ----
python3 - "$PORT" <<'PY' || fail "healthz 405"
import sys, rawhttp
c = rawhttp.Conn(int(sys.argv[1]), timeout=5)
# The 1 MB body is never sent: the answer must not wait for it.
c.send(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
a = c.answer()
assert a[0] == 405 and a[1].get("allow") == "GET, HEAD", a[2]
assert a[1].get("connection") == "close" and c.closed()
PY
pass "healthz 405 without reading the body"

# ---- rejected requests are logged with the client's address ----
python3 - "$PORT" <<'PY'
import sys, rawhttp
port = int(sys.argv[1])
for data in (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
             b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n"):
    c = rawhttp.Conn(port, timeout=5)
    c.send(data)
    c.answer()
    c.close()
PY
stop_server
log=$(cat "$TMP/server.log")
for status in 400 414 431 501; do
  grep -qE "Z 127\.0\.0\.1 [^ ]+ [^ ]+ $status " <<<"$log" || fail "no $status line with the client address: $log"
done
grep -qE 'Z 127\.0\.0\.1 POST /t 400 .*error="Bad Request: both Content-Length and Transfer-Encoding"' <<<"$log" ||
  fail "the 400 names its reason: $log"
pass "rejections logged with the client address"

# ---- auth: the 401 closes (its body is never read as a request); 100 Continue after auth ----
write_service 'auth_tokens = ["sekrit"]'
start_server h --config service.toml
python3 - "$PORT" <<'PY' || fail "401 closes"
import sys, rawhttp
port = int(sys.argv[1])
smuggled = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekrit\r\n\r\n"
c = rawhttp.Conn(port, timeout=5)
c.send(b"POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(smuggled) + 50).encode() + b"\r\n\r\n" + smuggled)
a = c.answer()
assert a[0] == 401 and a[1].get("connection") == "close" and "keep-alive" not in a[1], a[2]
assert c.closed(), "the smuggled request was answered"
c.close()
# Expect: 100-continue with a wrong token: the 401 comes first, never a 100.
c = rawhttp.Conn(port, timeout=5)
c.send(b"POST /t HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\n"
       b"Content-Length: 9\r\nExpect: 100-continue\r\n\r\n")
a = c.answer()
assert a[0] == 401, a[2]
c.close()
# With the right token: 100, then the answer once the body is sent.
c = rawhttp.Conn(port, timeout=5)
c.send(b"POST /t HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekrit\r\nContent-Type: application/json\r\n"
       b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n")
a = c.answer()
assert a[0] == 100, a[2]
c.send(b'{"id": 77}')
a = c.answer()
assert a[0] == 200, a
PY
stop_server
pass "401 closes; 100 Continue only after auth"

# ---- JSON log lines stay JSON whatever bytes the path holds ----
PORT=$(free_port)
"$PXT" serve h --config service.toml --host 127.0.0.1 --port "$PORT" --log-format json >"$TMP/json.log" 2>&1 &
SERVER_PID=$!
SERVER_PIDS+=("$SERVER_PID")
wait_healthz "$SERVER_PID" "$PORT" "$TMP/json.log"
python3 - "$PORT" <<'PY'
import sys, rawhttp
port = int(sys.argv[1])
for target in (b"/%ff%fe%c3", b"/caf\xc3\xa9/\xff\xfe?q=\xe9", b"/" + b"\xc3\xa9" * 700):
    c = rawhttp.Conn(port, timeout=5)
    c.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    c.answer()
    c.close()
PY
stop_server
python3 - "$TMP/json.log" <<'PY' || fail "JSON log lines"
import json, sys
lines = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l.startswith(b"{\"time\"")]
assert len(lines) >= 4, lines
for raw in lines:
    rec = json.loads(raw.decode("utf-8"))  # strict UTF-8, then JSON
    assert rec["remote"] == "127.0.0.1", rec
assert any("\\xff" in json.loads(l)["path"] for l in lines), lines
PY
pass "JSON log lines are valid JSON"
