#!/usr/bin/env bash
# Model functions benchmark (issue 14), on loopback against scripts/model-standin with a fixed
# latency (no network), wrk for the load:
#   embed   inserts into a table with emb = embed(text), 64 connections, 20 ms per upstream request,
#           max_concurrency 8: rows/s against 400 rows/s (8 requests in flight / 20 ms: one request
#           per row) and p99; the same with max_batch = 1 (no batching); at 1 connection, with the
#           batching window (batch_window_ms = 1, the default) and without it (0): its cost.
#   chat    inserts with result = chat(prompt), 64 connections, 200 ms upstream, max_concurrency 64:
#           rows/s against 320/s (64 / 0.2 s), and a FastAPI + httpx peer doing the same calls.
#   search  100,000 rows of 384-dimension embeddings: create-index time (embedding every row in
#           batches, then the HNSW graph) and memory; recall@10 of /search (the index) against
#           /exact (the same query as an exact scan) over 200 queries; the exact scan's time; /search
#           top-10 req/s and p99 at 8 connections with the query embeddings warm (cached).
# Usage: bench/models.sh [embed] [chat] [search]     (all three by default; about 6 minutes)
# Environment: PXT_BUILD_DIR (build), PXT (a pxt binary), BENCH_DURATION (10 s per wrk run),
#   BENCH_ROWS (100000 rows for search), BENCH_EF (ef_search of the index, 40), BENCH_NO_BUILD=1.
# Output: the report on stdout, also saved under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PXT_BUILD_DIR:-build}
DURATION=${BENCH_DURATION:-10}
ROWS=${BENCH_ROWS:-100000}
EF=${BENCH_EF:-40}
PY=/usr/bin/python3  # Debian's python3, which has python3-fastapi, python3-uvicorn and python3-httpx
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(embed chat search)
die() { echo "models.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/setup installs it)"
if [ -z "${PXT:-}" ] && [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  cmake --build "$BUILD" --target pxt >/dev/null || die "building pxt failed"
fi
PXT=$(realpath "${PXT:-$BUILD/pxt}")
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$ROOT/bench/out"
REPORT=$ROOT/bench/out/models-$(date +%Y%m%d-%H%M%S).txt
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
say() { echo "$*" | tee -a "$REPORT"; }

standin() {  # args... -> STANDIN_URL, STANDIN_PORT
  rm -f "$TMP/standin.port"
  "$PY" scripts/model-standin --port-file "$TMP/standin.port" "$@" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -s "$TMP/standin.port" ] && break; sleep 0.05; done
  STANDIN_PORT=$(cat "$TMP/standin.port")
  STANDIN_URL=http://127.0.0.1:$STANDIN_PORT/v1
}
stop_last() { kill "${PIDS[-1]}" 2>/dev/null || true; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }
serve() {  # config -> PORT, SPID
  PORT=$(free_port)
  "$PXT" serve --config "$1" --host 127.0.0.1 --port "$PORT" >"$TMP/serve.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  for _ in $(seq 400); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return; sleep 0.05; done
  die "pxt did not start: $(cat "$TMP/serve.log")"
}
stats() { curl -fs "http://127.0.0.1:$STANDIN_PORT/_stats"; }
# wrk run -> "rps p99ms errors"
run_wrk() {  # conns url script args...
  local c=$1 url=$2 script=$3; shift 3
  local t=$((c < 2 ? c : 2))
  local out
  out=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/$script" "$url" -- "$@")
  echo "$out" >>"$REPORT.wrk"
  awk '/^Requests\/sec:/ { rps = $2 }
       $1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); n = v + 0;
                     if (u == "us") n /= 1000; else if (u == "s") n *= 1000; p99 = n }
       /Non-2xx/ { e += $NF } /Socket errors/ { e += 1 }
       END { printf "%.0f %.1f %d\n", rps, p99, e }' <<<"$out"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system, in clock ticks
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

say "# pxt model functions benchmark, $(date '+%Y-%m-%d %H:%M'), $(nproc) cores, wrk ${DURATION}s runs"
say "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); pxt: $PXT"

embed_part() {
  standin --delay-ms 20 --dim 64 --cheap
  local schema=$TMP/embschema.toml
  cat >"$schema" <<'EOF'
dirs = ["bench"]
[[tables]]
path = "bench.emb"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "text", type = "String" },
            { name = "emb", computed = "embed(text, 'stub/e')" } ]
EOF
  run_embed() {  # label conns window max_batch
    export PXT_HOME=$TMP/home-emb-$1
    cat >"$TMP/emb.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
max_concurrency = 8
batch_window_ms = $3
max_batch = $4
[service]
name = "emb"
modules = ["embschema"]
[[routes]]
type = "insert"
path = "/add"
table = "bench.emb"
inputs = ["id", "text"]
outputs = ["id"]
EOF
    serve "$TMP/emb.toml"
    curl -fs -X POST "http://127.0.0.1:$STANDIN_PORT/_reset" >/dev/null
    local cpu0 cpu1
    cpu0=$(cpu_ticks "$SPID")
    read -r rps p99 errs <<<"$(run_wrk "$2" "http://127.0.0.1:$PORT" models_insert.lua /add 1000 text)"
    cpu1=$(cpu_ticks "$SPID")
    local st
    st=$(stats)
    local mean up
    mean=$("$PY" -c 'import json,sys; s=json.loads(sys.argv[1]); b=s["batch_sizes"]; print("%.1f" % (sum(b)/len(b)) if b else "0")' "$st")
    # Where a row's time goes (Little's law: connections / rows/s is the time per row): the mean
    # upstream request as pxt saw it (the stand-in's 20 ms plus its own and loopback's time).
    up=$(curl -fs "http://127.0.0.1:$PORT/metrics" | awk '/^pxt_model_request_duration_seconds_sum/ { s += $2 }
      /^pxt_model_request_duration_seconds_count/ { n += $2 } END { printf "%.1f", n ? 1000 * s / n : 0 }')
    # pxt's CPU per row: what the 2 cores (shared with wrk and the stand-in) give it decides how
    # far past the upstream's time a row's time goes.
    say "$(printf '  %-34s %7s rows/s  p99 %6s ms  errors %s  mean batch %s  row %s ms (upstream %s ms)  pxt CPU %s ms/row' \
      "$1 (c=$2, window $3 ms, max_batch $4)" "$rps" "$p99" "$errs" "$mean" \
      "$(awk -v c="$2" -v r="$rps" 'BEGIN { printf "%.1f", r ? 1000 * c / r : 0 }')" "$up" \
      "$(awk -v a="$cpu0" -v b="$cpu1" -v r="$rps" -v d="$DURATION" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", r ? 1000 * (b - a) / hz / (r * d) : 0 }')")"
    stop_last
    EMB_RPS[$1]=$rps
    EMB_P99[$1]=$p99
  }
  declare -gA EMB_RPS EMB_P99
  say ""
  say "## embed: inserts with emb = embed(text), 20 ms upstream, max_concurrency 8 (400 rows/s without batching)"
  run_embed batched64 64 1 32
  # The window (batch_window_ms, default 1 ms): longer ones make bigger batches and longer rows; at
  # 0 a batch is sent the moment a slot is free, so the slots fill with small ones and rows wait.
  for w in 5 2 0; do run_embed "batched64_w$w" 64 "$w" 32; done
  for w in 5 1 0; do run_embed "batched8_w$w" 8 "$w" 32; done
  run_embed unbatched64 64 1 1
  run_embed window1 1 1 32
  run_embed nowindow1 1 0 32
  say "  batched / 400 rows/s at 64 connections: $(ratio "${EMB_RPS[batched64]}" 400)x (target >= 10x; p99 target <= 100 ms)"
  say "  batched / unbatched at 64 connections: $(ratio "${EMB_RPS[batched64]}" "${EMB_RPS[unbatched64]}")x"
  say "  64 connections, one row each, bound the rate at 64 / (20 ms + pxt's time) < 3,200 rows/s = 8x (Little's law)"
  # Many rows in one write: `pxt insert --file` sends them 32 per request, 8 requests in flight.
  export PXT_HOME=$TMP/home-emb-bulk
  mkdir -p "$PXT_HOME"
  printf '[models.stub]\nbase_url = "%s"\nmax_concurrency = 8\n' "$STANDIN_URL" >"$PXT_HOME/config.toml"
  "$PXT" schema update "$schema" >/dev/null
  "$PY" -c 'import json
for i in range(20000): print(json.dumps({"id": i, "text": "a short document about item %d and its neighbours" % i}))' >"$TMP/bulk.jsonl"
  local b0 b1
  b0=$(date +%s.%N)
  "$PXT" insert bench.emb --file "$TMP/bulk.jsonl" >/dev/null
  b1=$(date +%s.%N)
  local bulk
  bulk=$(awk -v a="$b0" -v b="$b1" 'BEGIN { printf "%.0f", 20000 / (b - a) }')
  say "  pxt insert --file of 20,000 rows (one write): $bulk rows/s = $(ratio "$bulk" 400)x one request per row"
  say "  the window's cost at 1 connection: $(ratio "${EMB_RPS[window1]}" "${EMB_RPS[nowindow1]}")x the rows/s without it (an idle model sends at once)"
  stop_last  # the stand-in
}

chat_part() {
  standin --delay-ms 200
  export PXT_HOME=$TMP/home-chat
  cat >"$TMP/chatschema.toml" <<'EOF'
dirs = ["bench"]
[[tables]]
path = "bench.gen"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "prompt", type = "String" },
            { name = "result", computed = "chat(prompt, 'stub/chat-model')" } ]
EOF
  cat >"$TMP/chat.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
max_concurrency = 64
[service]
name = "chat"
modules = ["chatschema"]
[[routes]]
type = "insert"
path = "/generate"
table = "bench.gen"
inputs = ["id", "prompt"]
EOF
  say ""
  say "## chat: inserts with result = chat(prompt), 200 ms upstream, 64 connections (ceiling 320 rows/s)"
  serve "$TMP/chat.toml"
  read -r prps pp99 perrs <<<"$(run_wrk 64 "http://127.0.0.1:$PORT" models_insert.lua /generate 1000 prompt)"
  stop_last
  local fport
  fport=$(free_port)
  "$PY" bench/fastapi_models_peer.py --db "$TMP/peer.db" --port "$fport" --models "$STANDIN_URL" >"$TMP/peer.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$fport/docs" 2>/dev/null && break; sleep 0.05; done
  read -r frps fp99 ferrs <<<"$(run_wrk 64 "http://127.0.0.1:$fport" models_insert.lua /generate 1000 prompt)"
  stop_last
  say "$(printf '  %-22s %7s rows/s  p99 %6s ms  errors %s' pxt "$prps" "$pp99" "$perrs")"
  say "$(printf '  %-22s %7s rows/s  p99 %6s ms  errors %s' "fastapi + httpx" "$frps" "$fp99" "$ferrs")"
  say "  pxt / 320 rows/s: $(ratio "$prps" 320) (target >= 0.90); pxt / fastapi: $(ratio "$prps" "$frps")x"
  stop_last
}

search_part() {
  standin --dim 384
  export PXT_HOME=$TMP/home-search
  cat >"$TMP/searchschema.toml" <<'EOF'
dirs = ["bench"]
[[tables]]
path = "bench.docs"
primary_key = ["id"]
columns = [ { name = "id", type = "Int", required = true }, { name = "text", type = "String" } ]
[[queries]]
name = "search"
params = [ { name = "query_text", type = "String" } ]
sql = """SELECT id, similarity(text, :query_text) AS score FROM "bench.docs" ORDER BY score DESC LIMIT 10"""
[[queries]]
name = "exact"
params = [ { name = "query_text", type = "String" } ]
sql = """SELECT id, similarity(text, :query_text) AS score FROM "bench.docs" ORDER BY score DESC, id LIMIT 10"""
EOF
  mkdir -p "$PXT_HOME"
  cat >"$PXT_HOME/config.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
max_concurrency = 4
EOF
  "$PY" - "$ROWS" >"$TMP/docs.jsonl" <<'EOF'
import json, random, sys
rng = random.Random(7)
words = ["alpha", "river", "stone", "cloud", "engine", "garden", "market", "signal", "forest", "copper",
         "violet", "harbor", "winter", "circuit", "meadow", "lantern", "canyon", "pepper", "orbit", "tunnel",
         "saddle", "quartz", "ember", "glacier", "mosaic", "falcon", "velvet", "anchor", "prairie", "cobalt"]
for i in range(int(sys.argv[1])):
    text = " ".join(rng.choice(words) for _ in range(6)) + " %d" % (i % 1000)
    print(json.dumps({"id": i, "text": text}))
EOF
  "$PXT" schema update "$TMP/searchschema.toml" >/dev/null 2>&1 || true  # the queries need the index: below
  "$PXT" create-dir bench --if-not-exists >/dev/null
  "$PXT" create-table bench.docs --column id:Int! --column text:String --primary-key id --if-exists ignore >/dev/null
  "$PXT" insert bench.docs --file "$TMP/docs.jsonl" >/dev/null
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$PXT" --json create-index bench.docs text --embedding "embed(text, 'stub/e')" --ef-search "$EF")
  t1=$(date +%s.%N)
  say ""
  say "## search: $ROWS rows x 384 dimensions, ef_search $EF"
  say "  create-index: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s in all (embedding every row in batches of 32 + the graph): $out"
  cat >"$TMP/search.toml" <<EOF
[service]
name = "search"
modules = ["searchschema"]
[[routes]]
type = "query"
path = "/search"
query = "searchschema.search"
[[routes]]
type = "query"
path = "/exact"
query = "searchschema.exact"
EOF
  serve "$TMP/search.toml"
  local rss_start
  rss_start=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SPID/status")
  # VmRSS counts the database file once per SQLite connection that has it mapped (mmap_size;
  # one connection per HTTP thread that ran a query), so it grows with every thread an exact scan
  # lands on although those pages are one shared copy in the page cache. PSS divides each page
  # among its mappings: it is the process's real share; RssAnon is its private memory.
  ( while kill -0 "$SPID" 2>/dev/null; do
      awk '/^Pss:/ { printf "%d ", $2 }' "/proc/$SPID/smaps_rollup" 2>/dev/null
      awk '/^RssAnon:/ { printf "%d\n", $2 }' "/proc/$SPID/status" 2>/dev/null
      sleep 0.5
    done >"$TMP/mem.samples" ) &
  local sampler=$!
  "$PY" - "$PORT" "$TMP" <<'EOF' | tee -a "$REPORT"
import json, sys, time, urllib.request
port, tmp = sys.argv[1], sys.argv[2]
def post(path, q):
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=json.dumps({"query_text": q}).encode(),
                                 headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    rows = json.load(urllib.request.urlopen(req))["rows"]
    return [(r["id"], r["score"]) for r in rows], time.perf_counter() - t
import random
# Two sets of 200 queries. "unlike": texts that share almost no trigram with any row, so every row
# is about as far as any other (the hardest case for a graph search; hnswlib alone finds the same
# recall on these vectors, bench/RESULTS.md); "like the rows": new texts drawn as the rows were
# (6 of the 30 words and a number), as a user's query resembles the documents it looks for.
rng = random.Random(11)
words = ["alpha", "river", "stone", "cloud", "engine", "garden", "market", "signal", "forest", "copper",
         "violet", "harbor", "winter", "circuit", "meadow", "lantern", "canyon", "pepper", "orbit", "tunnel",
         "saddle", "quartz", "ember", "glacier", "mosaic", "falcon", "velvet", "anchor", "prairie", "cobalt"]
sets = {
    "unlike the rows": ["query %d about %d things" % (i, i * 7 % 97) for i in range(200)],
    "like the rows": [" ".join(rng.choice(words) for _ in range(6)) + " %d" % rng.randrange(1000)
                      for _ in range(200)],
}
exact_t, index_t = [], []
for name, queries in sets.items():
    with open("%s/queries-%s.txt" % (tmp, name.split()[0]), "w") as f:  # for wrk below
        f.write("".join(q + "\n" for q in queries))
    for q in queries:  # warm: each query text embedded once
        post("/search", q)
    hits, tied_hits = 0, 0
    for q in queries:
        got, ti = post("/search", q)
        want, te = post("/exact", q)
        hits += len({i for i, _ in got} & {i for i, _ in want})
        # Rows whose score ties the exact 10th best are as right as the ones the scan happened to
        # list (the scan breaks ties by id): counted separately, since these texts tie a lot.
        tenth = want[-1][1] if want else 1.0
        tied_hits += sum(1 for _, sc in got if sc >= tenth - 1e-6)
        index_t.append(ti)
        exact_t.append(te)
    print("  recall@10, queries %s (index vs exact scan, 200): %.3f by id, %.3f counting ties of the 10th score (target >= 0.95)" % (
        name, hits / (10.0 * len(queries)), tied_hits / (10.0 * len(queries))))
index_t.sort(); exact_t.sort()
print("  one query, median: exact scan %.1f ms, index %.2f ms (%.0fx)" % (
    exact_t[len(exact_t) // 2] * 1000, index_t[len(index_t) // 2] * 1000, exact_t[len(exact_t) // 2] / index_t[len(index_t) // 2]))
EOF
  read -r rps p99 errs <<<"$(run_wrk 8 "http://127.0.0.1:$PORT" models_search.lua "$TMP/queries-unlike.txt")"
  read -r lrps lp99 lerrs <<<"$(run_wrk 8 "http://127.0.0.1:$PORT" models_search.lua "$TMP/queries-like.txt")"
  local rss maps
  rss=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SPID/status")
  maps=$(grep -c 'pxt.db$' "/proc/$SPID/maps" || true)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  say "  /search top-10 at 8 connections, query embeddings warm (target >= 2,000 req/s):"
  say "    queries unlike the rows: $rps req/s, p99 $p99 ms, errors $errs"
  say "    queries like the rows:   $lrps req/s, p99 $lp99 ms, errors $lerrs"
  say "  pxt memory: $rss_start MB resident after start (graph loaded from disk on the first query); peak PSS" \
    "$(awk '{ if ($1 > m) m = $1 } END { printf "%.0f", m / 1024 }' "$TMP/mem.samples") MB, peak RssAnon" \
    "$(awk '{ if ($2 > m) m = $2 } END { printf "%.0f", m / 1024 }' "$TMP/mem.samples") MB;" \
    "VmHWM $rss MB counts pxt.db ($(du -m "$PXT_HOME/pxt.db" | cut -f1) MB) once per mapping ($maps mappings:" \
    "one per SQLite connection)"
  stop_last
  stop_last
}

for p in "${PARTS[@]}"; do
  case $p in
    embed) embed_part ;;
    chat) chat_part ;;
    search) search_part ;;
    *) die "unknown part '$p' (embed, chat, search)" ;;
  esac
done
say "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
say "# report saved to $REPORT"
