#!/usr/bin/env bash
# Image and document functions in computed columns, end to end through the CLI: results, errors
# naming the function and argument, and the media files left behind (one per computed value;
# none after a failed write; an update replaces the old file). Inputs are media names of files
# placed under $PXT_HOME/media by hand.
source "$(dirname "$0")/lib.sh"

MEDIA=$PXT_HOME/media
mkdir -p "$MEDIA/in"
# A solid w x h PNG, written with the standard library only.
png() {  # file w h
  python3 - "$@" <<'PY'
import struct, sys, zlib
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
rows = b"".join(b"\x00" + bytes([30, 144, 255]) * w for _ in range(h))
with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}
png "$MEDIA/in/photo.png" 320 200
echo "definitely not a picture" >"$MEDIA/in/broken.png"
printf '<html><body><h1>Title</h1><script>x()</script><p>caf&eacute; &amp; tea</p></body></html>' >"$MEDIA/in/page.html"
count_files() { find "$MEDIA" -type f -not -path '*/.tmp/*' | wc -l; }

"$PXT" create-dir img >/dev/null
"$PXT" create-table img.t --column id:Int! --column img:String --column w:Int --column h:Int \
  --column doc:String --computed 'r=resize(img, w, h)' --computed 'th=thumbnail(img, 64)' \
  --computed 'rw=width(r)' --computed 'rh=height(r)' --computed 'tw=width(th)' --computed 'th_h=height(th)' \
  --computed 'text=document_text(doc)' --primary-key id >/dev/null
out=$("$PXT" columns img.t)
expect_contains "$out" "r       Image" "resize infers Image"
expect_contains "$out" "rw      Int" "width infers Int"
expect_contains "$out" "text    String" "document_text infers String"

out=$("$PXT" --json insert img.t '{"id": 1, "img": "in/photo.png", "w": 100, "h": 30, "doc": "in/page.html"}')
expect_contains "$out" '"rw":100,"rh":30,"tw":64,"th_h":40,"text":"Title\ncafé & tea"' "computed values"
expect_eq "$(count_files)" "5" "one file per image value (inputs: 3, results: 2)"
r1=$("$PXT" rows img.t --columns r --format csv | tail -1)
[ -f "$r1" ] || fail "resize result $r1 is a file"
pass "resize, thumbnail, width, height, document_text"

expect_status 1 "$PXT" insert img.t '{"id": 2, "img": "in/broken.png", "w": 10, "h": 10}'
expect_eq "$ERR" "pxt: error: computed column 'r' failed: resize(): argument 'img' is not an image that can be decoded (JPEG, PNG, WebP, GIF, TIFF, ...), got 'in/broken.png'" "undecodable image"
expect_status 1 "$PXT" insert img.t '{"id": 2, "img": "in/photo.png", "w": 10, "h": -1}'
expect_eq "$ERR" "pxt: error: computed column 'r' failed: resize(): argument 'h' must be between 1 and 16384, got -1" "bad size"
expect_status 1 "$PXT" insert img.t '{"id": 1, "img": "in/photo.png", "w": 10, "h": 10}'
expect_contains "$ERR" "already exists" "duplicate key"
expect_eq "$(count_files)" "5" "failed inserts leave no file"
expect_eq "$("$PXT" count img.t)" "1" "failed inserts leave no row"
pass "errors leave nothing behind"

"$PXT" update img.t --where 'id = 1' --set 'w=50' >/dev/null
r2=$("$PXT" rows img.t --columns r --format csv | tail -1)
[ "$r1" != "$r2" ] && [ -f "$r2" ] || fail "update recomputes resize into a new file"
[ ! -e "$r1" ] || fail "update removes the old resize result $r1"
expect_eq "$("$PXT" rows img.t --columns rw,tw --format csv | tail -1)" "50,64" "recomputed width"
expect_eq "$(count_files)" "5" "update replaces, not adds"
pass "update replaces the derived file"

if [ "$TEST_BACKEND" = sqlite ]; then
  expect_eq "$("$PXT" count img.t --where 'width(img) = 320 AND height(img) = 200')" "1" "width in a where clause"
  expect_status 1 "$PXT" count img.t --where 'thumbnail(img, 10) IS NOT NULL'
  expect_contains "$ERR" "thumbnail(): creates a media file, so it can only be used in a computed column" "file-creating function in a query"
else
  # A where clause runs inside PostgreSQL, which has no pxt functions (doc/catalog.md).
  expect_status 1 "$PXT" count img.t --where 'width(img) = 320'
  expect_contains "$ERR" "function 'width' is pxt's own: on a PostgreSQL store pxt evaluates it in computed columns" "pxt function in a where clause"
fi
expect_eq "$(count_files)" "5" "a refused query creates nothing"
pass "functions in queries"

"$PXT" create-table img.ops --column id:Int! --column img:String --computed 'c=crop(img, 300, 0, 40, 10)' >/dev/null
expect_status 1 "$PXT" insert img.ops '{"id": 1, "img": "in/photo.png"}'
expect_eq "$ERR" "pxt: error: computed column 'c' failed: crop(): the area x=300, y=0, w=40, h=10 is outside the 320x200 image" "crop outside"
"$PXT" create-table img.conv --column id:Int! --column img:String --computed "v=convert(img, 'webp')" \
  --computed 'g=grayscale(img)' --computed 'rot=rotate(img, 90)' --computed 'rw=width(rot)' \
  --computed 'rote=rotate(img, 90, true)' --computed 'rew=width(rote)' >/dev/null
out=$("$PXT" --json insert img.conv '{"id": 1, "img": "in/photo.png"}')
expect_contains "$out" '.webp"' "convert to webp"
expect_contains "$out" '"rw":320' "rotate 90 keeps the size, as Pillow's rotate"
expect_contains "$out" '"rew":200' "rotate 90 with expand swaps the sides"
expect_eq "$(count_files)" "9" "four more results"
pass "crop, convert, grayscale, rotate"

# The reference's /resize example, exactly as its curl line: an uploaded image and two form
# fields in, the resized image out as the raw file.
PXT=$(realpath "$PXT")
cd "$TMP"
PY=/usr/bin/python3
mkdir -p my_dir
cat >schema.toml <<'TOML'
dirs = ["my_dir"]

[[tables]]
path = "my_dir/images"
columns = [
  { name = "image", type = "Image" },
  { name = "width", type = "Int" },
  { name = "height", type = "Int" },
  { name = "resized", computed = "resize(image, width, height)" },
  { name = "thumb", computed = "thumbnail(image, 64)" },
]

[[tables]]
path = "my_dir/docs"
columns = [
  { name = "doc", type = "Document" },
  { name = "text", computed = "document_text(doc)" },
]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "images"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "my_dir/images"
path = "/resize"
inputs = ["width", "height"]
uploadfile_inputs = ["image"]
outputs = ["resized"]
return_fileresponse = true

[[service.routes]]
type = "insert"
table = "my_dir/images"
path = "/thumb"
inputs = ["width", "height"]
uploadfile_inputs = ["image"]
outputs = ["thumb", "resized"]

[[service.routes]]
type = "insert"
table = "my_dir/docs"
path = "/text"
uploadfile_inputs = ["doc"]
outputs = ["text"]
TOML
$PY -c '
from PIL import Image
Image.linear_gradient("L").resize((1600, 1200)).convert("RGB").save("photo.jpg", quality=90)'
start_server images --config service.toml
before=$(count_files)
curl -s -X POST "http://127.0.0.1:$PORT/resize" \
  -F image=@photo.jpg -F width=640 -F height=480 \
  --output resized.jpg -w '%{http_code} %{content_type}' >meta.txt
expect_eq "$(cat meta.txt)" "200 image/jpeg" "POST /resize answers the file"
expect_eq "$($PY -c 'from PIL import Image; im = Image.open("resized.jpg"); print(im.format, im.size)')" \
  "JPEG (640, 480)" "the answer is a 640x480 JPEG"
expect_eq "$(count_files)" "$((before + 3))" "the upload, its resize and its thumbnail are stored"
pass "the reference's /resize example"

out=$(curl -s -X POST "http://127.0.0.1:$PORT/thumb" -F image=@photo.jpg -F width=32 -F height=32)
url=$(echo "$out" | $PY -c 'import json, sys; print(json.load(sys.stdin)["thumb"])')
curl -s "http://127.0.0.1:$PORT$url" -o thumb.jpg
expect_eq "$($PY -c 'from PIL import Image; print(Image.open("thumb.jpg").size)')" "(64, 48)" "thumbnail served under /media"
before=$(count_files)
code=$(curl -s -o body.json -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/resize" \
  -F image=@photo.jpg -F width=0 -F height=480)
expect_eq "$code" "400" "a bad size is the client's error"
expect_contains "$(cat body.json)" "resize(): argument 'w' must be between 1 and 16384, got 0" "the error names the function and argument"
expect_eq "$(count_files)" "$before" "a failed insert leaves neither the upload nor a result"
pass "errors over HTTP"

printf '<html><body><p>Hello <b>HTTP</b> &amp; friends</p></body></html>' >page.html
out=$(curl -s -X POST "http://127.0.0.1:$PORT/text" -F doc=@page.html)
expect_eq "$out" '{"text":"Hello HTTP & friends"}' "document_text of an uploaded HTML document"
pass "document_text over HTTP"
