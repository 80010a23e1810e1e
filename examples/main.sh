#!/usr/bin/env bash
# The README's main job: set up (Debian packages, Fashion-MNIST included), build, then
# train a small CNN on Fashion-MNIST data-parallel on 2 ranks through the launcher, to at
# least 90% test accuracy; the last line says the final accuracy and whether it got there.
# Extra arguments go to the training script (e.g. -epochs 4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
TCLLIBPATH="$PWD/build" tclsh tcl/torchrun.tcl -nproc 2 examples/train_fashion_mnist.tcl "$@"
