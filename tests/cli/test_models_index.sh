#!/usr/bin/env bash
# Embedding indexes: create-index / drop-index and [[indexes]] in schema modules, similarity(COLUMN,
# :param) in a named query answered from the HNSW graph, maintenance on insert, update and delete,
# the query embedded once (and cached), the graph saved, caught up after a kill -9 and rebuilt
# when damaged. Against scripts/model-standin on 127.0.0.1.
source "$(dirname "$0")/lib.sh"

start_standin --dim 32
mkdir -p "$PXT_HOME"
cat >"$PXT_HOME/config.toml" <<EOF
[models.stub]
base_url = "$STANDIN_URL"
EOF
cat >"$TMP/schema.toml" <<'EOF'
dirs = ["app"]
[[tables]]
path = "app.docs"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "text", type = "String" },
  { name = "tag", type = "String" },
]
EOF
"$PXT" schema update "$TMP/schema.toml" >/dev/null
python3 -c '
import json
words = ["cats", "dogs", "boats", "bread", "ocean", "mountain", "guitar", "coffee"]
for i in range(60):
    print(json.dumps({"id": i, "text": "%s and %s number %d" % (words[i % 8], words[(i * 3) % 8], i), "tag": "t%d" % (i % 2)}))
' >"$TMP/docs.jsonl"
"$PXT" insert app.docs --file "$TMP/docs.jsonl" >/dev/null

# ---- create-index: checks first ----
expect_status 1 "$PXT" create-index app.docs txet --embedding "embed(txet, 'stub/e')"
expect_contains "$ERR" "unknown column 'txet'" "unknown column"
expect_contains "$ERR" "did you mean 'text'?" "did you mean"
expect_status 1 "$PXT" create-index app.docs text --embedding "embed(tag, 'stub/e')"
expect_contains "$ERR" "must read column 'text' and no other" "expression reads the column"
expect_status 1 "$PXT" create-index app.docs text --embedding "upper(text)"
expect_contains "$ERR" "not a Vector" "expression gives a Vector"
expect_status 1 "$PXT" create-index app.docs text --embedding "embed(text, 'stbu/e')"
expect_contains "$ERR" "unknown model provider 'stbu'" "unknown provider"
# A provider failure while embedding the rows creates nothing.
standin_control '{"fail": [{"status": 401, "times": 5}]}'
expect_status 1 "$PXT" create-index app.docs text --embedding "embed(text, 'stub/e')"
expect_contains "$ERR" "upstream answered 401" "provider failure named"
expect_not_contains "$("$PXT" describe app.docs)" "embedding index" "nothing created"
standin_control '{"fail": []}'
standin_reset
out=$("$PXT" create-index app.docs text --embedding "embed(text, 'stub/e')")
expect_eq "$out" "created index 'text_idx' on app.docs.text (cosine, 60 vectors of 32 dimensions)" "create-index"
[ "$(standin_stat embeddings)" -le 2 ] || fail "60 rows took $(standin_stat embeddings) requests to index"
expect_contains "$("$PXT" describe app.docs)" "text_idx on text: embed(text, 'stub/e'), metric cosine, ef_search 40" "describe"
expect_status 1 "$PXT" create-index app.docs text --embedding "embed(text, 'stub/e')"
expect_contains "$ERR" "already has an index named 'text_idx'" "duplicate name"
"$PXT" create-index app.docs text --embedding "embed(text, 'stub/e')" --if-not-exists >/dev/null
pass "create-index"

# ---- a named query answered from the index ----
cat >"$TMP/queries.toml" <<'EOF'
[[queries]]
name = "search"
params = [ { name = "query_text", type = "String" }, { name = "k", type = "Int", default = 5 } ]
sql = """SELECT id, text, similarity(text, :query_text) AS score FROM "app.docs" ORDER BY score DESC LIMIT :k"""
[[queries]]
name = "search_tag"
params = [ { name = "query_text", type = "String" }, { name = "tag", type = "String" } ]
sql = """SELECT id, tag, similarity(text, :query_text) AS score FROM "app.docs" WHERE tag = :tag ORDER BY score DESC LIMIT 3"""
[[queries]]
name = "nearest"             # the similarity shorthand: every column + score, most similar first
table = "app.docs"
similar = "text"
param = "query_text"
limit = 2
[[queries]]
name = "exact"
params = [ { name = "query_text", type = "String" } ]
sql = """SELECT id, similarity(text, :query_text) AS score FROM "app.docs" ORDER BY score DESC, id"""
EOF
cat >"$TMP/service.toml" <<EOF
[service]
name = "search"
modules = ["queries"]
[[routes]]
type = "query"
path = "/search"
query = "queries.search"
[[routes]]
type = "query"
path = "/search_tag"
query = "queries.search_tag"
[[routes]]
type = "query"
path = "/nearest"
query = "queries.nearest"
[[routes]]
type = "query"
path = "/exact"
query = "queries.exact"
[[routes]]
type = "insert"
path = "/add"
table = "app.docs"
[[routes]]
type = "update"
path = "/edit"
table = "app.docs"
[[routes]]
type = "delete"
path = "/remove"
table = "app.docs"
EOF
dry=$("$PXT" serve --config "$TMP/service.toml" --dry-run)
expect_contains "$dry" "embed(stub/e)  index 'text_idx' of table 'app.docs'" "dry-run lists the index's model"
start_server --config "$TMP/service.toml"
ids() { python3 -c 'import json,sys; print(" ".join(str(r["id"]) for r in json.loads(sys.argv[1])["rows"]))' "$1"; }
standin_reset
http POST /search '{"query_text": "boats and guitar number 2"}'
expect_eq "$STATUS" "200" "search: $BODY"
expect_eq "$(ids "$BODY" | awk '{print $1}')" "2" "the identical text ranks first"
expect_contains "$BODY" '"score":1' "its score is 1"
expect_eq "$(ids "$BODY" | wc -w)" "5" "k = 5 rows"
expect_eq "$(standin_stat embeddings)" "1" "the query embedded once"
http POST /search '{"query_text": "boats and guitar number 2", "k": 3}'
expect_eq "$(ids "$BODY" | wc -w)" "3" "k = 3"
expect_eq "$(standin_stat embeddings)" "1" "a repeated query is not embedded again"
# The index's answer is the exact scan's top 5.
http POST /exact '{"query_text": "ocean and dogs"}'
exact=$(ids "$BODY" | cut -d' ' -f1-5)
http POST /search '{"query_text": "ocean and dogs"}'
expect_eq "$(ids "$BODY")" "$exact" "index top-5 = exact top-5"
# A WHERE clause filters the index's candidates (and asks for more when too few pass).
http POST /search_tag '{"query_text": "boats and guitar number 2", "tag": "t1"}'
expect_eq "$STATUS" "200" "search with a filter: $BODY"
expect_not_contains "$BODY" '"tag":"t0"' "the filter applies"
expect_eq "$(ids "$BODY" | wc -w)" "3" "3 rows pass the filter"
http POST /nearest '{"query_text": "boats and guitar number 2"}'
expect_eq "$STATUS" "200" "the similarity shorthand: $BODY"
expect_eq "$(ids "$BODY" | wc -w)" "2" "limit 2"
expect_contains "$BODY" '{"id":2,"text":"boats and guitar number 2","tag":"t0","score":1.0}' "every column and the score"
pass "similarity() answered from the index"

# ---- maintained on insert, update, delete ----
http POST /add '{"id": 100, "text": "a purple elephant plays chess", "tag": "t0"}'
expect_eq "$STATUS" "200" "insert: $BODY"
http POST /search '{"query_text": "a purple elephant plays chess", "k": 1}'
expect_eq "$(ids "$BODY")" "100" "a new row is found"
http POST /edit '{"id": 100, "text": "a green dragon sings opera"}'
expect_eq "$STATUS" "200" "update: $BODY"
http POST /search '{"query_text": "a green dragon sings opera", "k": 1}'
expect_eq "$(ids "$BODY")" "100" "an updated row is found by its new text"
http POST /search '{"query_text": "a purple elephant plays chess", "k": 1}'
expect_contains "$BODY" '"score":' "still answers"
expect_not_contains "$BODY" '"score":1.0}' "the old text is gone"
http POST /remove '{"id": 100}'
http POST /search '{"query_text": "a green dragon sings opera", "k": 3}'
expect_not_contains " $(ids "$BODY") " " 100 " "a deleted row is gone"
pass "maintained on insert, update and delete"

# ---- saved, caught up after kill -9, rebuilt when damaged ----
stop_server
# (a PostgreSQL store's graphs are in a folder of their own under indexes/)
idx_file=$(find "$PXT_HOME/indexes" -name '*.hnsw' | head -n 1)
[ -s "$idx_file" ] || fail "the graph was not saved"
start_server --config "$TMP/service.toml"
http POST /add '{"id": 101, "text": "quantum physics lecture notes", "tag": "t1"}'
http POST /search '{"query_text": "quantum physics lecture notes", "k": 1}'
expect_eq "$(ids "$BODY")" "101" "found before the crash"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
# Another process writes meanwhile: the graph on disk knows nothing of either row.
"$PXT" insert app.docs '{"id": 102, "text": "medieval castle architecture", "tag": "t0"}' >/dev/null
start_server --config "$TMP/service.toml"
http POST /search '{"query_text": "quantum physics lecture notes", "k": 1}'
expect_eq "$(ids "$BODY")" "101" "a row written before the crash is found after it"
http POST /search '{"query_text": "medieval castle architecture", "k": 1}'
expect_eq "$(ids "$BODY")" "102" "a row another process wrote is found"
stop_server
head -c 1000 /dev/urandom >"$idx_file"
start_server --config "$TMP/service.toml"
http POST /search '{"query_text": "medieval castle architecture", "k": 1}'
expect_eq "$(ids "$BODY")" "102" "a damaged graph is rebuilt"
http POST /exact '{"query_text": "bread and coffee"}'
exact=$(ids "$BODY" | cut -d' ' -f1-5)
http POST /search '{"query_text": "bread and coffee"}'
expect_eq "$(ids "$BODY")" "$exact" "the rebuilt graph answers as the exact scan"
stop_server
pass "saved, caught up after kill -9, rebuilt when damaged"

# ---- drop-index; [[indexes]] in a schema module ----
expect_status 1 "$PXT" drop-index app.docs text_ixd
expect_contains "$ERR" "did you mean 'text_idx'?" "drop-index did you mean"
"$PXT" drop-index app.docs text_idx >/dev/null
left=$(find "$PXT_HOME/indexes" -type f 2>/dev/null)
[ -z "$left" ] || fail "the graph files stay after drop-index: $left"
expect_status 1 "$PXT" serve --config "$TMP/service.toml" --dry-run
expect_contains "$ERR" "give the column an embedding index" "similarity() on a column without an index"
cat >>"$TMP/schema.toml" <<'EOF'
[[indexes]]
table = "app.docs"
column = "text"
embedding = "embed(text, 'stub/e')"
metric = "ip"
name = "by_text"
EOF
expect_contains "$("$PXT" schema diff "$TMP/schema.toml")" "+ index by_text on app.docs.text" "diff shows the index"
expect_contains "$("$PXT" schema update "$TMP/schema.toml")" "created index by_text on app.docs.text" "module creates it"
expect_eq "$("$PXT" schema update "$TMP/schema.toml")" "nothing to do: the catalog matches" "applying again is a no-op"
sed -i 's/metric = "ip"/metric = "l2"/' "$TMP/schema.toml"
expect_status 1 "$PXT" schema update "$TMP/schema.toml"
expect_contains "$ERR" "index 'by_text' of table 'app.docs' differs from its declaration (metric ip -> l2)" "a changed index is refused"
pass "drop-index and [[indexes]]"
