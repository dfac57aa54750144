#!/usr/bin/env bash
# backends: sqlite (the document and the docs pages are the same on every store)
# /openapi.json of the test services passes Redocly's recommended ruleset and Spectral's
# spectral:oas with no error. Warnings are allowed only where a rule fights the reference's
# behaviour, each listed here:
#   Redocly info-license, Spectral info-contact: a service has no license or contact to declare,
#     and Pixeltable's document has neither.
#   Spectral operation-tags: Pixeltable's routes carry no tags; tagging them would rename the API
#     classes of tag-based generators (openapi-generator's DefaultApi), so a client generated
#     against a Pixeltable service would no longer compile against pxt.
# The linters are the pinned npm packages scripts/setup installs (tests/js/package.json).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/openapi_lib.sh"
require_js_tools
cd "$TMP"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# Three services: every route kind without auth; the same with auth and a rate limit (the bearer
# security scheme, 401 and 429 answers); a single insert route (no background route, so the
# generic job status).
specs=()
serve_spec() {  # name dir -- extra [[service]] keys...
  local name=$1 dir=$2; shift 2
  mkdir -p "$dir" && (cd "$dir" && write_shop_service "$@")
  PXT_HOME=$TMP/home-$name start_server shop --config "$dir/service.toml"
  curl -fsS -H 'Authorization: Bearer s3cret' "http://127.0.0.1:$PORT/openapi.json" >"$name.json"
  stop_server
  specs+=("$name.json")
}
serve_spec plain plain
serve_spec auth auth 'auth_tokens = ["s3cret"]' 'rate_limit = "100/s"'
mkdir -p single && cat >single/service.toml <<'TOML'
[[service]]
name = "single"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "shop.items"
path = "/"
TOML
cp plain/schema.toml single/
PXT_HOME=$TMP/home-single start_server single --config single/service.toml
curl -fsS "http://127.0.0.1:$PORT/openapi.json" >single.json
stop_server
specs+=(single.json)
pass "documents of ${#specs[@]} services"

# Redocly: recommended ruleset.
printf 'extends:\n  - recommended\n' >redocly.yaml
"$JS_TOOLS/node_modules/.bin/redocly" lint "${specs[@]}" --config redocly.yaml --format=json >redocly.out 2>redocly.err || true
jq -e .totals redocly.out >/dev/null 2>&1 || fail "redocly did not run: $(tail -n 20 redocly.err)"
errors=$(jq -r '.problems[] | select(.severity == "error") | "\(.ruleId) \(.location[0].pointer): \(.message)"' redocly.out)
expect_eq "$errors" "" "Redocly errors"
warnings=$(jq -r '.problems[] | select(.severity == "warn") | .ruleId' redocly.out | sort -u | tr '\n' ' ')
expect_eq "$warnings" "info-license " "Redocly warnings (only those listed above)"
pass "Redocly recommended: 0 errors"

# Spectral: spectral:oas.
echo '{"extends": ["spectral:oas"]}' >spectral.json
"$JS_TOOLS/node_modules/.bin/spectral" lint "${specs[@]}" --ruleset spectral.json --format json \
  --output spectral.out >spectral.log 2>&1 || true
jq -e 'type == "array"' spectral.out >/dev/null 2>&1 || fail "spectral did not run: $(tail -n 20 spectral.log)"
# Severity: 0 error, 1 warning, 2 info, 3 hint.
errors=$(jq -r '.[] | select(.severity == 0) | "\(.code) \(.source) \(.path | join(".")): \(.message)"' spectral.out)
expect_eq "$errors" "" "Spectral errors"
warnings=$(jq -r '.[] | select(.severity == 1) | .code' spectral.out | sort -u | tr '\n' ' ')
expect_eq "$warnings" "info-contact operation-tags " "Spectral warnings (only those listed above)"
pass "Spectral spectral:oas: 0 errors"
