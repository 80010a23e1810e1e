# Train an MLP on a synthetic classification set, in one process or data-parallel.
#
#   tclsh examples/train_mlp.tcl ?-optimizer adam|sgd? ?-epochs N? ?-batch B? ?-checkpoint FILE?
#   tclsh tcl/torchrun.tcl -nproc 2 examples/train_mlp.tcl      (same script, 2 ranks)
#
# The data (16 overlapping Gaussian clusters in 20 dimensions, four per class,
# so no linear model separates the classes) is generated
# here with a fixed seed, so every rank has the same set and takes its share
# of each epoch with distributed_shard_indices. The model is wrapped in
# distributed_data_parallel: backward all-reduces the gradients in buckets while
# it runs and returns with them averaged across ranks, which makes N ranks with
# batch B/N each train exactly like one process with batch B.
package require torch

array set opt {-optimizer adam -epochs 10 -batch 64 -lr {} -checkpoint {}}
array set opt $argv
set distributed [info exists ::env(WORLD_SIZE)]
if {$distributed} { torch::distributed_init }
set rank [torch::get_rank]
set world [torch::get_world_size]
proc say {msg} { if {$::rank == 0} { puts $msg; flush stdout } }

# ---- data: C classes, D features, N training + M test samples ----
set C 4; set K 16; set D 20; set N 8192; set M 2048
torch::manual_seed 1234
set centers [torch::tensor_mul [torch::randn [list $K $D]] 0.8]
proc make {n} {
  set k [torch::randint $::K [list $n]]
  set x [torch::tensor_add [torch::tensor_index_select $::centers 0 $k] [torch::randn [list $n $::D]]]
  list $x [torch::tensor_remainder $k $::C]
}
lassign [make $N] xtrain ytrain
lassign [make $M] xtest ytest

# ---- model and optimizer ----
torch::manual_seed 1
set model [torch::sequential [list [torch::linear $D 64] [torch::relu] [torch::linear 64 64] [torch::relu] \
                                 [torch::linear 64 $C]]]
# Every rank starts from rank 0's weights; gradients are averaged during
# backward (in one process both are no-ops).
set ddp [torch::distributed_data_parallel $model]
switch -- $opt(-optimizer) {
  sgd  { set optim [torch::optimizer_sgd $model [expr {$opt(-lr) eq "" ? 0.05 : $opt(-lr)}] 0.9] }
  adam { set optim [torch::optimizer_adam $model [expr {$opt(-lr) eq "" ? 0.002 : $opt(-lr)}]] }
  default { error "unknown -optimizer $opt(-optimizer): use sgd or adam" }
}
set sched [torch::lr_scheduler_cosine $optim $opt(-epochs)]
say "tcltorch [dict get [torch::version] package] | world size $world | [torch::count_parameters $model] parameters | $opt(-optimizer)"

# Fraction of correct predictions on (x, y), as a number.
proc accuracy {model x y} {
  torch::scope {
    torch::no_grad {
      set pred [torch::tensor_argmax [torch::layer_forward $model $x] 1]
      torch::tensor_item [torch::tensor_mean [torch::tensor_to [torch::tensor_eq $pred $y] float32]]
    }
  }
}

# Mean of a number over the ranks (the world of one returns it unchanged).
proc global_mean {v} {
  torch::scope {
    torch::tensor_item [torch::distributed_all_reduce [torch::tensor_create $v -dtype float64] mean]
  }
}

set local [expr {$opt(-batch) / $world}]
set t0 [clock milliseconds]
for {set epoch 1} {$epoch <= $opt(-epochs)} {incr epoch} {
  torch::model_train $model
  # This rank's share of the epoch, reshuffled each epoch, the same way on every rank.
  set mine [torch::distributed_shard_indices $N -shuffle 1 -seed 7 -epoch $epoch]
  set total 0.0; set steps 0
  for {set i 0} {$i + $local <= [llength $mine]} {incr i $local} {
    set total [expr {$total + [torch::scope {
      set idx [torch::tensor_create [lrange $mine $i [expr {$i + $local - 1}]] -dtype int64]
      set x [torch::tensor_index_select $xtrain 0 $idx]
      set y [torch::tensor_index_select $ytrain 0 $idx]
      torch::optimizer_zero_grad $optim
      set loss [torch::cross_entropy_loss [torch::layer_forward $ddp $x] $y]
      torch::tensor_backward $loss  ;# returns with averaged gradients
      torch::optimizer_step $optim
      torch::tensor_item $loss
    }]}]
    incr steps
  }
  set lr [torch::optimizer_get_lr $optim]
  torch::lr_scheduler_step_update $sched
  torch::model_eval $model
  set loss [global_mean [expr {$total / $steps}]]
  set acc [accuracy $model $xtest $ytest]
  set done [expr {int(20.0 * $epoch / $opt(-epochs))}]
  say [format "epoch %2d/%d \[%-20s\] loss %.4f  test accuracy %5.1f%%  lr %.5f  %.1fs" $epoch $opt(-epochs) \
           [string repeat # $done] $loss [expr {100 * $acc}] $lr [expr {([clock milliseconds] - $t0) / 1000.0}]]
}

set acc [accuracy $model $xtest $ytest]
say [format "final test accuracy %.1f%% (chance %.1f%%)" [expr {100 * $acc}] [expr {100.0 / $C}]]
if {$opt(-checkpoint) ne ""} {
  # Save on rank 0 only, then wait so no rank reads a half-finished file.
  if {$rank == 0} { torch::save_state_dict $model $opt(-checkpoint) }
  if {$distributed} { torch::distributed_barrier }
  say "saved $opt(-checkpoint)"
}
if {$distributed} { torch::distributed_destroy }
