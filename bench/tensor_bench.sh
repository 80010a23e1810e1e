#!/bin/sh
# Tensor core against PyTorch's Python API (Debian python3-torch, same libtorch),
# side by side in one run. Usage: [TCLSH=tclsh9.0] bench/tensor_bench.sh [build-dir]
#
# How the comparison is kept honest:
# - both sides run the same operations on the same sizes and dtypes, best of N;
# - small_add (torch.add / torch::tensor_add of two 4-element float32 tensors) is
#   per call and includes releasing the result: Python drops each result's last
#   reference in the loop, Tcl frees each result with `torch::free [...]` (a
#   second command, included); both loops' own overhead is inside the timing.
#   Freeing 100 results per torch::scope instead is printed for information;
# - both sides run with the same OMP_NUM_THREADS (default 1 here);
# - to_list includes freeing the list; create and from_bytes include freeing the tensor;
# - from_bytes on both sides makes a tensor that owns its memory (Python:
#   frombuffer + clone; plain frombuffer aliases an immutable bytes object and is
#   printed for information only);
# - import is `package require torch` against `import torch`, each timed inside a
#   fresh process (interpreter start-up excluded on both sides), best of 3;
# - create_1M_first is the first call on a freshly built list (median of 5 fresh lists):
#   what a script meets; create_1M_steady repeats calls on one list (best of 5);
# - the other figures are the best of several repetitions, and the Tcl and Python runs
#   alternate three times, because the machine is shared and noisy.
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
py=/usr/bin/python3
tclsh=${TCLSH:-tclsh}  # TCLSH=tclsh9.0 for a Tcl 9 build
export TCLLIBPATH=$(cd "$build" && pwd)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in 1 2 3; do
  $tclsh "$here/tensor_bench.tcl" import >> "$tmp/tcl"
  $py "$here/tensor_bench.py" import >> "$tmp/py"
done
# Alternate the two sides a few times and keep each side's best: load from
# other processes then hits both alike.
for i in 1 2 3; do
  $tclsh "$here/tensor_bench.tcl" >> "$tmp/tcl"
  $py "$here/tensor_bench.py" >> "$tmp/py"
done
awk '
  FNR == NR { if (!($1 in tcl) || $2 < tcl[$1]) tcl[$1] = $2; if (!($1 in seen)) { seen[$1]; order[n++] = $1 }; next }
  { if (!($1 in py) || $2 < py[$1]) py[$1] = $2 }
  END {
    printf "%-22s %14s %14s %8s %8s\n", "benchmark (us)", "tcltorch", "python", "ratio", "target"
    for (i = 0; i < n; i++) { k = order[i]; if (k ~ /^info_/) { printf "%-22s %14.3f %14s   (info)\n", k, tcl[k], "-"; continue }
      tgt = (k == "small_add") ? 0.8 : 1.0
      r = tcl[k] / py[k]
      printf "%-22s %14.3f %14.3f %8.3f %8s%s\n", k, tcl[k], py[k], r, "<= " tgt, (r <= tgt ? "" : "  MISSED") }
    for (k in py) if (!(k in tcl)) printf "%-22s %14s %14.3f   (info)\n", k, "-", py[k]
  }' "$tmp/tcl" "$tmp/py"
