# Time of a training step (zero_grad, forward, loss, backward, Adam step) of an
# LSTM model and of a transformer encoder layer, in Tcl and in PyTorch's Python
# API in one run; prints the ratio Tcl / Python (target <= 1.0) for the first
# step of a fresh model and for the steady state.
#
#   TCLLIBPATH=build tclsh bench/lstm_transformer_step.tcl ?-threads 1? ?-steps 30? ?-rounds 3?
#
# lstm: LSTM(64 -> 128, batch_first) + linear(128 -> 10) on [32, 50, 64], cross
# entropy over every step. encoder_layer: TransformerEncoderLayer(d_model 128,
# 4 heads, feed-forward 512, dropout 0.1) on [50, 32, 128], MSE loss.
# Rounds alternate Tcl and Python; each side's best round counts.
array set opt {-threads 1 -steps 30 -rounds 3 -python /usr/bin/python3}
array set opt $argv
set ::env(OMP_NUM_THREADS) $opt(-threads)
package require torch
torch::manual_seed 0

proc lstm_model {} { torch::sequential [list [torch::lstm 64 128 1 1 1] [torch::linear 128 10]] }
proc encoder_model {} { torch::transformer_encoder_layer 128 4 512 0.1 }
set lstm_step {
  torch::scope {
    torch::optimizer_zero_grad $opt
    set loss [torch::cross_entropy_loss [torch::tensor_reshape [torch::layer_forward $model $x] {-1 10}] $y]
    torch::tensor_backward $loss
    torch::optimizer_step $opt
    torch::tensor_item $loss
  }
}
set encoder_step {
  torch::scope {
    torch::optimizer_zero_grad $opt
    set loss [torch::mse_loss [torch::layer_forward $model $x] $y]
    torch::tensor_backward $loss
    torch::optimizer_step $opt
    torch::tensor_item $loss
  }
}
# {first steady} seconds per step for a fresh model.
proc bench {make step x y steps} {
  set model [$make]
  set opt [torch::optimizer_adam $model 1e-3]
  set t0 [clock microseconds]
  eval $step
  set first [expr {([clock microseconds] - $t0) / 1e6}]
  for {set i 0} {$i < 5} {incr i} { eval $step }
  set t0 [clock microseconds]
  for {set i 0} {$i < $steps} {incr i} { eval $step }
  set steady [expr {([clock microseconds] - $t0) / 1e6 / $steps}]
  torch::free [list $opt $model]
  list $first $steady
}

set cases [dict create \
    lstm [list lstm_model $lstm_step [torch::randn {32 50 64}] [torch::randint 10 [list [expr {32 * 50}]]]] \
    encoder_layer [list encoder_model $encoder_step [torch::randn {50 32 128}] [torch::randn {50 32 128}]]]
set here [file dirname [file normalize [info script]]]
set best [dict create]
proc keep_min {key v} {
  if {![dict exists $::best $key] || $v < [dict get $::best $key]} { dict set ::best $key $v }
}
for {set r 0} {$r < $opt(-rounds)} {incr r} {
  dict for {name c} $cases {
    lassign [bench {*}$c $opt(-steps)] first steady
    keep_min "tcl $name first" $first
    keep_min "tcl $name steady" $steady
  }
  foreach line [split [exec $opt(-python) [file join $here lstm_transformer_step.py] $opt(-threads) $opt(-steps)] \n] {
    lassign $line name kind secs
    keep_min "python $name $kind" $secs
  }
}
puts [format "%-14s %-7s %12s %12s %7s   (%d threads, best of %d rounds x %d steps)" \
          model phase "tcl ms/step" "py ms/step" ratio $opt(-threads) $opt(-rounds) $opt(-steps)]
foreach name {lstm encoder_layer} {
  foreach kind {first steady} {
    set t [dict get $best "tcl $name $kind"]; set p [dict get $best "python $name $kind"]
    puts [format "%-14s %-7s %12.3f %12.3f %7.3f" $name $kind [expr {1e3 * $t}] [expr {1e3 * $p}] [expr {$t / $p}]]
  }
}
