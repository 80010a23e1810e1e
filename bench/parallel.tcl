# Model parallelism (docs/parallel.md), in one run:
#   memory  bytes per rank (parameters + gradients + Adam state) of the wide MLP
#           with fully_shard on 1, 2 and 4 ranks, against total/N + largest unit
#   fsdp    a training step of fully_shard against distributed_data_parallel on
#           the wide MLP, 2 ranks, global batch 64 (ratio of steady-state steps);
#           again with -reshard_after_forward 0 (no all-gather in backward)
#   tp      a step of a tensor-parallel transformer MLP block (d 256, 4d hidden,
#           colwise then rowwise) on 2 ranks against the same block in one process
# Steady state: the mean of -steps steps after the first; the first step is
# reported too (set-up, first allocations). Rounds alternate the sides; the
# best round's mean of each side is kept.
#
#   TCLLIBPATH=build tclsh bench/parallel.tcl ?-steps 50? ?-rounds 2? ?-threads 1?
array set opt {-steps 50 -rounds 2 -threads 1 -part driver -mode {}}
array set opt $argv
set ::env(OMP_NUM_THREADS) $opt(-threads)
set here [file dirname [file normalize [info script]]]
set source [file dirname $here]

if {$opt(-part) ne "driver"} {
  package require torch
  torch::distributed_init
  set rank [torch::get_rank]; set world [torch::get_world_size]
  proc mlp {} {
    torch::manual_seed 0
    torch::sequential [list [torch::linear 784 256] [torch::relu] [torch::linear 256 256] [torch::relu] [torch::linear 256 10]]
  }
  proc block {} {
    torch::manual_seed 0
    torch::sequential [list [torch::linear 256 1024] [torch::gelu] [torch::linear 1024 256]]
  }
  proc mine {t} { torch::tensor_index_select $t 0 [torch::tensor_create [torch::distributed_shard_indices 64] -dtype int64] }
  # ms per step: the first, and the mean of the next `steps`
  proc timeSteps {model x y loss steps} {
    set o [torch::optimizer_adam $model 0.001]
    set times {}
    for {set k 0} {$k <= $steps} {incr k} {
      set t0 [clock microseconds]
      torch::scope {
        torch::optimizer_zero_grad $o
        torch::tensor_backward [$loss [torch::layer_forward $model $x] $y]
        torch::optimizer_step $o
      }
      lappend times [expr {([clock microseconds] - $t0) / 1000.0}]
    }
    list [lindex $times 0] [expr {[tcl::mathop::+ {*}[lrange $times 1 end]] / $steps}]
  }
  torch::manual_seed 1
  switch $opt(-part) {
    memory {
      set m [mlp]
      if {$world > 1} { torch::fully_shard $m }
      set o [torch::optimizer_adam $m]
      torch::tensor_backward [torch::cross_entropy_loss [torch::layer_forward $m [mine [torch::randn {64 784}]]] \
                                [mine [torch::randint 10 {64}]]]
      torch::optimizer_step $o
      # parameters and gradients are float32 pieces of the same shapes
      puts "bytes $rank [expr {2 * 4 * [torch::count_parameters $m] + [torch::optimizer_state_bytes $o]}]"
    }
    fsdp {
      set m [mlp]
      set m [expr {$opt(-mode) eq "ddp" ? [torch::distributed_data_parallel $m]
                   : [torch::fully_shard $m -reshard_after_forward [expr {$opt(-mode) eq "fsdp"}]]}]
      lassign [timeSteps $m [mine [torch::randn {64 784}]] [mine [torch::randint 10 {64}]] torch::cross_entropy_loss $opt(-steps)] first mean
      puts "time $rank $first $mean"
    }
    tp {
      set m [block]
      if {$opt(-mode) eq "tp"} { torch::parallelize_module $m -plan {0 colwise 2 rowwise} }
      lassign [timeSteps $m [torch::randn {64 256}] [torch::randn {64 256}] torch::mse_loss $opt(-steps)] first mean
      puts "time $rank $first $mean"
    }
  }
  torch::distributed_destroy
  exit 0
}

# ---- driver ----
proc ranks {n part {mode {}}} {
  global opt here source
  set out [exec [info nameofexecutable] [file join $source tcl torchrun.tcl] -nproc $n [info script] \
               -part $part -mode $mode -steps $opt(-steps) -threads $opt(-threads) 2>@1]
  set r {}
  foreach line [split $out \n] {
    if {[regexp {^\[0\] (bytes|time) 0 (.*)$} $line - - v]} { set r $v }
  }
  if {$r eq ""} { error "no result from $part $mode on $n ranks:\n$out" }
  return $r
}

puts "bytes per rank, wide MLP (784-256-256-10, float32), Adam, fully_shard:"
set total [ranks 1 memory]
set largest [expr {(784 * 256 + 256) * 4 * 4}]  ;# the largest unit's parameters, gradients and Adam state
foreach n {1 2 4} {
  set b [expr {$n == 1 ? $total : [ranks $n memory]}]
  set target [expr {$total / $n + ($n > 1 ? $largest : 0)}]
  puts [format "  %d rank(s): %9d bytes   total/N %9d   ratio to total/N + largest unit %.2f %s" $n $b \
            [expr {$total / $n}] [expr {double($b) / $target}] [expr {$b <= 1.1 * $target ? "" : "MISSED (target <= 1.1)"}]]
}

foreach {part a b label target} {
  fsdp fsdp ddp "fully_shard / distributed_data_parallel, wide MLP, 2 ranks" 1.3
  fsdp fsdp_keep ddp "fully_shard -reshard_after_forward 0 / distributed_data_parallel" 1.3
  tp tp one "tensor-parallel MLP block on 2 ranks / one process" {}
} {
  set best($a) {}; set best($b) {}
  for {set round 0} {$round < $opt(-rounds)} {incr round} {
    foreach mode [list $a $b] {
      set n [expr {$mode eq "one" ? 1 : 2}]
      lassign [ranks $n $part $mode] first mean
      if {$best($mode) eq "" || $mean < [lindex $best($mode) 1]} { set best($mode) [list $first $mean] }
    }
  }
  lassign $best($a) fa ma; lassign $best($b) fb mb
  puts [format "%s: steady %.2f ms / %.2f ms = %.2f%s; first step %.1f ms / %.1f ms" $label $ma $mb [expr {$ma / $mb}] \
            [expr {$target ne "" && $ma / $mb > $target ? "  MISSED (target <= $target)" : ""}] $fa $fb]
}
