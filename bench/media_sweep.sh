#!/usr/bin/env bash
# The orphan sweep of `pxt serve` on a big media folder (issue 7): a table of N rows, each with
# its own image file (pxt insert of data: URIs), plus ORPHANS unreferenced files and temp files
# planted in pxt's naming scheme; then `pxt serve` is started and the sweep's own log line gives
# what it removed and how long it took (reading the references, and in all). Each start reports
# when /healthz first answered and when /metrics said the sweep was done (it runs after the
# server listens). A second start (nothing to remove) is timed too. Prints both.
#
# With SWEEP_PEER=/path/to/another/pxt, both binaries then start SWEEP_STARTS (5) more times each,
# alternately on the same home, each start with one orphan planted so that the sweep logs its
# line; the medians of "first answer", "references read" and "sweep in all" are printed per
# binary (a pxt that sweeps before listening has no separate read time: shown as -).
#
# Usage: bench/media_sweep.sh        (about a minute for 100,000 rows)
# Environment: PXT_BUILD_DIR (build), PXT (binary), SWEEP_ROWS (100000), SWEEP_ORPHANS (1000),
# SWEEP_PEER, SWEEP_STARTS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PXT_BUILD_DIR:-build}
PXT=$(realpath -m "${PXT:-$BUILD/pxt}")
ROWS=${SWEEP_ROWS:-100000}
ORPHANS=${SWEEP_ORPHANS:-1000}
[ -x "$PXT" ] || { echo "media_sweep.sh: no pxt binary at $PXT (scripts/build)" >&2; exit 1; }
TMP=$(mktemp -d)
SERVER=""
cleanup() {
  [ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  rm -rf "$TMP"
}
trap cleanup EXIT
export PXT_HOME=$TMP/home
"$PXT" create-dir b >/dev/null
"$PXT" create-table b.pics --column id:Int --column img:Image --primary-key id >/dev/null
python3 - "$TMP/rows.jsonl" "$ROWS" <<'PY'
import base64, json, struct, sys, zlib
def png(n):  # a distinct 1x1 PNG per row
    def chunk(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)
    raw = b"\x00" + bytes([n & 255, (n >> 8) & 255, (n >> 16) & 255])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"id": i, "img": "data:image/png;base64," + base64.b64encode(png(i)).decode()}) + "\n")
PY
t0=$(date +%s.%N)
"$PXT" insert b.pics --file "$TMP/rows.jsonl" >/dev/null
t1=$(date +%s.%N)
python3 - "$PXT_HOME/media" "$ORPHANS" <<'PY'
import os, secrets, sys
media, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(media, ".tmp"), exist_ok=True)
for i in range(n):
    h = secrets.token_hex(16)
    d = os.path.join(media, h[:2]) if i % 2 else os.path.join(media, ".tmp")
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, h + (".png" if i % 2 else "")), "wb").write(b"orphan")
PY
files=$(find "$PXT_HOME/media" -type f | wc -l)
serve_once() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local start
  start=$(date +%s%N)
  "${1:-$PXT}" serve insert --table b.pics --path /p --host 127.0.0.1 --port "$port" >"$TMP/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.02; done
  READY_MS=$((($(date +%s%N) - start) / 1000000))
  # The sweep runs after the server listens: wait for it (a pxt without the metric swept before).
  for _ in $(seq 1 1500); do
    m=$(curl -fs "http://127.0.0.1:$port/metrics" || true)
    grep -q '^pxt_media_sweep_done' <<<"$m" || break
    grep -q '^pxt_media_sweep_done 1' <<<"$m" && break
    sleep 0.02
  done
  SWEPT_MS=$((($(date +%s%N) - start) / 1000000))
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}
serve_once
sweep=$(grep 'media sweep' "$TMP/serve.log" || echo "no sweep line")
first_ready=$READY_MS first_swept=$SWEPT_MS
left=$(find "$PXT_HOME/media" -type f | wc -l)
serve_once
echo "rows: $ROWS (inserted in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s), files before: $files, after: $left"
echo "first start: $sweep; ready in $first_ready ms, sweep done $first_swept ms after the start"
echo "second start (nothing to remove): ready in $READY_MS ms, sweep done $SWEPT_MS ms after the start"

[ -n "${SWEEP_PEER:-}" ] || exit 0
PEER=$(realpath -m "$SWEEP_PEER")
for i in $(seq 1 "${SWEEP_STARTS:-5}"); do
  for who in pxt peer; do
    h=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    mkdir -p "$PXT_HOME/media/${h:0:2}"
    echo orphan >"$PXT_HOME/media/${h:0:2}/$h.png"
    if [ "$who" = pxt ]; then serve_once "$PXT"; else serve_once "$PEER"; fi
    line=$(grep 'media sweep' "$TMP/serve.log" || true)
    read_ms=$(sed -n 's/.*read in \([0-9]*\) ms.*/\1/p' <<<"$line")
    all_ms=$(sed -n 's/.*[ ,(]\([0-9]*\) ms\( in all\)\{0,1\}[;)].*/\1/p' <<<"$line" | tail -1)
    echo "$who ${READY_MS} ${read_ms:--} ${all_ms:--}" >>"$TMP/starts"
  done
done
echo "medians over ${SWEEP_STARTS:-5} starts each (ms): binary, first answer, references read, sweep in all"
python3 - "$TMP/starts" "$PXT" "$PEER" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for who, path in (("pxt", sys.argv[2]), ("peer", sys.argv[3])):
    mine = [r for r in rows if r[0] == who]
    def med(k):
        vals = [float(r[k]) for r in mine if r[k] != "-"]
        return "%.0f" % statistics.median(vals) if vals else "-"
    print("%-4s %-40s first answer %5s  read %5s  sweep %5s" % (who, path, med(1), med(2), med(3)))
PY
