#!/usr/bin/env bash
# Catalog commands end to end: create-dir, create-table, ls, describe, columns, mv, drop, drop-dir.
source "$(dirname "$0")/lib.sh"

expect_eq "$("$PXT" create-dir demo)" "created dir 'demo'" "create-dir"
expect_eq "$("$PXT" --json create-dir demo/sub)" '{"created":"dir","path":"demo.sub"}' "create-dir --json"
expect_status 1 "$PXT" create-dir demo
expect_contains "$ERR" "pxt: error: " "create-dir twice"
"$PXT" create-dir demo --if-not-exists >/dev/null || fail "create-dir --if-not-exists"
pass "create-dir"

out=$("$PXT" create-table demo.prompts --column id:Int! --column prompt:String \
      --computed 'shout=upper(prompt)' --computed 'n:Float=length(prompt)' --primary-key id)
expect_contains "$out" "created table 'demo.prompts'" "create-table"
expect_contains "$out" "shout   String" "inferred type shown"
json=$("$PXT" --json create-table demo/sub/t2 --column a:Int --column b:String --primary-key a,b)
expect_eq "$(jq -c '[.created, .path, [.columns[].name], [.columns[].primary_key]]' <<<"$json")" \
  '["table","demo.sub.t2",["a","b"],[true,true]]' "create-table --json"
pass "create-table"

expect_status 1 "$PXT" create-table demo.prompts --column id:Int
expect_contains "$ERR" "demo.prompts" "duplicate table named"
expect_status 2 "$PXT" create-table demo.bad --column id:Imt
expect_contains "$ERR" "did you mean 'Int'?" "unknown type"
expect_status 1 "$PXT" create-table demo.bad --column name:String --computed 's=upper(nme)'
expect_contains "$ERR" "did you mean 'name'?" "computed over an unknown column"
expect_status 1 "$PXT" create-table demo.bad --column id:Int --primary-key idd
expect_contains "$ERR" "idd" "unknown primary key column"
expect_status 1 "$PXT" create-table nodir.t --column id:Int
expect_contains "$ERR" "nodir" "missing directory"
expect_status 2 "$PXT" create-table 'demo.bad name' --column id:Int
expect_contains "$ERR" "bad name" "invalid path"
expect_eq "$("$PXT" ls demo)" $'prompts\nsub/' "errors created nothing"
pass "create-table errors"

expect_eq "$("$PXT" ls)" "demo/" "ls root"
expect_eq "$("$PXT" ls -r)" $'demo/\ndemo.prompts\ndemo.sub/\ndemo.sub.t2' "ls -r"
expect_eq "$("$PXT" --json ls demo)" '[{"kind":"table","path":"demo.prompts"},{"kind":"dir","path":"demo.sub"}]' "ls --json"
"$PXT" insert demo.prompts '[{"id": 1, "prompt": "a"}, {"id": 2, "prompt": "b"}]' >/dev/null
long=$("$PXT" ls demo -l)
expect_contains "$long" "kind" "ls -l header"
expect_contains "$(grep demo.prompts <<<"$long")" "4        2" "ls -l columns and rows"
expect_eq "$("$PXT" ls demo -l --json | jq -c '.[0] | [.columns, .rows]')" "[4,2]" "ls -l --json"
expect_status 1 "$PXT" ls nodir
expect_contains "$ERR" "nodir" "ls of a missing dir"
pass "ls"

desc=$("$PXT" describe demo/prompts)
expect_contains "$desc" "table 'demo.prompts'" "describe names the table"
expect_contains "$desc" "primary key: id" "describe shows the primary key"
expect_contains "$desc" "rows: 2" "describe shows the row count"
expect_contains "$desc" "upper(prompt)" "describe shows computed expressions"
expect_eq "$("$PXT" --json describe demo.prompts | jq -c '[.path, .primary_key, .rows, [.columns[] | .type], .columns[2].computed]')" \
  '["demo.prompts",["id"],2,["Int","String","String","Float"],"upper(prompt)"]' "describe --json"
expect_eq "$("$PXT" columns demo.prompts | awk 'NR>2 {print $1}' | paste -sd,)" "id,prompt,shout,n" "columns"
expect_eq "$("$PXT" columns demo.prompts --json | jq -c '[.[] | .required]')" "[true,false,false,false]" "columns --json"
expect_status 1 "$PXT" describe demo.prompt
expect_contains "$ERR" "did you mean 'demo.prompts'?" "unknown table suggests"
expect_status 1 "$PXT" columns demo.nothing
pass "describe, columns"

expect_eq "$("$PXT" mv demo.prompts demo.sub.renamed)" "moved 'demo.prompts' to 'demo.sub.renamed'" "mv"
expect_eq "$("$PXT" count demo.sub.renamed)" "2" "mv keeps the rows"
expect_eq "$("$PXT" --json mv demo.sub.renamed demo.prompts)" '{"moved":"demo.sub.renamed","to":"demo.prompts"}' "mv --json"
expect_status 1 "$PXT" mv demo.nothing demo.x
expect_status 1 "$PXT" mv demo.prompts demo.sub.t2
expect_eq "$("$PXT" count demo.prompts)" "2" "a failed mv changes nothing"
pass "mv"

expect_status 1 "$PXT" drop-dir demo
expect_contains "$ERR" "demo" "drop-dir of a non-empty dir"
expect_eq "$("$PXT" ls -r | wc -l)" "4" "a refused drop-dir changes nothing"
expect_eq "$("$PXT" drop demo.sub.t2)" "dropped table 'demo.sub.t2'" "drop"
expect_status 1 "$PXT" drop demo.sub.t2
expect_eq "$("$PXT" --json drop-dir demo.sub)" '{"dropped":"dir","path":"demo.sub"}' "drop-dir of an empty dir"
expect_eq "$("$PXT" drop-dir demo --force)" "dropped dir 'demo'" "drop-dir --force"
expect_eq "$("$PXT" ls)" "" "all gone"
pass "drop, drop-dir"

# --home and PXT_HOME choose the store (the home's own SQLite store: no PXT_STORE).
other=$TMP/other
env -u PXT_STORE "$PXT" --home "$other" create-dir elsewhere >/dev/null
expect_eq "$(env -u PXT_STORE "$PXT" --home "$other" ls)" "elsewhere/" "--home"
expect_eq "$(env -u PXT_STORE PXT_HOME="$other" "$PXT" ls)" "elsewhere/" "PXT_HOME"
expect_eq "$("$PXT" ls)" "" "the default home is untouched"
pass "--home"
