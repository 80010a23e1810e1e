#!/usr/bin/env bash
# The README's test command: set up, build, run every test suite (CTest), then
# the build matrix: the same suites under AddressSanitizer + UBSan, and a build
# with LTO + -Werror=odr and no precompiled header (ODR breaks and missing
# includes fail it). Extra arguments go to every ctest run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_BASEDIR="$PWD"
ctest --test-dir build --output-on-failure "$@"

echo "== build matrix: AddressSanitizer + UndefinedBehaviorSanitizer =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCLTORCH_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -E nccl_syntax "$@"

echo "== build matrix: LTO + -Werror=odr, no precompiled header =="
cmake -S . -B build-lto -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCLTORCH_LTO_ODR=ON -DTCLTORCH_PCH=OFF >/dev/null
cmake --build build-lto -j"$(nproc)"
ctest --test-dir build-lto --output-on-failure -R gtest "$@"
