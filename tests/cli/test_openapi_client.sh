#!/usr/bin/env bash
# A TypeScript client generated from /openapi.json (openapi-typescript types, openapi-fetch) calls
# every operation of a service with every route kind, and each answer, errors included, matches
# what the document declares for it (status, content type, JSON Schema via ajv): see
# tests/js/client_roundtrip.ts. tsc compiling that file against the generated types is part of
# the check.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/openapi_lib.sh"
require_js_tools
cd "$TMP"
write_shop_service 'max_body_mb = 1'
start_server shop --config service.toml
base="http://127.0.0.1:$PORT"
curl -fsS "$base/openapi.json" >openapi.json

mkdir client && cd client
ln -s "$JS_TOOLS/node_modules" node_modules
echo '{"type": "module"}' >package.json
cp "$PXT_SRC/tests/js/client_roundtrip.ts" "$PXT_SRC/tests/js/tsconfig.json" .
node_modules/.bin/openapi-typescript ../openapi.json -o api.d.ts >gen.log 2>&1 || fail "openapi-typescript: $(cat gen.log)"
node_modules/.bin/tsc -p tsconfig.json >tsc.log 2>&1 || fail "the client does not compile against the generated types: $(cat tsc.log)"
pass "generated client compiles"

python3 "$PXT_SRC/tests/cli/make_png.py" pixel.png 4 4 1
node out/client_roundtrip.js "$base" ../openapi.json pixel.png >run.log 2>&1 || fail "round trip: $(cat run.log)"
cat run.log
pass "every route kind round-trips, answers valid against the document"
