#!/usr/bin/env bash
# The whole loop on a known theory: phi^4 samples -> trained flow -> extracted action, next to
# the true vertices. Run from the repository root after building (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
fa=build/frontends/flowaction
out=${1:-examples/out}
mkdir -p "$out"
# A ring of 4 sites at m2 = 0, lambda = 24: strongly non-Gaussian, Z2 symmetric.
$fa sample phi4 --lattice 4 --m2 0 --lambda 24 --samples 20000 --seed 1 -o "$out/phi4.npy"
# Two cubic activation layers (odd, invertible everywhere): the default for Z2-symmetric data.
$fa train "$out/phi4.npy" --arch activation --activation cubic --layers 2 --epochs 200 --seed 1 -o "$out/phi4.flow.json"
$fa generate "$out/phi4.flow.json" --samples 10000 --seed 1 -o "$out/fake.npy"
# The learned vertices (float field) against the truth in $out/phi4.truth.json.
$fa extract "$out/phi4.flow.json" --field float --order 4 --format text -o "$out/phi4.learned.txt"
echo "true vertices: $out/phi4.truth.json; learned: $out/phi4.learned.txt"
