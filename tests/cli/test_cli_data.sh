#!/usr/bin/env bash
# Data commands end to end: insert (inline JSON), rows in every format, count, update, delete,
# their --json output and their errors; bad input never changes the table.
source "$(dirname "$0")/lib.sh"

"$PXT" create-dir demo >/dev/null
"$PXT" create-table demo.p --column id:Int! --column prompt:String --column score:Float \
  --column meta:Json --computed 'shout=upper(prompt)' --primary-key id >/dev/null

out=$("$PXT" insert demo.p '{"id": 1, "prompt": "hello", "score": 1.5, "meta": {"k": [1, 2]}}')
expect_eq "$out" $'id  prompt  score  meta         shout\n--  ------  -----  -----------  -----\n1   hello   1.5    {"k":[1,2]}  HELLO' \
  "insert prints the stored row with computed values"
out=$("$PXT" --json insert demo/p '[{"id": 2, "prompt": "a, \"quoted\" one"}, {"id": 3, "prompt": "zzz", "score": -2}]')
expect_eq "$out" '[{"id":2,"prompt":"a, \"quoted\" one","score":null,"meta":null,"shout":"A, \"QUOTED\" ONE"},
{"id":3,"prompt":"zzz","score":-2.0,"meta":null,"shout":"ZZZ"}]' "insert --json"
pass "insert inline"

expect_eq "$("$PXT" count demo.p)" "3" "count"
expect_eq "$("$PXT" count demo.p --where 'score > 0')" "1" "count --where"
expect_eq "$("$PXT" --json count demo.p)" '{"count":3}' "count --json"
pass "count"

expect_eq "$("$PXT" rows demo.p --columns id,shout --format csv)" $'id,shout\n1,HELLO\n2,"A, ""QUOTED"" ONE"\n3,ZZZ' "rows csv"
expect_eq "$("$PXT" rows demo.p --columns id --format jsonl --order-by 'id DESC' --limit 2)" $'{"id":3}\n{"id":2}' "rows jsonl order limit"
expect_eq "$("$PXT" rows demo.p --columns id --where "prompt LIKE 'h%'" --json)" '[{"id":1}]' "rows --json --where"
expect_eq "$("$PXT" rows demo.p --columns id,score --order-by score)" $'id  score\n--  -----\n2\n3   -2\n1   1.5' "rows table"
expect_eq "$("$PXT" rows demo.p --where 'id > 100' --format json)" "[]" "rows with no match"
pass "rows"

expect_status 1 "$PXT" rows demo.p --columns id,shot
expect_contains "$ERR" "unknown column 'shot'" "unknown --columns"
expect_contains "$ERR" "did you mean 'shout'?" "unknown --columns suggests"
expect_status 1 "$PXT" rows demo.p --order-by 'scor DESC'
expect_contains "$ERR" "did you mean 'score'?" "unknown --order-by column"
expect_status 1 "$PXT" rows demo.p --where 'nosuch = 1'
expect_contains "$ERR" "pxt: error: " "bad --where"
expect_status 1 "$PXT" rows demo.pp
expect_contains "$ERR" "did you mean 'demo.p'?" "unknown table"
pass "rows errors"

before=$("$PXT" rows demo.p --format jsonl)
expect_status 1 "$PXT" insert demo.p '{"id": "4", "prompt": "x"}'
expect_contains "$ERR" "column 'id' (Int)" "wrong type names the column and type"
expect_contains "$ERR" '"4"' "wrong type quotes the value"
expect_status 1 "$PXT" insert demo.p '{"id": 4, "promt": "x"}'
expect_contains "$ERR" "unknown column 'promt' in table 'demo.p', did you mean 'prompt'?" "unknown column"
expect_status 1 "$PXT" insert demo.p '{"id": 4, "shout": "x"}'
expect_contains "$ERR" "'shout' is a computed column and cannot be inserted" "computed column"
expect_status 1 "$PXT" insert demo.p '{"prompt": "no id"}'
expect_contains "$ERR" "column 'id' is required" "required column"
expect_status 1 "$PXT" insert demo.p '[{"id": 4, "prompt": "ok"}, {"id": 5, "score": "high"}]'
expect_contains "$ERR" "row 2: column 'score' (Float)" "bad row in an array"
expect_status 1 "$PXT" insert demo.p '{"id": 5,'
expect_contains "$ERR" "invalid JSON" "malformed JSON"
expect_status 1 "$PXT" insert demo.p '[{"id": 6, "prompt": "ok"}, {"id": 1, "prompt": "duplicate key"}]'
expect_contains "$ERR" "pxt: error: " "duplicate primary key"
expect_status 1 "$PXT" insert demo.nope '{"id": 1}'
expect_contains "$ERR" "demo.nope" "insert into an unknown table"
expect_eq "$("$PXT" rows demo.p --format jsonl)" "$before" "failed inserts changed nothing"
pass "insert errors change nothing"

out=$("$PXT" update demo.p --where 'id = 1' --set prompt=bye --set 'meta={"k": null}')
expect_contains "$out" "BYE" "update recomputes the computed column"
expect_contains "$out" "updated 1 row" "update summary"
expect_eq "$("$PXT" rows demo.p --columns prompt,meta,shout --where 'id = 1' --format jsonl)" \
  '{"prompt":"bye","meta":{"k":null},"shout":"BYE"}' "update stored"
json=$("$PXT" --json update demo.p --where 'id >= 2' --set score=7)
expect_eq "$(jq -c '[.num_rows, [.rows[].score]]' <<<"$json")" "[2,[7,7]]" "update --json"
expect_eq "$("$PXT" update demo.p --where 'id = 99' --set score=1)" "updated 0 rows" "update without a match"
pass "update"

before=$("$PXT" rows demo.p --format jsonl)
expect_status 1 "$PXT" update demo.p --where 'id = 1' --set score=abc
expect_contains "$ERR" "column 'score' (Float)" "update with a bad value"
expect_status 1 "$PXT" update demo.p --where 'id = 1' --set scor=1
expect_contains "$ERR" "did you mean 'score'?" "update of an unknown column"
expect_status 1 "$PXT" update demo.p --where 'id = 1' --set shout=X
expect_contains "$ERR" "computed column" "update of a computed column"
expect_status 2 "$PXT" update demo.p --where 'id = 1' --set score
expect_contains "$ERR" "invalid --set 'score': expected COLUMN=VALUE" "malformed --set"
expect_status 1 "$PXT" update demo.p --where 'id = 1' --set 'meta={bad'
expect_contains "$ERR" "column 'meta' (Json)" "update with bad JSON"
expect_eq "$("$PXT" rows demo.p --format jsonl)" "$before" "failed updates changed nothing"
pass "update errors change nothing"

expect_eq "$("$PXT" delete demo.p --where 'id = 3')" "deleted 1 row" "delete"
expect_eq "$("$PXT" --json delete demo.p --where 'id = 3')" '{"num_rows":0}' "delete --json without a match"
expect_status 1 "$PXT" delete demo.p --where 'nosuch = 1'
expect_eq "$("$PXT" count demo.p)" "2" "a failed delete changes nothing"
expect_eq "$("$PXT" delete demo.p --where true)" "deleted 2 rows" "delete all"
pass "delete"
