#!/usr/bin/env bash
# Builds the fast_fractal_compression encoder (Hrebtovmaksim1 on GitHub), the
# codec benchmark's fractal peer, into bench/peers/ffc/fcomp. For the
# benchmark only: nothing in semfield links or ships it.
#
#   bash scripts/build-ffc-peer.sh [repository URL or local clone]
#
# It needs git, g++ (C++20) and the stb headers (apt-get install libstb-dev,
# or STB_INCLUDE naming the folder that holds stb/stb_image.h).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-https://github.com/Hrebtovmaksim1/fast_fractal_compression}
dest=bench/peers/ffc
stb=${STB_INCLUDE:-/usr/include}
if [ ! -f "$stb/stb/stb_image.h" ]; then
  echo "stb headers not found under $stb (apt-get install libstb-dev, or set STB_INCLUDE)" >&2
  exit 1
fi
rm -rf "$dest/src"
mkdir -p "$dest"
git clone -q --depth 1 "$src" "$dest/src"
# The project's own flags (its CMakeLists.txt), in one compiler call.
g++ -std=c++20 -O3 -march=native -funroll-loops -flax-vector-conversions \
  -I"$dest/src/include" -I"$stb" "$dest/src/main.cpp" "$dest"/src/src/*.cpp -o "$dest/fcomp"
echo "built $dest/fcomp ($(git -C "$dest/src" rev-parse --short HEAD))"
