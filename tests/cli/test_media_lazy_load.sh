#!/usr/bin/env bash
# The media libraries are loaded on first use, not at start (store/media/libs.hpp): the binary links
# none of them, a serving process maps none until a request needs one, and an upload maps only
# the library its kind needs (a PDF loads poppler, not libvips; a JPEG thumbnail only libturbojpeg).
source "$(dirname "$0")/lib.sh"
cd "$TMP"
PY=/usr/bin/python3  # Debian's python3 has python3-pil

# What the binary links, as the dynamic loader resolves it: what ldd prints, without needing ldd
# (the check used to be skipped silently when ldd was missing).
linked=$(LD_TRACE_LOADED_OBJECTS=1 "$PXT")
expect_contains "$linked" "libsqlite3" "the loader's list of what pxt links"
for lib in libvips libpoppler libturbojpeg libpq; do
  expect_not_contains "$linked" "$lib" "the binary does not link $lib"
done
pass "no media library (nor libpq) linked"

cat >schema.toml <<'TOML'
dirs = ["app"]
[[tables]]
path = "app.files"
columns = [
  { name = "image", type = "Image" },
  { name = "doc", type = "Document" },
  { name = "w", type = "Int", computed = "width(image)" },
]
[[tables]]
path = "app.photos"
columns = [
  { name = "photo", type = "Image", required = true },
  { name = "thumb", type = "Image", computed = "thumbnail(photo, 16)" },
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
[[service.routes]]
type = "insert"
table = "app.photos"
path = "/photo"
inputs = []
uploadfile_inputs = ["photo"]
outputs = ["thumb"]
TOML
$PY - <<'PY'
from PIL import Image
img = Image.new("RGB", (40, 30), (10, 200, 30))
img.save("a.png")
img.save("c.pdf")
img.save("b.jpg", quality=90)
PY

"$PXT" schema update schema.toml >/dev/null
start_server lazy --config service.toml
mapped() { grep -c "$1" "/proc/$SERVER_PID/maps" || true; }
http GET /healthz
expect_eq "$(mapped libvips)" 0 "libvips not mapped at start"
expect_eq "$(mapped libpoppler)" 0 "poppler not mapped at start"

# A JPEG thumbnail first: validation and thumbnail take the libturbojpeg fast path.
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F photo=@b.jpg "http://127.0.0.1:$PORT/photo")
expect_eq "$STATUS" 200 "JPEG upload: $(cat "$TMP/body")"
thumb=$PXT_HOME/media/$(jq -r .thumb "$TMP/body" | sed 's|^/media/||')
expect_eq "$($PY -c 'import sys; from PIL import Image; print(Image.open(sys.argv[1]).size)' "$thumb")" "(16, 12)" "thumbnail size"
[ "$(mapped libturbojpeg)" -gt 0 ] || fail "libturbojpeg mapped after a JPEG thumbnail"
expect_eq "$(mapped libvips)" 0 "libvips not needed for a JPEG thumbnail"
pass "JPEG thumbnail without libvips"

# Then a PDF: libvips' own modules include a poppler loader, so loading libvips maps poppler too.
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F doc=@c.pdf "http://127.0.0.1:$PORT/upload")
expect_eq "$STATUS" 200 "PDF upload: $(cat "$TMP/body")"
[ "$(mapped libpoppler-glib)" -gt 0 ] || fail "poppler mapped after a PDF upload"
expect_eq "$(mapped libvips)" 0 "libvips still not mapped"
pass "poppler loaded on first PDF"

STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F image=@a.png "http://127.0.0.1:$PORT/upload")
expect_eq "$STATUS $(cat "$TMP/body")" '200 {"w":40}' "PNG upload"
[ "$(mapped libvips)" -gt 0 ] || fail "libvips mapped after a PNG upload"
pass "libvips loaded on first image"
