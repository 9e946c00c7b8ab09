#!/usr/bin/env bash
# Whole-process `flowaction extract` (float field, order 4, JSON and npz output) against functorch
# (jacfwd nested over jacrev, float64) for Gamma^(4) of the same alternating affine/activation
# flow, L = 4, at d = 16 and 32 (and 64 with --full: functorch takes minutes there). Prints times,
# ratios (and the ceiling no whole process can pass: functorch over flowaction's bare start-up),
# and the largest difference between the two Gamma^(4). Then the exact field on a
# PyTorch-trained float32 flow (d = 4, order 6, at a nonzero point) against brute-force GiNaC
# series() (bench_extract --series), every component compared. A benchmark, not a test.
#   usage: bench/extract_vs_functorch.sh [--full] [BUILD_DIR] (default build); env: THREADS,
#   REPEAT (flowaction runs per figure, median reported; default 7; functorch runs once, cold)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="16 32"
if [ "${1:-}" = --full ]; then sizes="16 32 64"; shift; fi
build=${1:-build}
flowaction=$build/frontends/flowaction
models=$build/bench/bench_output
py=/usr/bin/python3
threads=${THREADS:-1}
[ -x "$flowaction" ] || { echo "build first: $flowaction not found"; exit 1; }
if ! $py -c 'import torch, functorch, numpy' 2>/dev/null; then
  echo "skipped: PyTorch with functorch is missing (apt-get install python3-torch python3-numpy)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
# flowaction's figures are medians of REPEAT runs, timed from Python with no shell in between.
repeat=${REPEAT:-7}
median() {  # OUT CMD...: median wall seconds of CMD over $repeat runs, each writing OUT anew
  $py - "$repeat" "$@" <<'PY'
import os, statistics, subprocess, sys, time
n, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
ts = []
for _ in range(n):
    if out != "-" and os.path.exists(out):
        os.remove(out)  # a new file each time (replacing one adds an fsync)
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append(time.perf_counter() - t)
print(statistics.median(ts))
PY
}
# The process's own start-up (loading, static initialisers; no work): no whole-process
# ratio can exceed functorch's time over this.
startup=$(repeat=21 median - $flowaction --help)
echo "Gamma^(4) at x0 = 0, float64, alternating affine/activation flow, L = 4; $threads thread(s), $(nproc) cores"
echo "flowaction start-up alone (--help): $($py -c "print(f'{1000 * $startup:.1f}')") ms"
printf '%4s %12s %12s %14s %14s %10s %10s %10s %12s\n' d "extract json" "extract npz" "functorch" "python total" ratio ratio/npz ceiling "max |diff|"
for d in $sizes; do
  $models --manifest "$d" 4 "$work/m$d.json"
  cj=$(median "$work/a$d.json" $flowaction extract "$work/m$d.json" --order 4 --field float --threads "$threads" -o "$work/a$d.json")
  cn=$(median "$work/a$d.npz" $flowaction extract "$work/m$d.json" --order 4 --threads "$threads" -o "$work/a$d.npz")
  $flowaction extract "$work/m$d.json" --order 4 --threads "$threads" --dense -o "$work/d$d.npz"
  t3=$(now); json=$($py bench/functorch_action.py "$work/m$d.json" "$work/d$d.npz" --threads "$threads"); t4=$(now)
  $py - "$d" "$cj" "$cn" "$t3" "$t4" "$json" "$startup" <<'PY'
import json, sys
d = sys.argv[1]
cj, cn, t3, t4 = map(float, sys.argv[2:6])
j = json.loads(sys.argv[6])
startup = float(sys.argv[7])
f = j["seconds"]
print(f"{d:>4} {cj:11.3f}s {cn:11.3f}s {f:13.3f}s {t4 - t3:13.3f}s {f / cj:9.0f}x {f / cn:9.0f}x"
      f" {f / startup:9.0f}x {j['max_abs_diff']:12.3g} (of {j['max_abs']:.3g})")
PY
done

echo
echo "Exact field on a PyTorch-trained float32 flow (d = 4, order 6) against brute-force GiNaC series():"
$py bench/torch_float32_flow.py "$work/torch4.flow.json"
$build/bench/bench_extract --series "$work/torch4.flow.json" 6 0.1,-0.2,0,0.3
