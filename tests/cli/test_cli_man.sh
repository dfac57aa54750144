#!/usr/bin/env bash
# The man pages are generated from man/pxt.md and must be current; pxt(1) documents every command.
source "$(dirname "$0")/lib.sh"

python3 "$PXT_SRC/scripts/gen-man" --check || fail "man pages out of date: run scripts/gen-man"
groff -man -Tutf8 -ww "$PXT_SRC/man/pxt.1" >/dev/null 2>"$TMP/groff.err" || true
[ ! -s "$TMP/groff.err" ] || fail "groff warnings in pxt.1: $(cat "$TMP/groff.err")"
commands=$("$PXT" --help | sed -n '/^Subcommands:/,$p' | awk 'NR>1 && NF {print $1}')
[ -n "$commands" ] || fail "no subcommands found in pxt --help"
for cmd in $commands; do
  grep -qF "fB${cmd//-/\\-}" "$PXT_SRC/man/pxt.1" || fail "man/pxt.1 does not document '$cmd'"
done
for flag in --table --path --inputs --outputs --match-columns --query --one-row --method --dry-run; do
  grep -q -- "${flag//-/\\\\-}" "$PXT_SRC/man/pxt-serve.1" || fail "man/pxt-serve.1 does not document $flag"
done
pass "man pages current and complete"
