#!/usr/bin/env bash
# The messages a newcomer meets in the first hour (issue 16, point 8), each checked word for word:
# a computed column's declared type against the one its expression gives, a mistyped schema file,
# a TOML syntax error shown with its line and a caret, a mistyped table path, `ls -l` without
# empty columns, `describe` saying more than `columns`.
source "$(dirname "$0")/lib.sh"
cd "$TMP"

# ---- a declared type the expression cannot give: refused at create-table, naming both ----
"$PXT" create-dir t >/dev/null
expect_status 1 "$PXT" create-table t.u --column s:String --computed 'u:Int=upper(s)'
expect_eq "$ERR" "pxt: error: computed column 'u' is declared Int, but its expression 'upper(s)' gives a String: declare it as String, or leave the type out to have it inferred" "declared Int, got String"
expect_status 1 "$PXT" create-table t.u --column n:Int --computed 'd:Date=n + 0' --computed 'f:Float=upper(d)'
expect_contains "$ERR" "computed column 'f' is declared Float, but its expression 'upper(d)' gives a String" "Float from String"
[ -z "$("$PXT" ls t)" ] || fail "a refused table was created"
# Sound declarations stay accepted: a number in a Float, a comparison in an Int or Bool, text.
"$PXT" create-table t.ok --column s:String --computed 'n:Float=length(s)' --computed "b:Int=s > 'a'" \
  --computed 'c:Bool=s IS NULL' --computed 'txt:String=length(s)' --computed 'v:Int=length(s) * 2' >/dev/null ||
  fail "sound declared types refused"
"$PXT" insert t.ok '{"s": "abc"}' >/dev/null || fail "insert into the accepted table"
# The same check for a schema module, with its file:line.
cat >typed.toml <<'TOML'
dirs = ["m"]

[[tables]]
path = "m.t"
columns = [
  { name = "s", type = "String" },
  { name = "u", type = "Int", computed = "upper(s)" },
]
TOML
expect_status 1 "$PXT" schema update typed.toml
expect_contains "$ERR" "computed column 'u' is declared Int, but its expression 'upper(s)' gives a String" "schema module: the same check"
pass "declared computed types are checked at create-table"

# ---- schema update of a mistyped file: no such file, with the near one ----
mkdir -p demo && cp "$PXT_SRC/demo/schema.toml" "$PXT_SRC/demo/service.toml" demo/
expect_status 1 "$PXT" schema update demo/schema.tml
expect_eq "$ERR" "pxt: error: no such file 'demo/schema.tml', did you mean 'demo/schema.toml'?" "a mistyped file"
expect_status 1 "$PXT" schema diff schema.tml
expect_eq "$ERR" "pxt: error: module 'schema.tml' not found: looked for schema/tml.toml in ." "a module name, no near file: the module search"
expect_status 1 "$PXT" schema update nowhere/schema.toml
expect_eq "$ERR" "pxt: error: no such file 'nowhere/schema.toml'" "no such file, nothing near"
pass "schema update: no such file, did you mean"

# ---- TOML syntax errors: file:line, the line and a caret ----
printf 'dirs = ["d"]\n\n[[tables]]\npath = "d.t\ncolumns = []\n' >broken.toml
expect_status 1 "$PXT" schema update broken.toml
expect_contains "$(sed -n 1p <<<"$ERR")" "pxt: error: broken.toml:4: TOML syntax error: " "file:line first"
expect_eq "$(sed -n 2p <<<"$ERR")" '  4 | path = "d.t' "then the line"
caret=$(sed -n 3p <<<"$ERR")
[[ $caret =~ ^\ \ \ \ \|\ \ *\^ ]] || fail "then a caret under it: [$caret]"
printf '[[service]]\nname = "s"\nport = \n' >svc.toml
expect_status 1 "$PXT" serve --config svc.toml --dry-run
expect_contains "$(sed -n 1p <<<"$ERR")" "pxt: error: svc.toml:3: TOML syntax error: " "service file: file:line"
expect_eq "$(sed -n 2p <<<"$ERR")" '  3 | port = ' "service file: the line"
expect_eq "$(sed -n 3p <<<"$ERR" | sed 's/\^.*/^/')" '    |        ^' "service file: the caret under the missing value"
pass "TOML syntax errors show the line and a caret"

# ---- a mistyped table path ----
"$PXT" schema update demo/schema.toml >/dev/null
expect_status 1 "$PXT" rows promts
expect_eq "$ERR" "pxt: error: table 'promts' does not exist, did you mean 'demo.prompts'?" "the directory left out"
expect_status 1 "$PXT" count demo.promts
expect_eq "$ERR" "pxt: error: table 'demo.promts' does not exist, did you mean 'demo.prompts'?" "a typo in the name"
pass "did you mean for table paths"

# ---- ls -l: no column empty for every entry ----
fresh_store
"$PXT" create-dir demo >/dev/null
"$PXT" create-dir demo.sub >/dev/null
out=$("$PXT" ls -l)
expect_eq "$(head -1 <<<"$out" | tr -s ' ')" "kind path entries" "only directories: no columns or rows column"
expect_eq "$(sed -n 3p <<<"$out" | tr -s ' ')" "dir demo 1" "a directory's entry count"
"$PXT" create-table demo.t --column id:Int >/dev/null
out=$("$PXT" ls -l demo)
expect_eq "$(head -1 <<<"$out" | tr -s ' ')" "kind path entries columns rows" "directories and tables"
expect_eq "$(sed -n 4p <<<"$out" | tr -s ' ')" "table demo.t 1 0" "a table's counts"
expect_eq "$("$PXT" --json ls -l)" '[{"kind":"dir","path":"demo","entries":2}]' "ls -l --json"
pass "ls -l has no empty columns"

# ---- describe says more than columns ----
fresh_store
"$PXT" schema update demo/schema.toml >/dev/null
"$PXT" insert demo.prompts '{"id": 1, "prompt": "a sunset"}' >/dev/null
cols=$("$PXT" columns demo.prompts)
desc=$("$PXT" describe demo.prompts --config demo/service.toml)
expect_contains "$desc" "$cols" "describe includes the column table"
[ "$desc" != "$cols" ] || fail "describe prints the same as columns"
expect_contains "$desc" "rows: 1" "the row count"
expect_contains "$desc" "primary key: id" "the primary key"
expect_contains "$desc" "indexes: primary key (id)" "the indexes"
expect_contains "$desc" "  shout = upper(prompt)  (String; reads prompt)" "computed columns with type and inputs"
expect_contains "$desc" "routes in demo/service.toml:" "the routes' file"
grep -qE '^  POST +/prompts/update +update +demo$' <<<"$desc" || fail "the routes: $desc"
grep -qE '^  POST +/prompts +insert +demo$' <<<"$desc" || fail "the insert route: $desc"
expect_not_contains "$desc" "/resize" "only routes of this table"
expect_contains "$("$PXT" describe demo.prompts)" "routes: no service file found" "without a service file"
json=$("$PXT" --json describe demo.prompts --config demo/service.toml)
expect_eq "$(jq -c '[.rows, .indexes, .computed_order, [.routes[].path]]' <<<"$json")" \
  '[1,[{"kind":"primary key","columns":["id"]}],["shout","words"],["/prompts","/prompts/update","/prompts/delete"]]' "describe --json"
pass "describe: rows, key, indexes, computed columns, routes"
