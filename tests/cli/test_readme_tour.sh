#!/usr/bin/env bash
# backends: sqlite
# (The README's tour is the embedded default: its reader sets no PXT_STORE, and each run needs a
# fresh home, which a shared PostgreSQL database is not.)
# The README's tour, run as written: every ```sh block of README.md in order, in one shell, in a
# fresh home, with the answers it shows checked (the rules: tests/cli/readme_tour.py's header,
# repeated in a comment at the top of README.md). Files the tour names live in demo/, copied to a
# scratch folder so the tour's own writes (resized.jpg, ...) never touch the repository.
source "$(dirname "$0")/lib.sh"

export TOUR_WORK=$TMP/work
mkdir -p "$TOUR_WORK"
cp -r "$PXT_SRC/demo" "$TOUR_WORK/demo"
for entry in "$PXT_SRC"/*; do
  name=$(basename "$entry")
  case $name in build* | demo | demo-home) continue ;; esac
  ln -s "$entry" "$TOUR_WORK/$name"
done
python3 "$PXT_SRC/tests/cli/readme_tour.py" "$PXT_SRC/README.md"

# The runner itself must fail on a wrong answer, a failing command and a 404, or the tour proves
# nothing: a small README with one mistake each.
mini() {  # README text -> runs it, leaves the status in $STATUS and stderr in $ERR
  printf '%s\n' "$1" >"$TMP/mini.md"
  rm -rf "$TMP/mini-home" "$TMP/mini-work" && mkdir -p "$TMP/mini-work"
  set +e
  ERR=$(PXT_HOME=$TMP/mini-home TOUR_WORK=$TMP/mini-work python3 "$PXT_SRC/tests/cli/readme_tour.py" "$TMP/mini.md" 2>&1 >/dev/null)
  STATUS=$?
  set -e
}
mini $'```sh\npxt create-dir d   # -> created dir \'d\'\n```'
expect_eq "$STATUS" 0 "a right answer passes: $ERR"
mini $'```sh\npxt create-dir d   # -> created dir \'e\'\n```'
expect_eq "$STATUS" 1 "a wrong answer fails"
expect_contains "$ERR" "mini.md:2: pxt create-dir d" "the failure names the README line"
mini $'```sh\npxt create-dir d\n# -> created dir \'e\'\n```'
expect_eq "$STATUS" 1 "a wrong answer on the next line fails"
mini $'```sh\npxt create-dir d\npxt create-dir d\n```'
expect_eq "$STATUS" 1 "a failing command fails"
mini $'```sh\npxt create-dir d\npxt ls\n```\n```output\nd/\ne/\n```'
expect_eq "$STATUS" 1 "a wrong output block fails"
mini $'```sh\npxt rows promts   # -> pxt: error: table \'promts\' does not exist\n```'
expect_eq "$STATUS" 0 "a shown error passes: $ERR"
mini $'```sh\npxt create-dir d\npxt create-table d.t --column id:Int\npxt serve insert --table d.t --path /a\ncurl -X POST localhost:8000/b -H \'Content-Type: application/json\' -d \'{"id": 1}\'\n```'
expect_eq "$STATUS" 1 "a curl answered 404 fails"
expect_contains "$ERR" "localhost:" "the failing curl is named"
pass "the runner fails on wrong answers, failing commands and HTTP errors"
