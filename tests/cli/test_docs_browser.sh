#!/usr/bin/env bash
# backends: sqlite (the document and the docs pages are the same on every store)
# /docs and /redoc render in Debian's headless Chromium (driven by puppeteer-core): every
# operation shown, no failed request, nothing fetched from another host, no script error, and
# the big bundles received compressed. See tests/js/docs_browser.mjs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/openapi_lib.sh"
require_js_tools
command -v chromium >/dev/null || fail "chromium is not installed: run scripts/setup"
cd "$TMP"
write_shop_service
start_server shop --config service.toml
mkdir js && ln -s "$JS_TOOLS/node_modules" js/node_modules
cp "$PXT_SRC/tests/js/docs_browser.mjs" js/
node js/docs_browser.mjs "$PORT" "$TMP/chromium-profile" >browser.log 2>&1 || fail "$(cat browser.log)"
cat browser.log
pass "docs pages render offline"
