#!/usr/bin/env bash
# Compute routes store no row, yet an image function in them writes a file that the answer's URL
# names. Those files go under media/transient/, stay fetchable for their TTL, and are removed
# after it (PXT_TRANSIENT_MEDIA_TTL_S) by the running server and at start; files made
# for columns a route does not return, and the uploads, are removed at once. Row files are never
# touched by the TTL.
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
  { name = "thumb", type = "Image", computed = "thumbnail(img, 16)" },
  { name = "tw", type = "Int", computed = "width(thumb)" },
]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "cm"
modules = ["schema"]

[[service.routes]]
type = "compute"
table = "d.imgs"
path = "/thumb"
inputs = ["id"]
uploadfile_inputs = ["img"]
outputs = ["thumb", "tw"]

[[service.routes]]
type = "compute"
table = "d.imgs"
path = "/width"
inputs = ["id"]
uploadfile_inputs = ["img"]
outputs = ["tw"]

[[service.routes]]
type = "insert"
table = "d.imgs"
path = "/store"
inputs = ["id"]
uploadfile_inputs = ["img"]
outputs = ["thumb"]
TOML
python3 "$PXT_SRC/tests/cli/make_png.py" in.png 64 40 7

# A TTL no load can outlast while the files are counted (at 2 s, a busy machine expired the result
# between the answer and the count); the expiry while serving is checked below with a 2 s TTL.
export PXT_TRANSIENT_MEDIA_TTL_S=600
start_server cm --config service.toml
files() { find "$PXT_HOME/media" -type f | sort; }

STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F id=1 -F img=@in.png "http://127.0.0.1:$PORT/thumb")
expect_eq "$STATUS" 200 "compute with an image output"
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thumb"])' "$TMP/body")
expect_contains "$url" "/media/transient/" "the compute result's URL"
expect_eq "$(files | wc -l)" 1 "files after one compute (the upload is gone)"
STATUS=$(curl -s -o thumb.png -w '%{http_code}' "http://127.0.0.1:$PORT$url")
expect_eq "$STATUS" 200 "fetching the compute result"
expect_eq "$(head -c 4 thumb.png | tail -c 3)" "PNG" "the result is the image"

STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F id=2 -F img=@in.png "http://127.0.0.1:$PORT/width")
expect_eq "$(cat "$TMP/body")" '{"tw":16}' "compute without the image output"
expect_eq "$(files | wc -l)" 1 "files after a compute that returns no image"

STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F id=3 -F img=@in.png "http://127.0.0.1:$PORT/store")
expect_eq "$STATUS" 200 "insert"
expect_eq "$(files | grep -vc /transient/)" 2 "a stored row's upload and thumbnail"
pass "compute results under media/transient/, nothing else left"

# Past the TTL (2 s) the running server removes it (it sweeps every second at this TTL). The
# start-up sweeps go first (they may remove the result above), so the result made next is
# removed by the running server.
stop_server
export PXT_TRANSIENT_MEDIA_TTL_S=2
start_server cm --config service.toml
wait_media_sweep
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F id=5 -F img=@in.png "http://127.0.0.1:$PORT/thumb")
expect_eq "$STATUS" 200 "compute with an image output, TTL 2 s"
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["thumb"])' "$TMP/body")
no_transient() { [ "$(files | grep -c /transient/)" = 0 ]; }
wait_until "the compute result to expire (TTL 2 s)" no_transient
expect_eq "$(files | grep -c /transient/)" 0 "transient files after the TTL"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$url")
expect_eq "$STATUS" 404 "fetching an expired compute result"
expect_eq "$(files | grep -vc /transient/)" 2 "row files after the TTL"
# 1 or 2 files: the result made before the restart goes at start or with this one.
grep -Eq 'removed [12] compute result file\(s\) older than 2s' "$TMP/server.log" || fail "no log line for the removal"
pass "expired after the TTL while serving; row files kept"

# At start: an old transient file left by a stopped server goes at once (default TTL, 1 h), in
# the sweeps that follow the start (pxt_media_sweep_done says when they are over).
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -F id=4 -F img=@in.png "http://127.0.0.1:$PORT/thumb")
stop_server
unset PXT_TRANSIENT_MEDIA_TTL_S
left=$(files | grep /transient/)
[ -n "$left" ] || fail "no transient file to age"
touch -d '2 hours ago' "$left"
start_server cm --config service.toml
wait_media_sweep
[ ! -e "$left" ] || fail "an expired transient file survived the start"
expect_eq "$(files | grep -vc /transient/)" 2 "row files after the start"
expect_eq "$("$PXT" count d.imgs)" 1 "rows"
pass "expired transient files removed at start"
