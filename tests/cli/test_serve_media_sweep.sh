#!/usr/bin/env bash
# The orphan media sweep runs after `pxt serve` listens (issues 3 and 7), so the start does not
# wait for a walk over a big media folder, and it never removes a file of a write in flight.
# A home with SWEEP_TEST_ROWS (20,000) rows, each naming its own image, plus a planted orphan and
# upload temp file (both older than the server). A driver spawns the server and polls /healthz
# tightly from the spawn, then polls /metrics until pxt_media_sweep_done is 1.
#   (a) Start with many media rows: the server's banner (printed when it listens) comes before
#       the sweep's log line, and the first /healthz answer time and the sweep's own duration
#       are measured and printed (the old start swept first, then listened).
#   (b) Uploads during the sweep: PXT_TEST_MEDIA_SWEEP_GATE holds the sweep between reading the
#       references and walking the folder, the window in which an upload has its file on disk
#       and no committed row, until the driver opens the gate: once the sweep says it waits there,
#       4 clients upload until 8 uploads were answered inside the window, then the gate opens,
#       and they go on until 4 more were answered after the sweep was done. Every upload must be
#       answered 200 and each acknowledged one must keep its row and its file. A sweep that took
#       "unreferenced" for "orphan" removes them. The planted orphan must still be there at the
#       first answer (it was not swept before the server listened).
#   (c) The sweep still did its job: the planted orphan and temp file are gone, the file pxt did
#       not name is not, and a further start finds nothing left to remove.
#   (d) A SIGTERM while the sweep runs stops the server at once (the sweep is cancelled): held at
#       a gate that is never opened, it could only end by its cancel.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
ROWS=${SWEEP_TEST_ROWS:-20000}

"$PXT" create-dir m >/dev/null
"$PXT" create-table m.pics --column id:Int! --column img:Image --primary-key id >/dev/null
python3 - rows.jsonl "$ROWS" <<'PY'
import base64, json, struct, sys, zlib
def png(n):  # a distinct 1x1 PNG per row
    def chunk(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)
    raw = b"\x00" + bytes([n & 255, (n >> 8) & 255, (n >> 16) & 255])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"id": i, "img": "data:image/png;base64," + base64.b64encode(png(i)).decode()}) + "\n")
PY
t0=$(date +%s%N)
"$PXT" insert m.pics --file rows.jsonl >/dev/null
echo "  $ROWS media rows inserted in $((($(date +%s%N) - t0) / 1000000)) ms"

hex() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
plant() {  # an orphan and an upload temp file older than the next server, and a file pxt did not name
  orphan=$(hex)
  orphan=${orphan:0:2}/$orphan.png
  temp=.tmp/$(hex)
  mkdir -p "$PXT_HOME/media/${orphan%%/*}" "$PXT_HOME/media/.tmp"
  echo orphan >"$PXT_HOME/media/$orphan"
  echo temp >"$PXT_HOME/media/$temp"
  echo keep >"$PXT_HOME/media/${orphan%%/*}/operator-notes.txt"
}

cat >drive.py <<'PY'
import http.client, json, os, random, socket, subprocess, sys, threading, time
pxt, port, orphan, lib, uploading = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1"
gate = os.environ.get("PXT_TEST_MEDIA_SWEEP_GATE")
sys.path.insert(0, lib)
from load_client import noise_png

def get(path, timeout=2.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()

log = open("server.log", "w")
t0 = time.monotonic()
server = subprocess.Popen([pxt, "serve", "insert", "--table", "m.pics", "--path", "/pics", "--inputs", "id",
                           "--uploadfile-inputs", "img", "--outputs", "id", "img", "--host", "127.0.0.1",
                           "--port", str(port)], stdout=log, stderr=log)
out = {"pid": server.pid}
try:
    ready = None
    while time.monotonic() - t0 < 30 and server.poll() is None:
        try:
            if get("/healthz", 0.5)[0] == 200:
                ready = time.monotonic()
                break
        except OSError:
            time.sleep(0.002)
    if ready is None:
        sys.exit("the server did not answer /healthz within 30 s")
    out["orphan_at_first_answer"] = os.path.exists(orphan)
    out["ready_ms"] = round((ready - t0) * 1000, 1)

    stop = threading.Event()
    results, lock = [], threading.Lock()
    def client(k):
        rnd = random.Random(k)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = 0
        while not stop.is_set():
            i = 1000000 + k * 100000 + n
            n += 1
            body_img = noise_png(rnd, 48)
            b = "sweepboundary%d" % i
            body = (("--%s\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n%d\r\n" % (b, i)).encode() +
                    ("--%s\r\nContent-Disposition: form-data; name=\"img\"; filename=\"x.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n" % b).encode() + body_img + ("\r\n--%s--\r\n" % b).encode())
            try:
                c.request("POST", "/pics", body, {"Content-Type": "multipart/form-data; boundary=" + b})
                r = c.getresponse()
                text = r.read().decode()
            except OSError as e:
                with lock:
                    results.append({"id": i, "status": 0, "error": str(e), "t": time.monotonic()})
                return
            with lock:
                results.append({"id": i, "status": r.status, "body": text, "t": time.monotonic()})
    def answered_after(mark):
        with lock:
            return sum(1 for r in results if r["t"] > mark)
    def wait_for(what, cond):  # polls cond until true; gives up after 120 s
        limit = time.monotonic() + 120
        while not cond():
            if time.monotonic() > limit:
                sys.exit("waited 120 s for " + what)
            time.sleep(0.005)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(4 if uploading else 0)]
    for t in threads:
        t.start()
    window = None
    if gate:
        # The sweep has read the references and waits at the gate: uploads answered from now on
        # are in the window, until the gate opens.
        wait_for("the sweep to wait at its gate", lambda: os.path.exists(gate + ".waiting"))
        window = time.monotonic()
        if uploading:
            wait_for("8 uploads answered inside the window", lambda: answered_after(window) >= 8)
        opened = time.monotonic()
        open(gate, "w").close()
        out["in_window"] = sum(1 for r in results if window < r["t"] <= opened)
    done = None
    while time.monotonic() - t0 < 120:
        status, text = get("/metrics")
        # A pxt without the metric swept before it listened: done by now.
        if status == 200 and ("\npxt_media_sweep_done 1\n" in "\n" + text or "pxt_media_sweep_done" not in text):
            done = time.monotonic()
            break
        time.sleep(0.005)
    if uploading and done is not None:
        wait_for("4 uploads answered after the sweep", lambda: answered_after(done) >= 4)
    stop.set()
    for t in threads:
        t.join()
    if done is None:
        sys.exit("pxt_media_sweep_done never became 1")
    metrics = get("/metrics")[1]
    out["sweep_seconds"] = float(next((l.split()[1] for l in metrics.splitlines()
                                       if l.startswith("pxt_media_sweep_seconds ")), -1))
    out["done_ms"] = round((done - t0) * 1000, 1)
    out["uploads"] = len(results)
    out["during_sweep"] = out.get("in_window", 0)
    out["bad"] = [r for r in results if r["status"] != 200][:3]
    acked = {}
    for r in results:
        if r["status"] == 200:
            acked[str(r["id"])] = json.loads(r["body"])["img"]
    out["acked"] = acked
finally:
    server.terminate()
    server.wait(timeout=30)
print(json.dumps(out))
PY
drive() {  # uploading(0|1): runs the driver, leaves its JSON in drive.json and the log in server.log
  PORT=$(free_port)
  python3 drive.py "$PXT" "$PORT" "$PXT_HOME/media/$orphan" "$PXT_SRC/tests/cli" "$1" >drive.json 2>drive.err ||
    fail "driver: $(cat drive.err) $(cat server.log)"
  read -r ready_ms done_ms sweep_ms uploads during at_first <<<"$(python3 -c '
import json
d = json.load(open("drive.json"))
print(d["ready_ms"], d["done_ms"], round(d["sweep_seconds"] * 1000, 1), d.get("uploads", 0), d.get("during_sweep", 0), d["orphan_at_first_answer"])')"
}
sweep_line() { grep -n 'media sweep: removed' server.log | head -1 | cut -d: -f1; }
banner_line() { grep -n 'running on http' server.log | head -1 | cut -d: -f1; }

# (a)
plant
drive 0
echo "  first /healthz answer ${ready_ms} ms after the spawn; the sweep of $ROWS rows took ${sweep_ms} ms (done by ${done_ms} ms); orphan still there at the first answer: $at_first"
[ -n "$(sweep_line)" ] && [ -n "$(banner_line)" ] || fail "no banner or no sweep line: $(cat server.log)"
[ "$(banner_line)" -lt "$(sweep_line)" ] || fail "the sweep ran before the server listened: $(cat server.log)"
[ ! -e "$PXT_HOME/media/$orphan" ] || fail "the planted orphan survived the sweep"
pass "(a) with $ROWS media rows /healthz answered ${ready_ms} ms after the spawn; the sweep (${sweep_ms} ms) ran after the server listened"

# (b)
plant
PXT_TEST_MEDIA_SWEEP_GATE=$TMP/sweep-gate-b drive 1
echo "  first /healthz answer ${ready_ms} ms after the spawn; sweep done by ${done_ms} ms; $uploads uploads, $during of them answered while the sweep was held between its reading and its walk"
[ "$at_first" = True ] ||
  fail "the planted orphan was already swept when /healthz first answered (${ready_ms} ms): the start waited for the sweep"
bad=$(python3 -c 'import json; print(json.load(open("drive.json"))["bad"])')
[ "$bad" = "[]" ] || fail "uploads during the sweep not answered 200: $bad"
[ "$during" -ge 8 ] || fail "only $during uploads were answered while the sweep was held: the check did not run"
"$PXT" rows m.pics --where 'id >= 1000000' --columns id,img --format csv >rows.csv
check=$(python3 - drive.json rows.csv "$PXT_HOME/media" <<'PY'
import csv, json, os, sys
acked = json.load(open(sys.argv[1]))["acked"]
rows = {r["id"]: r["img"] for r in csv.DictReader(open(sys.argv[2]))}
media = sys.argv[3]
err = []
for i, url in sorted(acked.items()):
    rel = url.split("/media/", 1)[-1]
    if i not in rows:
        err.append("acknowledged id %s has no row" % i)
    elif not os.path.isfile(os.path.join(media, rel)):
        err.append("acknowledged id %s: its file %s was removed" % (i, rel))
print("; ".join(err[:5]) if err else "ok %d" % len(acked))
PY
)
[[ "$check" == ok* ]] || fail "uploads during the sweep: $check"
pass "(b) ${check#ok } uploads acknowledged while the sweep ran (or just after), every row and file there"

# (c)
[ ! -e "$PXT_HOME/media/$orphan" ] || fail "the planted orphan survived the sweep"
[ ! -e "$PXT_HOME/media/$temp" ] || fail "the planted upload temp file survived the sweep"
[ -e "$PXT_HOME/media/${orphan%%/*}/operator-notes.txt" ] || fail "the sweep removed a file pxt did not name"
expect_contains "$(cat server.log)" "media sweep: removed 1 orphan file(s) and 1 upload temp file(s)" "sweep log"
start_server insert --table m.pics --path /pics --inputs id --uploadfile-inputs img
wait_media_sweep
metrics=$(curl -fs "http://127.0.0.1:$PORT/metrics")
expect_contains "$metrics" 'pxt_media_orphans_removed_total{kind="file"} 0' "second start: nothing left to remove"
expect_contains "$metrics" 'pxt_media_orphans_removed_total{kind="upload_temp"} 0' "second start: no temp file left"
stop_server
pass "(c) the planted orphan and temp file swept, other files kept; a second start removes nothing"

# (d) A server stopped during its sweep stops at once, not after the sweep (held at a gate that is
# never opened: the sweep can only end by being cancelled; without the cancel, the stop would wait
# the gate's 10 minutes and the 60 s bound, a margin no load eats, fails).
plant
PXT_TEST_MEDIA_SWEEP_GATE=$TMP/sweep-gate-d start_server insert --table m.pics --path /pics --inputs id --uploadfile-inputs img
wait_until "the sweep to wait at its gate" test -e "$TMP/sweep-gate-d.waiting"
t0=$(date +%s%N)
kill -TERM "$SERVER_PID"
exited() { [ ! -e "/proc/$SERVER_PID" ] || [ "$(awk '{print $3}' "/proc/$SERVER_PID/stat" 2>/dev/null)" = Z ]; }
wait_until "the server to stop after SIGTERM during the sweep: the shutdown waits for the sweep" exited
set +e
wait "$SERVER_PID"
status=$?
set -e
stop_ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$status" 0 "exit status after SIGTERM during the sweep"
[ "$stop_ms" -lt 60000 ] || fail "SIGTERM during the sweep took ${stop_ms} ms: the shutdown waited for the sweep"
[ -e "$PXT_HOME/media/$orphan" ] || fail "the interrupted sweep still removed the orphan (it was held before the walk)"
pass "(d) SIGTERM during the sweep: stopped in ${stop_ms} ms, exit 0"
