#!/usr/bin/env bash
# Debian 13 roots for the test command, made with debootstrap and cached outside
# the checkout (/var/cache/tcltorch/<name>); a root is made again when its
# package list (or this recipe) changes. Two roots, because Debian's
# libtorch-dev and libtorch-cuda-dev conflict:
#   trixie       libtorch 2.6 (CPU), Tcl 9.0 and 8.6, python3-torch (bench peer)
#   trixie-cuda  libtorch-cuda 2.6, CUDA 12.4 headers and nvcc, NCCL 2.22, Tcl 8.6
#
#   tests/debian13.sh make NAME     make (or reuse) the root
#   tests/debian13.sh run NAME CMD  run CMD (bash) inside it, the checkout at /tcltorch
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cache=${TCLTORCH_ROOT_CACHE:-/var/cache/tcltorch}
mirror=http://deb.debian.org/debian
recipe=1  # bump when the way a root is made changes (its packages count by themselves)
common="cmake g++ make ccache procps"

packages() {  # the package list of each root
  case "$1" in
    trixie) echo "$common tcl9.0-dev tcl8.6-dev libtorch-dev libgloo-dev libgtest-dev python3-torch dataset-fashion-mnist" ;;
    # nvidia-cuda-toolkit: libtorch's CMake config looks for nvcc.
    trixie-cuda) echo "$common tcl8.6-dev libtorch-cuda-dev libgloo-cuda-dev nvidia-cuda-dev nvidia-cuda-toolkit libnccl-dev" ;;
    *) echo "unknown root $1" >&2; exit 2 ;;
  esac
}
components() { [ "$1" = trixie-cuda ] && echo "main contrib non-free" || echo "main"; }

# cuDNN cannot be had: Debian's nvidia-cudnn downloads it from its vendor while
# it installs. A placeholder package of that name satisfies libtorch-cuda's
# dependency, so the CUDA build compiles and links (a shared module may leave
# libcudnn unresolved); it cannot load here, and nothing here tries to.
cudnn_placeholder() {
  local d; d=$(mktemp -d)
  mkdir -p "$d/pkg/DEBIAN"
  cat > "$d/pkg/DEBIAN/control" <<EOF
Package: nvidia-cudnn
Version: 9.99.0-0tcltorch
Architecture: all
Maintainer: tcltorch tests <root@localhost>
Description: placeholder: cuDNN is not available on this machine (build-only root)
EOF
  dpkg-deb -b "$d/pkg" "$1/tmp/nvidia-cudnn-placeholder.deb" >/dev/null
  rm -rf "$d"
}

mounted_under() { awk -v r="$1" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts; }

mount_all() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --bind /dev "$root/dev"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null || true
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"  # the desync check's segments
  mkdir -p "$root/tcltorch"
  mount --bind "$here" "$root/tcltorch"
}

make_root() {
  local name=$1 root="$cache/$1" key
  key=$(printf '%s\n' "$recipe" "$(components "$name")" "$(packages "$name")" | sha256sum | cut -c1-16)
  mkdir -p "$cache"
  exec 9>"$cache/$name.lock"
  flock 9
  if [ -f "$root/.tcltorch-key" ] && [ "$(cat "$root/.tcltorch-key")" = "$key" ]; then
    echo "Debian 13 root $root: reused"; return 0
  fi
  local t0=$SECONDS
  # Never remove a root that has something mounted (a bind of this checkout).
  if [ -n "$(mounted_under "$root")" ]; then echo "something is mounted under $root, not removing it" >&2; exit 1; fi
  rm -rf "$root"
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  echo "Debian 13 root $root: debootstrap"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$cache/$name.log" 2>&1 || { tail -20 "$cache/$name.log"; exit 1; }
  echo "deb $mirror trixie $(components "$name")" > "$root/etc/apt/sources.list"
  if [ "$name" = trixie-cuda ]; then cudnn_placeholder "$root"; fi
  echo "Debian 13 root $root: installing $(packages "$name")"
  in_ns "$root" sh -c "apt-get update -qq && { [ ! -f /tmp/nvidia-cudnn-placeholder.deb ] || dpkg -i /tmp/nvidia-cudnn-placeholder.deb; } &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(packages "$name") && apt-get clean" \
    >>"$cache/$name.log" 2>&1 || { tail -30 "$cache/$name.log"; exit 1; }
  echo "$key" > "$root/.tcltorch-key"
  echo "Debian 13 root $root: made in $((SECONDS - t0)) s"
}

# Every use of a root runs in a mount namespace of its own (unshare -m): its
# mounts vanish with it, whatever way it ends, and concurrent uses of one root
# do not see each other's.
in_ns() { unshare --mount --propagation private bash "$here/tests/debian13.sh" _ns "$@"; }

run_in_root() {
  local name=$1 root="$cache/$1"; shift
  [ -f "$root/.tcltorch-key" ] || { echo "no root $root: run '$0 make $name' first" >&2; exit 1; }
  in_ns "$root" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
    CCACHE_DIR=/root/.ccache CCACHE_BASEDIR=/tcltorch \
    CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime \
    ${CI:+CI=$CI} bash -c "cd /tcltorch && $*"
}

case "${1:-}" in
  make) make_root "$2" ;;
  run) shift; run_in_root "$@" ;;
  _ns) root=$2; shift 2; mount_all "$root"; chroot "$root" "$@" ;;
  *) echo "usage: $0 make NAME | run NAME CMD" >&2; exit 2 ;;
esac
