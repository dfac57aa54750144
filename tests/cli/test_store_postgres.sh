#!/usr/bin/env bash
# backends: postgres
# The PostgreSQL store from the command line (issue 15): choosing it (--store, $PXT_STORE,
# `store` in $PXT_HOME/config.toml), real tables psql can read, clear errors for a bad URL,
# `pxt store copy` from an embedded home into PostgreSQL and back (all or nothing), a catalog
# change by another process answered 409 by a running service, and a full connection pool
# answered 503 (retryable) instead of a hang.
source "$(dirname "$0")/lib.sh"
export PXT_TEST_FUNCTIONS=1
cd "$TMP"
PG=$PXT_STORE
unset PXT_STORE

# ---- choosing the store ----
"$PXT" --store "$PG" create-dir app >/dev/null
"$PXT" --store "$PG" create-table app.users -c id:Int! -c name:String -c born:Timestamp -c tags:Json \
  --computed 'shout=upper(name)' --primary-key id >/dev/null
PXT_STORE=$PG "$PXT" insert app.users '{"id": 1, "name": "ann", "born": "2024-01-02T03:04:05+02:00", "tags": {"b": 1, "a": [1, 2]}}' >/dev/null
mkdir -p "$PXT_HOME"
echo "store = \"\${TEST_PG_URL}\"" >"$PXT_HOME/config.toml"
out=$(TEST_PG_URL=$PG "$PXT" rows app.users --json)
expect_contains "$out" '"shout":"ANN"' "rows through config.toml's store"
expect_contains "$out" '"born":"2024-01-02T01:04:05Z"' "a Timestamp comes back as the instant, in UTC"
expect_contains "$out" '"tags":{"a":[1,2],"b":1}' "Json is jsonb"
rm "$PXT_HOME/config.toml"
# Without a store setting, the home's own SQLite store: empty.
expect_eq "$("$PXT" ls --json)" "[]" "no setting: the SQLite home"
pass "--store, PXT_STORE and config.toml select the PostgreSQL store"

# Real tables with native types, as psql and pg_dump see them.
types=$(store_sql "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
                   FROM information_schema.columns WHERE table_name = 'app.users'")
expect_eq "$types" "id:bigint,name:text,born:timestamp with time zone,tags:jsonb,shout:text,pxt\$row:bigint" "column types"
expect_eq "$(store_sql 'SELECT shout FROM "app.users" WHERE id = 1')" "ANN" "psql reads the row"
pass "user tables are real PostgreSQL tables"

# ---- bad settings ----
expect_status 1 "$PXT" --store 'mysql://u:secret@h/db' ls
expect_contains "$ERR" "unknown store URL scheme 'mysql' (expected 'sqlite', 'postgresql', 'postgres')" "unknown scheme"
expect_not_contains "$ERR" "secret" "the password is not printed"
bad_port=$(free_port)
expect_status 1 "$PXT" --store "postgresql://pxt:hunter2@127.0.0.1:$bad_port/x" ls
expect_contains "$ERR" "cannot connect to the store postgresql://pxt:***@127.0.0.1:$bad_port/x" "unreachable server"
expect_not_contains "$ERR" "hunter2" "the password is not printed"
expect_status 1 "$PXT" --store "$PG?pool_size=0" ls
expect_contains "$ERR" "store URL parameter pool_size='0' must be a number from 1 to 1000" "bad pool size"
pass "bad store URLs are refused clearly, without the password"

# ---- pxt store copy: an embedded home into PostgreSQL and back ----
export PXT_HOME=$TMP/embedded
"$PXT" create-dir shop >/dev/null
"$PXT" create-table shop.items -c id:Int! -c name:String -c pic:Image --computed 'label=upper(name)' --primary-key id >/dev/null
"$PXT" create-dir shop.archive >/dev/null
"$PXT" create-table shop.archive.old -c n:Int >/dev/null
for i in 1 2 3; do "$PXT" insert shop.items "{\"id\": $i, \"name\": \"item $i\"}" >/dev/null; done
"$PXT" insert shop.archive.old '{"n": 7}' >/dev/null
DB2=${PG%/*}/copy_$$
"$PXT_SRC/scripts/pg-cluster" psql "$STORE_PG_DIR" -c "CREATE DATABASE copy_$$" >/dev/null
EXIT_HOOKS=("\"$PXT_SRC/scripts/pg-cluster\" psql \"$STORE_PG_DIR\" -c 'DROP DATABASE IF EXISTS copy_$$ WITH (FORCE)' >/dev/null 2>&1" "${EXIT_HOOKS[@]}")
out=$("$PXT" store copy --to "$DB2" 2>progress)
expect_contains "$out" "copied 2 directories, 2 tables (4 rows) and 0 jobs from $PXT_HOME to" "copy summary"
expect_contains "$(cat progress)" "copying table 2/2 'shop.items': 3 rows" "progress line"
expect_eq "$("$PXT" --store "$DB2" count shop.items)" "3" "rows in PostgreSQL"
expect_contains "$("$PXT" --store "$DB2" rows shop.items --json)" '"label":"ITEM 2"' "computed values copied"
# Into a store that is not empty: refused, nothing changes.
expect_status 1 "$PXT" store copy --to "$DB2"
expect_contains "$ERR" "is not empty (2 table(s), 2 directory(ies), 0 job(s)); copy into an empty store" "non-empty target"
# And back into a new home.
out=$("$PXT" --store "$DB2" store copy --to "sqlite://$TMP/back" 2>/dev/null)
expect_contains "$out" "copied 2 directories, 2 tables (4 rows)" "copy back"
expect_eq "$(PXT_HOME=$TMP/back "$PXT" count shop.archive.old)" "1" "rows back in a SQLite home"
pass "pxt store copy moves a home into PostgreSQL and back"

# All or nothing: an expression PostgreSQL cannot run stops the copy before any row moves.
export PXT_HOME=$TMP/dialect
"$PXT" create-table j -c doc:String --computed "v:String=json_extract(doc, '\$.a')" >/dev/null
"$PXT" insert j '{"doc": "{\"a\": \"x\"}"}' >/dev/null
"$PXT_SRC/scripts/pg-cluster" psql "$STORE_PG_DIR" -c "DROP DATABASE copy_$$ WITH (FORCE)" -c "CREATE DATABASE copy_$$" >/dev/null
expect_status 1 "$PXT" store copy --to "$DB2"
expect_contains "$ERR" "table 'j': computed column 'v': unknown function 'json_extract'" "dialect refused"
expect_eq "$("$PXT" --store "$DB2" ls --json)" "[]" "nothing copied"
pass "a copy that cannot finish leaves the target empty"

# ---- a running service and other processes ----
export PXT_HOME=$TMP/home PXT_STORE=$PG
cat >svc.toml <<EOF
[service]
name = "svc"
[[routes]]
type = "insert"
table = "app.users"
path = "/users"
[[routes]]
type = "query"
path = "/sleep"
query = "mods.sleep"
EOF
cat >mods.toml <<'EOF'
[[queries]]
name = "sleep"
params = [{ name = "s", type = "Float" }]
sql = "SELECT true AS slept FROM pg_sleep(:s)"
EOF
start_server --config svc.toml
http POST /users '{"id": 2, "name": "bob"}'
expect_eq "$STATUS" 200 "insert through the service"
# Another process replaces the table: the route's definition is stale, the service answers 409.
"$PXT" create-table app.users -c id:Int! -c name:String --primary-key id --if-exists replace >/dev/null
http POST /users '{"id": 3, "name": "cy"}'
expect_eq "$STATUS" 409 "a route whose table another process changed"
expect_contains "$BODY" "table schema changed since route was registered" "409 body"
stop_server
pass "a catalog change by another process answers 409"

# A pool of one connection held by a slow query: the next request waits 300 ms, then 503.
PXT_STORE="$PG?pool_size=1&pool_timeout_ms=300" start_server --config svc.toml
curl -s -o slow.json -X POST -H 'Content-Type: application/json' -d '{"s": 3}' "http://127.0.0.1:$PORT/sleep" &
SLOW=$!
for _ in $(seq 1 100); do
  [ "$(store_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()")" -ge 1 ] && break
  sleep 0.05
done
http POST /users '{"id": 4, "name": "dee"}'
expect_eq "$STATUS" 503 "a request past the pool timeout"
curl -s -D headers -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"id": 5}' "http://127.0.0.1:$PORT/users"
grep -qi '^Retry-After:' headers || fail "503 without Retry-After: $(cat headers)"
wait "$SLOW"
expect_contains "$(cat slow.json)" '"slept":true' "the slow query finished"
http POST /users '{"id": 6, "name": "eve"}'
expect_eq "$STATUS" 200 "the pool serves again"
pass "a request that waits past pool_timeout_ms for a connection answers 503 with Retry-After"
