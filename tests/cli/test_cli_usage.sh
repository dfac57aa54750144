#!/usr/bin/env bash
# Help, version, and every usage error (exit 2) of the command line itself.
source "$(dirname "$0")/lib.sh"

out=$("$PXT" --help)
for cmd in ls describe columns count rows insert update delete create-dir create-table drop drop-dir mv schema serve version completion; do
  expect_contains "$out" "$cmd" "pxt --help lists $cmd"
done
expect_contains "$out" "--home" "pxt --help shows --home"
expect_contains "$out" "--json" "pxt --help shows --json"
pass "pxt --help"

for cmd in ls describe columns count rows insert update delete create-dir create-table drop drop-dir mv schema; do
  out=$("$PXT" "$cmd" --help) || fail "pxt $cmd --help exited $?"
  expect_contains "$out" "$cmd" "pxt $cmd --help"
done
expect_contains "$("$PXT" create-table --help)" "--computed" "create-table help"
expect_contains "$("$PXT" schema update --help)" "MODULE" "schema update help"
pass "pxt CMD --help"

version=$("$PXT" --version)
[[ $version =~ ^pxt\ 0\.1\.0\ \(commit\ ([0-9a-f]{12}(-dirty)?|unknown),\ [A-Za-z]+(\+asan\+ubsan)?\)$ ]] ||
  fail "--version: version, commit, build type: [$version]"
if git -C "$PXT_SRC" rev-parse HEAD >/dev/null 2>&1; then
  expect_contains "$version" "commit $(git -C "$PXT_SRC" rev-parse --short=12 HEAD)" "--version names the commit built"
fi
text=$("$PXT" version)
expect_eq "$(head -1 <<<"$text")" "$version" "pxt version starts with --version's line"
for lib in SQLite libvips poppler libturbojpeg libpq; do expect_contains "$text" "$lib" "pxt version lists $lib"; done
json=$("$PXT" --json version)
expect_eq "$(jq -r '[.version, .build_type != "", (.commit | length > 0)] | join(" ")' <<<"$json")" "0.1.0 true true" "version --json"
expect_eq "$(jq -r '[.libraries[].name] | join(",")' <<<"$json")" "SQLite,libvips,poppler,libturbojpeg,libpq" "libraries listed"
expect_eq "$(jq -r '.libraries[] | select(.name == "SQLite") | .version' <<<"$json")" "$(sqlite3 --version | cut -d' ' -f1)" "SQLite's version"
expect_eq "$(jq -r '.libraries[] | select(.name == "libvips") | .version' <<<"$json")" "$(pkg-config --modversion vips)" "libvips's version"
expect_eq "$(jq -r '.libraries[] | select(.name == "poppler") | .version' <<<"$json")" "$(pkg-config --modversion poppler-glib)" "poppler's version"
expect_eq "$(jq -r '.libraries[] | select(.name == "libpq") | .version' <<<"$json")" "$(pkg-config --modversion libpq)" "libpq's version"
expect_eq "$(jq -r '[.libraries[] | select(.loading == "dlopen") | .soname] | join(",")' <<<"$json")" \
  "libvips.so.42,libpoppler-glib.so.8,libturbojpeg.so.0,libpq.so.5" "the libraries loaded on first use"
expect_eq "$(jq -r '[.libraries[] | select(.loading == "dlopen") | (.file | startswith("/"))] | all' <<<"$json")" "true" "their files"
pass "--version and version"

# Bare `pxt` asks for help, as Pixeltable's CLI: usage on stdout, exit 0.
out=$("$PXT") || fail "bare pxt exited $?"
expect_contains "$out" "Usage" "bare pxt prints usage on stdout"
expect_contains "$out" "create-table" "with the commands"
# A route form with nothing else shows what a whole command looks like.
expect_status 2 "$PXT" serve insert
expect_contains "$ERR" "pxt: error: --table is required" "serve insert alone: what is missing"
expect_contains "$ERR" "Examples:" "serve insert alone: its examples"
expect_contains "$ERR" "pxt serve insert --table demo.prompts --path /generate --inputs id prompt --outputs id shout" "an example"
expect_contains "$ERR" "run 'pxt serve insert --help' for usage" "and where the help is"
expect_status 2 "$PXT" insert
expect_contains "$ERR" "Example: pxt insert demo.prompts" "insert alone: its example"
pass "bare pxt, commands without arguments"

expect_status 2 "$PXT" lss
expect_eq "$(head -1 <<<"$ERR")" "pxt: error: unknown command 'lss', did you mean 'ls'?" "unknown command"
expect_status 2 "$PXT" --json frobnicate
expect_eq "$(head -1 <<<"$ERR")" "pxt: error: unknown command 'frobnicate'" "unknown command without a suggestion"
expect_status 2 "$PXT" schema updat x.toml
expect_eq "$(head -1 <<<"$ERR")" "pxt: error: unknown command 'schema updat', did you mean 'update'?" "unknown subcommand"
pass "unknown commands"

expect_status 2 "$PXT" rows t --limt 3
expect_eq "$(head -1 <<<"$ERR")" "pxt: error: unknown option '--limt', did you mean '--limit'?" "unknown option"
expect_contains "$ERR" "run 'pxt rows --help' for usage" "usage hint"
expect_status 2 "$PXT" ls -x
expect_eq "$(head -1 <<<"$ERR")" "pxt: error: unknown option '-x'" "unknown short option"
expect_status 2 "$PXT" schema
expect_eq "$(head -1 <<<"$ERR")" "pxt: error: 'pxt schema' needs a command: update, diff" "schema without a command"
expect_status 2 "$PXT" rows
expect_contains "$ERR" "PATH is required" "missing positional"
expect_status 2 "$PXT" rows t --limit many
expect_contains "$ERR" "pxt: error: " "bad number"
expect_status 2 "$PXT" rows t --format yaml
expect_contains "$ERR" "unknown format 'yaml'" "bad format"
expect_status 2 "$PXT" create-table t --column id
expect_contains "$ERR" "invalid --column 'id': expected NAME:TYPE" "bad --column"
expect_status 2 "$PXT" create-table t --computed shout
expect_contains "$ERR" "invalid --computed 'shout'" "bad --computed"
expect_status 2 "$PXT" create-table t --column id:Int --if-exists sometimes
expect_contains "$ERR" "invalid --if-exists 'sometimes'" "bad --if-exists"
expect_status 2 "$PXT" insert t
expect_contains "$ERR" "give the rows as a JSON argument, --file FILE.jsonl or - (stdin)" "insert without rows"
expect_status 2 "$PXT" insert t '{}' --file x.jsonl
expect_contains "$ERR" "give the rows one way only" "insert with two sources"
expect_status 2 "$PXT" update t --set a=1
expect_contains "$ERR" "--where is required" "update without --where"
expect_status 2 "$PXT" delete t
expect_contains "$ERR" "--where is required" "delete without --where"
pass "usage errors exit 2"

# None of the above created a home: usage errors are found before the store is opened.
[ ! -e "$PXT_HOME" ] || fail "a usage error created the home"
pass "usage errors touch nothing"
