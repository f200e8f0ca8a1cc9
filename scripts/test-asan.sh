#!/usr/bin/env bash
# The jest suite against an addon built under AddressSanitizer and
# UndefinedBehaviorSanitizer (the runtimes are preloaded into node; leak
# detection is off, as node itself keeps memory until exit). Rebuilds the
# normal addon afterwards. Timing assertions are relaxed (SEMFIELD_SANITIZED).
set -euo pipefail
cd "$(dirname "$0")/.."
SEMFIELD_SANITIZE=1 SEMFIELD_CUDA=OFF node scripts/build-native.js
status=0
SEMFIELD_SANITIZED=1 ASAN_OPTIONS=detect_leaks=0 \
  LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
  npx jest --runInBand || status=$?
node scripts/build-native.js
exit $status
