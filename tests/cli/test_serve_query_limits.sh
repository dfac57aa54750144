#!/usr/bin/env bash
# Issue 18, point 7: SQLite reads a negative LIMIT as "no limit", so limit=-1 (or a huge one)
# returned every row. A query parameter used in LIMIT or OFFSET is refused below 0 (pydantic's
# greater_than_equal, 422), and [service] max_rows caps what any query route answers, as
# PostgREST's db-max-rows does (the rows past it are not even read; Content-Range says so).
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["d"]

[[tables]]
path = "d.t"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true } ]

[[queries]]
name = "page"
params = [ { name = "limit", type = "Int", default = 10 }, { name = "offset", type = "Int", default = 0 } ]
sql = """SELECT id FROM "d.t" ORDER BY id LIMIT :limit OFFSET :offset"""
TOML
cat >service.toml <<'TOML'
[[service]]
name = "lim"
modules = ["schema"]
max_rows = 3

[[service.routes]]
type = "query"
path = "/page"
query = "schema.page"
method = "get"

[[service.routes]]
type = "query"
path = "/page"
query = "schema.page"
method = "post"
TOML
"$PXT" schema update schema.toml >/dev/null
"$PXT" insert d.t '[{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}]' >/dev/null

start_server lim --config service.toml
http GET "/page?limit=-1"
expect_eq "$STATUS" 422 "a negative LIMIT"
expect_eq "$(jq -c '.detail[0] | [.type, .loc, .msg, .input, .ctx]' <<<"$BODY")" \
  '["greater_than_equal",["query","limit"],"Input should be greater than or equal to 0","-1",{"ge":0}]' "pydantic's error"
http GET "/page?offset=-2"
expect_eq "$STATUS" 422 "a negative OFFSET"
http POST /page '{"limit": -1}'
expect_eq "$STATUS" 422 "a negative LIMIT in a JSON body"
expect_eq "$(jq -c '.detail[0].loc' <<<"$BODY")" '["body","limit"]' "located in the body"
pass "negative LIMIT and OFFSET refused"

STATUS=$(curl -s -D headers.txt -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$PORT/page?limit=9223372036854775807")
expect_eq "$STATUS" 200 "the largest LIMIT"
expect_eq "$(jq -c '[.rows[].id]' "$TMP/body")" '[1,2,3]' "capped at max_rows"
expect_contains "$(tr -d '\r' <headers.txt)" "Content-Range: 0-2/*" "the cap is announced"
STATUS=$(curl -s -D headers.txt -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$PORT/page?limit=2&offset=1")
expect_eq "$(jq -c '[.rows[].id]' "$TMP/body")" '[2,3]' "under the cap: as asked"
expect_not_contains "$(cat headers.txt)" "Content-Range" "no cap, no Content-Range"
stop_server
pass "max_rows caps query answers"

sed 's/max_rows = 3/max_rows = -1/' service.toml >bad.toml
expect_status 1 "$PXT" serve lim --config bad.toml --dry-run
expect_contains "$ERR" "max_rows" "a negative max_rows"
sed 's/max_rows = 3//' service.toml >default.toml
expect_eq "$("$PXT" --json serve lim --config default.toml --dry-run | jq .max_rows)" 100000 "the default cap"
sed 's/default = 10 }/default = -1 }/' schema.toml >neg.toml
sed 's/modules = \["schema"\]/modules = ["neg"]/; s/schema.page/neg.page/' service.toml >neg_service.toml
expect_status 1 "$PXT" serve lim --config neg_service.toml --dry-run
expect_contains "$ERR" "is used in LIMIT or OFFSET, so its default must not be negative, got -1" "a negative default"
pass "max_rows and negative defaults are checked at start"
