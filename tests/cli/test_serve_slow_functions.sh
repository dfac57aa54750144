#!/usr/bin/env bash
# A slow computed column (document_text of a big PDF; here the test function pxt_sleep_ahead_ms,
# marked compute_ahead like document_text) is evaluated before the write takes the store's writer
# lock: while one insert's slow call runs, small inserts into another table of the same store keep
# answering 200 at once, two slow inserts run in parallel, and the stored rows and the error
# answers are exactly those of the same function evaluated inside the write (pxt_sleep_ms).
source "$(dirname "$0")/lib.sh"
cd "$TMP"
export PXT_TEST_FUNCTIONS=1  # registers pxt_sleep_ms(ms) and pxt_sleep_ahead_ms(ms)

cat >schema.toml <<'TOML'
dirs = ["app"]

# "twice" reads "waited": its layer must not copy the slow call (which would run it again).
[[tables]]
path = "app.ahead"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "ms", type = "Int" },
  { name = "waited", type = "Int", computed = "pxt_sleep_ahead_ms(ms)" },
  { name = "twice", type = "Int", computed = "waited * 2" },
]

[[tables]]
path = "app.inside"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "ms", type = "Int" },
  { name = "waited", type = "Int", computed = "pxt_sleep_ms(ms)" },
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
# Inserts notes FIRST..LAST one after the other while the slow request PID is still running, each
# 200; stops once it has ended (a loaded machine makes fewer of them in time, and an insert that
# ended after the slow one proves nothing). DURING: inserts answered while it ran; SLOWEST: the
# longest of their answer times; CALLS: inserts made (each stored).
small_inserts() {  # first last what pid
  SLOWEST=0 DURING=0 CALLS=0
  local i t
  for i in $(seq "$1" "$2"); do
    kill -0 "$4" 2>/dev/null || break
    t=$(now_ms)
    http POST /notes "{\"id\": $i, \"body\": \"note $i\"}"
    t=$(($(now_ms) - t))
    CALLS=$((CALLS + 1))
    expect_eq "$STATUS" 200 "small insert $i beside $3 ($BODY)"
    kill -0 "$4" 2>/dev/null || break
    DURING=$((DURING + 1))
    [ "$t" -gt "$SLOWEST" ] && SLOWEST=$t
  done
  # Inside the write, the first would have waited for the whole slow call: even one answered
  # meanwhile, fast, shows it was not held up; three make it plain.
  [ "$DURING" -ge 3 ] || fail "only $DURING small inserts were answered while $3 ran"
}
# POSTs body to path in the background; its status goes to FILE.status and its body to FILE.body.
post_bg() {  # path body file
  curl -s -o "$3.body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" \
    "http://127.0.0.1:$PORT$1" >"$3.status" &
}

# ---- small inserts are not held up by another table's slow insert ----
SLOW_MS=3000
start=$(now_ms)
post_bg /ahead "{\"id\": 1, \"ms\": $SLOW_MS}" slow
slow_pid=$!
sleep 0.3  # the slow call is running by now
small_inserts 1 20 "a slow insert" "$slow_pid"
smalls_done=$(($(now_ms) - start))
wait "$slow_pid"
slow_done=$(($(now_ms) - start))
expect_eq "$(cat slow.status)" 200 "slow insert status ($(cat slow.body))"
expect_eq "$(cat slow.body)" "{\"id\":1,\"ms\":$SLOW_MS,\"waited\":$SLOW_MS,\"twice\":$((2 * SLOW_MS))}" "slow insert body"
# Inside the write, the first small insert would have waited for the slow call (~2.7 s). The
# bound is loose for a loaded machine or a sanitizer build; an insert alone takes milliseconds.
[ "$SLOWEST" -lt 1000 ] || fail "a small insert took ${SLOWEST} ms (all done at ${smalls_done} ms, the slow one at ${slow_done} ms)"
expect_eq "$("$PXT" count app.notes)" "$CALLS" "every small insert stored"
pass "$DURING small inserts answered while it ran, done at ${smalls_done} ms (slowest ${SLOWEST} ms), a ${SLOW_MS} ms insert at ${slow_done} ms"

# ---- two slow inserts run their slow calls in parallel, outside the writer lock ----
start=$(now_ms)
post_bg /ahead '{"id": 2, "ms": 1200}' a
a_pid=$!
post_bg /ahead '{"id": 3, "ms": 1200}' b
b_pid=$!
wait "$a_pid" "$b_pid"
both=$(($(now_ms) - start))
expect_eq "$(cat a.status) $(cat b.status)" "200 200" "parallel slow inserts ($(cat a.body) $(cat b.body))"
[ "$both" -lt 2200 ] || fail "two 1200 ms inserts took ${both} ms: they ran one after the other"
pass "two 1200 ms inserts in ${both} ms"

# ---- update recomputes ahead too ----
start=$(now_ms)
post_bg /ahead/update "{\"id\": 1, \"ms\": $SLOW_MS}" upd
upd_pid=$!
sleep 0.3
small_inserts 21 30 "a slow update" "$upd_pid"
smalls_done=$(($(now_ms) - start))
wait "$upd_pid"
expect_eq "$(cat upd.status)" 200 "slow update status ($(cat upd.body))"
expect_eq "$(cat upd.body)" "{\"id\":1,\"ms\":$SLOW_MS,\"waited\":$SLOW_MS,\"twice\":$((2 * SLOW_MS))}" "slow update body"
[ "$SLOWEST" -lt 1000 ] || fail "a small insert beside a slow update took ${SLOWEST} ms"
pass "$DURING small inserts answered while it ran, done at ${smalls_done} ms (slowest ${SLOWEST} ms) beside a ${SLOW_MS} ms update"

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
