#!/usr/bin/env bash
# Issue 18, point 5: image bombs. An upload is checked from its header against max_image_pixels
# before any pixel is read (a 74-byte PNG claiming 100000 x 100000 was stored), then its pixel
# data must decode (a corrupt IDAT, a cut JPEG scan were stored); image functions refuse results
# above the limit before doing any work (a 2 x 2 PNG resized to 16384 x 16384 cost ~12 CPU
# seconds). Bounded by bytes and CPU time of the server process, not wall time.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["d"]

[[tables]]
path = "d.imgs"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "img", type = "Image" },
  { name = "w", type = "Int" },
  { name = "h", type = "Int" },
  { name = "big", type = "Image", computed = "resize(img, w, h)" },
]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "bombs"
modules = ["schema"]
max_image_pixels = 250000

[[service.routes]]
type = "insert"
table = "d.imgs"
path = "/upload"
inputs = ["id"]
uploadfile_inputs = ["img"]
outputs = ["id", "img"]

[[service.routes]]
type = "insert"
table = "d.imgs"
path = "/resize"
inputs = ["id", "w", "h"]
uploadfile_inputs = ["img"]
outputs = ["big"]
TOML

python3 - <<'PY'
import struct, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def png(w, h, idat, depth=8, ctype=2):
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
open("bomb.png", "wb").write(png(100000, 100000, zlib.compress(b"")))
open("tiny.png", "wb").write(png(2, 2, zlib.compress(b"".join(b"\x00" + b"\x10\x20\x30" * 2 for _ in range(2)))))
rows = b"".join(b"\x00" + bytes((x * 3 + y) % 256 for x in range(48 * 3)) for y in range(48))
good = zlib.compress(rows)
bad = bytearray(good); bad[len(bad) // 2] ^= 0xFF; bad[len(bad) // 2 + 1] ^= 0x5A
open("badidat.png", "wb").write(png(48, 48, bytes(bad)))
open("big.png", "wb").write(png(600, 500, zlib.compress(b"".join(b"\x00" + b"\x80" * 1800 for _ in range(500)))))
PY
# A JPEG whose scan is cut in half (the EOI marker kept, so only decoding can tell).
/usr/bin/python3 - <<'PY'
from PIL import Image
im = Image.new("RGB", (64, 48))
im.putdata([((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(48) for x in range(64)])
im.save("ok.jpg", quality=90)
data = open("ok.jpg", "rb").read()
sos = data.index(b"\xff\xda")
scan_start = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
cut = scan_start + (len(data) - 2 - scan_start) // 2
open("cut.jpg", "wb").write(data[:cut] + b"\xff\xd9")
PY

start_server bombs --config service.toml
media_files() { find "$PXT_HOME/media" -type f -not -path '*/.tmp/*' | wc -l; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
upload() {  # path file [form fields...]
  local path=$1 file=$2; shift 2
  local args=()
  for f in "$@"; do args+=(-F "$f"); done
  STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' "${args[@]}" -F "img=@$file" "http://127.0.0.1:$PORT$path")
  BODY=$(cat "$TMP/body")
}
ticks_per_s=$(getconf CLK_TCK)
before=$(cpu_ticks)

upload /upload bomb.png id=1
expect_eq "$STATUS" 422 "a PNG claiming 100000 x 100000 pixels"
expect_contains "$BODY" "100000 x 100000 = 10,000,000,000 pixels, above the limit of 250,000 (max_image_pixels)" "the bomb's size and the limit"
upload /upload big.png id=2
expect_eq "$STATUS" 422 "600 x 500 is above this service's max_image_pixels"
expect_contains "$BODY" "600 x 500 = 300,000 pixels" "named size"
upload /upload badidat.png id=3
expect_eq "$STATUS" 422 "a PNG whose IDAT is corrupt"
expect_contains "$BODY" "corrupt or truncated" "the pixel data does not decode"
upload /upload cut.jpg id=4
expect_eq "$STATUS" 422 "a JPEG whose scan is cut"
expect_contains "$BODY" "corrupt or truncated" "the scan does not decode"
expect_eq "$(media_files)" 0 "nothing refused is stored"
upload /upload ok.jpg id=5
expect_eq "$STATUS" 200 "a sound JPEG"
upload /upload tiny.png id=6
expect_eq "$STATUS" 200 "a sound PNG"
expect_eq "$(media_files)" 2 "two stored uploads"
pass "uploads: the pixel limit from the header, then a decode"

upload /resize tiny.png id=7 w=16384 h=16384
[[ "$STATUS" == 400 || "$STATUS" == 422 ]] || fail "a 2 x 2 image resized to 16384 x 16384: expected 400 or 422, got $STATUS"
expect_contains "$BODY" "resize(): the result is 16384 x 16384 = 268,435,456 pixels, above the limit of 250,000 (max_image_pixels)" "named result size"
upload /resize tiny.png id=8 w=500 h=400
expect_eq "$STATUS" 200 "a result within the limit"
expect_eq "$(media_files)" 4 "the refused resize left nothing (its upload included)"
after=$(cpu_ticks)
# The refused requests cost milliseconds; before, the bomb and the big resize cost ~18 CPU-seconds.
cpu_s=$(( (after - before) / ticks_per_s ))
[ "$cpu_s" -le 3 ] || fail "the server spent ${cpu_s} CPU-seconds on refused images"
log_lines=$(wc -l <"$TMP/server.log")
[ "$log_lines" -le 40 ] || fail "the server log grew by $log_lines lines: $(head -5 "$TMP/server.log")"
pass "image functions refuse results above the limit before working (${cpu_s} CPU-s, $log_lines log lines)"
