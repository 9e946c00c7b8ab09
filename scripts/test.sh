#!/usr/bin/env bash
# Set-up and build as scripts/setup.sh, then every test; with no arguments also bounded fuzzing of
# the file parsers (scripts/fuzz.sh) and the suite once under AddressSanitizer and UBSan
# (scripts/sanitize.sh, a second build: about 12 minutes on 2 cores), each counted as one more
# test. A test case that cannot run (a missing tool) is counted as skipped, not passed. The last
# line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests || { echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
# A hung test (a deadlock) ends the run with a message instead of holding CI to its limit.
timeout -k 30 1800 build/tests/flowaction_tests "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n 1)
passed=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$summary")
skipped=$(sed -nE 's/^\[flowaction\] skipped test cases: ([0-9]+)$/\1/p' "$log" | tail -n 1)
rm -f "$log"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then echo "the test suite did not finish in 30 minutes"; fi
if [ -z "$summary" ] || [ -z "$skipped" ]; then echo "0 passed, 1 failed"; exit 1; fi
passed=$((passed - skipped))
if [ $# -eq 0 ]; then
  if scripts/fuzz.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
  echo "sanitizers: building build-asan and running the suite under ASan + UBSan"
  if scripts/sanitize.sh >build-asan.log 2>&1; then
    passed=$((passed + 1))
    grep -E '^\[doctest\] test cases:' build-asan.log | sed 's/^/sanitizers: /'
  else
    failed=$((failed + 1)); status=1
    tail -n 40 build-asan.log
  fi
fi
echo "${skipped} skipped (a tool they need is missing; see SKIPPED above)"
echo "${passed} passed, ${failed} failed"
exit "$status"
