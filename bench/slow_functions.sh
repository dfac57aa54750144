#!/usr/bin/env bash
# Small writers beside a slow computed column (issues 3 and 7): one POST uploads a big PDF (3,000
# pages, 9 MB) into a table whose computed column is document_text(doc); 0.3 s later, 20 small
# JSON inserts into another table of the same store, one after the other. Reports when the small
# inserts were all answered, the slowest of them, their statuses, and when the PDF insert ended.
# With document_text computed before the write takes the writer lock, the small inserts do not
# wait for the extraction; run it with an older pxt (PXT=...) to see them wait.
#
# Usage: bench/slow_functions.sh   (about 10 s)
# Environment: PXT_BUILD_DIR (build), PXT (a pxt binary), BENCH_PAGES (3000), BENCH_RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${PXT_BUILD_DIR:-build}
PXT=$(realpath "${PXT:-$BUILD/pxt}")
PAGES=${BENCH_PAGES:-3000}
RUNS=${BENCH_RUNS:-3}
TMP=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP"

python3 - "$PAGES" <<'PY'
import sys
n = int(sys.argv[1])
objs = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
kids = []
for i in range(n):
    lines = " ".join(f"(page {i} line {j} the quick brown fox jumps over the lazy dog) Tj T*" for j in range(40))
    content = f"BT /F1 10 Tf 12 TL 40 760 Td {lines} ET"
    kids.append(f"{len(objs) + 1} 0 R")
    objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {len(objs) + 2} 0 R >>")
    objs.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n} >>"
pdf, offsets = b"%PDF-1.4\n", []
for i, o in enumerate(objs):
    offsets.append(len(pdf))
    pdf += f"{i + 1} 0 obj\n{o}\nendobj\n".encode()
xref = len(pdf)
pdf += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
pdf += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
pdf += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
open("big.pdf", "wb").write(pdf)
PY

cat >schema.toml <<'TOML'
dirs = ["app"]
[[tables]]
path = "app.docs"
columns = [ { name = "doc", type = "Document" }, { name = "text", computed = "document_text(doc)" } ]
[[tables]]
path = "app.notes"
columns = [ { name = "id", type = "Int" }, { name = "body", type = "String" } ]
TOML
cat >service.toml <<'TOML'
[[service]]
name = "api"
modules = ["schema"]
[[service.routes]]
type = "insert"
table = "app.docs"
path = "/text"
uploadfile_inputs = ["doc"]
outputs = []
[[service.routes]]
type = "insert"
table = "app.notes"
path = "/notes"
TOML

now() { date +%s%3N; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "pxt: $PXT; PDF: $(stat -c %s big.pdf) bytes, $PAGES pages"
for run in $(seq 1 "$RUNS"); do
  export PXT_HOME=$TMP/home$run
  "$PXT" serve api --config service.toml --host 127.0.0.1 --port "$PORT" >server.log 2>&1 &
  SPID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
  t0=$(now)
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/text" -F doc=@big.pdf >slow.status &
  cpid=$!
  sleep 0.3
  codes=() worst=0
  for i in $(seq 1 20); do
    s=$(now)
    codes+=("$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d "{\"id\": $i, \"body\": \"x\"}" "http://127.0.0.1:$PORT/notes")")
    e=$(($(now) - s))
    [ "$e" -gt "$worst" ] && worst=$e
  done
  small=$(($(now) - t0))
  wait "$cpid"
  slow=$(($(now) - t0))
  echo "run $run: 20 small inserts answered by ${small} ms (slowest ${worst} ms; statuses:" \
    "$(printf '%s\n' "${codes[@]}" | sort | uniq -c | xargs)); PDF insert $(cat slow.status) at ${slow} ms"
  kill "$SPID"
  wait "$SPID" 2>/dev/null || true
  SPID=
done
