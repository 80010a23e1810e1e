# The Tcl side of bench/instructions.sh: tensor_add on two 4-element float32
# tensors, each result freed, in a proc (as a script's loop would be): 200
# warm-up calls, then N1 and N2 calls, each run between two marks. The marks
# are bench_mark from the library in $BENCH_MARK_LIB (callgrind dumps its
# counts on entering it), or nothing.
package require torch
if {[info exists env(BENCH_MARK_LIB)]} {
  load $env(BENCH_MARK_LIB) Benchmark
} else {
  proc bench_mark {} {}
}
proc run {n a b} {
  for {set i 0} {$i < $n} {incr i} { torch::free [torch::tensor_add $a $b] }
}
set a [torch::tensor_create {1.0 2.0 3.0 4.0} float32]
set b [torch::tensor_create {1.0 2.0 3.0 4.0} float32]
run 200 $a $b
foreach n $argv {
  bench_mark
  run $n $a $b
}
bench_mark
