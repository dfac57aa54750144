#!/usr/bin/env bash
# A slow computed column (document_text of a big PDF; here the test functions pxt_gate_ahead and
# pxt_sleep_ahead_ms, marked compute_ahead like document_text) is evaluated before the write takes
# the store's writer lock: while one insert's slow call is held at a gate, small inserts into
# another table of the same store answer 200 (they would wait for the lock and get 503 if the call
# ran inside the write), two slow inserts run their calls at the same time, and the stored rows
# and the error answers are exactly those of the same functions evaluated inside the write
# (pxt_gate, pxt_sleep_ms). The gates make the overlaps certain rather than timed.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
export PXT_TEST_FUNCTIONS=1  # registers pxt_sleep_ms(ms), pxt_sleep_ahead_ms(ms), pxt_gate(path, v), pxt_gate_ahead(path, v)

cat >schema.toml <<'TOML'
dirs = ["app"]

# "twice" reads "waited": its layer must not copy the slow call (which would run it again).
[[tables]]
path = "app.ahead"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "ms", type = "Int" },
  { name = "gate", type = "String" },
  { name = "waited", type = "Int", computed = "pxt_sleep_ahead_ms(pxt_gate_ahead(gate, ms))" },
  { name = "twice", type = "Int", computed = "waited * 2" },
]

[[tables]]
path = "app.inside"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "ms", type = "Int" },
  { name = "gate", type = "String" },
  { name = "waited", type = "Int", computed = "pxt_sleep_ms(pxt_gate(gate, ms))" },
  { name = "twice", type = "Int", computed = "waited * 2" },
]

[[tables]]
path = "app.notes"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "body", type = "String" },
]
TOML

cat >service.toml <<'TOML'
[[service]]
name = "api"
modules = ["schema"]

[[service.routes]]
type = "insert"
table = "app.ahead"
path = "/ahead"

[[service.routes]]
type = "update"
table = "app.ahead"
path = "/ahead/update"

[[service.routes]]
type = "insert"
table = "app.inside"
path = "/inside"

[[service.routes]]
type = "update"
table = "app.inside"
path = "/inside/update"

[[service.routes]]
type = "insert"
table = "app.notes"
path = "/notes"
TOML
start_server api --config service.toml

now_ms() { date +%s%3N; }
# Inserts notes FIRST..LAST one after the other, each 200; SLOWEST gets the longest answer time
# (printed only: what is checked is that they all answered while the slow call was held).
small_inserts() {  # first last what
  SLOWEST=0
  local i t
  for i in $(seq "$1" "$2"); do
    t=$(now_ms)
    http POST /notes "{\"id\": $i, \"body\": \"note $i\"}"
    t=$(($(now_ms) - t))
    expect_eq "$STATUS" 200 "small insert $i beside $3 ($BODY)"
    [ "$t" -gt "$SLOWEST" ] && SLOWEST=$t
  done
  return 0
}
# POSTs body to path in the background; its status goes to FILE.status and its body to FILE.body.
post_bg() {  # path body file
  curl -s -o "$3.body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" \
    "http://127.0.0.1:$PORT$1" >"$3.status" &
}

# ---- small inserts are not held up by another table's slow insert ----
# The slow call waits at gate g1 until every small insert has answered: had it run inside the
# write, it would hold the writer lock and the small inserts would get 503 after write_timeout_ms.
G=$TMP/g1
post_bg /ahead "{\"id\": 1, \"ms\": 5, \"gate\": \"$G\"}" slow
slow_pid=$!
gate_wait "$G" 1  # the slow call is running
small_inserts 1 20 "a slow insert"
kill -0 "$slow_pid" 2>/dev/null || fail "the slow insert ended while its call was held: $(cat slow.status) $(cat slow.body)"
gate_open "$G"
wait "$slow_pid"
expect_eq "$(cat slow.status)" 200 "slow insert status ($(cat slow.body))"
expect_eq "$(cat slow.body)" "{\"id\":1,\"ms\":5,\"gate\":\"$G\",\"waited\":5,\"twice\":10}" "slow insert body"
expect_eq "$("$PXT" count app.notes)" 20 "every small insert stored"
expect_eq "$(wc -l <"$G.started")" 1 "the slow call ran once (its result was remembered for the write)"
pass "20 small inserts answered while a slow insert's call was held (slowest ${SLOWEST} ms)"

# ---- two slow inserts run their slow calls at the same time, outside the writer lock ----
# Both calls must be waiting at gate g2 together: one after the other, the second could not start.
G=$TMP/g2
post_bg /ahead "{\"id\": 2, \"ms\": 2, \"gate\": \"$G\"}" a
a_pid=$!
post_bg /ahead "{\"id\": 3, \"ms\": 3, \"gate\": \"$G\"}" b
b_pid=$!
gate_wait "$G" 2
expect_eq "$(sort "$G.started" | tr '\n' ' ')" "2 3 " "both slow calls waiting at once"
gate_open "$G"
wait "$a_pid" "$b_pid"
expect_eq "$(cat a.status) $(cat b.status)" "200 200" "parallel slow inserts ($(cat a.body) $(cat b.body))"
pass "two slow inserts ran their calls at the same time"

# ---- update recomputes ahead too ----
G=$TMP/g3
post_bg /ahead/update "{\"id\": 1, \"ms\": 7, \"gate\": \"$G\"}" upd
upd_pid=$!
gate_wait "$G" 1
small_inserts 21 30 "a slow update"
kill -0 "$upd_pid" 2>/dev/null || fail "the slow update ended while its call was held: $(cat upd.status) $(cat upd.body)"
gate_open "$G"
wait "$upd_pid"
expect_eq "$(cat upd.status)" 200 "slow update status ($(cat upd.body))"
expect_eq "$(cat upd.body)" "{\"id\":1,\"ms\":7,\"gate\":\"$G\",\"waited\":7,\"twice\":14}" "slow update body"
pass "10 small inserts answered while a slow update's call was held (slowest ${SLOWEST} ms)"

# ---- the same answers as the function evaluated inside the write ----
same() {  # what path-suffix body: the ahead and inside routes answer alike (names aside)
  http POST "/ahead$2" "$3"
  local ahead="$STATUS ${BODY//app.ahead/app.inside}"
  http POST "/inside$2" "$3"
  local inside="$STATUS $BODY"
  expect_eq "${ahead//pxt_sleep_ahead_ms/pxt_sleep_ms}" "$inside" "$1"
}
same "a new row" "" '{"id": 10, "ms": 5}'
same "a null argument: the function's error" "" '{"id": 11}'
same "a duplicate key" "" '{"id": 10, "ms": 7}'
same "an update" /update '{"id": 10, "ms": 9}'
same "an update to a failing argument" /update '{"id": 10, "ms": null}'
same "an update of no row" /update '{"id": 99, "ms": 9}'
http POST /ahead '{"id": 11}'
expect_eq "$STATUS" 400 "the function's error status"
expect_contains "$BODY" "computed column 'waited' failed: pxt_sleep_ahead_ms(): pxt_sleep_ms(ms) expects an integer" \
  "the function's error detail"
expect_eq "$("$PXT" rows app.ahead --where 'id >= 10' --format json | jq -c '[.[] | [.id, .ms, .waited, .twice]]')" \
  '[[10,9,9,18]]' "stored rows"
pass "same rows and errors as inside the write"
