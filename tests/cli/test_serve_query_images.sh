#!/usr/bin/env bash
# Issue 17, point 5: image functions in named queries. SELECT resize(image, 16, 16) AS thumb
# FROM ... answers transformed images as compute routes do: new files under media/transient/
# (stored images untouched), expiring after their TTL, with return_fileresponse sending the file.
# The calls are made by pxt after the statement (store/functions/query_calls.hpp); a
# file-creating call elsewhere in a query is still refused.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["d"]

[[tables]]
path = "d.pics"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "image", type = "Image" },
]

[[queries]]
name = "thumbs"
params = [ { name = "n", type = "Int", default = 10 } ]
sql = """SELECT id, resize(image, 16, 16) AS thumb, width(image) AS w FROM "d.pics" ORDER BY id LIMIT :n"""

[[queries]]
name = "one_thumb"
params = [ { name = "id", type = "Int" } ]
sql = """SELECT rotate(image, 90, true) AS turned FROM "d.pics" WHERE id = :id"""
TOML
cat >nested.toml <<'TOML'
[[queries]]
name = "nested"
sql = """SELECT id FROM "d.pics" WHERE width(resize(image, 4, 4)) = 4"""
TOML
cat >service.toml <<'TOML'
[[service]]
name = "qi"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "d.pics"
path = "/add"
inputs = ["id"]
uploadfile_inputs = ["image"]

[[service.routes]]
type = "query"
path = "/thumbs"
query = "schema.thumbs"
method = "get"

[[service.routes]]
type = "query"
path = "/turned"
query = "schema.one_thumb"
method = "get"
one_row = true
return_fileresponse = true
TOML
python3 "$PXT_SRC/tests/cli/make_png.py" a.png 40 30 1
python3 "$PXT_SRC/tests/cli/make_png.py" b.png 64 20 2

cp service.toml bad.toml
cat >>bad.toml <<'TOML'

[[service.routes]]
type = "query"
path = "/nested"
query = "nested.nested"
TOML
expect_status 1 "$PXT" serve qi --config bad.toml --dry-run
expect_contains "$ERR" "resize() creates a media file: in a query it can only be a whole result column" "a nested call is refused"

export PXT_TRANSIENT_MEDIA_TTL_S=2
start_server qi --config service.toml
files() { find "$PXT_HOME/media" -type f -not -path '*/.tmp/*' | sort; }
for f in a b; do
  STATUS=$(curl -s -o /dev/null -w '%{http_code}' -F id=$([ $f = a ] && echo 1 || echo 2) -F "image=@$f.png" "http://127.0.0.1:$PORT/add")
  expect_eq "$STATUS" 200 "upload $f"
done
stored=$(files)
http GET /thumbs
expect_eq "$STATUS" 200 "a query with resize() in its SELECT list"
expect_eq "$(jq -c '[.rows[] | [.id, .w]]' <<<"$BODY")" '[[1,40],[2,64]]' "plain columns alongside"
url=$(jq -r '.rows[0].thumb' <<<"$BODY")
expect_contains "$url" "/media/transient/" "the thumbnail is a transient file"
curl -s -o t.png "http://127.0.0.1:$PORT$url"
expect_eq "$(/usr/bin/python3 -c 'from PIL import Image; print(Image.open("t.png").size)')" "(16, 16)" "resized"
expect_eq "$(files | grep -c /transient/)" 2 "one transient file per answered row"
expect_eq "$(files | grep -v /transient/)" "$stored" "stored images untouched"
http GET "/thumbs?n=1"
expect_eq "$(jq '.rows | length' <<<"$BODY")" 1 "LIMIT"
expect_eq "$(files | grep -c /transient/)" 3 "calls only for the rows answered"
http GET /openapi.json
expect_contains "$(jq -c '.components.schemas | to_entries | map(select(.value.properties.thumb)) | .[0].value.properties.thumb' <<<"$BODY")" 'uri' "the thumb column is a media URL in OpenAPI"
pass "image functions in a query's SELECT list"

STATUS=$(curl -s -D headers.txt -o turned.png -w '%{http_code}' "http://127.0.0.1:$PORT/turned?id=2")
expect_eq "$STATUS" 200 "return_fileresponse on a query result"
expect_contains "$(tr -d '\r' <headers.txt | tr 'A-Z' 'a-z')" "content-type: image/png" "the file's type"
expect_eq "$(/usr/bin/python3 -c 'from PIL import Image; print(Image.open("turned.png").size)')" "(20, 64)" "rotate(image, 90, true)"
pass "return_fileresponse on a transformed image"

for _ in $(seq 1 80); do
  [ "$(files | grep -c /transient/)" = 0 ] && break
  sleep 0.1
done
expect_eq "$(files | grep -c /transient/)" 0 "transient files expire"
expect_eq "$(files)" "$stored" "stored images kept"
pass "query results expire like compute results"
