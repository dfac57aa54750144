#!/usr/bin/env bash
# embed() -> Vector columns (JSON arrays on the wire, dimension learned and kept), the vector
# functions, batching of embed() calls (concurrent requests, and many rows of one insert), images
# sent as data: URLs, and ocr() with Tesseract. Against scripts/model-standin on 127.0.0.1.
source "$(dirname "$0")/lib.sh"

start_standin --dim 16
mkdir -p "$PXT_HOME"
cat >"$PXT_HOME/config.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
max_concurrency = 1
batch_window_ms = 20
EOF
cat >"$TMP/schema.toml" <<'EOF'
dirs = ["app"]
[[tables]]
path = "app.vecs"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "text", type = "String" },
  { name = "emb", computed = "embed(text, 'stub/e')" },
  { name = "self", computed = "similarity(emb, emb)" },
]
[[tables]]
path = "app.given"
columns = [ { name = "v", type = "Vector" }, { name = "n", type = "Float", computed = "l2_distance(v, '[0, 0, 0]')" } ]
EOF
"$PXT" schema update "$TMP/schema.toml" >/dev/null
expect_contains "$("$PXT" columns app.vecs)" "Vector" "embed() infers a Vector column"

# ---- one row: a Vector of the stand-in's dimension, as a JSON array ----
out=$("$PXT" --json insert app.vecs '{"id": 1, "text": "the cat sat on the mat"}')
dim=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r=r[0] if isinstance(r,list) else r; print(len(r["emb"]))' "$out")
expect_eq "$dim" "16" "a 16-dimension Vector as a JSON array"
expect_contains "$out" '"self":1' "similarity(emb, emb) = 1"
# Given vectors: the first fixes the column's dimension.
"$PXT" insert app.given '{"v": [3, 4, 0]}' >/dev/null
expect_contains "$("$PXT" --json rows app.given)" '"n":5' "l2_distance over a given Vector"
expect_status 1 "$PXT" insert app.given '{"v": [1, 2]}'
expect_contains "$ERR" "column 'v' holds Vectors of 3 dimensions; this one has 2" "the dimension is kept"
expect_status 1 "$PXT" insert app.given '{"v": [1, "a", 2]}'
expect_status 1 "$PXT" insert app.given '{"v": []}'
pass "Vector columns"

# ---- many rows in one insert: embed() calls go in batches of up to 32 ----
standin_reset
python3 -c '
import json
for i in range(100):
    print(json.dumps({"id": 1000 + i, "text": "document number %d about %s" % (i, ["cats", "dogs", "boats"][i % 3])}))
' >"$TMP/rows.jsonl"
"$PXT" insert app.vecs --file "$TMP/rows.jsonl" >/dev/null
expect_eq "$(standin_stat inputs)" "100" "every row embedded"
requests=$(standin_stat embeddings)
[ "$requests" -le 4 ] || fail "100 rows took $requests embeddings requests (batches of up to 32: 4)"
expect_eq "$("$PXT" count app.vecs --where 'emb IS NOT NULL' | tr -d '\n')" "101" "stored"
pass "a 100-row insert: $requests embeddings requests"

# ---- concurrent requests to one model share a request ----
cat >"$TMP/service.toml" <<EOF
[service]
name = "vecs"
[[routes]]
type = "insert"
path = "/add"
table = "app.vecs"
inputs = ["id", "text"]
outputs = ["id", "emb"]
EOF
start_server --config "$TMP/service.toml"
curl -fs "http://127.0.0.1:$PORT/openapi.json" >"$TMP/openapi.json"
python3 - "$TMP/openapi.json" <<'EOF' || fail "OpenAPI: emb is an array of numbers"
import json, sys
doc = json.load(open(sys.argv[1]))
found = []
def walk(o):
    if isinstance(o, dict):
        if "emb" in o.get("properties", {}):
            found.append(o["properties"]["emb"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(doc)
assert found, "no emb property"
s = json.dumps(found[0])
assert '"type": "array"' in s and '"type": "number"' in s, s
EOF
standin_reset
# max_concurrency = 1 and a slow upstream: while one request is out, the others wait together.
standin_control '{"delay_ms": 300}'
curls=()
for i in $(seq 1 16); do
  curl -s -o "$TMP/c$i" -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
    --data "{\"id\": $((2000 + i)), \"text\": \"concurrent text $i\"}" "http://127.0.0.1:$PORT/add" >>"$TMP/codes" &
  curls+=($!)
done
wait "${curls[@]}"  # not a bare wait: the stand-in and the server are children too
expect_eq "$(sort -u "$TMP/codes")" "200" "all 16 inserts answered 200"
expect_eq "$(standin_stat inputs)" "16" "16 inputs embedded"
requests=$(standin_stat embeddings)
[ "$requests" -lt 16 ] || fail "16 concurrent inserts took $requests embeddings requests: no batching"
largest=$(curl -fs "http://127.0.0.1:$STANDIN_PORT/_stats" | python3 -c 'import json,sys; print(max(json.load(sys.stdin)["batch_sizes"]))')
[ "$largest" -ge 2 ] || fail "no batch held more than one input"
metrics=$(curl -fs "http://127.0.0.1:$PORT/metrics")
expect_contains "$metrics" 'pxt_model_batch_size_count{provider="stub",model="e"}' "batch sizes on /metrics"
standin_control '{"delay_ms": 0}'
stop_server
pass "16 concurrent inserts: $requests embeddings requests, the largest batch $largest inputs"

# ---- images: embedded as a data: URL (vLLM's chat-style input), one per request ----
cat >"$TMP/img.toml" <<'EOF'
[[tables]]
path = "app.pics"
columns = [
  { name = "img", type = "Image" },
  { name = "emb", computed = "embed(img, 'stub/clip')" },
  { name = "text", computed = "ocr(img)" },
]
EOF
"$PXT" schema update "$TMP/img.toml" >/dev/null
/usr/bin/python3 - "$TMP/words.png" <<'EOF'
import sys
from PIL import Image, ImageDraw, ImageFont
img = Image.new("RGB", (900, 160), "white")
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 64)
ImageDraw.Draw(img).text((30, 40), "HELLO PIXELS", fill="black", font=font)
img.save(sys.argv[1])
EOF
standin_reset
out=$("$PXT" --json insert app.pics "{\"img\": \"data:image/png;base64,$(base64 -w0 "$TMP/words.png")\"}")
dim=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r=r[0] if isinstance(r,list) else r; print(len(r["emb"]))' "$out")
expect_eq "$dim" "16" "an image embedded"
expect_eq "$(standin_stat embeddings)" "1" "one request for the image"
expect_contains "$out" '"text":"HELLO PIXELS"' "ocr() read the image with Tesseract"
pass "images: embed() as a data: URL, ocr()"
