# Data-parallel training step on 2 ranks: Tcl (launcher, Gloo, bucketed
# distributed_sync_gradients) against PyTorch's DistributedDataParallel on
# Gloo, same models, global batch 64 split over the ranks. Prints the ratio.
#
#   TCLLIBPATH=build tclsh bench/data_parallel.tcl ?-threads 1? ?-steps 200? ?-rounds 2? ?-bucket_mb 25?
#
# Without WORLD_SIZE this script is the driver: it runs itself on 2 ranks
# through tcl/torchrun.tcl, then the Python peer, alternating rounds.
array set opt {-threads 1 -steps 200 -rounds 2 -bucket_mb 25 -python /usr/bin/python3}
array set opt $argv
set ::env(OMP_NUM_THREADS) $opt(-threads)
set here [file dirname [file normalize [info script]]]

if {[info exists ::env(WORLD_SIZE)]} {
  package require torch
  torch::distributed_init
  set rank [torch::get_rank]; set world [torch::get_world_size]
  torch::manual_seed 0
  set models [list \
      mlp_small [torch::sequential [list [torch::linear 20 64] [torch::relu] [torch::linear 64 64] [torch::relu] [torch::linear 64 4]]] \
          [torch::randn {64 20}] [torch::randint 4 {64}] \
      mlp [torch::sequential [list [torch::linear 784 256] [torch::relu] [torch::linear 256 256] [torch::relu] [torch::linear 256 10]]] \
          [torch::randn {64 784}] [torch::randint 10 {64}]]
  set idx [torch::tensor_create [torch::distributed_shard_indices 64] -dtype int64]
  foreach {name model x y} $models {
    torch::distributed_broadcast_parameters $model
    set xs [torch::tensor_index_select $x 0 $idx]
    set ys [torch::tensor_index_select $y 0 $idx]
    set o [torch::optimizer_sgd $model 0.01 0.9]
    set step {
      torch::scope {
        torch::optimizer_zero_grad $o
        set loss [torch::cross_entropy_loss [torch::layer_forward $model $xs] $ys]
        torch::tensor_backward $loss
        torch::distributed_sync_gradients $model -bucket_mb $opt(-bucket_mb)
        torch::optimizer_step $o
        torch::tensor_item $loss
      }
    }
    for {set i 0} {$i < 10} {incr i} { eval $step }
    set n [expr {$name eq "mlp_small" ? 10 * $opt(-steps) : $opt(-steps)}]  ;# short steps: more of them
    torch::distributed_barrier
    set t0 [clock microseconds]
    for {set i 0} {$i < $n} {incr i} { eval $step }
    torch::distributed_barrier
    if {$rank == 0} { puts "$name [expr {([clock microseconds] - $t0) / 1e6 / $n}]" }
  }
  torch::distributed_destroy
  exit 0
}

set best [dict create]
proc keep_min {key v} {
  if {![dict exists $::best $key] || $v < [dict get $::best $key]} { dict set ::best $key $v }
}
set launcher [file join [file dirname $here] tcl torchrun.tcl]
for {set r 0} {$r < $opt(-rounds)} {incr r} {
  foreach line [split [exec [info nameofexecutable] $launcher -nproc 2 [info script] {*}$argv] \n] {
    if {[regexp {^\[0\] (\S+) (\S+)$} $line -> name secs]} { keep_min "tcl $name" $secs }
  }
  foreach line [split [exec $opt(-python) [file join $here ddp_step.py] $opt(-threads) $opt(-steps) 2>@stderr] \n] {
    if {[llength $line] == 2} { keep_min "python [lindex $line 0]" [lindex $line 1] }
  }
}
puts [format "%-10s %12s %12s %8s   (2 ranks, Gloo, %d threads, global batch 64, best of %d x %d steps)" \
          model "tcl ms/step" "DDP ms/step" ratio $opt(-threads) $opt(-rounds) $opt(-steps)]
foreach name {mlp_small mlp} {
  set t [dict get $best "tcl $name"]; set p [dict get $best "python $name"]
  puts [format "%-10s %12.3f %12.3f %8.3f" $name [expr {$t * 1e3}] [expr {$p * 1e3}] [expr {$t / $p}]]
}
