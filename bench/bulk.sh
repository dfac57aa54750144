#!/usr/bin/env bash
# Bulk and start-up benchmark (issue 2, "Performance"), against sqlite3 in the same run:
#  1. `pxt insert T --file rows.jsonl` of 1,000,000 rows (id, prompt; result = upper(prompt)
#     computed) vs sqlite3's `.import --csv` of the same rows into a table with the same
#     generated column. Target: pxt >= 0.40 of sqlite3's rows/s.
#  2. `pxt rows T --format jsonl` vs `sqlite3 -json` of the same table. Target: >= 0.50.
#  3. `pxt ls` on a home with 100 tables (hyperfine when installed). Target: under 20 ms.
#
# Usage: bench/bulk.sh   (about 1 minute; see bench/README.md)
# Environment: PXT_BUILD_DIR (default build), PXT (a pxt binary; default $PXT_BUILD_DIR/pxt),
#   BENCH_ROWS (1000000), BENCH_RUNS timed runs per measurement, median kept (3),
#   BENCH_SKIP_PXT=1 (sqlite3 only), BENCH_NO_BUILD=1 (use the pxt binary as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PXT_BUILD_DIR:-build}
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-3}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

note() { echo "bulk.sh: $*" >&2; }
die() { note "$*"; exit 1; }
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (scripts/setup installs it)"

PXT=${PXT:-$BUILD/pxt}
WITH_PXT=1
if [ "${BENCH_SKIP_PXT:-}" = 1 ]; then
  WITH_PXT=0
elif [ "$PXT" = "$BUILD/pxt" ] && [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  [ -f "$BUILD/CMakeCache.txt" ] ||
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
  cmake --build "$BUILD" --target pxt >"$BUILD/bench-pxt-build.log" 2>&1 ||
    { note "building pxt failed (see $BUILD/bench-pxt-build.log): sqlite3 only"; WITH_PXT=0; }
fi
[ "$WITH_PXT" = 0 ] || [ -x "$PXT" ] || die "no pxt binary at $PXT"
PXT=$(realpath -m "$PXT")

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
OUT=$ROOT/bench/out
mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$OUT/bulk-$STAMP.log
: >"$LOG"

now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
rate() { awk -v n="$ROWS" -v ns="$1" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? a >= b : a <= b; print ok ? "PASS" : "FAIL" }'; }
# Runs "$@" RUNS times after `prep` (a function name, run untimed before each) and prints the
# median wall time in ns. stdout goes to /dev/null; a failing run aborts with its stderr.
timed() {  # prep cmd...
  local prep=$1 i t0 t1; shift
  for ((i = 0; i < RUNS; i++)); do
    "$prep"
    t0=$(now_ns)
    "$@" >/dev/null 2>"$TMP/err" || die "'$*' failed: $(head -c 500 "$TMP/err")"
    t1=$(now_ns)
    echo "$* : $(((t1 - t0) / 1000000)) ms" >>"$LOG"
    echo $((t1 - t0))
  done | median
}

# ---- data: the same rows as JSONL (pxt) and CSV (sqlite3) ----
note "generating $ROWS rows"
awk -v n="$ROWS" 'BEGIN { for (i = 1; i <= n; i++) printf "%d,a photo of a sunset over the ocean number %d\n", i, i }' \
  >"$TMP/rows.csv"
awk -v n="$ROWS" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"id\":%d,\"prompt\":\"a photo of a sunset over the ocean number %d\"}\n", i, i }' >"$TMP/rows.jsonl"

# ---- 1. bulk insert ----
# sqlite3 3.40's .import cannot target a table with a generated column directly (it counts the
# generated column and fails "table t has 2 columns but 3 values were supplied"), so it imports
# into a view whose INSTEAD OF trigger inserts into the table: every row still goes through the
# table's GENERATED ALWAYS AS (upper(prompt)) STORED column. The plain two-column import (no
# computed column at all) is printed as a stricter reference.
SQ=$TMP/sqlite.db
sqlite_fresh() {
  rm -f "$SQ" "$SQ-journal" "$SQ-wal" "$SQ-shm"
  sqlite3 "$SQ" "CREATE TABLE t(id INTEGER, prompt TEXT, result TEXT GENERATED ALWAYS AS (upper(prompt)) STORED);
    CREATE VIEW v AS SELECT id, prompt FROM t;
    CREATE TRIGGER v_insert INSTEAD OF INSERT ON v BEGIN INSERT INTO t(id, prompt) VALUES (NEW.id, NEW.prompt); END;"
}
PLAIN=$TMP/plain.db
plain_fresh() { rm -f "$PLAIN"; sqlite3 "$PLAIN" "CREATE TABLE t(id INTEGER, prompt TEXT)"; }
note "sqlite3 .import x$RUNS"
ns_sqlite=$(timed sqlite_fresh sqlite3 "$SQ" ".import --csv $TMP/rows.csv v")
[ "$(sqlite3 "$SQ" 'SELECT count(*) FROM t')" = "$ROWS" ] || die "sqlite3 imported a different row count"
ns_plain=$(timed plain_fresh sqlite3 "$PLAIN" ".import --csv $TMP/rows.csv t")

HOME_DIR=$TMP/pxt-home
pxt() { PXT_HOME=$HOME_DIR "$PXT" "$@"; }
pxt_fresh() {
  rm -rf "$HOME_DIR"
  pxt create-dir bulk >/dev/null
  pxt create-table bulk.rows --column id:Int --column prompt:String --computed 'result=upper(prompt)' >/dev/null
}
if ((WITH_PXT)); then
  note "pxt insert --file x$RUNS"
  if (pxt_fresh) 2>"$TMP/err"; then
    ns_pxt=$(timed pxt_fresh pxt insert bulk.rows --file "$TMP/rows.jsonl")
    n=$(pxt count bulk.rows 2>/dev/null | tr -dc 0-9)
    [ "$n" = "$ROWS" ] || note "warning: pxt count says '$n' rows, expected $ROWS"
  else
    note "pxt could not create the table: $(head -c 500 "$TMP/err")"
    WITH_PXT=0
  fi
fi

# ---- 2. export ----
noop() { :; }
note "export x$RUNS"
ns_sqlite_out=$(timed noop sqlite3 -json "$SQ" 'SELECT id, prompt, result FROM t')
if ((WITH_PXT)); then
  ns_pxt_out=$(timed noop pxt rows bulk.rows --format jsonl)
  {
    echo "first rows, sqlite3 -json / pxt rows --format jsonl:"
    sqlite3 -json "$SQ" 'SELECT id, prompt, result FROM t LIMIT 2'
    pxt rows bulk.rows --format jsonl --limit 2
  } >>"$LOG" 2>&1 || true
fi

# ---- 3. start-up: pxt ls on a home with 100 tables ----
ls_ms="" version_ms="" tool=""
if ((WITH_PXT)); then
  HOME_DIR=$TMP/pxt-home-100
  {
    echo 'dirs = ["bench"]'
    for i in $(seq -w 0 99); do
      printf '\n[[tables]]\npath = "bench.t%s"\nprimary_key = ["id"]\n' "$i"
      printf 'columns = [\n  { name = "id", type = "Int", required = true },\n'
      printf '  { name = "prompt", type = "String" },\n'
      printf '  { name = "result", type = "String", computed = "upper(prompt)" },\n]\n'
    done
  } >"$TMP/hundred.toml"
  pxt schema update "$TMP/hundred.toml" >/dev/null 2>"$TMP/err" || die "schema update failed: $(cat "$TMP/err")"
  note "pxt ls bench lists $(pxt ls bench | wc -l) lines"
  if command -v hyperfine >/dev/null; then
    tool=hyperfine
    PXT_HOME=$HOME_DIR hyperfine -N --warmup 5 --runs 200 --export-json "$TMP/hf.json" \
      "$PXT ls bench" "$PXT ls" "$PXT --version" >>"$LOG" 2>&1
    ls_ms=$(jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$TMP/hf.json")
    root_ms=$(jq -r '.results[1].median * 1000 | . * 100 | round / 100' "$TMP/hf.json")
    version_ms=$(jq -r '.results[2].median * 1000 | . * 100 | round / 100' "$TMP/hf.json")
  else
    tool="bash loop (date +%s%N)"
    loop_ms() {
      local i t0
      for ((i = 0; i < 200; i++)); do
        t0=$(now_ns); "$@" >/dev/null; echo $(($(now_ns) - t0))
      done | median | awk '{ printf "%.2f", $1 / 1e6 }'
    }
    ls_ms=$(loop_ms pxt ls bench)
    root_ms=$(loop_ms pxt ls)
    version_ms=$(loop_ms pxt --version)
  fi
fi

# ---- report ----
r_sqlite=$(rate "$ns_sqlite")
r_plain=$(rate "$ns_plain")
r_sqlite_out=$(rate "$ns_sqlite_out")
{
  echo "# pxt bulk benchmark, $(date '+%Y-%m-%d %H:%M'), $(nproc) cores, $ROWS rows, median of $RUNS runs"
  echo "# load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-58s %12s\n' measurement rows/s
  printf '%-58s %12s\n' "sqlite3 .import --csv, generated upper(prompt) column" "$r_sqlite"
  printf '%-58s %12s\n' "sqlite3 .import --csv, plain 2 columns (reference)" "$r_plain"
  if ((WITH_PXT)); then
    r_pxt=$(rate "$ns_pxt")
    r_pxt_out=$(rate "$ns_pxt_out")
    printf '%-58s %12s\n' "pxt insert --file rows.jsonl (computed upper(prompt))" "$r_pxt"
    printf '%-58s %12s\n' "sqlite3 -json 'SELECT id, prompt, result'" "$r_sqlite_out"
    printf '%-58s %12s\n' "pxt rows --format jsonl" "$r_pxt_out"
    echo
    echo "pxt ls on a home with 100 tables ($tool, median): 'pxt ls bench' $ls_ms ms," \
      "'pxt ls' $root_ms ms, 'pxt --version' $version_ms ms"
    echo
    echo "targets (issue 2):"
    ri=$(ratio "$r_pxt" "$r_sqlite")
    echo "  insert >= 0.40 of sqlite3 .import: $ri $(verdict "$ri" 0.40 '>=')" \
      "(vs the plain 2-column import: $(ratio "$r_pxt" "$r_plain"))"
    ro=$(ratio "$r_pxt_out" "$r_sqlite_out")
    echo "  rows --format jsonl >= 0.50 of sqlite3 -json: $ro $(verdict "$ro" 0.50 '>=')"
    echo "  pxt ls (100 tables) < 20 ms: $ls_ms ms $(verdict "$ls_ms" 20 '<=')"
  else
    printf '%-58s %12s\n' "pxt insert --file rows.jsonl (computed upper(prompt))" "n/a"
    printf '%-58s %12s\n' "sqlite3 -json 'SELECT id, prompt, result'" "$r_sqlite_out"
    printf '%-58s %12s\n' "pxt rows --format jsonl" "n/a"
    echo
    echo "pxt: not measured (build failed or the table could not be created)"
  fi
} | tee "$OUT/bulk-$STAMP.txt"
echo "(details: $LOG)"
