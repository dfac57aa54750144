#!/usr/bin/env bash
# The media libraries are loaded on first use, not at start (media_libs.hpp): the binary links
# none of them, a serving process maps none until a request needs one, and an upload maps only
# the library its kind needs (a PDF loads poppler, not libvips).
source "$(dirname "$0")/lib.sh"
cd "$TMP"
PY=/usr/bin/python3  # Debian's python3 has python3-pil

if command -v ldd >/dev/null; then
  linked=$(ldd "$PXT")
  for lib in libvips libpoppler libturbojpeg; do
    expect_not_contains "$linked" "$lib" "the binary does not link $lib"
  done
  pass "no media library linked"
fi

cat >schema.toml <<'TOML'
dirs = ["app"]
[[tables]]
path = "app.files"
columns = [
  { name = "image", type = "Image" },
  { name = "doc", type = "Document" },
  { name = "w", type = "Int", computed = "width(image)" },
]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "lazy"
modules = ["schema"]
[[service.routes]]
type = "insert"
table = "app.files"
path = "/upload"
inputs = []
uploadfile_inputs = ["image", "doc"]
outputs = ["w"]
TOML
$PY - <<'PY'
from PIL import Image
img = Image.new("RGB", (40, 30), (10, 200, 30))
img.save("a.png")
img.save("c.pdf")
PY

"$PXT" schema update schema.toml >/dev/null
start_server lazy --config service.toml
mapped() { grep -c "$1" "/proc/$SERVER_PID/maps" || true; }
http GET /healthz
expect_eq "$(mapped libvips)" 0 "libvips not mapped at start"
expect_eq "$(mapped libpoppler)" 0 "poppler not mapped at start"

# A PDF first: libvips' own modules include a poppler loader, so loading libvips maps poppler too.
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F doc=@c.pdf "http://127.0.0.1:$PORT/upload")
expect_eq "$STATUS" 200 "PDF upload: $(cat "$TMP/body")"
[ "$(mapped libpoppler-glib)" -gt 0 ] || fail "poppler mapped after a PDF upload"
expect_eq "$(mapped libvips)" 0 "libvips still not mapped"
pass "poppler loaded on first PDF"

STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F image=@a.png "http://127.0.0.1:$PORT/upload")
expect_eq "$STATUS $(cat "$TMP/body")" '200 {"w":40}' "PNG upload"
[ "$(mapped libvips)" -gt 0 ] || fail "libvips mapped after a PNG upload"
pass "libvips loaded on first image"
