#!/usr/bin/env bash
# No acknowledged write is lost when the server is killed: several keep-alive clients insert rows
# with unique ids and record every id answered 200; the server gets `kill -9` mid-load; after a
# restart every acknowledged id must be there, every stored row whole (its computed columns agree
# with its inputs) and the database intact. Repeated for both durability settings.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

cat >schema.toml <<'TOML'
dirs = ["d"]

[[tables]]
path = "d.items"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "payload", type = "String" },
  { name = "tag", type = "String" },
  { name = "len", type = "Int", computed = "length(payload)" },
  { name = "up", type = "String", computed = "upper(payload)" },
  { name = "twice", type = "Int", computed = "id * 2" },
]
TOML

service() {  # durability
  cat >service.toml <<TOML
[[service]]
name = "dur"
modules = ["schema"]
durability = "$1"

[[service.routes]]
type = "insert"
table = "d.items"
path = "/items"
outputs = ["id"]
TOML
}

rounds=(normal normal full full)
delays=(0.1 0.7 0.3 1.0)
total_acked=0
for round in "${!rounds[@]}"; do
  mode=${rounds[$round]}
  service "$mode"
  start_server dur --config service.toml
  : >"acked.$round"
  python3 "$PXT_SRC/tests/cli/load_client.py" --port "$PORT" --clients 4 --seconds 20 \
    --id-base $(((round + 1) * 100000000)) --acked "acked.$round" >"load.$round" &
  load=$!
  # Kill at a different moment each round, once the clients are well under way (on a loaded
  # machine the first answers can take a while: wait for them, boundedly).
  wait_until "round $round: 20 acknowledged writes ($(cat "load.$round"))" eval "[ \$(wc -l <acked.$round) -ge 20 ]"
  sleep "${delays[$round]}"  # not a wait for a state: kills at a different moment each round
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  wait "$load"
  acked=$(wc -l <"acked.$round")
  [ "$acked" -gt 0 ] || fail "round $round: no write was acknowledged before the kill ($(cat "load.$round"))"
  total_acked=$((total_acked + acked))

  # Restart (recovers the WAL), then compare.
  start_server dur --config service.toml
  "$PXT" rows d.items --columns id --format csv | tail -n +2 | sort >stored
  sort "acked.$round" >acked.sorted
  missing=$(comm -23 acked.sorted stored | wc -l)
  expect_eq "$missing" 0 "round $round ($mode): acknowledged ids missing after kill -9 (of $acked)"
  # pxt computes upper() as Python does; inside PostgreSQL the same mapping is ICU's (its own
  # upper() under COLLATE "C" maps ASCII only: doc/catalog.md).
  upper_sql="upper(payload)"
  [ "$TEST_BACKEND" = postgres ] && upper_sql='upper(payload COLLATE "und-x-icu")'
  torn=$("$PXT" count d.items --where \
    "len IS DISTINCT FROM length(payload) OR up IS DISTINCT FROM $upper_sql OR twice IS DISTINCT FROM id * 2 OR tag IS DISTINCT FROM 't' || (id % 8)")
  expect_eq "$torn" 0 "round $round ($mode): rows whose computed columns disagree with their inputs"
  stop_server
  if [ "$TEST_BACKEND" = sqlite ]; then
    integrity=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
      "$PXT_HOME/pxt.db")
    expect_eq "$integrity" ok "round $round ($mode): integrity_check"
  fi
  pass "round $round ($mode): $acked acknowledged writes, none lost, no partial row"
done
echo "writes acknowledged: $total_acked, lost: 0, kills: ${#rounds[@]}"

# ---- Media: multipart uploads into an Image column, kill -9 mid-load ----
# Every acknowledged row must be there with its file, byte-identical to what was sent (SHA-256);
# every stored row (acknowledged or not) must have its file; and after the restart's sweep no
# orphan may remain in media/: no file that no row names, no upload temp file. Files pxt did not
# name are left alone. Then the sweep with another process on the same home: young orphans stay.
cat >pics.toml <<'TOML'
dirs = ["m"]

[[tables]]
path = "m.pics"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "img", type = "Image" },
  { name = "twice", type = "Int", computed = "id * 2" },
]
TOML
media_service() {  # durability
  cat >service.toml <<TOML
[[service]]
name = "dur"
modules = ["pics"]
durability = "$1"

[[service.routes]]
type = "insert"
table = "m.pics"
path = "/pics"
inputs = ["id"]
uploadfile_inputs = ["img"]
outputs = ["id"]
TOML
}

# Checks rows against what was sent; prints "rows files" or fails with the reason.
check_media() {  # sent acked
  "$PXT" rows m.pics --columns id,img,twice --format csv >rows.csv
  python3 - "$PXT_HOME/media" "$1" "$2" rows.csv <<'PY'
import csv, hashlib, os, re, sys
media, sent_f, acked_f, rows_f = sys.argv[1:]
sent = dict(line.split() for line in open(sent_f))
acked = {line.strip() for line in open(acked_f)}
rows = {r["id"]: r for r in csv.DictReader(open(rows_f))}
err = []
for i in acked - rows.keys():
    err.append("acknowledged id %s missing" % i)
names = set()
for i, r in rows.items():
    # `pxt rows` shows the file's path under the home; the API would show /media/<name>.
    rel = r["img"]
    for prefix in (media.rstrip("/") + "/", "/media/"):
        if rel.startswith(prefix):
            rel = rel[len(prefix):]
    if not rel:
        err.append("row %s has no file (a partial row)" % i)
        continue
    if r["twice"] != str(int(i) * 2):
        err.append("row %s: computed column %s disagrees" % (i, r["twice"]))
    path = os.path.join(media, rel)
    if not os.path.isfile(path):
        err.append("row %s: file %s missing" % (i, rel))
        continue
    if hashlib.sha256(open(path, "rb").read()).hexdigest() != sent.get(i):
        err.append("row %s: file %s differs from the upload" % (i, rel))
    names.add(rel)
own = re.compile(r"^([0-9a-f]{2})/\1[0-9a-f]{30}(\.[A-Za-z0-9]{1,10})?$")
on_disk = set()
for d in os.listdir(media):
    if re.fullmatch(r"[0-9a-f]{2}", d):
        on_disk |= {d + "/" + f for f in os.listdir(os.path.join(media, d)) if own.match(d + "/" + f)}
for orphan in sorted(on_disk - names)[:5]:
    err.append("orphan file %s (no row names it)" % orphan)
tmp = os.path.join(media, ".tmp")
left = os.listdir(tmp) if os.path.isdir(tmp) else []
if left:
    err.append("%d upload temp files left: %s" % (len(left), left[:3]))
if err:
    sys.exit("; ".join(err[:8]))
print(len(rows), len(names))
PY
}

plant() {  # a fake orphan, a temp file and two files pxt did not name
  local hex
  hex=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  mkdir -p "$PXT_HOME/media/${hex:0:2}" "$PXT_HOME/media/.tmp"
  cp "$PXT_SRC/tests/cli/load_client.py" "$PXT_HOME/media/${hex:0:2}/$hex.png"
  cp "$PXT_SRC/tests/cli/load_client.py" "$PXT_HOME/media/.tmp/$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  echo keep >"$PXT_HOME/media/${hex:0:2}/operator-notes.txt"
  echo keep >"$PXT_HOME/media/README.keep"
  PLANTED=${hex:0:2}/$hex.png
}

media_rounds=(normal full)
media_delays=(0.4 1.2)
media_acked=0 media_checked=0 orphans_swept=0
for round in "${!media_rounds[@]}"; do
  mode=${media_rounds[$round]}
  media_service "$mode"
  start_server dur --config service.toml
  : >"macked.$round"
  : >"msent.$round"
  python3 "$PXT_SRC/tests/cli/load_client.py" --port "$PORT" --mode upload --path /pics --clients 4 \
    --seconds 20 --image-kb 96 --id-base $(((round + 1) * 100000000)) --acked "macked.$round" \
    --sent "msent.$round" >"mload.$round" &
  load=$!
  wait_until "media round $round: 10 acknowledged uploads" eval "[ \$(wc -l <macked.$round) -ge 10 ]"
  sleep "${media_delays[$round]}"  # not a wait for a state: kills at a different moment each round
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  wait "$load"
  acked=$(wc -l <"macked.$round")
  [ "$acked" -gt 0 ] || fail "media round $round: no upload acknowledged ($(cat "mload.$round"))"
  plant
  start_server dur --config service.toml
  wait_media_sweep
  swept=$(sed -n 's/.*media sweep: removed \([0-9]*\) orphan file(s) and \([0-9]*\) upload temp.*/\1 \2/p' "$TMP/server.log")
  [ -n "$swept" ] || fail "media round $round: no sweep line in the log: $(cat "$TMP/server.log")"
  read -r orphans temps <<<"$swept"
  [ "$orphans" -ge 1 ] && [ "$temps" -ge 1 ] || fail "media round $round: the planted orphan and temp file were not swept ($swept)"
  [ ! -e "$PXT_HOME/media/$PLANTED" ] || fail "media round $round: planted orphan $PLANTED still there"
  [ -e "$PXT_HOME/media/README.keep" ] && [ -e "$PXT_HOME/media/${PLANTED%%/*}/operator-notes.txt" ] ||
    fail "media round $round: the sweep removed a file pxt did not name"
  # The table keeps the earlier rounds' rows: check against everything sent so far.
  cat "msent.$round" >>msent.all
  cat "macked.$round" >>macked.all
  result=$(check_media msent.all macked.all) || fail "media round $round ($mode): $result"
  read -r nrows nfiles <<<"$result"
  stop_server
  media_acked=$((media_acked + acked))
  media_checked=$((media_checked + nfiles))
  orphans_swept=$((orphans_swept + orphans + temps - 2))
  pass "media round $round ($mode): $acked uploads acknowledged, $nrows rows, $nfiles files byte-identical, swept $((orphans - 1)) orphans and $((temps - 1)) temp files left by the kill"
done

# Another process on the same home: only orphans older than the grace period (1 h) go.
start_server dur --config service.toml
first=$SERVER_PID
plant
young=$PLANTED
plant
old=$PLANTED
touch -d '2 hours ago' "$PXT_HOME/media/$old"
port2=$(free_port)
"$PXT" serve dur --config service.toml --host 127.0.0.1 --port "$port2" >"$TMP/second.log" 2>&1 &
second=$!
SERVER_PIDS+=("$second")
wait_healthz "$second" "$port2" "$TMP/second.log"
wait_media_sweep "$port2"
[ -e "$PXT_HOME/media/$young" ] || fail "a young orphan was swept while another server used the home"
[ ! -e "$PXT_HOME/media/$old" ] || fail "an orphan older than the grace period was kept"
expect_contains "$(cat "$TMP/second.log")" "another pxt uses this home" "sweep log with another process"
kill "$second" "$first"
wait "$second" "$first" 2>/dev/null || true
start_server dur --config service.toml
wait_media_sweep
[ ! -e "$PXT_HOME/media/$young" ] || fail "the young orphan survived a sweep as the only process"
result=$(check_media msent.all macked.all) || fail "after the shared-home sweep: $result"
stop_server
pass "shared home: young orphan kept, old one swept; swept once alone"
echo "uploads acknowledged: $media_acked, lost: 0, files checked: $media_checked, orphans from kills swept: $orphans_swept"
