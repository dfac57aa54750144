#!/usr/bin/env bash
# Upload-and-thumbnail benchmark (issue 4): POST a 2 MP JPEG as multipart/form-data to an insert
# route whose table computes thumbnail(photo, 256); the answer carries the thumbnail's URL.
#  pxt:     `pxt serve` with uploadfile_inputs = ["photo"]: the upload streams to a temp file, is
#           validated (libvips header + JPEG end marker), adopted, and the insert computes the
#           thumbnail (libvips, shrink-on-load) into a second file.
#  FastAPI: bench/fastapi_media_peer.py, the same work by hand with Pillow (python3-pil).
# Load: wrk, 2 threads, BENCH_CONNS connections each run, BENCH_DURATION seconds, best of
# BENCH_REPEAT. Reports requests/s, the ratio, p99, each server's peak RSS (VmHWM) after load and
# its CPU time per request (robust on a busy machine), and checks that every request stored a
# photo and a 256x192 thumbnail.
#
# Usage: bench/media.sh   (about 2 minutes)
# Environment: PXT_BUILD_DIR (build), PXT (a pxt binary), BENCH_CONNS ("1 8"), BENCH_DURATION
#   (10), BENCH_REPEAT (2), BENCH_NO_BUILD=1 (use the pxt binary as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${PXT_BUILD_DIR:-build}
CONNS=${BENCH_CONNS:-"1 8"}
DURATION=${BENCH_DURATION:-10}
REPEAT=${BENCH_REPEAT:-2}
PY=/usr/bin/python3
note() { echo "media.sh: $*" >&2; }
command -v wrk >/dev/null || { note "wrk is not installed (scripts/setup installs it)"; exit 1; }
$PY -c 'import PIL, fastapi, uvicorn, multipart' 2>/dev/null ||
  { note "python3-pil, -fastapi, -uvicorn and -multipart are needed (scripts/setup installs them)"; exit 1; }

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
OUT=bench/out/media-$(date -u +%Y%m%dT%H%M%SZ).txt

# The same 2 MP (1632x1224) photo-like JPEG as bench/image_functions.sh, quality 90.
export BENCH_IMAGE=$TMP/photo.jpg
$PY - "$BENCH_IMAGE" <<'PY'
import sys
from PIL import Image
w, h = 1632, 1224
m = Image.effect_mandelbrot((w, h), (-2.2, -1.2, 1.0, 1.2), 120)
gx = Image.linear_gradient("L").resize((w, h))
gy = Image.linear_gradient("L").rotate(90).resize((w, h))
Image.merge("RGB", (m, gx, gy)).save(sys.argv[1], quality=90)
PY

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {  # port pid
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$1/openapi.json" && return 0
    kill -0 "$2" 2>/dev/null || { note "server on port $1 exited"; exit 1; }
    sleep 0.05
  done
  note "server on port $1 did not start"; exit 1
}

cat >"$TMP/schema.toml" <<'TOML'
dirs = ["bench"]
[[tables]]
path = "bench.photos"
columns = [
  { name = "photo", type = "Image", required = true },
  { name = "thumb", type = "Image", computed = "thumbnail(photo, 256)" },
]
TOML
cat >"$TMP/service.toml" <<'TOML'
[[service]]
name = "media-bench"
modules = ["schema"]
[[service.routes]]
type = "insert"
table = "bench.photos"
path = "/upload"
inputs = []
uploadfile_inputs = ["photo"]
outputs = ["photo", "thumb"]
TOML

start_pxt() {
  export PXT_HOME=$TMP/pxt-home
  rm -rf "$PXT_HOME"
  PORT=$(free_port)
  (cd "$TMP" && exec "$PXT" serve media-bench --config service.toml --host 127.0.0.1 --port "$PORT" \
    ) >/dev/null 2>&1 &
  PID=$!
  PIDS+=("$PID")
  wait_up "$PORT" "$PID"
}
start_peer() {
  rm -rf "$TMP/peer-home"
  PORT=$(free_port)
  $PY "$SRC/bench/fastapi_media_peer.py" --home "$TMP/peer-home" --port "$PORT" >"$TMP/peer.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  wait_up "$PORT" "$PID"
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }

ms() {  # wrk duration (123.45us | 1.23ms | 1.02s) -> milliseconds
  awk -v d="$1" 'BEGIN { v = d + 0; if (d ~ /us$/) v /= 1000; else if (d ~ /ms$/) v += 0; else if (d ~ /s$/) v *= 1000; printf "%.1f", v }'
}
declare -A RPS P99 RSS CPU
{
  echo "# bench/media.sh $(date -u +%FT%TZ): ${DURATION}s per run, best of $REPEAT, connections: $CONNS"
  echo "# image: $(stat -c %s "$BENCH_IMAGE") bytes, 1632x1224 JPEG q90"
} | tee "$OUT"
for server in pxt fastapi; do
  for c in $CONNS; do
    best=0
    for _ in $(seq 1 "$REPEAT"); do
      if [ "$server" = pxt ]; then start_pxt; else start_peer; fi
      t=$((c < 2 ? c : 2))
      cpu0=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
      raw=$(timeout $((DURATION + 60)) wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s bench/wrk/upload.lua \
        "http://127.0.0.1:$PORT" 2>&1)
      echo "## $server c=$c" >>"$OUT"
      echo "$raw" >>"$OUT"
      if grep -q 'Non-2xx' <<<"$raw"; then note "$server: error responses: $(grep Non-2xx <<<"$raw")"; exit 1; fi
      rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$raw")
      p99=$(awk '$1 == "99%" { print $2 }' <<<"$raw")
      rss=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$PID/status")
      # CPU time the server spent per answered request: what the 2 cores can afford, whatever
      # else the machine runs.
      cpu1=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
      n=$(awk '/requests in/ { print $1 }' <<<"$raw")
      cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) * 1000 / hz / n }')
      # Every request stored a photo and its thumbnail (counted once in-flight requests finished).
      stop
      if [ "$server" = pxt ]; then
        rows=$("$PXT" count bench.photos --where 'width(thumb) = 256 AND height(thumb) = 192' | tr -d ' ')
        files=$(find "$PXT_HOME/media" -type f -not -path '*/.tmp/*' | wc -l)
      else
        rows=$($PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from photos').fetchone()[0])" "$TMP/peer-home/peer.db")
        files=$(find "$TMP/peer-home/media" -type f | wc -l)
      fi
      [ "$files" -eq $((2 * rows)) ] || { note "$server: $rows rows but $files files"; exit 1; }
      if [ "$rps" -gt "$best" ]; then
        best=$rps
        RPS[$server,$c]=$rps
        P99[$server,$c]=$(ms "$p99")
        RSS[$server,$c]=$rss
        CPU[$server,$c]=$cpu
      fi
    done
  done
done
{
  printf '\n%-6s %-8s %10s %10s %14s %12s\n' conns server "req/s" "p99 ms" "peak RSS MB" "CPU ms/req"
  for c in $CONNS; do
    for server in pxt fastapi; do
      printf '%-6s %-8s %10s %10s %14s %12s\n' "$c" "$server" "${RPS[$server,$c]}" "${P99[$server,$c]}" \
        "${RSS[$server,$c]}" "${CPU[$server,$c]}"
    done
    ratio=$(awk -v a="${RPS[pxt,$c]}" -v b="${RPS[fastapi,$c]}" 'BEGIN { printf "%.2f", a / b }')
    verdict=FAIL
    if awk -v r="$ratio" 'BEGIN { exit !(r >= 3) }' && [ "${RSS[pxt,$c]}" -lt "${RSS[fastapi,$c]}" ]; then verdict=PASS; fi
    echo "c=$c: pxt/fastapi throughput ${ratio}x, peak RSS ${RSS[pxt,$c]} vs ${RSS[fastapi,$c]} MB: $verdict (target: >= 3x, lower RSS)"
  done
} | tee -a "$OUT"
note "raw output saved in $OUT"
