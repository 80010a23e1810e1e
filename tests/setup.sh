#!/usr/bin/env bash
# Shared set-up for the README's two commands: install what is missing from
# Debian (idempotent, quiet when present), configure and build into build/.
#   tests/setup.sh             both
#   tests/setup.sh packages    only the packages (TCLTORCH_EXTRA_PKGS adds more)
#   tests/setup.sh build       only the build
# TCLTORCH_TCL_VERSION=9.0 builds for Tcl 9 (Debian 13), TCLTORCH_BUILD names
# the build folder (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
step=${1:-all}
tv=${TCLTORCH_TCL_VERSION:-8.6}
build=${TCLTORCH_BUILD:-build}
if [ "$step" != build ]; then
  pkgs="cmake g++ make ccache tcl$tv tcl$tv-dev libtorch-dev libgloo-dev libgtest-dev iproute2 dataset-fashion-mnist ${TCLTORCH_EXTRA_PKGS:-}"
  missing=""
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "Installing:$missing"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    if ! apt-cache show "tcl$tv-dev" >/dev/null 2>&1; then
      echo "Tcl $tv is not in this system's Debian archive (tcl9.0-dev comes with Debian 13)" >&2; exit 1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
  fi
fi
if [ "$step" != packages ]; then
  # ccache may cache precompiled-header builds and share them across build folders.
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  export CCACHE_BASEDIR="$PWD"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCLTORCH_TCL_VERSION="$tv" >/dev/null
  cmake --build "$build" -j"$(nproc)"
fi
