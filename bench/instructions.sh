#!/bin/sh
# The binding's own cost in instructions (callgrind: repeatable, where seconds
# swing by 30% on a shared machine): a 4-float tensor_add plus the free of its
# result, against Python's torch.add and libtorch's own C++ at::add, in one run.
# Each side runs N1 and N2 calls in one process; the difference divided by
# N2 - N1 is the cost of one call, start-up and loading excluded.
#   sh bench/instructions.sh [build-dir]      (needs valgrind, python3-torch)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
tclsh=${TCLSH:-tclsh}
n1=1000 n2=3000
export OMP_NUM_THREADS=1 TCLLIBPATH=$build
cmake --build "$build" --target bench_small_add >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# libhwy (loaded through libjxl) runs RDTSCP in a static initializer, and
# valgrind cannot execute RDTSCP: a preloaded TimerResolution replaces that one
# call (nothing measured here uses libhwy's timer).
printf 'unsigned long _ZN3hwy8platform15TimerResolutionEv(void) { return 1; }\n' >"$tmp/shim.c"
cc -shared -fPIC -O2 -o "$tmp/shim.so" "$tmp/shim.c"
refs() {  # total instructions of a command
  LD_PRELOAD="$tmp/shim.so" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" 2>"$tmp/log" >/dev/null || true
  if grep -q "SIGILL" "$tmp/log"; then
    grep -m1 "Illegal opcode" -A1 "$tmp/log" >&2
    echo "valgrind cannot run $1 on this CPU: no instruction counts here" >&2; exit 2
  fi
  awk '/refs:/ { gsub(",", "", $NF); print $NF }' "$tmp/log"
}
per_call() { a=$(refs "$@" $n1); b=$(refs "$@" $n2); echo $(( (b - a) / (n2 - n1) )); }
tcl=$(per_call $tclsh "$here/small_add.tcl")
py=$(per_call /usr/bin/python3 "$here/small_add.py")
cpp=$(per_call "$build/bench_small_add")
awk -v t="$tcl" -v p="$py" -v c="$cpp" 'BEGIN {
  printf "%-44s %12s %8s\n", "instructions per call (4-float add + free)", "count", "vs Python"
  printf "%-44s %12d %8.2f%s\n", "tcltorch: torch::free [torch::tensor_add]", t, t / p, (t <= p ? "" : "  MISSED (target <= 1)")
  printf "%-44s %12d %8.2f\n", "Python: torch.add", p, 1
  printf "%-44s %12d %8.2f\n", "C++: at::add", c, c / p
  printf "binding overhead over C++: tcltorch %d, Python %d\n", t - c, p - c }'
