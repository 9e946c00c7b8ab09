#!/usr/bin/env bash
# Epoch time of `flowaction train` against the same model, data and optimiser in PyTorch (CPU,
# float64), for lattice phi^4 data of d = 8 ... 64 sites. Prints both times, the ratio, and the
# final NLLs of both trained models on one independent test set (paired difference ± its error).
# A benchmark, not a test: it prints figures.
#   usage: bench/train_vs_torch.sh [BUILD_DIR] (default build); env: EPOCHS, THREADS, SIZES
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
flowaction=$build/frontends/flowaction
py=/usr/bin/python3
[ -x "$flowaction" ] || { echo "build first: $flowaction not found"; exit 1; }
if ! $py -c 'import torch, numpy' 2>/dev/null; then
  echo "skipped: PyTorch is missing (apt-get install python3-torch python3-numpy)"
  exit 0
fi
epochs=${EPOCHS:-30}
threads=${THREADS:-1}
sizes=${SIZES:-"8 16 32 64"}
layers=2 batch=256 lr=1e-3 samples=20000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "phi4 ring, m2 = 0.5, lambda = 1, $samples samples; activation flow, $layers cubic layers; batch $batch, lr $lr, $epochs epochs, float64, $threads thread(s), $(nproc) cores"
printf '%4s %12s %12s %8s %14s %14s %20s\n' d "C++ s/epoch" "torch s/epoch" ratio "C++ test NLL" "torch test NLL" "C++ - torch (paired)"
for d in $sizes; do
  $flowaction sample phi4 --lattice "$d" --m2 0.5 --lambda 1 --samples $samples --seed 1 -o "$work/data$d.npy" >/dev/null 2>&1
  $flowaction sample phi4 --lattice "$d" --m2 0.5 --lambda 1 --samples 10000 --seed 2 -o "$work/test$d.npy" >/dev/null 2>&1
  cpp_out=$($flowaction train "$work/data$d.npy" --layers $layers --latent-couplings 0 --schedule constant \
            --epochs "$epochs" --batch $batch --lr $lr --seed 1 \
            --threads "$threads" -o "$work/model$d.flow.json" 2>/dev/null)
  cpp_epoch=$(sed -nE 's/.*, ([0-9.e+-]+) s\/epoch.*/\1/p' <<<"$cpp_out")
  json=$($py bench/train_torch.py "$work/data$d.npy" "$work/test$d.npy" "$work/model$d.flow.json" --layers $layers \
         --epochs "$epochs" --batch $batch --lr $lr --seed 1 --threads "$threads")
  $py - "$d" "$cpp_epoch" "$json" <<'PY'
import json, sys
d, cpp, j = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
t = j["epoch_seconds"]
print(f"{d:>4} {cpp:12.5f} {t:12.5f} {t / cpp:7.1f}x {j['test_nll_cpp']:14.5f} {j['test_nll_torch']:14.5f}"
      f" {j['test_nll_diff_cpp_minus_torch']:+10.5f} ± {j['test_nll_diff_stderr']:.5f}")
PY
done
