#!/bin/sh
# The binding's own cost in instructions (callgrind: repeatable, where seconds
# swing by 30% on a shared machine): a 4-float tensor_add plus the free of its
# result, against Python's torch.add and libtorch's own C++ at::add, in one run.
# Each side runs N1 and then N2 calls in one process, each run between two
# calls of bench_mark, where callgrind dumps its counts (--dump-before): the
# difference of the two runs' counts divided by N2 - N1 is the cost of one
# call, start-up, loading and the marks themselves excluded.
#   sh bench/instructions.sh [build-dir]      (needs valgrind, python3-torch)
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
tclsh=${TCLSH:-tclsh}
n1=1000 n2=3000
export OMP_NUM_THREADS=1 TCLLIBPATH=$build
cmake --build "$build" --target bench_small_add >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The preloaded library: bench_mark (for Tcl a command of that name, for Python
# through ctypes) and, because libhwy (loaded through libjxl) runs RDTSCP in a
# static initializer that valgrind cannot execute, a TimerResolution that
# replaces that one call (nothing measured here uses libhwy's timer). Tcl's
# one function is declared by hand: no Tcl headers or stubs for one command.
cat >"$tmp/shim.c" <<'C'
unsigned long _ZN3hwy8platform15TimerResolutionEv(void) { return 1; }
typedef struct Tcl_Interp Tcl_Interp;
typedef int ObjCmd(void*, Tcl_Interp*, int, void* const*);
/* weak: Python loads this library too, where no Tcl is there to bind to */
extern void* Tcl_CreateObjCommand(Tcl_Interp*, const char*, ObjCmd*, void*, void (*)(void*)) __attribute__((weak));
__attribute__((noinline)) void bench_mark(void) { __asm__ volatile(""); }
static int markCmd(void* cd, Tcl_Interp* i, int objc, void* const* objv) {
  (void)cd, (void)i, (void)objc, (void)objv;
  bench_mark();
  return 0;
}
/* For Python: ctypes' own call into bench_mark is not seen as one, this call is */
void bench_mark_py(void) { bench_mark(); __asm__ volatile(""); } /* a call, not a tail jump */
int Benchmark_Init(Tcl_Interp* i) { return Tcl_CreateObjCommand(i, "bench_mark", markCmd, 0, 0) ? 0 : 1; }
C
cc -shared -fPIC -O2 -o "$tmp/shim.so" "$tmp/shim.c"
export BENCH_MARK_LIB="$tmp/shim.so"
per_call() {  # instructions per call of a command run as: command n1 n2
  rm -f "$tmp"/cg*
  LD_PRELOAD="$tmp/shim.so" valgrind --tool=callgrind --dump-before=bench_mark \
    --callgrind-out-file="$tmp/cg" "$@" $n1 $n2 2>"$tmp/log" >/dev/null || true
  if grep -q "SIGILL" "$tmp/log"; then
    grep -m1 "Illegal opcode" -A1 "$tmp/log" >&2
    echo "valgrind cannot run $1 on this CPU: no instruction counts here" >&2; exit 2
  fi
  # Dumps: .1 start-up, .2 the N1 run, .3 the N2 run.
  if [ ! -f "$tmp/cg.3" ]; then echo "no callgrind dumps from $1 (see valgrind's log):" >&2; tail -5 "$tmp/log" >&2; exit 2; fi
  a=$(awk '/^summary:/ { print $2 }' "$tmp/cg.2"); b=$(awk '/^summary:/ { print $2 }' "$tmp/cg.3")
  echo $(( (b - a) / (n2 - n1) ))
}
tcl=$(per_call $tclsh "$here/small_add.tcl")
py=$(per_call /usr/bin/python3 "$here/small_add.py")
cpp=$(per_call "$build/bench_small_add")
awk -v t="$tcl" -v p="$py" -v c="$cpp" 'BEGIN {
  printf "%-44s %12s %8s\n", "instructions per call (4-float add + free)", "count", "vs Python"
  printf "%-44s %12d %8.2f%s\n", "tcltorch: torch::free [torch::tensor_add]", t, t / p, (t <= p ? "" : "  MISSED (target <= 1)")
  printf "%-44s %12d %8.2f\n", "Python: torch.add", p, 1
  printf "%-44s %12d %8.2f\n", "C++: at::add", c, c / p
  printf "binding overhead over C++: tcltorch %d, Python %d\n", t - c, p - c }'
