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

# No rendered page repeats a paragraph (pxt-serve(1) once printed a stale copy of one, starting
# mid-sentence). The checker itself must catch such a copy.
for page in "$PXT_SRC"/man/*.1; do
  out=$(python3 "$PXT_SRC/scripts/check-man-repeats" "$page") || fail "repeated paragraph: $out"
done
text="Every route answers 200 with JSON. Validation errors are 422 in FastAPI's shape, listing every bad
field. Other errors are plain: 404 unknown path or row, 405 wrong method, 409 one_row with many rows or a
table changed since the service started, 413 body too large, 500 internal error."
printf '.TH T 1\n.SH A\n%s\n.PP\nA different paragraph about signals: SIGINT and SIGTERM stop accepting connections and finish in-flight requests, then exit.\n' "$text" >"$TMP/ok.1"
python3 "$PXT_SRC/scripts/check-man-repeats" "$TMP/ok.1" >/dev/null || fail "distinct paragraphs flagged"
printf '.TH T 1\n.SH A\n%s\n.PP\ntable changed since the service started, 413 body too large, 500 internal error (details only in\nthe log), 503 store busy. Other errors are plain: 404 unknown path or row, 405 wrong method.\n' "$text" >"$TMP/dup.1"
python3 "$PXT_SRC/scripts/check-man-repeats" "$TMP/dup.1" >/dev/null && fail "a paragraph copied from mid-sentence not flagged"
pass "no repeated paragraphs"
