# A transformer-style MLP trained with tensor parallel inside pairs of ranks
# and fully sharded data parallel across them (a 2-D mesh), then saved as a
# distributed checkpoint and gathered whole:
#   tclsh tcl/torchrun.tcl -nproc 4 examples/tensor_parallel.tcl   (a {2 2} mesh)
#   tclsh tcl/torchrun.tcl -nproc 2 examples/tensor_parallel.tcl   (tensor parallel only)
# Without the launcher it runs as the world of one (a {1 1} mesh).
package require torch

torch::distributed_init -timeout 60
set rank [torch::get_rank]
set world [torch::get_world_size]
set tp [expr {$world % 2 == 0 ? 2 : 1}]
set mesh [torch::device_mesh [list [expr {$world / $tp}] $tp] -names {dp tp}]
set dp [lindex [dict get [torch::mesh_info $mesh] coords] 0]

# The same weights on every rank: each keeps its slices of them.
torch::manual_seed 0
set model [torch::sequential [list [torch::linear 16 64] [torch::gelu] [torch::linear 64 16] [torch::linear 16 1]]]
torch::parallelize_module $model -plan {0 colwise 2 rowwise} -group [torch::mesh_group $mesh tp]
torch::fully_shard $model -group [torch::mesh_group $mesh dp]
set opt [torch::optimizer_adam $model 0.01]

# y = sum of the inputs' squares; each dp row of the mesh takes its part of every batch.
set batch 64
set per [expr {$batch / ($world / $tp)}]
set mine {}
for {set i [expr {$dp * $per}]} {$i < ($dp + 1) * $per} {incr i} { lappend mine $i }
set rows [torch::tensor_create $mine -dtype int64]
for {set step 1} {$step <= 60} {incr step} {
  torch::scope {
    torch::manual_seed $step  ;# the same batch on every rank, then this rank's rows
    set x [torch::randn [list $batch 16]]
    set y [torch::tensor_sum [torch::tensor_mul $x $x] -dim 1 -keepdim 1]
    torch::optimizer_zero_grad $opt
    set loss [torch::mse_loss [torch::layer_forward $model [torch::tensor_index_select $x 0 $rows]] \
                              [torch::tensor_index_select $y 0 $rows]]
    torch::tensor_backward $loss
    torch::clip_grad_norm $model 5.0   ;# the norm of the whole gradient, over every piece
    torch::optimizer_step $opt
    if {$step % 20 == 0 && $rank == 0} { puts [format "step %2d  loss %.3f" $step [torch::tensor_item $loss]] }
  }
}
set dir [file join [expr {[info exists ::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}] tcltorch-tp-example-[pid]]
if {$rank == 0} { file delete -force $dir }
torch::distributed_barrier
torch::distributed_save $model $dir -optimizer $opt
set whole [torch::full_state_dict $model]
if {$rank == 0} {
  puts "local 0.weight [torch::tensor_shape [lindex [torch::layer_parameters $model] 0]], whole [torch::tensor_shape [dict get $whole 0.weight]]"
  file delete -force $dir
}
torch::distributed_destroy
