#!/usr/bin/env bash
# Media end to end: multipart uploads of every media kind, validation (corrupt and wrong-kind
# files leave no file and no row), data: URIs, /media serving (types, ETag/304, byte ranges,
# traversal attempts), oversize uploads (413), return_fileresponse, and media files removed with
# their rows, on update and on table drop.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
PY=/usr/bin/python3  # Debian's python3 has python3-pil

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.files"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "title", type = "String" },
  { name = "image", type = "Image" },
  { name = "video", type = "Video" },
  { name = "audio", type = "Audio" },
  { name = "doc", type = "Document" },
]

[[tables]]
path = "app.photos"
columns = [
  { name = "n", type = "Int" },
  { name = "photo", type = "Image", required = true },
]

[[queries]]
name = "get_image"
params = [ { name = "id", type = "Int" } ]
sql = """SELECT image FROM "app.files" WHERE id = :id"""

[[queries]]
name = "all_files"
params = []
sql = """SELECT id, image, doc FROM "app.files" ORDER BY id"""
TOML

cat >service.toml <<'TOML'
[[service]]
name = "media"
prefix = "/v1"
modules = ["schema"]
max_upload_mb = 3

[[service.routes]]
type = "insert"
table = "app.files"
path = "/upload"
inputs = ["id", "title"]
uploadfile_inputs = ["image", "video", "audio", "doc"]

[[service.routes]]
type = "insert"
table = "app.files"
path = "/json"

[[service.routes]]
type = "insert"
table = "app.photos"
path = "/photo"
inputs = ["n"]
uploadfile_inputs = ["photo"]
outputs = ["photo"]
return_fileresponse = true

[[service.routes]]
type = "query"
path = "/image"
query = "schema.get_image"
return_fileresponse = true

[[service.routes]]
type = "query"
path = "/files"
query = "schema.all_files"

[[service.routes]]
type = "delete"
table = "app.files"
path = "/delete"
TOML

# Sample files of every kind, plus broken ones.
$PY - <<'PY'
import io, os, struct, wave
from PIL import Image
img = Image.new("RGB", (64, 48), (200, 30, 30))
img.save("a.jpg", quality=90)
img.save("b.png")
img.save("c.pdf")
d = open("a.jpg", "rb").read()
open("truncated.jpg", "wb").write(d[: len(d) // 2])
p = open("b.png", "rb").read()
open("truncated.png", "wb").write(p[:-20])
open("fake.jpg", "wb").write(b"\xff\xd8\xff\xe0" + os.urandom(400) + b"\xff\xd9")
with wave.open("s.wav", "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(b"\0\0" * 800)
open("v.mp4", "wb").write(struct.pack(">I", 24) + b"ftypisom" + b"\0\0\0\0isommp41" + os.urandom(4000))
open("v.webm", "wb").write(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm" + os.urandom(2000))
open("notes.md", "w").write("# Title\n\nSome *markdown* text, ünïcödé.\n")
open("page.html", "w").write("<!DOCTYPE html><html><body><p>hi</p></body></html>")
open("plain.txt", "w").write("just text\n")
open("binary.txt", "wb").write(b"abc\0\x01\x02" + os.urandom(100))
open("big.mp4", "wb").write(struct.pack(">I", 24) + b"ftypisom" + b"\0" * 12 + os.urandom(4 << 20))
PY

"$PXT" schema update schema.toml >/dev/null
start_server media --config service.toml
BASE="http://127.0.0.1:$PORT"
media_count() { find "$PXT_HOME/media" -type f -not -path '*/.tmp/*' | wc -l | tr -d ' '; }
tmp_count() { find "$PXT_HOME/media/.tmp" -type f 2>/dev/null | wc -l | tr -d ' '; }
rows() { "$PXT" count "$1" | tr -d ' \n'; }
upload() {  # curl -F args...
  STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' "$@" "$BASE/v1/upload")
  BODY=$(cat "$TMP/body")
}
field() { jq -r ".$1" <<<"$BODY"; }

# ---- uploads of each kind, rendered as /v1/media/... URLs ----
upload -F id=1 -F title=all -F image=@a.jpg -F video=@v.mp4 -F audio=@s.wav -F doc=@c.pdf
expect_eq "$STATUS" 200 "upload of every kind: $BODY"
for c in image video audio doc; do
  [[ "$(field $c)" =~ ^/v1/media/[0-9a-f]{2}/[0-9a-f]{32}\.[a-z0-9]+$ ]] || fail "$c URL: $BODY"
done
expect_contains "$(field image)" ".jpg" "jpeg extension from content"
expect_contains "$(field video)" ".mp4" "mp4 extension"
expect_contains "$(field audio)" ".wav" "wav extension"
expect_contains "$(field doc)" ".pdf" "pdf extension"
IMG_URL=$(field image)
expect_eq "$(media_count)" 4 "four files stored"
upload -F id=2 -F image=@b.png -F video=@v.webm -F doc=@notes.md
expect_eq "$STATUS" 200 "png/webm/md upload: $BODY"
expect_contains "$(field doc)" ".md" "markdown keeps its kind"
MD_URL=$(field doc)
upload -F id=3 -F doc=@page.html
expect_eq "$STATUS" 200 "html upload: $BODY"
upload -F id=4 -F doc=@plain.txt
expect_eq "$STATUS" 200 "txt upload: $BODY"
expect_eq "$(field image)" null "absent optional upload is null"
expect_eq "$(media_count)" 9 "files after four uploads"
pass "uploads of every media kind"

# ---- refused uploads leave no file and no row ----
before_rows=$(rows app.files)
for bad in "image=@truncated.jpg" "image=@truncated.png" "image=@fake.jpg" "image=@s.wav" "image=@notes.md" \
           "video=@s.wav" "audio=@v.mp4" "doc=@a.jpg" "doc=@binary.txt"; do
  upload -F id=50 -F "$bad"
  expect_eq "$STATUS" 422 "bad upload $bad: $BODY"
  expect_eq "$(jq -r '.detail[0].loc[1]' <<<"$BODY")" "${bad%%=*}" "422 names the column for $bad"
done
# One good file and one bad one: neither is kept.
upload -F id=51 -F image=@a.jpg -F doc=@binary.txt
expect_eq "$STATUS" 422 "mixed upload"
upload -F id=notanint -F image=@a.jpg
expect_eq "$STATUS" 422 "bad form field"
expect_eq "$(jq -r '.detail[0].type' <<<"$BODY")" int_parsing "form field converted like JSON"
upload -F title=x -F image=@a.jpg
expect_eq "$(jq -r '.detail[0].type + " " + .detail[0].loc[1]' <<<"$BODY")" "missing id" "required form field"
upload -F id=1 -F image=@a.jpg
expect_eq "$STATUS" 409 "duplicate key after the file was adopted: $BODY"
upload -F id=52 -F image=notafile
expect_eq "$STATUS" 422 "text where a file is expected"
expect_eq "$(rows app.files)" "$before_rows" "no row from refused uploads"
expect_eq "$(media_count)" 9 "no file from refused uploads"
expect_eq "$(tmp_count)" 0 "no temp file left"
pass "refused uploads store nothing"

# ---- size limit: 413, nothing left ----
upload -F id=60 -F video=@big.mp4
expect_eq "$STATUS" 413 "oversize upload"
expect_contains "$BODY" "3 MB" "413 names the limit"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Expect:' -F id=61 -F video=@big.mp4 "$BASE/v1/upload")
expect_eq "$STATUS" 413 "oversize upload without Expect: 100-continue"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' -F id=62 -F video=@big.mp4 \
  "$BASE/v1/upload")
expect_eq "$STATUS" 413 "oversize chunked upload"
many=(); for _ in $(seq 1 65); do many+=(-F doc=@plain.txt); done
upload -F id=63 "${many[@]}"
expect_eq "$STATUS" 400 "too many file parts: $BODY"
expect_eq "$(media_count)" 9 "no file from oversize uploads"
expect_eq "$(tmp_count)" 0 "no temp file from oversize uploads"
pass "oversize uploads: 413"

# ---- data: URIs in JSON ----
B64=$(base64 -w0 b.png)
http POST /v1/json "{\"id\": 20, \"image\": \"data:image/png;base64,$B64\"}"
expect_eq "$STATUS" 200 "data: URI insert: $BODY"
expect_contains "$(jq -r .image <<<"$BODY")" ".png" "data: URI stored as png"
http POST /v1/json '{"id": 21, "image": "http://example.com/x.png"}'
expect_eq "$STATUS" 422 "non-data URI"
expect_eq "$(jq -r '.detail[0].loc[1]' <<<"$BODY")" image "422 names the column"
http POST /v1/json '{"id": 21, "image": "data:image/png;base64,!!!"}'
expect_eq "$STATUS" 422 "bad base64"
http POST /v1/json "{\"id\": 21, \"image\": \"data:text/plain;base64,$(printf hello | base64)\"}"
expect_eq "$STATUS" 422 "data: URI of the wrong kind"
http POST /v1/json '{"id": 21, "image": 5}'
expect_eq "$STATUS" 422 "number for a media column"
expect_eq "$(media_count)" 10 "one file from data: URIs"
pass "data: URIs"

# ---- serving: content types, ETag, 304, ranges, HEAD ----
curl -s -D "$TMP/h" -o "$TMP/got.jpg" "$BASE$IMG_URL"
cmp -s "$TMP/got.jpg" a.jpg || fail "served image differs"
expect_contains "$(cat "$TMP/h")" "Content-Type: image/jpeg" "image content type"
ETAG=$(grep -i '^ETag:' "$TMP/h" | cut -d' ' -f2 | tr -d '\r')
LASTMOD=$(grep -i '^Last-Modified:' "$TMP/h" | cut -d' ' -f2- | tr -d '\r')
[ -n "$ETAG" ] && [ -n "$LASTMOD" ] || fail "ETag and Last-Modified expected"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$BASE$IMG_URL")" 304 "ETag 304"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $LASTMOD" "$BASE$IMG_URL")" 304 "date 304"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$BASE$IMG_URL")" 200 "other ETag"
SIZE=$(stat -c %s a.jpg)
curl -s -D "$TMP/h" -o "$TMP/part" -H 'Range: bytes=10-19' "$BASE$IMG_URL"
expect_contains "$(cat "$TMP/h")" "206" "range status"
expect_contains "$(cat "$TMP/h")" "Content-Range: bytes 10-19/$SIZE" "Content-Range"
cmp -s "$TMP/part" <(tail -c +11 a.jpg | head -c 10) || fail "range bytes differ"
curl -s -o "$TMP/part" -H 'Range: bytes=-5' "$BASE$IMG_URL"
cmp -s "$TMP/part" <(tail -c 5 a.jpg) || fail "suffix range bytes differ"
curl -s -D "$TMP/h" -o /dev/null -H "Range: bytes=$SIZE-" "$BASE$IMG_URL"
expect_contains "$(cat "$TMP/h")" "416" "unsatisfiable range"
expect_contains "$(cat "$TMP/h")" "Content-Range: bytes */$SIZE" "416 Content-Range"
curl -s -D "$TMP/h" -o "$TMP/part" -H 'Range: bytes=0-1' -H 'If-Range: "stale"' "$BASE$IMG_URL"
expect_contains "$(head -1 "$TMP/h")" "200" "If-Range mismatch sends the whole file"
curl -s -I "$BASE$IMG_URL" >"$TMP/h"
expect_contains "$(cat "$TMP/h")" "Content-Length: $SIZE" "HEAD length"
expect_contains "$(curl -s -I "$BASE$MD_URL")" "text/markdown" "markdown content type"
pass "media serving: types, ETag, 304, ranges, HEAD"

# ---- traversal and other escapes: 404, nothing read outside ----
echo secret >"$PXT_HOME/secret.txt"
ln -s "$PXT_HOME/secret.txt" "$PXT_HOME/media/link.txt"
ln -s "$PXT_HOME" "$PXT_HOME/media/up"
mkdir -p "$PXT_HOME/media/.tmp" && cp plain.txt "$PXT_HOME/media/.tmp/staged.txt"
for p in '../secret.txt' '%2e%2e/secret.txt' '%2E%2E%2Fsecret.txt' '..%2fsecret.txt' 'ab/../../secret.txt' \
         '/etc/passwd' '%2fetc%2fpasswd' '//etc/passwd' 'link.txt' 'up/secret.txt' 'up/pxt.db' '.tmp/staged.txt' \
         '%00' 'ab' ''; do
  out=$(curl -s --path-as-is -w ' %{http_code}' "$BASE/v1/media/$p")
  expect_eq "${out##* }" 404 "traversal '$p'"
  expect_not_contains "$out" secret "traversal '$p' leaked the file"
done
rm "$PXT_HOME/media/link.txt" "$PXT_HOME/media/up" "$PXT_HOME/media/.tmp/staged.txt"
pass "traversal attempts: 404"

# ---- return_fileresponse (insert and query) and query rows ----
STATUS=$(curl -s -D "$TMP/h" -o "$TMP/out.jpg" -w '%{http_code}' -F n=1 -F photo=@a.jpg "$BASE/v1/photo")
expect_eq "$STATUS" 200 "insert file response"
cmp -s "$TMP/out.jpg" a.jpg || fail "insert file response differs"
expect_contains "$(cat "$TMP/h")" "Content-Type: image/jpeg" "file response type"
STATUS=$(curl -s -o "$TMP/out.jpg" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"id": 1}' "$BASE/v1/image")
expect_eq "$STATUS" 200 "query file response"
cmp -s "$TMP/out.jpg" a.jpg || fail "query file response differs"
http POST /v1/image '{"id": 3}'
expect_eq "$STATUS $BODY" '500 {"detail":"output column '"'image'"' is null"}' "null media output"
http POST /v1/image '{"id": 999}'
expect_eq "$STATUS" 404 "file response query without rows"
http POST /v1/files '{}'
expect_eq "$(jq -r '.rows[0].image' <<<"$BODY")" "$IMG_URL" "query rows render media URLs"
expect_eq "$(jq -r '.rows[2].image' <<<"$BODY")" null "null media in query rows"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -F n=2 "$BASE/v1/photo")
expect_eq "$STATUS" 422 "required upload missing"
pass "return_fileresponse and query rows"

# ---- OpenAPI: multipart request bodies, file responses ----
http GET /openapi.json
expect_eq "$(jq -r '.paths["/v1/upload"].post.requestBody.content | keys[0]' <<<"$BODY")" multipart/form-data \
  "upload route documents a multipart body"
REQ='.paths["/v1/upload"].post.requestBody.content["multipart/form-data"].schema'
expect_eq "$(jq -c "$REQ.properties.image.anyOf[0]" <<<"$BODY")" \
  '{"type":"string","format":"binary","contentMediaType":"image/*"}' "file part schema"
expect_eq "$(jq -c "$REQ.required" <<<"$BODY")" '["id"]' "required parts"
expect_eq "$(jq -c '.paths["/v1/photo"].post.responses["200"].content | keys' <<<"$BODY")" \
  '["image/*"]' "file response documented with its column's media types"
pass "OpenAPI multipart bodies"

# ---- files go with their rows ----
n=$(media_count)
http POST /v1/delete '{"id": 1}'
expect_eq "$BODY" '{"num_rows":1}' "delete"
expect_eq "$(media_count)" $((n - 4)) "delete removes the row's four files"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE$IMG_URL")" 404 "deleted file is gone"
"$PXT" delete app.files --where 'id = 2' >/dev/null
expect_eq "$(media_count)" $((n - 7)) "CLI delete removes files"
stop_server
"$PXT" drop app.files >/dev/null
expect_eq "$(media_count)" 1 "drop removes the table's files (the photo remains)"
"$PXT" drop app.photos >/dev/null
expect_eq "$(media_count)" 0 "no orphans"
pass "media removed on delete and drop"

# ---- registration checks ----
cat >bad.toml <<'TOML'
[[service]]
name = "bad"
modules = ["schema"]
[[service.routes]]
type = "query"
path = "/files"
query = "schema.all_files"
return_fileresponse = true
TOML
"$PXT" schema update schema.toml >/dev/null
expect_status 1 "$PXT" serve bad --config bad.toml --dry-run
expect_contains "$ERR" "return_fileresponse" "two media outputs refused"
pass "return_fileresponse validated at registration"

# ---- the reference's /resize example, exactly as its curl line shows; query uploads ----
cat >resize.toml <<'TOML'
dirs = ["my_dir"]
[[tables]]
path = "my_dir.images"
columns = [
  { name = "image", type = "Image" },
  { name = "width", type = "Int" },
  { name = "height", type = "Int" },
  { name = "resized", type = "Image", computed = "resize(image, width, height)" },
]
[[tables]]
path = "my_dir.sized"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "image", type = "Image" },
  { name = "w", type = "Int" },
  { name = "resized", type = "Image", computed = "resize(image, w, w)" },
]
[[tables]]
path = "my_dir.videos"
columns = [ { name = "video", type = "Video" } ]
[[queries]]
name = "same_size"
params = [ { name = "image", type = "Image" } ]
sql = """SELECT width(:image) AS w, height(:image) AS h"""
TOML
cat >resize_service.toml <<'TOML'
[[service]]
name = "resize"
modules = ["resize"]
[[service.routes]]
type = "insert"
table = "my_dir/images"
path = "/resize"
inputs = ["width", "height"]
uploadfile_inputs = ["image"]
outputs = ["resized"]
return_fileresponse = true
[[service.routes]]
type = "query"
path = "/size"
query = "resize.same_size"
uploadfile_inputs = ["image"]
[[service.routes]]
type = "insert"
table = "my_dir.sized"
path = "/sized/new"
[[service.routes]]
type = "update"
table = "my_dir.sized"
path = "/sized"
inputs = ["w"]
outputs = ["resized"]
return_fileresponse = true
[[service.routes]]
type = "insert"
table = "my_dir.videos"
path = "/video"
uploadfile_inputs = ["video"]
TOML
$PY -c 'from PIL import Image; Image.new("RGB", (1280, 960), (10, 120, 200)).save("photo.jpg")'
start_server resize --config resize_service.toml
curl -s -X POST "http://127.0.0.1:$PORT/resize" \
  -F image=@photo.jpg -F width=640 -F height=480 \
  --output resized.jpg
expect_eq "$($PY -c 'from PIL import Image; im = Image.open("resized.jpg"); print(im.format, im.size)')" \
  "JPEG (640, 480)" "the /resize example returns the resized file"
n=$(media_count)
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F image=@photo.jpg "http://127.0.0.1:$PORT/size")
expect_eq "$STATUS $(cat "$TMP/body")" '200 {"rows":[{"w":1280,"h":960}]}' "query with an uploaded parameter"
expect_eq "$(media_count)" "$n" "a query's upload is not kept"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F image=@plain.txt "http://127.0.0.1:$PORT/size")
expect_eq "$STATUS" 422 "query upload is validated"
pass "the /resize example and query uploads"

# ---- update with return_fileresponse: the recomputed file, the old one removed ----
http POST /sized/new "{\"id\": 1, \"image\": \"data:image/jpeg;base64,$(base64 -w0 photo.jpg)\", \"w\": 32}"
expect_eq "$STATUS" 200 "insert with a data: URI and a computed image: $BODY"
n=$(media_count)
STATUS=$(curl -s -o "$TMP/up.jpg" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"id": 1, "w": 48}' \
  "http://127.0.0.1:$PORT/sized")
expect_eq "$STATUS" 200 "update file response"
expect_eq "$($PY -c 'import sys; from PIL import Image; print(Image.open(sys.argv[1]).size)' "$TMP/up.jpg")" \
  "(48, 48)" "update answers with the recomputed file"
expect_eq "$(media_count)" "$n" "the replaced file is removed"
http POST /sized '{"id": 2, "w": 10}'
expect_eq "$STATUS" 404 "update file response without a row"
pass "update with return_fileresponse"

# ---- a large upload streams to disk: the server's peak memory does not grow with it ----
{ printf '\0\0\0\x18ftypisom\0\0\0\0isommp41'; head -c $((80 << 20)) /dev/zero; } >large.mp4
curl -s -o /dev/null -F video=@plain.txt "http://127.0.0.1:$PORT/video" || true  # warm up the route
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }
before=$(hwm)
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F video=@large.mp4 "http://127.0.0.1:$PORT/video")
expect_eq "$STATUS" 200 "80 MB upload: $(cat "$TMP/body")"
after=$(hwm)
[ $((after - before)) -lt $((16 << 10)) ] || fail "an 80 MB upload raised peak RSS by $(((after - before) >> 10)) MB"
stored=$(find "$PXT_HOME/media" -name '*.mp4' -size +80M | wc -l)
expect_eq "$stored" 1 "the large upload is stored whole"
pass "80 MB upload streamed (peak RSS +$(((after - before) >> 10)) MB)"

# ---- the CLI takes data: URIs too; a refused insert keeps no file ----
stop_server
"$PXT" create-table app.cli --column id:Int! --column img:Image --primary-key id >/dev/null
n=$(media_count)
"$PXT" insert app.cli "{\"id\": 1, \"img\": \"data:image/png;base64,$(base64 -w0 b.png)\"}" >/dev/null
expect_eq "$(media_count)" $((n + 1)) "CLI insert stores the data: URI as a file"
expect_status 1 "$PXT" insert app.cli "{\"id\": 1, \"img\": \"data:image/png;base64,$(base64 -w0 b.png)\"}"
expect_contains "$ERR" "already exists" "duplicate key"
{ echo "{\"id\": 2, \"img\": \"data:image/png;base64,$(base64 -w0 b.png)\"}"; echo '{"id": 3, "img": "data:,x"}'; } >rows.jsonl
expect_status 1 "$PXT" insert app.cli --file rows.jsonl
expect_contains "$ERR" "rows.jsonl:2: column 'img' (Image)" "bulk error names the line and column"
expect_eq "$(media_count)" $((n + 1)) "refused CLI inserts keep no file"
pass "CLI inserts with data: URIs"
