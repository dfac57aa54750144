#!/usr/bin/env bash
# backends: sqlite
# A failed COMMIT of a group of writers (store/sqlite/group.cpp): concurrent writes are committed
# together by one leader, so when that one COMMIT fails (here: the disk is full), every writer of
# the group must get the error (507) and none of their rows may be stored; a writer whose own
# piece failed keeps its own error. The group is made deterministic, not hoped for: a first
# insert holds the writer lock at a gate (pxt_gate, PXT_TEST_FUNCTIONS=1) while the others queue,
# /metrics' pxt_store_writes_queued says when all of them wait, the disk is filled, and only then
# is the gate opened. Needs a tmpfs home (root): skipped otherwise, which fails CI. SQLite only:
# group commit is the SQLite store's answer to its one writer (PostgreSQL commits each write).
source "$(dirname "$0")/lib.sh"
cd "$TMP"
export PXT_TEST_FUNCTIONS=1

small_disk_home 8m

cat >schema.toml <<'TOML'
dirs = ["d"]

[[tables]]
path = "d.notes"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "note", type = "String" },
  { name = "gate", type = "String" },
  { name = "held", type = "Int", computed = "pxt_gate(gate, 0)" },
]
TOML
# Queued writers wait as long as the machine needs: the test decides when the leader goes on.
cat >service.toml <<'TOML'
[[service]]
name = "group"
modules = ["schema"]
write_timeout_ms = 600000

[[service.routes]]
type = "insert"
table = "d.notes"
path = "/notes"
outputs = ["id"]
TOML
start_server group --config service.toml
http POST /notes '{"id": 100, "note": "before"}'
expect_eq "$STATUS" 200 "an insert with space left"

post_bg() {  # name json-file: status to NAME.status, body to NAME.body
  curl -s -o "$1.body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$2" \
    "http://127.0.0.1:$PORT/notes" >"$1.status" &
  CURLS+=($!)
}
big_note() {  # id: a 200 KB note, so the group's COMMIT needs far more than the space left
  python3 -c 'import json, sys; print(json.dumps({"id": int(sys.argv[1]), "note": "x" * 200000}))' "$1" >"w$1.json"
}
CURLS=()
echo "{\"id\": 1, \"note\": \"leader\", \"gate\": \"$TMP/gate\"}" >w1.json
post_bg w1 w1.json
gate_wait "$TMP/gate" 1  # the leader's write runs, inside its transaction, holding the writer lock
GROUP=(2 3 4 5)
for id in "${GROUP[@]}"; do
  big_note "$id"
  post_bg "w$id" "w$id.json"
done
echo '{"id": 100, "note": "duplicate key"}' >w100.json  # fails its own piece of the group
post_bg w100 w100.json
wait_until "5 writes queued behind the leader" metric_is pxt_store_writes_queued 5

# Fill the disk, leaving room for the leader's small commit but not for the group's ~800 KB.
dd if=/dev/zero of="$PXT_HOME/filler" bs=64k 2>/dev/null || true
truncate -s -256K "$PXT_HOME/filler"
gate_open "$TMP/gate"
wait "${CURLS[@]}"

expect_eq "$(cat w1.status)" 200 "the leader, committed alone before the group ($(cat w1.body))"
for id in "${GROUP[@]}"; do
  expect_eq "$(cat "w$id.status")" 507 "writer $id of the group whose COMMIT failed ($(cat "w$id.body"))"
  expect_contains "$(cat "w$id.body")" "insufficient storage" "writer $id: detail"
done
expect_eq "$(cat w100.status)" 422 "the writer whose own piece failed keeps its error ($(cat w100.body))"
expect_eq "$(jq -r .detail.error_code w100.body)" CONSTRAINT_VIOLATION "its error is the duplicate key"
expect_contains "$(cat "$TMP/server.log")" "disk is full" "the cause is logged"
rm -f "$PXT_HOME/filler"
expect_eq "$("$PXT" count d.notes --where 'id = 1')" 1 "the leader's row"
expect_eq "$("$PXT" count d.notes --where 'id BETWEEN 2 AND 5')" 0 "rows of the failed group"
expect_eq "$("$PXT" rows d.notes --where 'id = 100' --columns note --format csv | tail -n 1)" before \
  "the duplicate's target row"
pass "a failed group COMMIT: all ${#GROUP[@]} writers answered 507, none of their rows stored, the duplicate 422"

# Space freed: the same writes succeed (nothing half-stored blocks them).
for id in "${GROUP[@]}"; do
  STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@w$id.json" \
    "http://127.0.0.1:$PORT/notes")
  expect_eq "$STATUS" 200 "writer $id again after freeing space ($(cat "$TMP/body"))"
done
expect_eq "$("$PXT" count d.notes)" 6 "rows after the retries"
pass "space freed: the refused writes succeed"
