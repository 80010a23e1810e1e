#!/usr/bin/env bash
# The README's main job: set up (Debian packages, Fashion-MNIST included), build, then
# train a small CNN on Fashion-MNIST data-parallel on 2 ranks through the launcher, to at
# least 90% test accuracy; the last line says the final accuracy and whether it got there.
# Extra arguments go to the training script (e.g. -epochs 4). TCLTORCH_TCL_VERSION=9.0
# builds and runs it with Tcl 9 (Debian 13), TCLTORCH_BUILD names the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
tv=${TCLTORCH_TCL_VERSION:-8.6}
TCLLIBPATH="$PWD/${TCLTORCH_BUILD:-build}" "tclsh$tv" tcl/torchrun.tcl -nproc 2 examples/train_fashion_mnist.tcl "$@"
