#!/usr/bin/env bash
# Issue 12, point 17: Timestamps are instants (doc/timestamps.md). Every spelling pydantic v2
# accepts (a date alone is midnight; a number or numeric text is Unix time; a value without a zone
# is in the configured time zone, default UTC) is stored in one normalised form, answered as
# ISO 8601 with an offset, and sorts and compares as time. The zone is set per home
# (`pxt config time_zone`) and per service ([service] time_zone). A home written before is
# normalised once when opened. Expected values come from Python's datetime and zoneinfo.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
# The stored form of app.ev's `at` for the rows matching a filter, in SQLite's text form (PostgreSQL
# keeps a timestamptz, shown here the same way).
stored_at() {
  if [ "$TEST_BACKEND" = postgres ]; then
    store_sql "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM \"app.ev\" WHERE $1 ORDER BY id"
  else
    sqlite3 "$PXT_HOME/pxt.db" "SELECT at FROM \"app.ev\" WHERE $1 ORDER BY id"
  fi
}

"$PXT" create-dir app >/dev/null
"$PXT" create-table app.ev --column id:Int! --column at:Timestamp --primary-key id >/dev/null
"$PXT" insert app.ev '[{"id": 1, "at": "2024-01-02T03:04:05"}, {"id": 2, "at": "2024-01-02 05:04:05+02:00"},
  {"id": 3, "at": "2024-01-02"}, {"id": 4, "at": "2024-01-01T23:30:00-05:00"}, {"id": 5, "at": "1704164646"},
  {"id": 6, "at": "2024-01-02T03:04:05.5Z"}, {"id": 7, "at": "2024-01-02t03:04"}]' >/dev/null
got=$("$PXT" --json rows app.ev --columns id,at | jq -c .)
expect_eq "$got" '[{"id":1,"at":"2024-01-02T03:04:05Z"},{"id":2,"at":"2024-01-02T03:04:05Z"},{"id":3,"at":"2024-01-02T00:00:00Z"},{"id":4,"at":"2024-01-02T04:30:00Z"},{"id":5,"at":"2024-01-02T03:04:06Z"},{"id":6,"at":"2024-01-02T03:04:05.500000Z"},{"id":7,"at":"2024-01-02T03:04:00Z"}]' "answers in UTC with an offset"
stored=$(stored_at 'id IN (1, 2)')
expect_eq "$stored" $'2024-01-02T03:04:05.000000Z\n2024-01-02T03:04:05.000000Z' "two spellings of one instant are stored alike"
expect_eq "$("$PXT" --json rows app.ev --columns id --order-by 'at, id' | jq -c .)" \
  '[{"id":3},{"id":7},{"id":1},{"id":2},{"id":6},{"id":5},{"id":4}]' "ordered by instant"
expect_eq "$("$PXT" count app.ev --where "at = pxt_timestamp('2024-01-02 05:04:05+02:00')")" 2 "where with another spelling"
expect_eq "$("$PXT" count app.ev --where "at > pxt_timestamp('2024-01-02T04:00:00+01:00')")" 6 "where across offsets"
expect_status 1 "$PXT" insert app.ev '{"id": 9, "at": "2024-13-01"}'
expect_contains "$ERR" "month value is outside expected range of 1-12" "a bad month"
pass "spellings stored as one instant, answered with an offset"

cat >schema.toml <<'TOML'
dirs = ["app"]

[[queries]]
name = "after"
params = [ { name = "t", type = "Timestamp" } ]
sql = """SELECT id, at FROM "app.ev" WHERE at > :t ORDER BY at, id"""
TOML
cat >service.toml <<'TOML'
[[service]]
name = "ts"
modules = ["schema"]

[[service.routes]]
type = "query"
path = "/after"
query = "schema.after"
method = "get"

[[service.routes]]
type = "insert"
table = "app.ev"
path = "/ev"
TOML
start_server ts --config service.toml
http GET "/after?t=2024-01-02%2004:04:05%2B01:00"
expect_eq "$STATUS" 200 "query with a Timestamp parameter"
expect_eq "$(jq -c '[.rows[].id]' <<<"$BODY")" '[6,5,4]' "sorted and compared as instants"
http GET "/after?t=1704164645"
expect_eq "$(jq -c '[.rows[].id]' <<<"$BODY")" '[6,5,4]' "a Unix time parameter"
http POST /ev '{"id": 10, "at": 1704164645}'
expect_eq "$STATUS" 200 "a number is Unix time"
expect_eq "$(jq -r .at <<<"$BODY")" "2024-01-02T03:04:05Z" "seconds"
http POST /ev '{"id": 11, "at": 1704164645000}'
expect_eq "$(jq -r .at <<<"$BODY")" "2024-01-02T03:04:05Z" "milliseconds beyond 2e10"
http POST /ev '{"id": 12, "at": "2024-01-02T03:04:05+0530"}'
expect_eq "$(jq -r .at <<<"$BODY")" "2024-01-01T21:34:05Z" "an offset without colon"
http POST /ev '{"id": 13, "at": "yesterday"}'
expect_eq "$STATUS" 422 "not a datetime"
expect_eq "$(jq -r '.detail[0].type' <<<"$BODY")" datetime_parsing "pydantic's error type"
stop_server
pass "HTTP: parameters and bodies in any spelling"

# The home's time zone: naive values are wall-clock times there, answers carry its offset.
expect_status 1 "$PXT" config time_zone Europ/Paris
expect_contains "$ERR" "unknown time zone 'Europ/Paris'" "a bad zone"
expect_contains "$ERR" "did you mean 'Europe/Paris'?" "suggested"
expect_status 2 "$PXT" config time_zon UTC
expect_contains "$ERR" "did you mean 'time_zone'?" "a bad key"
"$PXT" config time_zone Europe/Paris
expect_eq "$("$PXT" config time_zone)" "Europe/Paris" "the home's setting"
"$PXT" insert app.ev '[{"id": 20, "at": "2024-07-01T12:00:00"}, {"id": 21, "at": "2024-01-15T12:00:00"},
  {"id": 22, "at": "2024-03-31T02:30:00"}, {"id": 23, "at": "2024-10-27T02:30:00"}]' >/dev/null
want=$(python3 - <<'PY'
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
z = ZoneInfo("Europe/Paris")
out = []
for i, s in [(20, "2024-07-01T12:00:00"), (21, "2024-01-15T12:00:00"), (22, "2024-03-31T02:30:00"), (23, "2024-10-27T02:30:00")]:
    d = datetime.fromisoformat(s).replace(tzinfo=z)
    out.append({"id": i, "utc": d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "at": d.astimezone(timezone.utc).astimezone(z).isoformat()})
print(json.dumps(out))
PY
)
for i in 0 1 2 3; do
  id=$(jq -r ".[$i].id" <<<"$want")
  expect_eq "$(stored_at "id = $id")" "$(jq -r ".[$i].utc" <<<"$want")" "row $id stored as zoneinfo's instant (fold=0 in the gap and the repeated hour)"
  expect_eq "$("$PXT" --json rows app.ev --columns at --where "id = $id" | jq -r '.[0].at')" "$(jq -r ".[$i].at" <<<"$want")" "row $id answered in Europe/Paris"
done
expect_eq "$("$PXT" --json rows app.ev --columns at --where 'id = 1' | jq -r '.[0].at')" "2024-01-02T04:04:05+01:00" "an earlier instant answered in the home's zone"
pass "the home's time zone, DST included"

# A service's own zone overrides the home's.
sed 's/^name = "ts"$/name = "ts"\ntime_zone = "America\/New_York"/' service.toml >service_ny.toml
start_server ts --config service_ny.toml
http POST /ev '{"id": 30, "at": "2024-07-01T12:00:00"}'
expect_eq "$(jq -r .at <<<"$BODY")" "2024-07-01T12:00:00-04:00" "naive in the service's zone, answered there"
expect_eq "$(stored_at 'id = 30')" "2024-07-01T16:00:00.000000Z" "stored in UTC"
stop_server
"$PXT" config time_zone --unset
expect_eq "$("$PXT" config time_zone)" "" "unset"
pass "per service time zone"

# A home written before instants: its values are normalised once, at the first open (SQLite's
# text; a PostgreSQL store always held timestamptz).
[ "$TEST_BACKEND" = postgres ] && exit 0
sqlite3 "$PXT_HOME/pxt.db" "UPDATE \"app.ev\" SET at = '2024-01-02 03:04:05' WHERE id = 1;
  UPDATE \"app.ev\" SET at = '2024-01-02T05:04:05+02:00' WHERE id = 2; DELETE FROM \"pxt\$meta\" WHERE key = 'timestamps'"
"$PXT" count app.ev >/dev/null
expect_eq "$(sqlite3 "$PXT_HOME/pxt.db" 'SELECT at FROM "app.ev" WHERE id IN (1, 2) ORDER BY id')" $'2024-01-02T03:04:05.000000Z\n2024-01-02T03:04:05.000000Z' "old values rewritten"
expect_eq "$(sqlite3 "$PXT_HOME/pxt.db" "SELECT value FROM \"pxt\$meta\" WHERE key = 'timestamps'")" "instants" "once"
pass "an existing home is normalised at its first open"
