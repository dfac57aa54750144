#!/usr/bin/env bash
# `pxt insert --file` and `-` (stdin): bulk loads in one transaction, all or nothing.
source "$(dirname "$0")/lib.sh"

"$PXT" create-table t --column id:Int! --column prompt:String --computed 'shout=upper(prompt)' --primary-key id >/dev/null
python3 -c '
import json
with open("'"$TMP"'/rows.jsonl", "w") as f:
    for i in range(1, 5001):
        f.write(json.dumps({"id": i, "prompt": "p%d" % i}) + "\n")
'
out=$("$PXT" insert t --file "$TMP/rows.jsonl" 2>"$TMP/progress")
expect_contains "$out" "inserted 5000 rows into 't'" "file summary"
expect_eq "$(cat "$TMP/progress")" "" "no progress line when stderr is not a terminal"
expect_eq "$("$PXT" count t)" "5000" "all rows stored"
expect_eq "$("$PXT" rows t --where 'id = 4321' --columns shout --format jsonl)" '{"shout":"P4321"}' "computed values stored"
pass "insert --file"

printf '{"id": 6001, "prompt": "x"}\n\n{"id": 6002}\n' | "$PXT" --json insert t - >"$TMP/out"
expect_eq "$(cat "$TMP/out")" '{"num_rows":2}' "insert - (stdin) --json"
expect_eq "$("$PXT" count t)" "5002" "stdin rows stored"
pass "insert from stdin"

# A bad line anywhere fails the whole load and names the file and line.
for i in $(seq 7001 7020); do
  if [ "$i" = 7010 ]; then echo '{"id": 7010, "prompt": 5}'; else echo "{\"id\": $i, \"prompt\": \"ok\"}"; fi
done >"$TMP/bad.jsonl"
expect_status 1 "$PXT" insert t --file "$TMP/bad.jsonl"
expect_contains "$ERR" "bad.jsonl:10: column 'prompt' (String)" "type error with file:line"
printf '{"id": 8001}\n{"id": 8002, "nope": 1}\n' >"$TMP/unknown.jsonl"
expect_status 1 "$PXT" insert t --file "$TMP/unknown.jsonl"
expect_contains "$ERR" "unknown.jsonl:2: unknown column 'nope'" "unknown column with file:line"
printf '{"id": 8001}\n{"id": 8002\n' >"$TMP/broken.jsonl"
expect_status 1 "$PXT" insert t --file "$TMP/broken.jsonl"
expect_contains "$ERR" "broken.jsonl:2: invalid JSON" "malformed line with file:line"
printf '{"id": 8001}\n{"id": 1}\n' >"$TMP/dup.jsonl"
expect_status 1 "$PXT" insert t --file "$TMP/dup.jsonl"
expect_contains "$ERR" "dup.jsonl:2: " "a store error names the line"
printf '{"id": 8001}\n[1]\n' >"$TMP/array.jsonl"
expect_status 1 "$PXT" insert t - <"$TMP/array.jsonl"
expect_contains "$ERR" "<stdin>:2: expected a JSON object" "stdin errors name <stdin>"
expect_status 1 "$PXT" insert t --file "$TMP/missing.jsonl"
expect_contains "$ERR" "cannot open '$TMP/missing.jsonl'" "missing file"
expect_eq "$("$PXT" count t)" "5002" "failed loads stored nothing"
expect_eq "$("$PXT" count t --where 'id > 7000')" "0" "not even the good rows before the bad line"
pass "bad files change nothing"
