#!/usr/bin/env bash
# Installs what flowaction needs (Debian packages, as root), then configures and builds it in build/.
# With --tests, also what the tests need: NumPy and PyTorch for the Python round trips, clang for
# the fuzz targets and the sanitizer runtime, pdflatex, lualatex and TikZ for the LaTeX documents.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(g++ pkg-config meson ninja-build libginac-dev libcln-dev libboost-graph-dev libnauty2-dev
      libfmt-dev doctest-dev libeigen3-dev nlohmann-json3-dev libzip-dev zlib1g-dev)
if [ "${1:-}" = "--tests" ]; then
  pkgs+=(python3-numpy python3-torch clang libclang-rt-14-dev
         texlive-latex-base texlive-pictures texlive-luatex)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
ninja -C build >/dev/null || ninja -C build
