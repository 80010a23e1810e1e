#!/usr/bin/env bash
# The README's main job: set up, build, train an MLP data-parallel on 2 ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
TCLLIBPATH="$PWD/build" tclsh tcl/torchrun.tcl -nproc 2 examples/train_mlp.tcl
