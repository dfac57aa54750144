#!/usr/bin/env bash
# hnswlib alone on bench/models.sh's search vectors: the stand-in's embeddings (scripts/model-standin,
# hashed trigrams, 384 dimensions) of the same 100,000 rows and the same two sets of 200 queries
# ("unlike the rows" = set 1, "like the rows" = set 2), then bench/hnsw_recall.cpp: recall@10 of a
# graph built by hnswlib on one thread and of one built from every core at once (as pxt does), at
# several ef_search values. What pxt's /search finds (bench/models.sh search) compared with these
# tells a fault of pxt's graph from hnswlib's own behaviour on these vectors. About 2 minutes.
# Usage: bench/hnsw_recall.sh   Environment: PXT_BUILD_DIR (build), BENCH_ROWS (100000).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PXT_BUILD_DIR:-build}
ROWS=${BENCH_ROWS:-100000}
cmake --build "$BUILD" --target pxt_bench_hnsw_recall >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 - "$ROWS" "$TMP/vectors.bin" <<'PY'
import importlib.machinery, importlib.util, random, struct, sys
loader = importlib.machinery.SourceFileLoader("standin", "scripts/model-standin")
standin = importlib.util.module_from_spec(importlib.util.spec_from_loader("standin", loader))
loader.exec_module(standin)
rows, dim = int(sys.argv[1]), 384
# The same texts as bench/models.sh's search part (same seeds, same draws).
words = ["alpha", "river", "stone", "cloud", "engine", "garden", "market", "signal", "forest", "copper",
         "violet", "harbor", "winter", "circuit", "meadow", "lantern", "canyon", "pepper", "orbit", "tunnel",
         "saddle", "quartz", "ember", "glacier", "mosaic", "falcon", "velvet", "anchor", "prairie", "cobalt"]
rng = random.Random(7)
texts = [" ".join(rng.choice(words) for _ in range(6)) + " %d" % (i % 1000) for i in range(rows)]
qrng = random.Random(11)
unlike = ["query %d about %d things" % (i, i * 7 % 97) for i in range(200)]
like = [" ".join(qrng.choice(words) for _ in range(6)) + " %d" % qrng.randrange(1000) for _ in range(200)]
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<iii", rows, 400, dim))
    for t in texts + unlike + like:
        f.write(struct.pack("<%df" % dim, *standin.embed_bytes(t.encode(), dim)))
PY
echo "# hnswlib alone, $ROWS x 384 stand-in vectors, $(date '+%Y-%m-%d %H:%M'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# set 1: queries unlike the rows, set 2: queries like the rows (200 each)"
"$BUILD/pxt_bench_hnsw_recall" "$TMP/vectors.bin" "$(nproc)"
