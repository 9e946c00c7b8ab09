#!/usr/bin/env bash
# The whole test suite once under AddressSanitizer and UndefinedBehaviorSanitizer (gcc), built in
# build-asan/. A second full build of the GiNaC-heavy code: long on 2 cores, so not part of test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-asan -j2 tests/flowaction_tests >/dev/null
export LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# A hung test ends the run (status 124) instead of holding CI to its limit.
timeout -k 30 2700 build-asan/tests/flowaction_tests "$@"
