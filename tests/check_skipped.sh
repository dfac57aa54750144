#!/usr/bin/env bash
# CTest's `required-tests-ran`, run after every end-to-end test: lists the tests that skipped
# themselves (tests/cli/lib.sh's skip, exit 77) with their reasons. Under CI=true every test is
# required, so a skipped one fails the suite: a guard that cannot run must not pass unnoticed.
set -euo pipefail
dir=$1
shopt -s nullglob
reasons=("$dir"/*)
if [ ${#reasons[@]} -eq 0 ]; then
  echo "every end-to-end test ran"
  exit 0
fi
echo "${#reasons[@]} test(s) skipped:"
for f in "${reasons[@]}"; do echo "  $(cat "$f")"; done
if [ "${CI:-}" = "true" ]; then
  echo "CI=true: every test is required; make the machine able to run them (see each reason)"
  exit 1
fi
