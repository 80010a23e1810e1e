# The Tcl side of bench/instructions.sh: N calls of tensor_add on two 4-element
# float32 tensors, each result freed, in a proc (as a script's loop would be).
package require torch
proc run {n a b} {
  for {set i 0} {$i < $n} {incr i} { torch::free [torch::tensor_add $a $b] }
}
set a [torch::tensor_create {1.0 2.0 3.0 4.0} float32]
set b [torch::tensor_create {1.0 2.0 3.0 4.0} float32]
run 200 $a $b
run [lindex $argv 0] $a $b
