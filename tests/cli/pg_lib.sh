# PostgreSQL for the end-to-end tests: source after lib.sh. Uses the cluster scripts/test started
# ($PXT_TEST_PG_URL, $PXT_TEST_PG_DIR), else starts a private one that is stopped on exit.
# Skips the test (exit 77) when there is no cluster and no server to start one.
# pg_database NAME creates a fresh database and sets $PG_URL to it; pg_sql runs SQL in it.
PG_CLUSTER="$PXT_SRC/scripts/pg-cluster"
PG_OWN_DIRS=()
pg_cleanup() {
  for d in "${PG_OWN_DIRS[@]}"; do "$PG_CLUSTER" stop "$d" || true; done
}
trap 'pg_cleanup; cleanup' EXIT

# Starts a private cluster; sets $PG_DIR and $PG_BASE_URL (the "postgres" database).
pg_private() {
  local line why
  why=$("$PG_CLUSTER" available) || skip "$why"
  line=$("$PG_CLUSTER" start -c fsync=off) || fail "cannot start PostgreSQL"
  PG_DIR=${line%% *}
  PG_BASE_URL=${line#* }
  PG_OWN_DIRS+=("$PG_DIR")
}

if [ -n "${PXT_TEST_PG_URL:-}" ] && [ -n "${PXT_TEST_PG_DIR:-}" ]; then
  PG_DIR=$PXT_TEST_PG_DIR
  PG_BASE_URL=$PXT_TEST_PG_URL
else
  pg_private
fi

pg_psql_base() { "$PG_CLUSTER" psql "$PG_DIR" "$@"; }
pg_database() {  # name
  PG_DB=$1_$$
  pg_psql_base -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
  PG_URL=${PG_BASE_URL%/*}/$PG_DB
}
pg_sql() {  # sql -> rows, '|'-separated, no header
  "$PG_CLUSTER" psql "$PG_DIR" -d "$PG_DB" -At -c "$1"
}
