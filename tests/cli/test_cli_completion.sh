#!/usr/bin/env bash
# `pxt completion bash|zsh|fish`: generated from the command tree; the bash script, sourced in
# bash and driven through COMP_WORDS as bash's completion does, completes commands, subcommands,
# options, option choices and table paths from the home (never creating one).
source "$(dirname "$0")/lib.sh"
cd "$TMP"

"$PXT" completion bash >pxt.bash
bash -n pxt.bash || fail "the bash script does not parse"
# complete WORDS...: the completions bash would offer for the last word.
complete_words() {
  PATH="$(dirname "$PXT"):$PATH" bash -c 'source ./pxt.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _pxt; ((${#COMPREPLY[@]})) && printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$@"
}
expect_eq "$(complete_words pxt des)" "describe " "a command"
all=$(complete_words pxt "")
for cmd in ls describe columns count rows insert update delete create-dir create-table drop drop-dir mv schema serve version completion; do
  expect_contains "$all" "$cmd " "every command is offered: $cmd"
done
expect_eq "$(complete_words pxt serve ins)" "insert " "a subcommand"
expect_eq "$(complete_words pxt schema "")" "diff update " "schema's subcommands"
expect_eq "$(complete_words pxt rows t --li)" "--limit " "an option"
expect_contains "$(complete_words pxt serve insert --)" "--uploadfile-inputs " "a subcommand's option"
expect_contains "$(complete_words pxt serve insert --)" "--port " "service options on the route form"
expect_eq "$(complete_words pxt rows t --format j)" "json jsonl " "an option's choices"
expect_eq "$(complete_words pxt serve --log-format "")" "json text " "choices from a CLI11 check"
expect_eq "$(complete_words pxt completion "")" "bash fish zsh " "the completion command's shells"
pass "commands, subcommands, options, choices"

# Table paths: none (and no home created) while the home does not exist, then the catalog's.
expect_eq "$(complete_words pxt rows "")" "" "no paths without a home"
[ ! -e "$PXT_HOME" ] || fail "completing created the home"
"$PXT" create-dir demo >/dev/null
"$PXT" create-table demo.prompts --column id:Int >/dev/null
"$PXT" create-table demo.people --column id:Int >/dev/null
expect_eq "$(complete_words pxt rows demo.pr)" "demo.prompts " "a table path"
expect_eq "$(complete_words pxt describe demo.p)" "demo.people demo.prompts " "table paths"
expect_eq "$(complete_words pxt serve insert --table demo.pe)" "demo.people " "--table takes a path"
expect_eq "$(complete_words pxt --json count demo.pe)" "demo.people " "after a global flag"
other=$TMP/other
"$PXT" --home "$other" create-dir elsewhere >/dev/null
expect_eq "$(complete_words pxt --home "$other" ls el)" "elsewhere " "--home on the line is followed"
echo "x" >module.toml
expect_eq "$(complete_words pxt schema diff modu)" "module.toml " "files for a module"
pass "table paths from the home, files"

"$PXT" completion zsh >_pxt
expect_contains "$(head -1 _pxt)" "#compdef pxt" "zsh script header"
zsh -n _pxt || fail "the zsh script does not parse"
"$PXT" completion fish >pxt.fish
expect_contains "$(cat pxt.fish)" "complete -c pxt -n '__pxt_is \\'\\'' -a 'describe'" "fish: commands"
expect_contains "$(cat pxt.fish)" "-l uploadfile-inputs" "fish: options"
fish --no-execute pxt.fish || fail "the fish script does not parse"
# fish's own completion engine, driven as at a prompt (complete -C).
fish_complete() { PATH="$(dirname "$PXT"):$PATH" fish -c 'source pxt.fish; complete -C $argv[1]' "$1" | cut -f1 | sort | tr '\n' ' '; }
expect_eq "$(fish_complete "pxt des")" "describe " "fish: a command"
expect_eq "$(fish_complete "pxt serve ins")" "insert " "fish: a subcommand"
expect_eq "$(fish_complete "pxt rows t --format j")" "json jsonl " "fish: choices"
expect_eq "$(fish_complete "pxt rows demo.pe")" "demo.people " "fish: table paths"
expect_status 2 "$PXT" completion tcsh
expect_contains "$ERR" "tcsh" "an unknown shell is refused"
pass "zsh and fish scripts"
