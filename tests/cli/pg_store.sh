# Sourced by lib.sh when PXT_TEST_BACKEND=postgres: the test's store is a fresh database in the
# cluster scripts/test started ($PXT_TEST_PG_URL, $PXT_TEST_PG_DIR), else in a private cluster,
# exported as $PXT_STORE for every pxt the test runs. Dropped (and a private cluster stopped) by
# lib.sh's cleanup. Skips the test (exit 77) when there is no cluster and no server to start one.
STORE_PG_CLUSTER="$PXT_SRC/scripts/pg-cluster"
if [ -n "${PXT_TEST_PG_URL:-}" ] && [ -n "${PXT_TEST_PG_DIR:-}" ]; then
  STORE_PG_DIR=$PXT_TEST_PG_DIR
  STORE_PG_BASE=$PXT_TEST_PG_URL
else
  why=$("$STORE_PG_CLUSTER" available) || skip "$why"
  line=$("$STORE_PG_CLUSTER" start -c fsync=off) || fail "cannot start PostgreSQL"
  STORE_PG_DIR=${line%% *}
  STORE_PG_BASE=${line#* }
  EXIT_HOOKS+=("\"$STORE_PG_CLUSTER\" stop \"$STORE_PG_DIR\"")
fi
STORE_PG_DB=pxt_$(basename "$0" .sh | tr -c 'a-z0-9_\n' '_')_$$
"$STORE_PG_CLUSTER" psql "$STORE_PG_DIR" -c "CREATE DATABASE $STORE_PG_DB" || fail "cannot create database $STORE_PG_DB"
# Dropped before a private cluster stops (hooks run in order).
EXIT_HOOKS=("\"$STORE_PG_CLUSTER\" psql \"$STORE_PG_DIR\" -c \"DROP DATABASE IF EXISTS $STORE_PG_DB WITH (FORCE)\" >/dev/null 2>&1" "${EXIT_HOOKS[@]}")
export PXT_STORE=${STORE_PG_BASE%/*}/$STORE_PG_DB
# SQL in the test's store database: store_sql 'SELECT ...' prints rows '|'-separated.
store_sql() { "$STORE_PG_CLUSTER" psql "$STORE_PG_DIR" -d "$STORE_PG_DB" -At -c "$1"; }
