# Data-parallel training step on 2 ranks: Tcl against PyTorch's
# DistributedDataParallel on Gloo (Debian's python3-torch, in the same run),
# same models, global batch 64 split over the ranks. Two Tcl levels:
#   sync  backward, then distributed_sync_gradients (all buckets after backward)
#   ddp   distributed_data_parallel (buckets all-reduced during backward)
# Then the optimizer-state bytes per rank of Adam on the wide MLP, unsharded and
# with zero_redundancy_optimizer, for 1, 2 and 4 ranks.
#
#   TCLLIBPATH=build tclsh bench/data_parallel.tcl ?-threads 1? ?-steps 200? ?-rounds 2? ?-bucket_mb 25? ?-first_bucket_mb 1?
#
# Without WORLD_SIZE this script is the driver: it runs itself on the ranks
# through tcl/torchrun.tcl, then the Python peer, alternating rounds, and keeps
# the best steady-state time of each; the first step (bucket set-up, first
# allocations) is reported from the last round.
array set opt {-threads 1 -steps 200 -rounds 2 -bucket_mb 25 -first_bucket_mb 1 -python /usr/bin/python3 -part time}
array set opt $argv
set ::env(OMP_NUM_THREADS) $opt(-threads)
set here [file dirname [file normalize [info script]]]
set names {mlp_small mlp cnn}

if {[info exists ::env(WORLD_SIZE)]} {
  package require torch
  torch::distributed_init
  set rank [torch::get_rank]; set world [torch::get_world_size]
  proc make {name} {
    torch::manual_seed 0
    switch $name {
      mlp_small { list [torch::sequential [list [torch::linear 20 64] [torch::relu] [torch::linear 64 64] [torch::relu] [torch::linear 64 4]]] \
                      [torch::randn {64 20}] [torch::randint 4 {64}] }
      mlp { list [torch::sequential [list [torch::linear 784 256] [torch::relu] [torch::linear 256 256] [torch::relu] [torch::linear 256 10]]] \
                [torch::randn {64 784}] [torch::randint 10 {64}] }
      cnn { list [torch::sequential [list [torch::conv2d 1 16 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
                                       [torch::conv2d 16 32 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
                                       [torch::flatten] [torch::linear [expr {32 * 7 * 7}] 10]]] \
                [torch::randn {64 1 28 28}] [torch::randint 10 {64}] }
    }
  }
  if {$opt(-part) eq "memory"} {
    # Adam's state per rank on the wide MLP after one step: unsharded, then ZeRO stage 1.
    lassign [make mlp] model x y
    set xs [torch::tensor_index_select $x 0 [torch::tensor_create [torch::distributed_shard_indices 64] -dtype int64]]
    set ys [torch::tensor_index_select $y 0 [torch::tensor_create [torch::distributed_shard_indices 64] -dtype int64]]
    set ddp [torch::distributed_data_parallel $model]
    foreach kind {adam zero} {
      set o [torch::optimizer_adam $model]
      if {$kind eq "zero"} { set o [torch::zero_redundancy_optimizer $o] }
      torch::optimizer_zero_grad $o
      torch::tensor_backward [torch::cross_entropy_loss [torch::layer_forward $ddp $xs] $ys]
      torch::optimizer_step $o
      puts "$kind $rank [torch::optimizer_state_bytes $o] [torch::count_parameters $model]"
    }
    torch::distributed_destroy
    exit 0
  }
  foreach name $::names {
    foreach mode {sync ddp} {
      lassign [make $name] model x y
      set idx [torch::tensor_create [torch::distributed_shard_indices 64] -dtype int64]
      set xs [torch::tensor_index_select $x 0 $idx]
      set ys [torch::tensor_index_select $y 0 $idx]
      if {$mode eq "ddp"} {
        set net [torch::distributed_data_parallel $model -bucket_mb $opt(-bucket_mb) -first_bucket_mb $opt(-first_bucket_mb)]
        set sync {}
      } else {
        torch::distributed_broadcast_parameters $model
        set net $model
        set sync [list torch::distributed_sync_gradients $model -bucket_mb $opt(-bucket_mb)]
      }
      set o [torch::optimizer_sgd $model 0.01 0.9]
      set step {
        torch::scope {
          torch::optimizer_zero_grad $o
          set loss [torch::cross_entropy_loss [torch::layer_forward $net $xs] $ys]
          torch::tensor_backward $loss
          {*}$sync
          torch::optimizer_step $o
          torch::tensor_item $loss
        }
      }
      torch::distributed_barrier
      set t0 [clock microseconds]
      eval $step
      set first [expr {([clock microseconds] - $t0) / 1e6}]
      for {set i 0} {$i < 10} {incr i} { eval $step }
      set n [expr {$name eq "mlp_small" ? 10 * $opt(-steps) : $opt(-steps)}]  ;# short steps: more of them
      torch::distributed_barrier
      set t0 [clock microseconds]
      for {set i 0} {$i < $n} {incr i} { eval $step }
      torch::distributed_barrier
      if {$rank == 0} { puts "$mode $name [expr {([clock microseconds] - $t0) / 1e6 / $n}] $first" }
    }
  }
  torch::distributed_destroy
  exit 0
}

set best [dict create]
proc keep_min {key v} {
  if {![dict exists $::best $key] || $v < [dict get $::best $key]} { dict set ::best $key $v }
}
set launcher [file join [file dirname $here] tcl torchrun.tcl]
# The launcher gives the Tcl ranks glibc's mmap and trim thresholds
# (docs/distributed.md); the Python peer (mp.spawn) gets the same.
foreach {var value} {MALLOC_MMAP_THRESHOLD_ 67108864 MALLOC_TRIM_THRESHOLD_ 268435456} {
  if {![info exists ::env($var)]} { set ::env($var) $value }
}
for {set r 0} {$r < $opt(-rounds)} {incr r} {
  foreach line [split [exec [info nameofexecutable] $launcher -nproc 2 [info script] {*}$argv] \n] {
    if {[regexp {^\[0\] (\S+) (\S+) (\S+) (\S+)$} $line -> mode name secs first]} {
      keep_min "$mode $name" $secs
      dict set first1 "$mode $name" $first
    }
  }
  foreach line [split [exec $opt(-python) [file join $here ddp_step.py] $opt(-threads) $opt(-steps) 2>@stderr] \n] {
    if {[llength $line] == 3} {
      keep_min "python [lindex $line 0]" [lindex $line 1]
      dict set first1 "python [lindex $line 0]" [lindex $line 2]
    }
  }
}
puts [format "step time, 2 ranks, Gloo, %d thread(s), global batch 64, best of %d rounds x %d steps (first step: last round)" \
          $opt(-threads) $opt(-rounds) $opt(-steps)]
puts [format "%-10s %10s %10s %10s %9s %9s   %s" model "sync ms" "ddp ms" "DDP ms" "sync/DDP" "ddp/DDP" "first step ms: sync ddp DDP"]
foreach name $names {
  set s [dict get $best "sync $name"]; set d [dict get $best "ddp $name"]; set p [dict get $best "python $name"]
  puts [format "%-10s %10.3f %10.3f %10.3f %9.3f %9.3f   %.1f %.1f %.1f" $name [expr {$s * 1e3}] [expr {$d * 1e3}] \
            [expr {$p * 1e3}] [expr {$s / $p}] [expr {$d / $p}] [expr {[dict get $first1 "sync $name"] * 1e3}] \
            [expr {[dict get $first1 "ddp $name"] * 1e3}] [expr {[dict get $first1 "python $name"] * 1e3}]]
}

# Optimizer-state bytes per rank (Adam, wide MLP, float32).
puts ""
puts [format "%-6s %14s %14s %14s %12s %8s" ranks "adam B/rank" "zero B/rank" "total/N B" "zero/(t/N)" "target"]
foreach n {1 2 4} {
  set out [exec [info nameofexecutable] $launcher -nproc $n [info script] {*}$argv -part memory]
  set adam 0; set zero 0
  foreach line [split $out \n] {
    if {[regexp {^\[\d+\] (adam|zero) (\d+) (\d+) (\d+)$} $line -> kind r bytes params]} {
      set $kind [expr {max([set $kind], $bytes)}]
    }
  }
  set total [expr {8 * $params}]  ;# exp_avg + exp_avg_sq, 4 bytes each
  set bound [expr {1.1 * ($total / double($n) + $opt(-bucket_mb) * 1048576)}]
  puts [format "%-6d %14d %14d %14.0f %12.4f %8s" $n $adam $zero [expr {$total / double($n)}] \
            [expr {$zero / ($total / double($n))}] [expr {$zero <= $bound ? "met" : "missed"}]]
}
