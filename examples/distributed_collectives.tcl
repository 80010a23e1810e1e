# Every collective once, on however many ranks the launcher starts:
#   tclsh tcl/torchrun.tcl -nproc 2 examples/distributed_collectives.tcl
# Without the launcher it runs as the world of one.
package require torch

puts [torch::distributed_init -timeout 60]
set r [torch::get_rank]
set n [torch::get_world_size]
# Rank r contributes {r*10+1 ... r*10+2n}: dim 0 divisible by n for the splits.
set data {}
for {set i 1} {$i <= 2 * $n} {incr i} { lappend data [expr {$r * 10 + $i}] }
set x [torch::tensor_create $data -dtype float32]
proc show {what t} { puts [format "%-16s %s" $what [expr {$t eq "" ? "(none)" : [torch::tensor_to_list $t]}]] }

show input $x
show all_reduce [torch::distributed_all_reduce $x sum]
show mean [torch::distributed_all_reduce $x -op mean]
show broadcast [torch::distributed_broadcast $x -root 0]
show reduce->0 [torch::distributed_reduce $x 0 max]
show all_gather [torch::distributed_all_gather $x]
show gather->0 [torch::distributed_gather $x 0]
show scatter<-0 [torch::distributed_scatter $x 0]
show reduce_scatter [torch::distributed_reduce_scatter $x sum]
show all_to_all [torch::distributed_all_to_all $x]
set w [torch::distributed_all_reduce $x -async 1 -inplace 1]
show async+inplace [torch::distributed_wait $w]
puts "capabilities: [torch::distributed_capabilities]"
torch::distributed_barrier
torch::distributed_destroy
