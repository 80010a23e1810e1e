# Train a small CNN on Fashion-MNIST (Debian's dataset-fashion-mnist package) to at
# least 90% test accuracy, data-parallel on every rank the launcher starts.
#
#   tclsh examples/train_fashion_mnist.tcl ?-epochs N? ?-batch B? ?-lr LR? ?-train N? ?-test N? ?-logdir DIR?
#   tclsh tcl/torchrun.tcl -nproc 2 examples/train_fashion_mnist.tcl
#
# Options: -batch is the global batch (each of W ranks takes batch/W samples of it),
# -train/-test use only the first N images, -data is the folder of the four IDX files,
# -checkpoint the file the trained weights go to (with FILE.optim for Adam's state),
# -target the accuracy (%) the last line reports against, -logdir a folder for
# TensorBoard (`tensorboard --logdir DIR`: loss, accuracy, images/s, weight
# histograms and a grid of test images with their predicted labels, from rank 0).
# Data: torch::dataset_idx_load reads the IDX files into uint8 tensors,
# torch::dataset_normalize scales them, torch::dataloader gives each rank its shard
# of each epoch's shuffled batches, made ahead by -workers threads (see docs/data.md);
# -loader 0 takes them on the main thread instead (dataset_batches + index_select).
array set opt {-epochs 3 -batch 64 -lr 0.001 -train 60000 -test 10000 -seed 1
               -data /usr/share/datasets/fashion-mnist -checkpoint fashion_mnist_cnn.pt -target 90
               -logdir "" -loader 1 -workers 1}
array set opt $argv

# One share of the cores per rank on this machine, before libtorch starts its thread
# pool (OpenMP reads OMP_NUM_THREADS when it loads); a value set by the caller wins.
set localRanks [expr {[info exists ::env(LOCAL_WORLD_SIZE)] ? $::env(LOCAL_WORLD_SIZE) : 1}]
if {![info exists ::env(OMP_NUM_THREADS)]} {
  if {[catch {exec nproc} cores]} { set cores 1 }
  set ::env(OMP_NUM_THREADS) [expr {max(1, $cores / $localRanks)}]
}
package require torch
if {[info commands torch::set_num_threads] ne ""} { torch::set_num_threads $::env(OMP_NUM_THREADS) }

set distributed [info exists ::env(WORLD_SIZE)]
if {$distributed} { torch::distributed_init }
set rank [torch::get_rank]
set world [torch::get_world_size]
proc say {msg} { if {$::rank == 0} { puts $msg; flush stdout } }
# A live progress bar only on a terminal (under torchrun each line is a pipe line).
set live [expr {$rank == 0 && ![catch {fconfigure stdout -mode}]}]

# ---- data: uint8 IDX -> float32, normalized with the training set's mean and std ----
set t0 [clock milliseconds]
proc load {name limit} {
  torch::dataset_idx_load [file join $::opt(-data) $name] -limit $limit
}
set xtrain [torch::scope {
  torch::tensor_unsqueeze [torch::dataset_normalize [load train-images-idx3-ubyte.gz $opt(-train)] 0.2860 0.3530 255] 1
}]
set ytrain [torch::tensor_to [load train-labels-idx1-ubyte.gz $opt(-train)] -dtype int64]
set xtest [torch::scope {
  torch::tensor_unsqueeze [torch::dataset_normalize [load t10k-images-idx3-ubyte.gz $opt(-test)] 0.2860 0.3530 255] 1
}]
set ytest [torch::tensor_to [load t10k-labels-idx1-ubyte.gz $opt(-test)] -dtype int64]
set ntrain [lindex [torch::tensor_shape $xtrain] 0]
set ntest [lindex [torch::tensor_shape $xtest] 0]

# ---- model: conv 32 -> pool -> conv 64 -> pool -> fc 128 -> fc 10 ----
torch::manual_seed $opt(-seed)
set model [torch::sequential [list \
    [torch::conv2d 1 32 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
    [torch::conv2d 32 64 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
    [torch::flatten] [torch::linear [expr {64 * 7 * 7}] 128] [torch::relu] [torch::linear 128 10]]]
torch::distributed_broadcast_parameters $model
set optim [torch::optimizer_adam $model $opt(-lr)]
set local [expr {max(1, $opt(-batch) / $world)}]
say [format "fashion-mnist cnn | %d train / %d test images loaded in %.1fs | %d rank(s) x %d thread(s) | batch %d (%d per rank) | %d parameters" \
         $ntrain $ntest [expr {([clock milliseconds] - $t0) / 1000.0}] $world $::env(OMP_NUM_THREADS) \
         [expr {$local * $world}] $local [torch::count_parameters $model]]

# Sums over all ranks of a list of numbers (as float64; one collective).
proc allSum {values} {
  if {!$::distributed} { return $values }
  torch::scope {
    torch::tensor_to_list [torch::distributed_all_reduce [torch::tensor_create $values -dtype float64] sum]
  }
}

# Test accuracy: each rank scores its shard of the test set, the counts are summed.
proc accuracy {} {
  torch::model_eval $::model
  set correct 0
  torch::no_grad {
    set mine [torch::distributed_shard_indices $::ntest]
    for {set i 0} {$i < [llength $mine]} {incr i 1000} {
      incr correct [torch::scope {
        set idx [torch::tensor_create [lrange $mine $i [expr {$i + 999}]] -dtype int64]
        set pred [torch::tensor_argmax [torch::layer_forward $::model [torch::tensor_index_select $::xtest 0 $idx]] 1]
        torch::tensor_item [torch::tensor_sum [torch::tensor_eq $pred [torch::tensor_index_select $::ytest 0 $idx]]]
      }]
    }
  }
  expr {100.0 * [lindex [allSum [list $correct]] 0] / $::ntest}
}

# TensorBoard: a writer (it writes on rank 0 only) and the per-epoch summaries.
set writer [expr {$opt(-logdir) ne "" ? [torch::summary_writer $opt(-logdir) -flush_secs 10] : ""}]
set classes {T-shirt Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Boot}
proc summarize {epoch values} {
  if {$::writer eq ""} return
  foreach {tag v} $values { torch::summary_scalar $::writer $tag $v $epoch }
  # The first 32 test images as one 4 x 8 grid, and their predicted labels as a table.
  torch::scope {
    foreach {name p} [torch::layer_named_parameters $::model] { torch::summary_histogram $::writer weights/$name $p $epoch }
    torch::model_eval $::model
    set x [torch::tensor_slice $::xtest 0 0 32]
    set pred [torch::no_grad { torch::tensor_to_list [torch::tensor_argmax [torch::layer_forward $::model $x] 1] }]
    set truth [torch::tensor_to_list [torch::tensor_slice $::ytest 0 0 32]]
    set grid [torch::tensor_reshape [torch::tensor_permute [torch::tensor_reshape $x {4 8 28 28}] {0 2 1 3}] {1 112 224}]
    torch::summary_image $::writer test/images [torch::tensor_add [torch::tensor_mul $grid 0.3530] 0.2860] $epoch
  }
  set md "predicted (true) labels of the images, row by row\n\n|[string repeat { |} 8]\n|[string repeat ---| 8]\n"
  for {set i 0} {$i < 32} {incr i} {
    set p [lindex $::classes [lindex $pred $i]]
    set t [lindex $::classes [lindex $truth $i]]
    append md "| " [expr {$p eq $t ? $p : "**$p** ($t)"}] " "
    if {$i % 8 == 7} { append md "|\n" }
  }
  torch::summary_text $::writer test/predictions $md $epoch
}

# One optimizer step on a batch; returns {loss correct}.
proc trainStep {x y} {
  torch::scope {
    torch::optimizer_zero_grad $::optim
    set logits [torch::layer_forward $::model $x]
    set loss [torch::cross_entropy_loss $logits $y]
    torch::tensor_backward $loss
    torch::distributed_sync_gradients $::model
    torch::optimizer_step $::optim
    list [torch::tensor_item $loss] \
         [torch::tensor_item [torch::tensor_sum [torch::tensor_eq [torch::tensor_argmax $logits 1] $y]]]
  }
}
if {$opt(-loader)} {
  set loader [torch::dataloader [list $xtrain $ytrain] -batch $local -shuffle 1 -seed $opt(-seed) -drop_last 1 \
                  -workers $opt(-workers)]
}
# The next batch {x y} (fresh handles), or {} at the end of the epoch.
proc nextBatch {} {
  if {$::opt(-loader)} { return [torch::dataloader_next $::loader] }
  if {![llength $::batches]} { return {} }
  set ::batches [lassign $::batches idx]
  set b [list [torch::tensor_index_select $::xtrain 0 $idx] [torch::tensor_index_select $::ytrain 0 $idx]]
  torch::free $idx
  return $b
}

proc bar {done total} {
  set w 30
  set n [expr {$total ? $w * $done / $total : $w}]
  return "\[[string repeat = $n][string repeat { } [expr {$w - $n}]]\] $done/$total"
}

set tstart [clock milliseconds]
for {set epoch 1} {$epoch <= $opt(-epochs)} {incr epoch} {
  torch::model_train $model
  if {$opt(-loader)} {
    torch::dataloader_epoch $loader $epoch
    set nb [torch::dataloader_length $loader]
  } else {
    set batches [torch::dataset_batches $ntrain $local -shuffle 1 -seed $opt(-seed) -epoch $epoch -drop_last 1]
    set nb [llength $batches]
  }
  set lossSum 0.0; set correct 0; set seen 0; set step 0
  set te [clock milliseconds]
  while {[llength [set b [nextBatch]]]} {
    lassign [trainStep {*}$b] l c
    torch::free $b
    set lossSum [expr {$lossSum + $l}]
    incr correct $c
    incr seen $local
    incr step
    if {$live && ($step % 20 == 0 || $step == $nb)} {
      puts -nonewline [format "\repoch %d/%d %s loss %.4f" $epoch $opt(-epochs) [bar $step $nb] [expr {$lossSum / $step}]]
      flush stdout
    }
  }
  set secs [expr {([clock milliseconds] - $te) / 1000.0}]
  lassign [allSum [list $lossSum $correct $seen $step]] lossAll correctAll seenAll stepsAll
  set acc [accuracy]
  summarize $epoch [list loss/train [expr {$lossAll / $stepsAll}] accuracy/train [expr {100.0 * $correctAll / $seenAll}] \
                        accuracy/test $acc images_per_second [expr {$seenAll / $secs}]]
  if {$live} { puts -nonewline "\r" }
  say [format "epoch %d/%d %s loss %.4f  train accuracy %.1f%%  test accuracy %.2f%%  %.0f images/s  %.1fs" \
           $epoch $opt(-epochs) [bar $nb $nb] [expr {$lossAll / $stepsAll}] [expr {100.0 * $correctAll / $seenAll}] \
           $acc [expr {$seenAll / $secs}] $secs]
}

# ---- checkpoint: weights (torch.save format, loads into the same PyTorch model) + Adam state ----
if {$rank == 0} {
  torch::save_state_dict $model $opt(-checkpoint)
  torch::optimizer_save $optim $opt(-checkpoint).optim
}
say [format "saved checkpoint %s (+ .optim) after %.1fs of training" $opt(-checkpoint) \
         [expr {([clock milliseconds] - $tstart) / 1000.0}]]
set acc [accuracy]
say [format "final test accuracy %.2f%% (target %s%%: %s)" $acc $opt(-target) \
         [expr {$acc >= $opt(-target) ? "reached" : "not reached"}]]
if {$writer ne ""} { torch::free $writer }  ;# flushes and closes the event file
if {$opt(-loader)} { torch::free $loader }
if {$distributed} { torch::distributed_destroy }
