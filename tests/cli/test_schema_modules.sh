#!/usr/bin/env bash
# `pxt schema diff|update`: the demo module, idempotence, a differing table, replace, errors.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

expect_eq "$("$PXT" schema diff "$PXT_SRC/demo/schema.toml")" $'+ dir demo\n+ table demo.prompts (5 columns)\n+ table demo.images (5 columns)' "diff of a new module"
expect_eq "$("$PXT" ls)" "" "diff changes nothing"
expect_eq "$("$PXT" schema update "$PXT_SRC/demo/schema.toml")" $'created dir demo\ncreated table demo.prompts (5 columns)\ncreated table demo.images (5 columns)' "update"
expect_eq "$("$PXT" --json describe demo.prompts | jq -c '[.columns[] | .type]')" '["Int","String","String","String","Int"]' "inferred types"
"$PXT" insert demo.prompts '{"id": 1, "prompt": "a sunset over the ocean"}' >/dev/null
expect_eq "$("$PXT" rows demo.prompts --columns shout,words --format jsonl)" '{"shout":"A SUNSET OVER THE OCEAN","words":5}' "computed columns work"
expect_eq "$("$PXT" schema update "$PXT_SRC/demo/schema.toml")" "nothing to do: the catalog matches" "update again"
expect_eq "$("$PXT" schema diff "$PXT_SRC/demo/schema.toml")" "no changes" "diff again"
expect_eq "$("$PXT" --json schema diff "$PXT_SRC/demo/schema.toml")" '{"changes":[]}' "diff --json"
pass "demo module"

# Resolved by module name: ./schema.toml, then $PXT_PATH.
mkdir -p mods/app
cat >mods/app/schema.toml <<'TOML'
dirs = ["app"]

[[tables]]
path = "app.t"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "v", type = "String" },
]
TOML
expect_status 1 "$PXT" schema update app.schema
expect_contains "$ERR" "module 'app.schema' not found: looked for app/schema.toml in ." "unknown module"
expect_eq "$(PXT_PATH=$TMP/mods "$PXT" --json schema update app.schema)" '{"changes":["created dir app","created table app.t (2 columns)"]}' "module via PXT_PATH"
"$PXT" insert app.t '{"id": 1, "v": "keep me"}' >/dev/null
pass "module names"

sed -i 's/name = "v", type = "String"/name = "v", type = "Int"/' mods/app/schema.toml
expect_eq "$("$PXT" schema diff mods/app/schema.toml)" "~ table app.t: column 'v' type String -> Int" "diff of a changed column"
expect_status 1 "$PXT" schema update mods/app/schema.toml
expect_contains "$ERR" "pxt: error: mods/app/schema.toml:3: table 'app.t' differs from its declaration" "refused with file:line"
expect_contains "$ERR" "  ~ table app.t: column 'v' type String -> Int" "refusal shows the diff"
expect_eq "$("$PXT" rows app.t --format jsonl)" '{"id":1,"v":"keep me"}' "refused update changes nothing"
sed -i 's/^path = "app.t"$/path = "app.t"\nif_exists = "replace"/' mods/app/schema.toml
expect_contains "$("$PXT" schema diff mods/app/schema.toml)" "re-created" "diff says replace"
expect_eq "$("$PXT" schema update mods/app/schema.toml)" "replaced table app.t (2 columns)" "replace"
expect_eq "$("$PXT" count app.t)" "0" "replace drops the rows"
pass "differing tables"

cat >bad.toml <<'TOML'
dirs = ["x"]
[[tables]]
path = "x.t"
colums = []
columns = [ { name = "id", type = "Imt" } ]
[[queries]]
name = "q"
sql = "SELECT :nope"
TOML
expect_status 1 "$PXT" schema update bad.toml
expect_eq "$ERR" "pxt: error: bad.toml:4: unknown key 'colums' in [[tables]], did you mean 'columns'?
bad.toml:5: table 'x.t': column 'id': unknown column type 'Imt', did you mean 'Int'? (types: String, Int, Float, Bool, Timestamp, Date, Json, Array, Image, Video, Audio, Document, Vector)
bad.toml:8: query 'q': ':nope' is not a declared parameter" "all errors at once, with file:line"
printf 'dirs = ["x"]\n[[tables]\n' >syntax.toml
expect_status 1 "$PXT" schema diff syntax.toml
expect_contains "$ERR" "pxt: error: syntax.toml:2: " "TOML syntax errors carry file:line"
expect_status 1 "$PXT" schema update missing.toml
expect_eq "$ERR" "pxt: error: no such file 'missing.toml'" "missing file"
printf '[[queries]]\nname = "q"\nsql = %s\n' "'SELECT * FROM \"nowhere.t\"'" >q.toml
expect_status 1 "$PXT" schema update q.toml
expect_contains "$ERR" "q.toml:1: query 'q': " "query errors carry file:line"
expect_not_contains "$("$PXT" ls)" "x/" "bad modules created nothing"
pass "module errors"
