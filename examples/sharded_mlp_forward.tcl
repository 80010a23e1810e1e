# A two-layer MLP forward pass with tensor parallelism (the Megatron pattern):
#   H = relu(X @ W1 + b1)   W1 split by columns: each rank computes its slice of H, nothing moves
#   Y = H @ W2 + b2         W2 split by rows:    local partial products, ONE all_reduce
# checked against the same forward pass on the whole weights.
#
#   tclsh examples/sharded_mlp_forward.tcl                          (one process)
#   tclsh tcl/torchrun.tcl -nproc 2 examples/sharded_mlp_forward.tcl (two ranks)
# (with TCLLIBPATH pointing at the build folder)
package require torch

if {[info exists ::env(WORLD_SIZE)]} { torch::distributed_init -timeout 60 }
set rank [torch::get_rank]
set world [torch::get_world_size]

# Every rank draws the same weights from the same seed; in a real model each
# rank would load only its shard.
torch::manual_seed 0
set batch 8; set dIn 16; set dHidden 30; set dOut 10   ;# 30 hidden units: uneven on 4 ranks
set X  [torch::randn [list $batch $dIn]]
set W1 [torch::randn [list $dIn $dHidden]]
set b1 [torch::randn [list $dHidden]]
set W2 [torch::randn [list $dHidden $dOut]]
set b2 [torch::randn [list $dOut]]

# The reference: the unsharded forward pass.
set ref [torch::tensor_add [torch::tensor_matmul \
    [torch::tensor_clamp [torch::tensor_add [torch::tensor_matmul $X $W1] $b1] -min 0] $W2] $b2]

# Block 1: W1 and b1 split by columns (the hidden units).
set W1s [torch::shard $W1 -dim 1]
set b1s [torch::shard $b1 -dim 0]
set plan1 [torch::distributed_matmul $X $W1s -explain 1]
set H [torch::distributed_matmul $X $W1s]                       ;# column strategy: H split on dim 1
# Bias and relu on the local slice: shard_map runs a tensor command on the local pieces.
set H [torch::shard_map [list tensor_add $H [torch::shard_local_tensor $b1s]]]
set H [torch::shard_map [list tensor_clamp $H -min 0]]

# Block 2: W2 split by rows, matching H's columns: partial products + one all_reduce.
set W2s [torch::shard $W2 -dim 0]
set plan2 [torch::distributed_matmul $H $W2s -explain 1]
set Y [torch::tensor_add [torch::distributed_matmul $H $W2s] $b2]  ;# inner strategy: Y whole

set info [torch::shard_info $H]
puts "rank $rank/$world: hidden units [dict get $info offset]..[expr {[dict get $info offset] + [lindex [dict get $info local_shape] 1] - 1}] of $dHidden"
puts "rank $rank/$world: block 1 [dict get $plan1 strategy] ([dict get $plan1 bytes] bytes), block 2 [dict get $plan2 strategy] ([dict get $plan2 bytes] bytes)"
set diff [torch::tensor_item [torch::tensor_max [torch::tensor_abs [torch::tensor_sub $Y $ref]]]]
set ok [torch::allclose $Y $ref -rtol 1e-5 -atol 1e-5]
puts "rank $rank/$world: output [torch::tensor_shape $Y], max |sharded - unsharded| = [format %.2e $diff] -> [expr {$ok ? "OK" : "MISMATCH"}]"
if {[torch::distributed_is_initialized]} { torch::distributed_destroy }
exit [expr {!$ok}]
