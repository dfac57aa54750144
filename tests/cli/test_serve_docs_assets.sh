#!/usr/bin/env bash
# backends: sqlite (the document and the docs pages are the same on every store)
# The docs pages' assets: stored compressed in the binary (gzip and brotli, made at build time)
# and sent compressed to clients that accept it (q-values honoured), identity otherwise, with
# Vary and a year-long Cache-Control on the versioned URLs the pages use; and /docs and /redoc
# offline: neither page nor the bundles they load point a browser at another host.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/openapi_lib.sh"
cd "$TMP"
write_shop_service
start_server shop --config service.toml
base="http://127.0.0.1:$PORT"
curl -fsS "$base/docs" >docs.html
curl -fsS "$base/redoc" >redoc.html

# The URL the page uses for an asset (relative, with its ?v=).
asset_url() { grep -oE "docs/assets/$1\?v=[0-9a-f]+" docs.html redoc.html -h | head -n 1; }
bundle=$(asset_url swagger-ui-bundle.js)
[ -n "$bundle" ] || fail "the docs page names swagger-ui-bundle.js with a ?v= version: $(grep -o 'docs/assets/[^"]*' docs.html)"
identity=$PXT_SRC/third_party/swagger-ui-dist/swagger-ui-bundle.js
size=$(stat -c %s "$identity")

# fetch URL [Accept-Encoding]: body to $TMP/body, headers to $TMP/headers.
fetch() {
  local args=(-s -D "$TMP/headers" -o "$TMP/body" "$base/$1")
  [ $# -ge 2 ] && args+=(-H "Accept-Encoding: $2")
  curl "${args[@]}"
}
header() { grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
unbrotli() { node -e 'process.stdout.write(require("zlib").brotliDecompressSync(require("fs").readFileSync(0)))'; }

fetch "$bundle" "gzip, deflate"
expect_eq "$(header Content-Encoding)" gzip "gzip to a client that accepts it"
expect_eq "$(header Vary)" "Accept-Encoding" "Vary"
expect_eq "$(header Cache-Control)" "public, max-age=31536000, immutable" "versioned URL cached for a year"
expect_eq "$(header Content-Length)" "$(stat -c %s "$TMP/body")" "Content-Length is the compressed size"
[ "$(stat -c %s "$TMP/body")" -lt $((size * 35 / 100)) ] || fail "gzip body is $(stat -c %s "$TMP/body") bytes of $size"
gunzip -c "$TMP/body" | cmp -s - "$identity" || fail "the gzip body is not the bundle"
fetch "$bundle" "gzip, deflate, br, zstd"  # what Chromium sends
expect_eq "$(header Content-Encoding)" br "brotli to a browser"
[ "$(stat -c %s "$TMP/body")" -lt $((size * 25 / 100)) ] || fail "brotli body is $(stat -c %s "$TMP/body") bytes of $size"
unbrotli <"$TMP/body" | cmp -s - "$identity" || fail "the brotli body is not the bundle"
fetch "$bundle"
expect_eq "$(header Content-Encoding)" "" "identity without Accept-Encoding"
cmp -s "$TMP/body" "$identity" || fail "identity body is the bundle"
expect_eq "$(header Vary)" "Accept-Encoding" "Vary on identity too"
pass "swagger-ui-bundle.js: gzip, brotli, identity"

# Accept-Encoding as RFC 9110 reads it.
for case in "gzip;q=0|" "gzip;q=0, br;q=0|" "identity|" "br;q=0.5, gzip|gzip" "gzip;q=0.5, br;q=0.8|br" \
  "*|br" "*, br;q=0|gzip" "identity;q=1, gzip;q=0.5|" "GZIP|gzip" "x-gzip|gzip" "gzip;q=abc|" "br;q=0.001|br"; do
  fetch "$bundle" "${case%|*}"
  expect_eq "$(header Content-Encoding)" "${case#*|}" "Accept-Encoding: ${case%|*}"
done
pass "q-values"

# HEAD: the same headers, no body.
curl -s -I -H 'Accept-Encoding: gzip' "$base/$bundle" >head.txt
expect_contains "$(cat head.txt)" "Content-Encoding: gzip" "HEAD"
# Without the version the URL may change content: revalidate.
fetch docs/assets/swagger-ui-bundle.js gzip
expect_eq "$(header Cache-Control)" "no-cache" "unversioned URL"
fetch "docs/assets/swagger-ui-bundle.js?v=0000" gzip
expect_eq "$(header Cache-Control)" "no-cache" "stale version"
# The CSS and ReDoc's bundle too; the PNG is sent as stored.
fetch "$(asset_url swagger-ui.css)" gzip
expect_eq "$(header Content-Encoding)" gzip "CSS"
gunzip -c "$TMP/body" | cmp -s - "$PXT_SRC/third_party/swagger-ui-dist/swagger-ui.css" || fail "the CSS"
fetch "$(asset_url redoc.standalone.js)" br
expect_eq "$(header Content-Encoding)" br "ReDoc"
unbrotli <"$TMP/body" >redoc.js
[ "$(stat -c %s redoc.js)" -gt 1000000 ] || fail "the ReDoc bundle"
fetch "$(asset_url favicon-32x32.png)" "gzip, br"
expect_eq "$(header Content-Encoding)" "" "the PNG is not compressed again"
cmp -s "$TMP/body" "$PXT_SRC/third_party/swagger-ui-dist/favicon-32x32.png" || fail "favicon"
# curl --compressed, a real client, decodes to the bundle.
curl -fsS --compressed "$base/$bundle" | cmp -s - "$identity" || fail "curl --compressed"
pass "versions, other assets, HEAD"

# Offline: no page and no served bundle makes a browser load anything from another host. In the
# bundles, a URL is loaded when it is an element's src, a CSS url() or @import, a fetch / worker /
# script import, or a *Url option default (Swagger UI's validator badge, an <img src>). Swagger
# UI's validatorUrl default is such a URL: the page must turn it off.
expect_contains "$(cat docs.html)" "validatorUrl: null" "the docs page turns Swagger UI's validator badge off"
expect_not_contains "$(cat docs.html redoc.html)" "http" "no absolute URL in the pages"
loads() {
  grep -hoE '(src|srcset|poster)\s*[:=]\s*["'"'"'`]https?://[^"'"'"'`]*|url\(\s*["'"'"']?https?://[^)]*|@import\s+(url\()?\s*["'"'"']?https?://[^;]*|(fetch|importScripts|Worker)\(\s*["'"'"'`]https?://[^"'"'"'`]*|[A-Za-z]*Url\s*:[^,;}]{0,40}["'"'"'`]https?://[^"'"'"'`]*' "$@" || true
}
for a in swagger-ui-bundle.js swagger-ui.css redoc.standalone.js; do
  curl -fsS --compressed "$base/$(asset_url "$a")" >"served-$a"
done
found=$(loads served-swagger-ui-bundle.js served-swagger-ui.css | grep -v '^validatorUrl:' || true)
expect_eq "$found" "" "URLs the Swagger UI bundle would load"
expect_eq "$(loads served-redoc.standalone.js)" "" "URLs the ReDoc bundle would load (Redocly's logo from its CDN)"
pass "offline: nothing loaded from another host"
