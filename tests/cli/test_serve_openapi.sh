#!/usr/bin/env bash
# /openapi.json, /docs and /redoc from the real binary: a valid OpenAPI 3.1 document listing every
# route with its schemas under Pixeltable's names, readable operation ids, distinct summaries,
# media values as URI references with their media types, typed job results; and documentation
# pages whose every asset loads from the binary. (Linting: test_openapi_lint.sh; a generated
# client: test_openapi_client.sh; the pages in a browser: test_docs_browser.sh.)
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["shop"]

[[tables]]
path = "shop.items"
primary_key = ["sku"]
columns = [
  { name = "sku", type = "String", required = true },
  { name = "price", type = "Float", required = true },
  { name = "qty", type = "Int" },
  { name = "added", type = "Timestamp" },
  { name = "tags", type = "Json" },
  { name = "photo", type = "Image" },
  { name = "label", type = "String", computed = "sku || ': ' || price" },
]

[[tables]]
path = "shop.photos"
columns = [
  { name = "sku", type = "String" },
  { name = "image", type = "Image", required = true },
]

[[queries]]
name = "cheap"
params = [ { name = "max_price", type = "Float" }, { name = "limit", type = "Int", default = 5 } ]
sql = """SELECT sku, price FROM "shop.items" WHERE price <= :max_price ORDER BY price LIMIT :limit"""

[[queries]]
name = "by_sku"
table = "shop.items"
match = ["sku"]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "shop"
title = "Shop <API>"
prefix = "/api"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "shop.items"
path = "/items"

[[service.routes]]
type = "insert"
table = "shop.items"
path = "/items/bg"
background = true

[[service.routes]]
type = "update"
table = "shop.items"
path = "/items/update"

[[service.routes]]
type = "delete"
table = "shop.items"
path = "/items/delete"

[[service.routes]]
type = "compute"
table = "shop.items"
path = "/items/label"

[[service.routes]]
type = "query"
path = "/cheap"
query = "schema.cheap"

[[service.routes]]
type = "query"
path = "/item"
query = "schema.by_sku"
method = "get"
one_row = true

[[service.routes]]
type = "insert"
table = "shop.photos"
path = "/photo"
inputs = ["sku"]
uploadfile_inputs = ["image"]
outputs = ["image"]
return_fileresponse = true
TOML
start_server shop --config service.toml
base="http://127.0.0.1:$PORT"

curl -fsS "$base/openapi.json" >openapi.json
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' openapi.json || fail "openapi.json is not JSON"
expect_eq "$(jq -r .openapi openapi.json)" "3.1.0" "OpenAPI version"
expect_eq "$(jq -r .info.title openapi.json)" "Shop <API>" "title from the service"
# Every route, under the prefix, with its method; then the job status and media routes every
# service has (as Pixeltable's router registers them).
expect_eq "$(jq -c '[.paths | to_entries[] | .key as $p | .value | keys[] | "\(.) \($p)"] | sort' openapi.json)" \
  '["get /api/item","get /api/jobs/{job_id}","get /api/media/{path}","post /api/cheap","post /api/items","post /api/items/bg","post /api/items/delete","post /api/items/label","post /api/items/update","post /api/photo"]' \
  "every route listed"
# Pixeltable's endpoint names as operation ids: a generator makes insertItems(), not insertApiItemsPost().
expect_eq "$(jq -c '[.paths[][] | .operationId]' openapi.json)" \
  '["insert_items","insert_items_bg","update_items_update","delete_items_delete","compute_items_label","query_cheap","query_item","insert_photo","get_job_status","serve_media"]' \
  "readable operation ids"
# ReDoc titles operations by summary: a background route and its synchronous twin differ.
expect_eq "$(jq '[.paths[][] | .summary] | unique | length' openapi.json)" 10 "distinct summaries"
expect_eq "$(jq -r '.paths["/api/items"].post.summary, .paths["/api/items/bg"].post.summary' openapi.json)" \
  "Insert a row into shop.items
Insert a row into shop.items, as a background job" "twin summaries"
expect_eq "$(jq -c .security openapi.json)" "[]" "no security without auth, said explicitly"
# Every $ref resolves, and every component is referenced.
refs=$(jq -r '[.. | objects | .["$ref"]? // empty] | unique[]' openapi.json)
for ref in $refs; do
  name=${ref#\#/components/schemas/}
  [ "$(jq --arg n "$name" '.components.schemas | has($n)' openapi.json)" = true ] || fail "dangling \$ref $ref"
done
for name in $(jq -r '.components.schemas | keys[]' openapi.json); do
  grep -qx "#/components/schemas/$name" <<<"$refs" || fail "component $name is never referenced"
done
pass "document"

# Request schema of the insert route (inline): types per column, nullability, required columns.
schema() { jq -c ".paths[\"/api/items\"].post.requestBody.content[\"application/json\"].schema$1" openapi.json; }
expect_eq "$(schema .required)" '["sku","price"]' "required columns"
expect_eq "$(schema .properties.sku)" '{"type":"string","title":"Sku"}' "String"
expect_eq "$(schema .properties.price)" '{"type":"number","title":"Price"}' "Float"
expect_eq "$(schema .properties.qty.anyOf)" '[{"type":"integer"},{"type":"null"}]' "nullable Int"
expect_eq "$(schema .properties.added.anyOf[0])" '{"type":"string","format":"date-time"}' "Timestamp"
expect_eq "$(schema .properties.tags.title)" '"Tags"' "Json is any"
expect_eq "$(schema .properties.photo.anyOf[0])" '{"type":"string","format":"uri","contentMediaType":"image/*"}' \
  "a media input in JSON is a data: URI"
expect_eq "$(schema '.properties | has("label")')" false "computed columns are not inputs"
# Pixeltable's response model names: <PathStr>Response, <PathStr>RowResponse.
expect_eq "$(jq -r '.paths["/api/items"].post.responses["200"].content["application/json"].schema["$ref"]' openapi.json)" \
  "#/components/schemas/ItemsResponse" "insert response component"
expect_eq "$(jq -c '.components.schemas.ItemsResponse.properties | keys_unsorted' openapi.json)" \
  '["sku","price","qty","added","tags","photo","label"]' "insert response lists every output"
expect_eq "$(jq -c '.paths["/api/item"].get.parameters[0] | {name, in, required}' openapi.json)" \
  '{"name":"sku","in":"query","required":true}' "GET query parameter"
expect_eq "$(jq -r '.paths["/api/item"].get.responses["200"].content["application/json"].schema["$ref"]' openapi.json)" \
  "#/components/schemas/ItemRowResponse" "one_row answers the row"
expect_eq "$(jq -c '.components.schemas.CheapResponse.properties.rows.items' openapi.json)" \
  '{"$ref":"#/components/schemas/CheapRowResponse"}' "query rows"
expect_eq "$(jq -c '.paths["/api/cheap"].post.requestBody.content["application/json"].schema.properties.limit' openapi.json)" \
  '{"type":"integer","title":"Limit","default":5}' "parameter default"
expect_eq "$(jq -c '.components.schemas.HTTPValidationError.properties.detail.items' openapi.json)" \
  '{"$ref":"#/components/schemas/ValidationError"}' "FastAPI's validation error components"
pass "schemas"

# Media: the answers' relative URLs are URI references, with the column's contentMediaType.
expect_eq "$(jq -c '.components.schemas.ItemsResponse.properties.photo.anyOf[0]' openapi.json)" \
  '{"type":"string","format":"uri-reference","contentMediaType":"image/*"}' "media output"
expect_eq "$(jq -c '.paths["/api/photo"].post.requestBody.content["multipart/form-data"].schema.properties.image' openapi.json)" \
  '{"type":"string","format":"binary","contentMediaType":"image/*","title":"Image"}' "upload property"
# A file response declares what its column can be, not application/octet-stream.
expect_eq "$(jq -c '.paths["/api/photo"].post.responses["200"].content | keys' openapi.json)" '["image/*"]' \
  "file response media types"
expect_eq "$(jq -r '.paths["/api/media/{path}"].get.parameters[0].name' openapi.json)" path "GET /media/{path}"
python3 "$PXT_SRC/tests/cli/make_png.py" pic.png 4 4 1
curl -fsS -o answered.png -D headers.txt -F sku=p1 -F image=@pic.png "$base/api/photo"
expect_contains "$(cat headers.txt)" "Content-Type: image/png" "the file response's type is declared"
http POST /api/items "{\"sku\": \"m1\", \"price\": 1, \"photo\": \"data:image/png;base64,$(base64 -w0 pic.png)\"}"
photo=$(jq -r .photo <<<"$BODY")
[[ "$photo" == /api/media/* ]] || fail "a media value is a URL relative to the service: $photo"
expect_eq "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base$photo")" "200 image/png" "it resolves against the service"
pass "media"

# Background: Pixeltable's BackgroundJobResponse and JobStatusResponse; the route's own job status
# types its result as the route's answer.
expect_eq "$(jq -r '.paths["/api/items/bg"].post.responses["200"].content["application/json"].schema["$ref"]' openapi.json)" \
  "#/components/schemas/BackgroundJobResponse" "job handle"
expect_eq "$(jq -r '.paths["/api/jobs/{job_id}"].get.responses["200"].content["application/json"].schema["$ref"]' openapi.json)" \
  "#/components/schemas/JobStatusResponse" "job status"
expect_eq "$(jq -c '.components.schemas.JobStatusResponse' openapi.json)" \
  '{"$ref":"#/components/schemas/ItemsBgJobStatus"}' "one job status per background route"
expect_eq "$(jq -c '.components.schemas.ItemsBgJobStatus.properties.result.anyOf[0]' openapi.json)" \
  '{"$ref":"#/components/schemas/ItemsBgResponse"}' "the job's result is the route's answer"
pass "jobs"

# Every status a route can answer, with its body: FastAPI's 422 list or Pixeltable's error body
# (a duplicate key is 422 CONSTRAINT_VIOLATION), plain {"detail": ...} for the route-level answers.
expect_eq "$(jq -c '.paths["/api/items"].post.responses | keys' openapi.json)" \
  '["200","400","409","413","422","500","503","507"]' "insert responses"
expect_eq "$(jq -c '.paths["/api/items/update"].post.responses | keys' openapi.json)" \
  '["200","400","404","409","413","422","500","503","507"]' "update responses"
expect_eq "$(jq -c '.paths["/api/item"].get.responses | keys' openapi.json)" \
  '["200","400","404","409","413","422","500","503"]' "one_row responses"
expect_eq "$(jq -c '.paths["/api/items/bg"].post.responses | keys' openapi.json)" \
  '["200","400","413","422","500","503","507"]' "background responses"
expect_eq "$(jq -c '[.paths["/api/items"].post.responses["422"].content["application/json"].schema.anyOf[]["$ref"]]' openapi.json)" \
  '["#/components/schemas/HTTPValidationError","#/components/schemas/PixeltableError"]' "422 bodies"
http POST /api/items '{"sku": "dup", "price": 1}'
http POST /api/items '{"sku": "dup", "price": 1}'
expect_eq "$STATUS $(jq -r .detail.error_code <<<"$BODY")" "422 CONSTRAINT_VIOLATION" "a duplicate key, as declared"
expect_eq "$(jq -c '.components.schemas.PixeltableErrorDetail.required' openapi.json)" \
  '["error_code","message","retryable"]' "Pixeltable's error body"
expect_eq "$(jq '.components.schemas.PixeltableErrorDetail.properties.error_code.enum | index("CONSTRAINT_VIOLATION") != null' openapi.json)" \
  true "error codes enumerated"
pass "statuses"

# /docs: Swagger UI, every asset it references loads from the binary (no CDN), relative URLs.
curl -fsS "$base/docs" >docs.html
expect_contains "$(cat docs.html)" "<title>Shop &lt;API&gt; - Swagger UI</title>" "docs title, escaped"
expect_contains "$(cat docs.html)" 'url: "openapi.json"' "spec URL is relative"
expect_not_contains "$(cat docs.html)" "http" "no absolute URL (works offline, behind a prefix)"
assets=$(grep -oE '(src|href)="[^"]+"' docs.html | sed -E 's/^(src|href)="//; s/"$//')
[ "$(wc -l <<<"$assets")" -ge 3 ] || fail "docs page references its assets: $assets"
for a in $assets; do
  out=$(curl -s -o "$TMP/asset" -w '%{http_code} %{content_type}' "$base/$a")
  expect_eq "${out%% *}" 200 "asset $a"
  name=${a%%\?*}
  src=$(find "$PXT_SRC/third_party" -name "${name##*/}" -path '*dist*' | head -n 1)
  [ -n "$src" ] || src=$(find "$PXT_SRC/third_party" -name "${name##*/}" | head -n 1)
  cmp -s "$TMP/asset" "$src" || fail "asset $a differs from $src"
done
expect_eq "$(curl -s -o /dev/null -w '%{content_type}' "$base/docs/assets/swagger-ui-bundle.js")" "text/javascript" "JS type"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/docs/assets/missing.js")" 404 "unknown asset"
grep -q "SwaggerUIBundle" <(curl -fsS "$base/docs/assets/swagger-ui-bundle.js") || fail "the bundle is Swagger UI"
curl -fsS "$base/redoc" >redoc.html
expect_contains "$(cat redoc.html)" '<redoc spec-url="openapi.json">' "redoc page"
for a in $(grep -oE 'src="[^"]+"' redoc.html | sed -E 's/^src="//; s/"$//'); do
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$base/$a")" 200 "redoc asset $a"
done
pass "docs"

# "Try it out" sends what Swagger UI sends: the relative server "." resolves to the service root.
expect_eq "$(jq -c .servers openapi.json)" '[{"url":"."}]' "relative server"
http POST /api/items '{"sku": "a1", "price": 2}'
# A Float turned into text is the engine's: SQLite writes 2.0, PostgreSQL 2 (doc/catalog.md).
label='a1: 2.0'
[ "$TEST_BACKEND" = postgres ] && label='a1: 2'
expect_eq "$BODY" '{"sku":"a1","price":2.0,"qty":null,"added":null,"tags":null,"photo":null,"label":"'"$label"'"}' "the documented route answers"
pass "try it out"
