#!/usr/bin/env bash
# The README's main job: set up, build, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
TCLLIBPATH="$PWD/build" tclsh examples/tensor_demo.tcl
