#!/usr/bin/env bash
# Delete (and update) routes that match on two columns: a row is removed only when it matches
# every match column, never when it matches one of them (issue 19: a delete matching on the first
# column only went unnoticed). Through a composite primary key (the default match), explicit
# match_columns of two types, the single-route CLI form, and the 422 for a missing match field.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.stock"
primary_key = ["shop", "sku"]
columns = [
  { name = "shop", type = "String", required = true },
  { name = "sku", type = "String", required = true },
  { name = "qty", type = "Int" },
]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "stock"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "app.stock"
path = "/stock"

[[service.routes]]
type = "delete"
table = "app.stock"
path = "/stock/delete"

[[service.routes]]
type = "delete"
table = "app.stock"
path = "/stock/delete-by"
match_columns = ["sku", "qty"]

[[service.routes]]
type = "update"
table = "app.stock"
path = "/stock/update"
TOML
start_server stock --config service.toml

# Every row, sorted, as "shop/sku/qty ..." (one line).
rows() { "$PXT" rows app.stock --format json | jq -r 'sort_by(.shop, .sku) | map("\(.shop)/\(.sku)/\(.qty)") | join(" ")'; }
fill() {
  "$PXT" delete app.stock --where true >/dev/null
  for r in a,x,1 a,y,1 b,x,2 b,y,2; do
    IFS=, read -r shop sku qty <<<"$r"
    http POST /stock "{\"shop\": \"$shop\", \"sku\": \"$sku\", \"qty\": $qty}"
    expect_eq "$STATUS" 200 "insert $r"
  done
  expect_eq "$(rows)" "a/x/1 a/y/1 b/x/2 b/y/2" "rows before"
}

# ---- the composite primary key is the default match ----
fill
http POST /stock/delete '{"shop": "a", "sku": "x"}'
expect_eq "$STATUS $BODY" '200 {"num_rows":1}' "delete a/x"
expect_eq "$(rows)" "a/y/1 b/x/2 b/y/2" "only a/x went; a/y (same shop) and b/x (same sku) stay"
http POST /stock/delete '{"shop": "a", "sku": "z"}'
expect_eq "$STATUS $BODY" '200 {"num_rows":0}' "shop matches, sku does not"
http POST /stock/delete '{"shop": "c", "sku": "y"}'
expect_eq "$STATUS $BODY" '200 {"num_rows":0}' "sku matches, shop does not"
http POST /stock/delete '{"sku": "y", "shop": "b"}'
expect_eq "$STATUS $BODY" '200 {"num_rows":1}' "fields in the other order"
expect_eq "$(rows)" "a/y/1 b/x/2" "rows after matching on both"
http POST /stock/delete '{"shop": "a"}'
expect_eq "$STATUS" 422 "a missing match field"
expect_eq "$(jq -c '[.detail[] | [.type, .loc]]' <<<"$BODY")" '[["missing",["body","sku"]]]' "the missing field is named"
expect_eq "$(rows)" "a/y/1 b/x/2" "the refused delete removed nothing"
pass "delete by a two-column primary key"

# ---- explicit match_columns of two types (String, Int) ----
fill
http POST /stock/delete-by '{"sku": "y", "qty": 2}'
expect_eq "$STATUS $BODY" '200 {"num_rows":1}' "delete sku y with qty 2"
expect_eq "$(rows)" "a/x/1 a/y/1 b/x/2" "a/y (qty 1) stays"
http POST /stock/delete-by '{"sku": "x", "qty": 3}'
expect_eq "$STATUS $BODY" '200 {"num_rows":0}' "sku matches two rows, qty none"
http POST /stock/delete-by '{"sku": "x", "qty": 1}'
expect_eq "$STATUS $BODY" '200 {"num_rows":1}' "delete sku x with qty 1"
expect_eq "$(rows)" "a/y/1 b/x/2" "rows after the match_columns deletes"
pass "delete by two match_columns"

# ---- update by a two-column primary key changes only the row matching both ----
fill
http POST /stock/update '{"shop": "b", "sku": "x", "qty": 7}'
expect_eq "$STATUS $BODY" '200 {"shop":"b","sku":"x","qty":7}' "update b/x"
expect_eq "$(rows)" "a/x/1 a/y/1 b/x/7 b/y/2" "only b/x changed"
http POST /stock/update '{"shop": "c", "sku": "x", "qty": 9}'
expect_eq "$STATUS" 404 "update: shop unknown, sku known"
expect_eq "$(rows)" "a/x/1 a/y/1 b/x/7 b/y/2" "nothing changed"
pass "update by a two-column primary key"
stop_server

# ---- the single-route CLI form: --match-columns with two columns ----
start_server delete --table app.stock --path /del --match-columns shop qty
fill_cli() {
  "$PXT" delete app.stock --where true >/dev/null
  "$PXT" insert app.stock '[{"shop": "a", "sku": "x", "qty": 1}, {"shop": "a", "sku": "y", "qty": 2},
    {"shop": "b", "sku": "x", "qty": 1}]' >/dev/null
}
fill_cli
http POST /del '{"shop": "a", "qty": 1}'
expect_eq "$STATUS $BODY" '200 {"num_rows":1}' "CLI route: delete shop a with qty 1"
expect_eq "$(rows)" "a/y/2 b/x/1" "a/y (qty 2) and b/x (shop b) stay"
pass "delete --match-columns shop qty"
