#!/usr/bin/env bash
# The serving reference's own AI pipelines, end to end from the binary, in the reference's TOML
# shapes, against the stand-in model server (scripts/model-standin) on 127.0.0.1:
#   /generate  {"prompt": ...} -> {"prompt": ..., "result": <the language model's answer>}
#              (the TOML route and the single-endpoint `pxt serve insert` form)
#   /process   an uploaded image + width/height -> ["thumbnail", "embedding"] (the full example)
#   /search    {"query_text": "hello"} -> {"rows": [{"id", "text", "score"}, ...]}, best first
# and what a user sees when the model fails (Pixeltable's error body, nothing stored).
source "$(dirname "$0")/lib.sh"
cd "$TMP"

start_standin --dim 24
mkdir -p "$PXT_HOME" myapp
cat >"$PXT_HOME/config.toml" <<EOF
[models.local]
base_url = "$STANDIN_URL"
max_retries = 0
EOF

cat >myapp/queries.toml <<'EOF'
dirs = ["my_dir", "myapp"]

[[tables]]
path = "my_dir/my_table"
columns = [
  { name = "prompt", type = "String", required = true },
  { name = "result", computed = "chat(prompt, 'local/chat-model')" },
]

[[tables]]
path = "myapp/images"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "image", type = "Image", required = true },
  { name = "width", type = "Int" },
  { name = "height", type = "Int" },
  { name = "tag", type = "String" },
  { name = "thumbnail", computed = "thumbnail(image, 32)" },
  { name = "embedding", computed = "embed(image, 'local/clip')" },
]

[[tables]]
path = "myapp/docs"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "text", type = "String", required = true },
]

[[indexes]]
table = "myapp/docs"
column = "text"
embedding = "embed(text, 'local/text-embedding')"

[[queries]]
name = "search_docs"
params = [ { name = "query_text", type = "String" } ]
sql = """SELECT id, text, similarity(text, :query_text) AS score FROM "myapp.docs" ORDER BY score DESC LIMIT 3"""
EOF

cat >service.toml <<'EOF'
[[service]]
name = "ai-service"
modules = ["myapp.queries"]

[[service.routes]]
type = "insert"
table = "my_dir/my_table"
path = "/generate"
inputs = ["prompt"]
outputs = ["prompt", "result"]

[[service.routes]]
type = "insert"
table = "myapp/images"
path = "/process"
inputs = ["id", "width", "height"]
uploadfile_inputs = ["image"]
outputs = ["thumbnail", "embedding"]

[[service.routes]]
type = "insert"
table = "myapp/docs"
path = "/documents"

[[service.routes]]
type = "query"
path = "/search"
query = "myapp.queries.search_docs"
EOF

start_server ai-service --config service.toml

# ---- /generate: a prompt in, the model's answer out ----
standin_reset
http POST /generate '{"prompt": "write a haiku about the sea"}'
expect_eq "$STATUS" "200" "/generate: $BODY"
expect_eq "$BODY" '{"prompt":"write a haiku about the sea","result":"[chat-model] write a haiku about the sea"}' \
  "/generate answers the model's result"
expect_eq "$(standin_stat chat)" "1" "one chat request upstream"
expect_eq "$("$PXT" count my_dir.my_table | tr -d '\n')" "1" "the row is stored"
expect_contains "$("$PXT" --json rows my_dir.my_table)" '"result":"[chat-model] write a haiku about the sea"' \
  "the stored result"
# The OpenAPI document says what /generate answers.
curl -fs "http://127.0.0.1:$PORT/openapi.json" >openapi.json
python3 - openapi.json <<'PY' || fail "OpenAPI: /generate's response has prompt and result (strings)"
import json, sys
doc = json.load(open(sys.argv[1]))
op = doc["paths"]["/generate"]["post"]
schema = op["responses"]["200"]["content"]["application/json"]["schema"]
if "$ref" in schema:
    schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
props = schema["properties"]
assert set(props) == {"prompt", "result"}, props
assert "string" in json.dumps(props["result"]), props["result"]
PY
pass "/generate: prompt -> result"

# ---- /generate failing upstream: the error body, nothing stored ----
standin_control '{"fail": [{"status": 500, "times": 1}]}'
http POST /generate '{"prompt": "this one fails"}'
expect_eq "$STATUS" "502" "a failing model answers 502: $BODY"
expect_contains "$BODY" '"error_code":"PROVIDER_ERROR"' "PROVIDER_ERROR"
expect_contains "$BODY" "model provider 'local' (model 'chat-model')" "names the provider and model"
expect_contains "$BODY" "upstream answered 500" "names the upstream status"
expect_eq "$("$PXT" count my_dir.my_table | tr -d '\n')" "1" "nothing stored"
pass "/generate: a failing model stores nothing and answers PROVIDER_ERROR"

# ---- /process: an uploaded image -> thumbnail and embedding ----
/usr/bin/python3 "$PXT_SRC/tests/cli/make_png.py" photo.png 96 64 5
/usr/bin/python3 "$PXT_SRC/tests/cli/make_png.py" other.png 96 64 6
standin_reset
STATUS=$(curl -s -o body -w '%{http_code}' -F id=1 -F width=96 -F height=64 -F image=@photo.png \
  "http://127.0.0.1:$PORT/process")
BODY=$(cat body)
expect_eq "$STATUS" "200" "/process: $BODY"
python3 - "$BODY" >process.out <<'PY' || fail "/process answers thumbnail and embedding: $BODY"
import json, math, sys
r = json.loads(sys.argv[1])
assert set(r) == {"thumbnail", "embedding"}, r
assert r["thumbnail"].startswith("/media/"), r["thumbnail"]
e = r["embedding"]
assert isinstance(e, list) and len(e) == 24 and all(isinstance(x, (int, float)) for x in e), e
assert abs(math.sqrt(sum(x * x for x in e)) - 1) < 1e-3, "not the stand-in's unit vector"
print(r["thumbnail"])
PY
thumb_url=$(cat process.out)
STATUS=$(curl -s -o thumb.png -w '%{http_code}' "http://127.0.0.1:$PORT$thumb_url")
expect_eq "$STATUS" "200" "the thumbnail's URL serves it"
size=$(/usr/bin/python3 -c 'import sys; from PIL import Image; print("%dx%d" % Image.open(sys.argv[1]).size)' thumb.png)
expect_eq "$size" "32x21" "the thumbnail fits in 32 pixels, aspect kept"
expect_eq "$(standin_stat embeddings)" "1" "one embeddings request for the image"
# The same image embeds to the same vector; another image to another.
STATUS=$(curl -s -o body2 -w '%{http_code}' -F id=2 -F image=@photo.png "http://127.0.0.1:$PORT/process")
expect_eq "$STATUS" "200" "/process again: $(cat body2)"
STATUS=$(curl -s -o body3 -w '%{http_code}' -F id=3 -F image=@other.png "http://127.0.0.1:$PORT/process")
expect_eq "$STATUS" "200" "/process another image: $(cat body3)"
python3 - body2 body3 "$BODY" <<'PY' || fail "image embeddings follow the image's bytes"
import json, sys
a = json.loads(sys.argv[3])["embedding"]
same = json.load(open(sys.argv[1]))["embedding"]
other = json.load(open(sys.argv[2]))["embedding"]
assert a == same, "the same image gave another vector"
assert a != other, "two images gave the same vector"
PY
rows=$("$PXT" --json rows myapp.images)
expect_contains "$rows" '"width":96' "the form fields are stored"
expect_eq "$("$PXT" count myapp.images --where 'embedding IS NOT NULL' | tr -d '\n')" "3" "three embeddings stored"
# A failing model: 503 from upstream, nothing stored, the upload not kept.
files_before=$(find "$PXT_HOME/media" -type f | wc -l)
standin_control '{"fail": [{"status": 503, "times": 1}]}'
STATUS=$(curl -s -o body -w '%{http_code}' -F id=4 -F image=@photo.png "http://127.0.0.1:$PORT/process")
expect_eq "$STATUS" "503" "an overloaded model answers 503: $(cat body)"
expect_contains "$(cat body)" '"error_code":"PROVIDER_OVERLOADED"' "PROVIDER_OVERLOADED"
expect_eq "$("$PXT" count myapp.images | tr -d '\n')" "3" "nothing stored"
expect_eq "$(find "$PXT_HOME/media" -type f | wc -l)" "$files_before" "no file left by the failed request"
pass "/process: uploaded image -> thumbnail and embedding"

# ---- /search: {"query_text": "hello"} -> rows with a score, most similar first ----
i=0
for text in "hello world" "a sunset over the ocean" "how to bake sourdough bread" "hello there, old friend" \
  "cats and dogs living together" "the ocean at night"; do
  i=$((i + 1))
  http POST /documents "{\"id\": $i, \"text\": \"$text\"}"
  expect_eq "$STATUS" "200" "adding a document: $BODY"
done
standin_reset
http POST /search '{"query_text": "hello"}'
expect_eq "$STATUS" "200" "/search: $BODY"
python3 - "$BODY" <<'PY' || fail "/search answers rows with a score, best first: $BODY"
import json, sys
rows = json.loads(sys.argv[1])["rows"]
assert len(rows) == 3, rows
assert all(set(r) == {"id", "text", "score"} for r in rows), rows
scores = [r["score"] for r in rows]
assert scores == sorted(scores, reverse=True), scores
assert {rows[0]["id"], rows[1]["id"]} == {1, 4}, rows  # the two texts with "hello"
assert -1 <= scores[-1] <= scores[0] <= 1, scores
PY
expect_eq "$(standin_stat embeddings)" "1" "the query text embedded once"
http POST /search '{"query_text": "hello world"}'
expect_contains "$BODY" '{"id":1,"text":"hello world","score":1.0}' "the identical text scores 1"
http POST /search '{"query_txt": "hello"}'
expect_eq "$STATUS" "422" "a misspelt parameter: $BODY"
pass "/search: query_text -> rows with a score"

stop_server

# ---- the single-endpoint form of /generate (the reference's quickstart) ----
start_server insert --table my_dir.my_table --path /generate --inputs prompt --outputs prompt result
http POST /generate '{"prompt": "hello"}'
expect_eq "$STATUS" "200" "pxt serve insert /generate: $BODY"
expect_eq "$BODY" '{"prompt":"hello","result":"[chat-model] hello"}' "the quickstart's /generate"
stop_server
pass "pxt serve insert --path /generate (quickstart)"
