#!/usr/bin/env bash
# The README's two bench columns in one run: tensor_bench.sh and
# data_parallel.tcl on this host (Debian 12: libtorch 1.13, Tcl 8.6, against
# python3-torch 1.13), then inside the Debian 13 root of the test command
# (libtorch 2.6, Tcl 9.0, against its python3-torch 2.6). Each side is compared
# with its own Python peer, so the ratios of the two columns can stand side by side.
#   bash bench/platforms.sh            both
#   bash bench/platforms.sh host|d13   one
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
if [ "$which" != d13 ]; then
  TCLTORCH_EXTRA_PKGS=python3-torch bash tests/setup.sh
  echo "== this host: $(. /etc/os-release; echo "$PRETTY_NAME"), Tcl 8.6 =="
  sh bench/tensor_bench.sh build
  TCLLIBPATH=build tclsh8.6 bench/data_parallel.tcl
fi
if [ "$which" != host ]; then
  bash tests/debian13.sh make trixie
  echo "== Debian 13: libtorch 2.6, Tcl 9.0 =="
  # An optimised build without sanitizers (the test command's is build-d13-asan).
  bash tests/debian13.sh run trixie "
    cmake -S . -B build-d13 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCLTORCH_TCL_VERSION=9.0 >/dev/null &&
    cmake --build build-d13 -j$(nproc) >/dev/null &&
    TCLSH=tclsh9.0 sh bench/tensor_bench.sh build-d13 &&
    TCLLIBPATH=build-d13 tclsh9.0 bench/data_parallel.tcl"
fi
