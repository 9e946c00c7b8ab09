#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for a bounded number of
# executions (FUZZ_RUNS, default 20000) from the seeds in tests/data/. Exit 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${FUZZ_RUNS:-20000}
build_log=$(mktemp)
# Build problems are shown (compilers write them to standard output), not swallowed.
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ meson setup build-fuzz -Dfuzz=true --buildtype=debugoptimized >"$build_log" 2>&1 ||
    { tail -n 30 "$build_log" >&2; echo "fuzz: meson setup of build-fuzz failed" >&2; exit 1; }
fi
ninja -C build-fuzz -j2 fuzz/fuzz_safetensors fuzz/fuzz_npz fuzz/fuzz_manifest fuzz/fuzz_action >"$build_log" 2>&1 ||
  { tail -n 30 "$build_log" >&2; echo "fuzz: building the fuzz targets failed" >&2; exit 1; }
rm -f "$build_log"
export LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A seeds=([safetensors]="tests/data/*.safetensors" [npz]="tests/data/*.npz tests/data/*.npy"
                  [manifest]="tests/data/*.flow.json examples/models/*.json"
                  [action]="examples/actions/*.json")
for t in safetensors npz manifest action; do
  mkdir -p "$work/$t"
  # shellcheck disable=SC2086
  cp ${seeds[$t]} "$work/$t/"
  if ! build-fuzz/fuzz/fuzz_$t -runs="$runs" -max_len=4096 -rss_limit_mb=1024 -artifact_prefix="$work/" \
       "$work/$t" >"$work/$t.log" 2>&1; then
    tail -n 30 "$work/$t.log" >&2
    echo "fuzz: fuzz_$t found a problem (input kept in build-fuzz/)" >&2
    cp "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-* build-fuzz/ 2>/dev/null || true
    exit 1
  fi
  echo "fuzz: fuzz_$t: $runs executions, no findings" >&2
done
