#!/usr/bin/env bash
# Runs the store conformance suite (pxt_unit -ts="store conformance") against a PostgreSQL
# store: a fresh database in the cluster scripts/test started ($PXT_TEST_PG_URL and
# $PXT_TEST_PG_DIR), else in a private cluster started and stopped here. CTest runs it as the
# test unit-postgres (label postgres). Exits 77 (skipped) when there is no cluster and no server to
# start one.
#   tests/unit/store_conformance_pg.sh PXT_UNIT SRC_DIR [doctest args...]
set -euo pipefail
unit=${1:?usage: store_conformance_pg.sh PXT_UNIT SRC_DIR}
src=${2:?usage: store_conformance_pg.sh PXT_UNIT SRC_DIR}
shift 2
cluster=$src/scripts/pg-cluster
own=
if [ -n "${PXT_TEST_PG_URL:-}" ] && [ -n "${PXT_TEST_PG_DIR:-}" ]; then
  dir=$PXT_TEST_PG_DIR base=$PXT_TEST_PG_URL
else
  if ! why=$("$cluster" available); then
    # Skipped (CTest's SKIP_RETURN_CODE), and recorded for required-tests-ran as lib.sh's skip does.
    echo "SKIP: $why"
    if [ -n "${PXT_SKIP_DIR:-}" ]; then mkdir -p "$PXT_SKIP_DIR" && echo "unit-postgres: $why" >"$PXT_SKIP_DIR/unit-postgres"; fi
    exit 77
  fi
  line=$("$cluster" start -c fsync=off)
  dir=${line%% *} base=${line#* } own=$dir
fi
db=pxt_unit_$$
cleanup() {
  "$cluster" psql "$dir" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  [ -z "$own" ] || "$cluster" stop "$own"
}
trap cleanup EXIT
"$cluster" psql "$dir" -c "CREATE DATABASE $db"
PXT_TEST_STORE_URL=${base%/*}/$db "$unit" -ts="store conformance,store postgres" "$@"
