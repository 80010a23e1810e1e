#!/usr/bin/env bash
# The README's test command. Stages (each prints when it starts):
#  1. This host (Debian 12: libtorch 1.13, Tcl 8.6): build/, every suite (gtest,
#     tcl, dist, netns) through CTest.
#  2. Debian 13 (a debootstrap root cached in /var/cache/tcltorch, made while
#     stage 1 builds), libtorch 2.6, Tcl 9.0, under AddressSanitizer + UBSan:
#     build-d13-asan/, gtest, tcl and dist suites; tclsh8.6 must refuse the
#     Tcl 9 library.
#  3. The CUDA build (libtorch-cuda 2.6, CUDA 12.4, NCCL 2.22, a second root),
#     Tcl 8.6, with LTO + -Werror=odr and no precompiled header (ODR breaks and
#     missing includes fail it): build-cuda/ compiles and links every CUDA path
#     and the NCCL backend. Nothing loads it here (no GPU, no cuDNN).
# Extra arguments go to every ctest run.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
stage() { echo "== [$((SECONDS - t0)) s] $* =="; }
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_BASEDIR="$PWD"
jobs=$(nproc)

stage "this host ($(. /etc/os-release; echo "$PRETTY_NAME"), its libtorch-dev, Tcl ${TCLTORCH_TCL_VERSION:-8.6})"
# python3-torch: the reference side of the model round trips (tests/tcl/jit.test);
# xvfb, x11-apps (xwd), tk8.6-dev: the Tk photo and monitor tests (skipped without them)
TCLTORCH_EXTRA_PKGS="debootstrap python3-torch xvfb x11-apps tk8.6-dev" bash tests/setup.sh packages
# The roots download and unpack (network and disk) while this stage compiles.
roots_log=$(mktemp -d)
trap 'rm -rf "$roots_log"' EXIT
declare -A root_pid
for r in trixie trixie-cuda; do
  bash tests/debian13.sh make "$r" >"$roots_log/$r" 2>&1 &
  root_pid[$r]=$!
done
bash tests/setup.sh build
ctest --test-dir "${TCLTORCH_BUILD:-build}" --output-on-failure "$@"

wait_root() {
  local rc=0
  wait "${root_pid[$1]}" || rc=$?
  cat "$roots_log/$1"
  [ "$rc" -eq 0 ] || { echo "making the Debian 13 root $1 failed" >&2; exit 1; }
}
q() { printf '%q ' "$@"; }  # extra ctest arguments, quoted for the root's shell
wait_root trixie
stage "Debian 13, libtorch 2.6, Tcl 9.0: AddressSanitizer + UndefinedBehaviorSanitizer"
bash tests/debian13.sh run trixie "
  cmake -S . -B build-d13-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCLTORCH_TCL_VERSION=9.0 \
        -DTCLTORCH_SANITIZE=ON >/dev/null &&
  cmake --build build-d13-asan -j$jobs &&
  ctest --test-dir build-d13-asan --output-on-failure $(q "$@")"

wait_root trixie-cuda
stage "CUDA build, libtorch-cuda 2.6 + NCCL, Tcl 8.6: LTO + -Werror=odr, no precompiled header (compile and link)"
bash tests/debian13.sh run trixie-cuda "
  cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DTCLTORCH_TCL_VERSION=8.6 \
        -DTCLTORCH_LTO_ODR=ON -DTCLTORCH_PCH=OFF >/dev/null &&
  cmake --build build-cuda -j$jobs --target tcltorch_cuda_check"
stage "done"
