# Time per training step (zero_grad, forward, cross entropy, backward, SGD
# step with momentum) of the same models in Tcl and in PyTorch's
# Python API, in one run; prints the ratio Tcl / Python (target <= 1.0).
#
#   TCLLIBPATH=build tclsh bench/train_step.tcl ?-threads 1? ?-steps 200? ?-rounds 3?
#
# Models: mlp_small (examples/train_mlp.tcl's 20-64-64-4 MLP, where the
# per-command cost of Tcl shows most), mlp (784-256-256-10) and cnn (two conv
# layers on 28x28), all with batch 64.
# glibc hands large freed buffers back to the system and adjusts its mmap
# threshold as it goes, so the CNN step (large activations) is bimodal on both
# sides, 8.5 to 21 ms for one build here. For figures that compare, run with
# the launcher's settings (tcl/torchrun.tcl), which the Python peer inherits:
#   MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 TCLLIBPATH=build tclsh bench/train_step.tcl
# Rounds alternate Tcl and Python; each side's best round counts, which
# filters out noise from other work on the machine.
array set opt {-threads 1 -steps 200 -rounds 3 -python /usr/bin/python3}
array set opt $argv
# Both sides use the same number of intra-op threads (read when libtorch loads).
set ::env(OMP_NUM_THREADS) $opt(-threads)
package require torch

torch::manual_seed 0
proc mlp_small {} {  ;# examples/train_mlp.tcl's model: Tcl overhead matters most here
  torch::sequential [list [torch::linear 20 64] [torch::relu] [torch::linear 64 64] [torch::relu] [torch::linear 64 4]]
}
proc mlp {} {
  torch::sequential [list [torch::linear 784 256] [torch::relu] [torch::linear 256 256] [torch::relu] \
                         [torch::linear 256 10]]
}
proc cnn {} {
  torch::sequential [list [torch::conv2d 1 16 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
                         [torch::conv2d 16 32 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
                         [torch::flatten] [torch::linear [expr {32 * 7 * 7}] 10]]
}
proc bench {model x y steps} {
  set opt [torch::optimizer_sgd $model 0.01 0.9]
  set step {
    torch::scope {
      torch::optimizer_zero_grad $opt
      set loss [torch::cross_entropy_loss [torch::layer_forward $model $x] $y]
      torch::tensor_backward $loss
      torch::optimizer_step $opt
      torch::tensor_item $loss
    }
  }
  for {set i 0} {$i < 10} {incr i} { eval $step }
  set t0 [clock microseconds]
  for {set i 0} {$i < $steps} {incr i} { eval $step }
  torch::free $opt
  expr {([clock microseconds] - $t0) / 1e6 / $steps}
}

set y [torch::randint 10 {64}]
set models [dict create mlp_small [list [mlp_small] [torch::randn {64 20}] [torch::randint 4 {64}]] mlp [list [mlp] [torch::randn {64 784}] $y] cnn [list [cnn] [torch::randn {64 1 28 28}] $y]]
set here [file dirname [file normalize [info script]]]
set best [dict create]
proc keep_min {key v} {
  if {![dict exists $::best $key] || $v < [dict get $::best $key]} { dict set ::best $key $v }
}
for {set r 0} {$r < $opt(-rounds)} {incr r} {
  dict for {name mx} $models {
    lassign $mx m x t
    # the small model's step is short: 10x the steps for a stable time
    keep_min "tcl $name" [bench $m $x $t [expr {$name eq "mlp_small" ? 10 * $opt(-steps) : $opt(-steps)}]]
  }
  foreach line [split [exec $opt(-python) [file join $here train_step.py] $opt(-threads) $opt(-steps)] \n] {
    lassign $line name secs
    keep_min "python $name" $secs
  }
}
puts [format "%-10s %12s %12s %8s   (%d threads, batch 64, best of %d rounds x %d steps)" \
          model "tcl ms/step" "py ms/step" ratio $opt(-threads) $opt(-rounds) $opt(-steps)]
foreach name {mlp_small mlp cnn} {
  set t [dict get $best "tcl $name"]; set p [dict get $best "python $name"]
  puts [format "%-10s %12.3f %12.3f %8.3f" $name [expr {$t * 1e3}] [expr {$p * 1e3}] [expr {$t / $p}]]
}
