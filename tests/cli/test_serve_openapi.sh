#!/usr/bin/env bash
# /openapi.json, /docs and /redoc from the real binary: a valid OpenAPI 3.1 document listing every
# route with its schemas, and documentation pages whose every asset loads from the binary.
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
  { name = "label", type = "String", computed = "sku || ': ' || price" },
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
TOML
start_server shop --config service.toml
base="http://127.0.0.1:$PORT"

curl -fsS "$base/openapi.json" >openapi.json
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' openapi.json || fail "openapi.json is not JSON"
expect_eq "$(jq -r .openapi openapi.json)" "3.1.0" "OpenAPI version"
expect_eq "$(jq -r .info.title openapi.json)" "Shop <API>" "title from the service"
# Every route, under the prefix, with its method and a unique operationId.
expect_eq "$(jq -c '[.paths | to_entries[] | .key as $p | .value | keys[] | "\(.) \($p)"] | sort' openapi.json)" \
  '["get /api/item","post /api/cheap","post /api/items","post /api/items/delete","post /api/items/label","post /api/items/update"]' \
  "every route listed"
expect_eq "$(jq '[.paths[][] | .operationId] | unique | length' openapi.json)" 6 "unique operation ids"
expect_eq "$(jq -r '.paths["/api/items"].post.operationId' openapi.json)" "insert_api_items_post" "FastAPI-style id"
# Every $ref resolves.
for ref in $(jq -r '.. | objects | .["$ref"]? // empty' openapi.json | sort -u); do
  name=${ref#\#/components/schemas/}
  [ "$(jq --arg n "$name" '.components.schemas | has($n)' openapi.json)" = true ] || fail "dangling \$ref $ref"
done
pass "document"

# Request schema of the insert route: types per column, nullability, required columns.
req=$(jq -r '.paths["/api/items"].post.requestBody.content["application/json"].schema["$ref"]' openapi.json)
req=${req#\#/components/schemas/}
schema() { jq -c --arg n "$req" ".components.schemas[\$n]$1" openapi.json; }
expect_eq "$(schema .required)" '["sku","price"]' "required columns"
expect_eq "$(schema .properties.sku)" '{"type":"string","title":"Sku"}' "String"
expect_eq "$(schema .properties.price)" '{"type":"number","title":"Price"}' "Float"
expect_eq "$(schema .properties.qty.anyOf)" '[{"type":"integer"},{"type":"null"}]' "nullable Int"
expect_eq "$(schema .properties.added.anyOf[0])" '{"type":"string","format":"date-time"}' "Timestamp"
expect_eq "$(schema .properties.tags.title)" '"Tags"' "Json is any"
expect_eq "$(schema '.properties | has("label")')" false "computed columns are not inputs"
resp=$(jq -r '.paths["/api/items"].post.responses["200"].content["application/json"].schema["$ref"]' openapi.json)
expect_eq "$(jq -c --arg n "${resp#\#/components/schemas/}" '.components.schemas[$n].properties | keys_unsorted' openapi.json)" \
  '["sku","price","qty","added","tags","label"]' "insert response lists every output"
expect_eq "$(jq -c '.paths["/api/items"].post.responses | keys' openapi.json)" '["200","409","422"]' "insert responses"
expect_eq "$(jq -c '.paths["/api/items/update"].post.responses | keys' openapi.json)" '["200","404","409","422"]' "update responses"
expect_eq "$(jq -c '.paths["/api/item"].get.responses | keys' openapi.json)" '["200","404","409","422"]' "one_row responses"
expect_eq "$(jq -c '.paths["/api/item"].get.parameters[0] | {name, in, required}' openapi.json)" \
  '{"name":"sku","in":"query","required":true}' "GET query parameter"
cheap=$(jq -r '.paths["/api/cheap"].post.requestBody.content["application/json"].schema["$ref"]' openapi.json)
expect_eq "$(jq -c --arg n "${cheap#\#/components/schemas/}" '.components.schemas[$n].properties.limit' openapi.json)" \
  '{"type":"integer","title":"Limit","default":5}' "parameter default"
expect_eq "$(jq -c '.components.schemas.HTTPValidationError.properties.detail.items' openapi.json)" \
  '{"$ref":"#/components/schemas/ValidationError"}' "FastAPI's validation error components"
pass "schemas"

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
expect_eq "$BODY" '{"sku":"a1","price":2.0,"qty":null,"added":null,"tags":null,"label":"'"$label"'"}' "the documented route answers"
pass "try it out"
