# Shared by the OpenAPI tests (test_openapi_*.sh, test_docs_*.sh, test_serve_docs_assets.sh): a
# service with every route kind (insert, update, delete, compute, query POST and GET, one_row,
# upload, file responses, background), a computed column that fails on bad input (note_a: a note
# that is not JSON), and the pinned JS tools scripts/setup installs. Source lib.sh first.

# The JS tools (tests/js/package.json, installed by scripts/setup into third_party/js-tools).
JS_TOOLS=$PXT_SRC/third_party/js-tools
require_js_tools() {
  [ -x "$JS_TOOLS/node_modules/.bin/redocly" ] ||
    fail "the JS test tools are missing from $JS_TOOLS: run scripts/setup (it installs tests/js/package.json with npm)"
}

# Writes schema.toml and service.toml for the service "shop" into the current folder. Extra
# [[service]] keys (auth, rate limit) can be given as arguments, one TOML line each.
write_shop_service() {
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
  { name = "note", type = "String" },
  { name = "label", type = "String", computed = "sku || ': ' || price" },
  { name = "note_a", type = "String", computed = "json_extract(note, '$.a')" },
]

[[tables]]
path = "shop.pictures"
columns = [
  { name = "n", type = "Int" },
  { name = "image", type = "Image", required = true },
  { name = "thumb", type = "Image", computed = "resize(image, 8, 8)" },
]

[[queries]]
name = "cheap"
params = [ { name = "max_price", type = "Float" }, { name = "limit", type = "Int", default = 5 } ]
sql = """SELECT sku, price, photo FROM "shop.items" WHERE price <= :max_price ORDER BY price LIMIT :limit"""

[[queries]]
name = "by_sku"
table = "shop.items"
match = ["sku"]

[[queries]]
name = "picture"
params = [ { name = "n", type = "Int" } ]
sql = """SELECT image FROM "shop.pictures" WHERE n = :n"""
TOML
  # The engine's JSON function (doc/catalog.md): PostgreSQL has no json_extract.
  if [ "$TEST_BACKEND" = postgres ]; then
    sed -i "s|json_extract(note, '\$.a')|CAST(note AS jsonb) ->> 'a'|" schema.toml
  fi
  {
    echo '[[service]]'
    echo 'name = "shop"'
    echo 'title = "Shop"'
    echo 'prefix = "/api"'
    echo 'modules = ["schema"]'
    for line in "$@"; do echo "$line"; done
    cat <<'TOML'

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
inputs = ["price", "qty"]

[[service.routes]]
type = "delete"
table = "shop.items"
path = "/items/delete"

[[service.routes]]
type = "compute"
table = "shop.items"
path = "/items/label"
inputs = ["sku", "price"]
outputs = ["label"]

[[service.routes]]
type = "query"
path = "/cheap"
query = "schema.cheap"

[[service.routes]]
type = "query"
path = "/cheap"
query = "schema.cheap"
method = "get"

[[service.routes]]
type = "query"
path = "/item"
query = "schema.by_sku"
method = "get"
one_row = true

[[service.routes]]
type = "insert"
table = "shop.pictures"
path = "/pictures"
inputs = ["n"]
uploadfile_inputs = ["image"]

[[service.routes]]
type = "insert"
table = "shop.pictures"
path = "/pictures/thumb"
inputs = ["n"]
uploadfile_inputs = ["image"]
outputs = ["thumb"]
return_fileresponse = true

[[service.routes]]
type = "query"
path = "/picture"
query = "schema.picture"
return_fileresponse = true
TOML
  } >service.toml
}
