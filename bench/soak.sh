#!/usr/bin/env bash
# The mixed soak of issue 18 (6 minutes by default): lookups, inserts, updates, deletes, uploads
# of ~200 KB JPEGs thumbnailed in a computed column, background jobs and range GETs of stored
# media, all at once against one `pxt serve` (bench/wrk/soak.lua has the mix). While it runs, the
# WAL's size is sampled every 0.2 s and the server's RSS every second. It checks:
#   - the WAL never exceeds its bound (store/sqlite/checkpoint.cpp: 128 MB plus one checkpoint
#     pass; 160 MB here, journal_size_limit);
#   - the last minute's throughput is at least 90% of the first minute's;
#   - 30 s after the load, RSS is within 2x its idle figure (measured before the load);
#   - no request failed (wrk's count of non-2xx answers and the script's own count), the row
#     counts add up, and PRAGMA integrity_check passes.
# Usage: bench/soak.sh   Environment: PXT_BUILD_DIR (build), PXT (a binary), SOAK_MINUTES (6),
#   SOAK_CONNS (32), SOAK_ROWS (20000 pre-filled rows), BENCH_NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PXT_BUILD_DIR:-build}
MINUTES=${SOAK_MINUTES:-6}
CONNS=${SOAK_CONNS:-32}
ROWS=${SOAK_ROWS:-20000}
PY=/usr/bin/python3
note() { echo "soak.sh: $*" >&2; }
command -v wrk >/dev/null || { note "wrk is not installed (scripts/setup installs it)"; exit 1; }
$PY -c 'import PIL' 2>/dev/null || { note "python3-pil is needed (scripts/setup installs it)"; exit 1; }
PXT=${PXT:-$BUILD/pxt}
if [ "$PXT" = "$BUILD/pxt" ] && [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  cmake --build "$BUILD" --target pxt >"$BUILD/bench-pxt-build.log" 2>&1 ||
    { note "building pxt failed (see $BUILD/bench-pxt-build.log)"; exit 1; }
fi
PXT=$(realpath "$PXT")
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p bench/out
OUT=bench/out/soak-$(date -u +%Y%m%dT%H%M%SZ).txt
export PXT_HOME=$TMP/home

# A photo-like JPEG of about 200 KB.
export BENCH_IMAGE=$TMP/photo.jpg
$PY - "$BENCH_IMAGE" <<'PY'
import sys
from PIL import Image, ImageChops
w, h = 900, 675
m = Image.effect_mandelbrot((w, h), (-2.2, -1.2, 1.0, 1.2), 120)
# Sensor-like noise makes it compress as a photo does (about 200 KB; 57 KB without it).
gx = ImageChops.add(Image.linear_gradient("L").resize((w, h)), Image.effect_noise((w, h), 10), 1.0, -128)
gy = Image.linear_gradient("L").rotate(90).resize((w, h))
Image.merge("RGB", (m, gx, gy)).save(sys.argv[1], quality=92)
PY

cat >"$TMP/schema.toml" <<'TOML'
dirs = ["soak"]
[[tables]]
path = "soak.items"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "prompt", type = "String" },
  { name = "result", type = "String", computed = "upper(prompt)" },
]
[[tables]]
path = "soak.photos"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "photo", type = "Image" },
  { name = "thumb", type = "Image", computed = "thumbnail(photo, 256)" },
]
[[queries]]
name = "lookup"
table = "soak.items"
match = ["id"]
TOML
cat >"$TMP/service.toml" <<'TOML'
[[service]]
name = "soak"
modules = ["schema"]
[[service.routes]]
type = "insert"
table = "soak.items"
path = "/insert"
[[service.routes]]
type = "insert"
table = "soak.items"
path = "/insert_bg"
background = true
[[service.routes]]
type = "update"
table = "soak.items"
path = "/update"
inputs = ["prompt"]
[[service.routes]]
type = "delete"
table = "soak.items"
path = "/delete"
[[service.routes]]
type = "insert"
table = "soak.photos"
path = "/upload"
inputs = ["id"]
uploadfile_inputs = ["photo"]
outputs = ["id", "thumb"]
[[service.routes]]
type = "query"
path = "/lookup"
query = "schema.lookup"
method = "get"
one_row = true
TOML
"$PXT" schema update "$TMP/schema.toml" >/dev/null
$PY - "$ROWS" >"$TMP/rows.jsonl" <<'PY'
import json, sys
for i in range(1, int(sys.argv[1]) + 1):
    print(json.dumps({"id": i, "prompt": "pre-filled row %d" % i}))
PY
"$PXT" insert soak.items --file "$TMP/rows.jsonl" >/dev/null

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PXT" serve soak --config "$TMP/service.toml" --host 127.0.0.1 --port "$PORT" >"$TMP/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
# Stored media for the range GETs: 20 uploads before the load.
for i in $(seq 1 20); do
  curl -fs -F id=$((900000000 + i)) -F "photo=@$BENCH_IMAGE" "http://127.0.0.1:$PORT/upload" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["thumb"])'
done >"$TMP/media.txt"
export BENCH_MEDIA_LIST=$TMP/media.txt
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
# The check is on VmRSS; its parts are reported too, to tell the server's heap (RssAnon: SQLite's
# page caches, malloc arenas) from pages of the database file SQLite maps (RssFile, mmap_size).
rss_parts() { awk '/^Rss(Anon|File|Shmem)/ {printf "%s %d MB  ", $1, $2 / 1024}' "/proc/$SERVER/status"; }
sleep 2
idle=$(rss_kb)
idle_parts=$(rss_parts)

# Samplers: the WAL every 0.2 s, RSS every second.
( while kill -0 "$SERVER" 2>/dev/null; do stat -c %s "$PXT_HOME/pxt.db-wal" 2>/dev/null || echo 0; sleep 0.2; done ) >"$TMP/wal.txt" &
PIDS+=($!)
( while kill -0 "$SERVER" 2>/dev/null; do rss_kb; sleep 1; done ) >"$TMP/rss.txt" &
PIDS+=($!)

{
  echo "# soak: $MINUTES x 60 s, $CONNS connections, $ROWS pre-filled rows, photo $(stat -c %s "$BENCH_IMAGE") bytes"
  echo "# pxt: $PXT ($(git rev-parse --short HEAD 2>/dev/null || echo ?)); $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
# The server's CPU time (utime + stime, clock ticks): CPU per request says whether the server
# itself got slower, which a busy machine's throughput cannot tell apart from its neighbours.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
declare -a RPS CPU_US
bad_total=0
for m in $(seq 1 "$MINUTES"); do
  t0=$(cpu_ticks)
  wrk -t2 -c"$CONNS" -d60s --latency --timeout 10s -s bench/wrk/soak.lua "http://127.0.0.1:$PORT" -- $((m * 100000000)) "$ROWS" >"$TMP/wrk$m.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' "$TMP/wrk$m.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$TMP/wrk$m.txt")
  errs=$(awk '/Socket errors/ {print $0}' "$TMP/wrk$m.txt")
  bad=$(awk -F= '/^soak: bad=/ {print $2}' "$TMP/wrk$m.txt")
  bad_total=$((bad_total + ${bad:-0}))
  RPS[$m]=$rps
  CPU_US[$m]=$($PY -c "print('%.0f' % (($(cpu_ticks) - $t0) * $TICK_US / ($rps * 60)))")
  wal_mb=$(sort -n "$TMP/wal.txt" | tail -1 | awk '{printf "%.1f", $1 / 1048576}')
  echo "minute $m: $rps req/s, p99 $(awk '/99%/ {print $2}' "$TMP/wrk$m.txt"), bad answers ${bad:-?} ${non2xx:+(non-2xx $non2xx)} ${errs}, largest WAL so far $wal_mb MB, RSS $(( $(rss_kb) / 1024 )) MB, server CPU ${CPU_US[$m]} us/request" | tee -a "$OUT"
done
sleep 30
after=$(rss_kb)
after_parts=$(rss_parts)
wal_max=$(sort -n "$TMP/wal.txt" | tail -1)
peak_rss=$(sort -n "$TMP/rss.txt" | tail -1)
kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true
integrity=$(sqlite3 "$PXT_HOME/pxt.db" 'PRAGMA integrity_check')
photos=$("$PXT" count soak.photos)
files=$(find "$PXT_HOME/media" -type f -not -path '*/.tmp/*' -not -path '*/transient/*' | wc -l)
jobs_bad=$(sqlite3 "$PXT_HOME/pxt.db" "SELECT count(*) FROM \"pxt\$jobs\" WHERE status NOT IN ('done')")

first=${RPS[1]}; last=${RPS[$MINUTES]}
ratio=$($PY -c "print('%.2f' % ($last / $first))")
bound=$((160 * 1048576))
{
  echo "WAL: largest $(awk -v b="$wal_max" 'BEGIN {printf "%.1f", b / 1048576}') MB (bound 160 MB)"
  echo "throughput: first minute $first req/s, last $last req/s: ratio $ratio (>= 0.90)"
  echo "server CPU per request: first minute ${CPU_US[1]} us, last ${CPU_US[$MINUTES]} us (a server that slows down costs more per request, whatever the machine's load)"
  echo "RSS: idle $((idle / 1024)) MB, peak $((peak_rss / 1024)) MB, 30 s after the load $((after / 1024)) MB"
  echo "  idle:  $idle_parts"
  echo "  after: $after_parts(VmRSS <= 2x idle)"
  echo "integrity_check: $integrity; photos $photos rows, $files media files (2 per photo); unfinished or failed jobs $jobs_bad; bad answers $bad_total"
} | tee -a "$OUT"
ok=1
verdict() {  # condition-status what
  if [ "$1" = 0 ]; then echo "PASS $2" | tee -a "$OUT"; else echo "FAIL $2" | tee -a "$OUT"; ok=0; fi
}
set +e
[ "$wal_max" -le "$bound" ]; verdict $? "WAL within its bound"
$PY -c "import sys; sys.exit(0 if $last >= 0.9 * $first else 1)"; verdict $? "last minute >= 90% of the first"
[ "$after" -le $((2 * idle)) ]; verdict $? "RSS back within 2x idle"
[ "$integrity" = ok ] && [ "$files" -eq $((2 * photos)) ] && [ "$jobs_bad" = 0 ] && [ "$bad_total" = 0 ]
verdict $? "nothing lost or failed"
echo "saved to $OUT"
[ "$ok" = 1 ]
