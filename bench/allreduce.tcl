# The Tcl side of the all_reduce benchmark, run by tcl/torchrun.tcl. Prints
# "size_bytes inplace_seconds copy_seconds" per call on rank 0: the -inplace 1
# path, and the default path that returns a new tensor.
package require torch
torch::distributed_init -timeout 120
set rank [torch::get_rank]
foreach numel {1 1024 262144 16777216} {
  set iters [expr {$numel >= 16777216 ? 10 : $numel >= 262144 ? 100 : 2000}]
  set t [torch::ones [list $numel] -dtype float32]
  for {set i 0} {$i < 3} {incr i} { torch::distributed_all_reduce $t -inplace 1 }
  torch::distributed_barrier
  set us [lindex [time {torch::distributed_all_reduce $t -inplace 1} $iters] 0]
  torch::distributed_barrier
  set us2 [lindex [time {torch::free [torch::distributed_all_reduce $t]} $iters] 0]
  if {$rank == 0} { puts [format "%d %.9f %.9f" [expr {$numel * 4}] [expr {$us / 1e6}] [expr {$us2 / 1e6}]] }
  torch::free $t
}
torch::distributed_barrier
torch::distributed_destroy
