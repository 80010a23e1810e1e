#!/usr/bin/env bash
# The README's test command: set up, build, run every test suite (CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
ctest --test-dir build --output-on-failure "$@"
