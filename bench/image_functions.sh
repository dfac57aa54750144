#!/usr/bin/env bash
# Image function benchmark (issue 4): thumbnail(img, 256) of a 2 MP JPEG per call, in process.
#  pxt:    `pxt insert T --file rows.jsonl` of N rows into a table whose computed column is
#          thumbnail(img, 256) (libvips, shrink-on-load, one thread per call); the cost of the
#          same insert without the computed column is subtracted.
#  Pillow: a Python loop doing Image.open + thumbnail((256, 256)) + save, the same N times
#          (Debian's python3-pil; Pillow's thumbnail also uses JPEG draft mode, i.e. shrink-on-load).
# Both write one JPEG per call. Reports calls/s, the ratio, and the peak RSS of each process.
#
# Usage: bench/image_functions.sh   (about 1 minute)
# Environment: PXT_BUILD_DIR (build), PXT (a pxt binary), BENCH_CALLS (200), BENCH_RUNS (3, best
#   kept), BENCH_NO_BUILD=1 (use the pxt binary as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PXT_BUILD_DIR:-build}
CALLS=${BENCH_CALLS:-200}
RUNS=${BENCH_RUNS:-3}
PY=/usr/bin/python3
note() { echo "image_functions.sh: $*" >&2; }
$PY -c 'import PIL' 2>/dev/null || { note "python3-pil is not installed (scripts/setup installs it)"; exit 1; }

PXT=${PXT:-$BUILD/pxt}
if [ "$PXT" = "$BUILD/pxt" ] && [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  cmake --build "$BUILD" --target pxt >"$BUILD/bench-pxt-build.log" 2>&1 ||
    { note "building pxt failed (see $BUILD/bench-pxt-build.log)"; exit 1; }
fi
PXT=$(realpath "$PXT")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PXT_HOME=$TMP/home
mkdir -p "$PXT_HOME/media/in" "$TMP/pil"

# A 2 MP (1632x1224) photo-like JPEG: smooth gradients plus a fractal, quality 90.
$PY - "$PXT_HOME/media/in/photo.jpg" <<'PY'
import sys
from PIL import Image
w, h = 1632, 1224
m = Image.effect_mandelbrot((w, h), (-2.2, -1.2, 1.0, 1.2), 120)
gx = Image.linear_gradient("L").resize((w, h))
gy = Image.linear_gradient("L").rotate(90).resize((w, h))
Image.merge("RGB", (m, gx, gy)).save(sys.argv[1], quality=90)
PY

# Runs a command RUNS times; prints "best_seconds peak_rss_kb" (RSS: the maximum over runs).
measure() {
  $PY - "$RUNS" "$@" <<'PY'
import resource, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    d = time.perf_counter() - t
    best = d if best is None or d < best else best
print(f"{best:.4f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

for i in $(seq 1 "$CALLS"); do echo "{\"id\": $i, \"img\": \"in/photo.jpg\"}"; done >"$TMP/rows.jsonl"
"$PXT" create-table plain --column id:Int! --column img:String >/dev/null
"$PXT" create-table thumbs --column id:Int! --column img:String --computed 'th=thumbnail(img, 256)' >/dev/null
# Each run starts from an empty table (the ids repeat); the delete is outside the timed command.
run_pxt() {  # table
  cat >"$TMP/run_$1.sh" <<SH
"$PXT" delete $1 --where 'id > 0' >/dev/null
exec "$PXT" insert $1 --file "$TMP/rows.jsonl"
SH
  measure bash "$TMP/run_$1.sh"
}
read -r base_s _ < <(run_pxt plain)
read -r pxt_s pxt_rss < <(run_pxt thumbs)
done_rows=$("$PXT" count thumbs --where 'width(th) = 256 AND height(th) = 192')
[ "$done_rows" -eq "$CALLS" ] || { note "expected $CALLS 256x192 thumbnails, found $done_rows"; exit 1; }

cat >"$TMP/pil.py" <<'PY'
import sys
from PIL import Image
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    with Image.open(src) as im:
        im.thumbnail((256, 256))
        im.save(f"{out}/{i}.jpg")
PY
read -r pil_s pil_rss < <(measure $PY "$TMP/pil.py" "$PXT_HOME/media/in/photo.jpg" "$TMP/pil" "$CALLS")

$PY - "$CALLS" "$base_s" "$pxt_s" "$pxt_rss" "$pil_s" "$pil_rss" <<'PY'
import sys
n = int(sys.argv[1]); base, pxt, pxt_rss, pil, pil_rss = map(float, sys.argv[2:])
pxt_rate = n / max(pxt - base, 1e-9)
pil_rate = n / pil
print(f"thumbnail(img, 256) of a 2 MP JPEG, {n} calls, best of runs, one thread each")
print(f"{'':8} {'calls/s':>9} {'ms/call':>8} {'peak RSS MB':>12}")
print(f"{'pxt':8} {pxt_rate:9.1f} {1000 / pxt_rate:8.2f} {pxt_rss / 1024:12.1f}   (insert without thumbnail: {base * 1000:.0f} ms subtracted)")
print(f"{'Pillow':8} {pil_rate:9.1f} {1000 / pil_rate:8.2f} {pil_rss / 1024:12.1f}")
print(f"ratio pxt/Pillow: {pxt_rate / pil_rate:.2f}x throughput, {pxt_rss / pil_rss:.2f}x peak RSS")
PY
echo "load average before/after: $(cut -d' ' -f1-3 /proc/loadavg)"
