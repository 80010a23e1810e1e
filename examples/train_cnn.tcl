# Train a small conv net on generated image-like data (no download).
#
#   tclsh examples/train_cnn.tcl ?-epochs N? ?-batch B?
#   tclsh tcl/torchrun.tcl -nproc 2 examples/train_cnn.tcl
#
# Four classes of 16x16 one-channel images: horizontal stripes, vertical
# stripes, a checkerboard and a ring, each with a random brightness and
# heavy Gaussian noise. Data parallel exactly like train_mlp.tcl.
package require torch

array set opt {-epochs 4 -batch 64 -lr 0.003}
array set opt $argv
set distributed [info exists ::env(WORLD_SIZE)]
if {$distributed} { torch::distributed_init }
set rank [torch::get_rank]
set world [torch::get_world_size]
proc say {msg} { if {$::rank == 0} { puts $msg; flush stdout } }

# ---- data ----
set S 16; set C 4; set N 4096; set M 1024
set templates {}
foreach class {0 1 2 3} {
  set img {}
  for {set i 0} {$i < $S} {incr i} {
    for {set j 0} {$j < $S} {incr j} {
      set r [expr {hypot($i - 7.5, $j - 7.5)}]
      lappend img [expr {[lindex [list [expr {$i % 4 < 2}] [expr {$j % 4 < 2}] \
                                          [expr {($i / 4 + $j / 4) % 2}] [expr {$r > 3 && $r < 6}]] $class] ? 1.0 : -1.0}]
    }
  }
  lappend templates $img
}
set templates [torch::tensor_view [torch::tensor_create $templates] [list $C 1 $S $S]]
torch::manual_seed 99
proc make {n} {
  set y [torch::randint $::C [list $n]]
  set bright [torch::tensor_add [torch::rand [list $n 1 1 1]] 0.5]
  set x [torch::tensor_mul [torch::tensor_index_select $::templates 0 $y] $bright]
  list [torch::tensor_add $x [torch::tensor_mul [torch::randn [list $n 1 $::S $::S]] 3.0]] $y
}
lassign [make $N] xtrain ytrain
lassign [make $M] xtest ytest

# ---- model ----
torch::manual_seed 2
set model [torch::sequential [list \
    [torch::conv2d 1 8 3 -padding 1] [torch::batch_norm2d 8] [torch::relu] [torch::maxpool2d 2] \
    [torch::conv2d 8 16 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
    [torch::flatten] [torch::dropout 0.1] [torch::linear [expr {16 * 4 * 4}] 32] [torch::relu] [torch::linear 32 $C]]]
torch::distributed_broadcast_parameters $model
set optim [torch::optimizer_adamw $model $opt(-lr)]
say "conv net | world size $world | [torch::count_parameters $model] parameters"

proc accuracy {model x y} {
  torch::scope {
    torch::no_grad {
      set pred [torch::tensor_argmax [torch::layer_forward $model $x] 1]
      torch::tensor_item [torch::tensor_mean [torch::tensor_to [torch::tensor_eq $pred $y] float32]]
    }
  }
}

set local [expr {$opt(-batch) / $world}]
set t0 [clock milliseconds]
for {set epoch 1} {$epoch <= $opt(-epochs)} {incr epoch} {
  torch::model_train $model
  set mine [torch::distributed_shard_indices $N -shuffle 1 -seed 3 -epoch $epoch]
  set total 0.0; set steps 0
  for {set i 0} {$i + $local <= [llength $mine]} {incr i $local} {
    set total [expr {$total + [torch::scope {
      set idx [torch::tensor_create [lrange $mine $i [expr {$i + $local - 1}]] -dtype int64]
      torch::optimizer_zero_grad $optim
      set loss [torch::cross_entropy_loss [torch::layer_forward $model [torch::tensor_index_select $xtrain 0 $idx]] \
                    [torch::tensor_index_select $ytrain 0 $idx]]
      torch::tensor_backward $loss
      torch::distributed_sync_gradients $model
      torch::optimizer_step $optim
      torch::tensor_item $loss
    }]}]
    incr steps
  }
  torch::model_eval $model
  set done [expr {int(20.0 * $epoch / $opt(-epochs))}]
  say [format "epoch %d/%d \[%-20s\] loss %.4f (rank 0)  test accuracy %5.1f%%  %.1fs" $epoch $opt(-epochs) \
           [string repeat # $done] [expr {$total / $steps}] [expr {100 * [accuracy $model $xtest $ytest]}] \
           [expr {([clock milliseconds] - $t0) / 1000.0}]]
}
say [format "final test accuracy %.1f%% (chance %.1f%%)" [expr {100 * [accuracy $model $xtest $ytest]}] [expr {100.0 / $C}]]
if {$distributed} { torch::distributed_destroy }
