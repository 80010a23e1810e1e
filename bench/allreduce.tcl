# The Tcl side of the all_reduce benchmark, run by tcl/torchrun.tcl. Prints
# "size_bytes inplace_seconds copy_seconds" per call on rank 0: the -inplace 1
# path, and the default path that returns a new tensor.
package require torch
torch::distributed_init -timeout 120
set rank [torch::get_rank]
foreach numel {1 1024 262144 16777216} {
  # Best of 5 blocks: the machine is shared, bursts of other work are noise.
  set iters [expr {$numel >= 16777216 ? 4 : $numel >= 262144 ? 40 : 400}]
  set t [torch::ones [list $numel] -dtype float32]
  for {set i 0} {$i < 3} {incr i} { torch::distributed_all_reduce $t -inplace 1 }
  set us 1e9
  set us2 1e9
  for {set block 0} {$block < 5} {incr block} {
    torch::distributed_barrier
    set us [expr {min($us, [lindex [time {torch::distributed_all_reduce $t -inplace 1} $iters] 0])}]
  }
  for {set block 0} {$block < 5} {incr block} {
    torch::distributed_barrier
    set us2 [expr {min($us2, [lindex [time {torch::free [torch::distributed_all_reduce $t]} $iters] 0])}]
  }
  if {$rank == 0} { puts [format "%d %.9f %.9f" [expr {$numel * 4}] [expr {$us / 1e6}] [expr {$us2 / 1e6}]] }
  torch::free $t
}
torch::distributed_barrier
torch::distributed_destroy
