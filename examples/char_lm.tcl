# Character-level language model: embedding + LSTM + linear, trained on a text
# file every Debian system has, then a paragraph sampled at a temperature.
#
#   tclsh examples/char_lm.tcl ?-epochs N? ?-steps S? ?-batch B? ?-seq T? ?-hidden H?
#                              ?-lr LR? ?-temperature X? ?-sample CHARS? ?-text FILE? ?-seed N?
#   tclsh tcl/torchrun.tcl -nproc 2 examples/char_lm.tcl      (same script, 2 ranks)
#
# The defaults train for about a minute on two cores; e.g. `-epochs 20 -steps 100
# -hidden 256` gives far more readable samples. Each epoch is S optimizer steps on
# B random windows of T characters. On N ranks every rank starts from rank 0's
# weights, takes B/N windows (from its own random stream) and the gradients are
# averaged (distributed_sync_gradients), so N ranks train like one process with
# batch B.
package require torch

array set opt {-epochs 4 -steps 40 -batch 32 -seq 64 -hidden 128 -embed 32 -lr 0.01
               -temperature 0.8 -sample 300 -text /usr/share/common-licenses/GPL-3 -seed 1
               -prompt "The "}
array set opt $argv
set distributed [info exists ::env(WORLD_SIZE)]
if {$distributed} { torch::distributed_init }
set rank [torch::get_rank]
set world [torch::get_world_size]
proc say {msg} { if {$::rank == 0} { puts $msg; flush stdout } }

# ---- data: the text as indices into its sorted set of characters ----
set f [open $opt(-text)]
fconfigure $f -encoding utf-8
set text [read $f]
close $f
set chars [lsort -unique [split $text ""]]
set V [llength $chars]
set i 0
foreach ch $chars { set code($ch) $i; set char($i) $ch; incr i }
set ids {}
foreach ch [split $text ""] { lappend ids $code($ch) }
set data [torch::tensor_create $ids -dtype int64]
set N [llength $ids]
set T $opt(-seq)
set local [expr {max(1, $opt(-batch) / $world)}]

# ---- model: embedding -> LSTM (batch first) -> linear over the vocabulary ----
torch::manual_seed $opt(-seed)
set emb  [torch::embedding $V $opt(-embed)]
set lstm [torch::lstm $opt(-embed) $opt(-hidden) 1 1 1]
set head [torch::linear $opt(-hidden) $V]
# In a sequential the LSTM passes on its output sequence (its states are dropped).
set model [torch::sequential [list $emb $lstm $head]]
torch::distributed_broadcast_parameters $model
set optim [torch::optimizer_adam $model $opt(-lr)]
say "tcltorch char_lm | world size $world | [string length $text] characters, vocabulary $V |\
     [torch::count_parameters $model] parameters"

# Each rank draws its own windows: a different random stream per rank.
torch::manual_seed [expr {1000 + $rank}]
set steps_t [torch::arange $T -dtype int64]
# B windows of T+1 characters: inputs are the first T, targets the last T.
proc batch {} {
  set starts [torch::randint [expr {$::N - $::T - 1}] [list $::local 1]]
  set idx [torch::tensor_add $starts [torch::arange [expr {$::T + 1}] -dtype int64]]
  set win [torch::tensor_reshape [torch::tensor_index_select $::data 0 [torch::tensor_reshape $idx {-1}]] \
               [list $::local [expr {$::T + 1}]]]
  list [torch::tensor_narrow $win 1 0 $::T] [torch::tensor_narrow $win 1 1 $::T]
}

proc global_mean {v} {
  torch::scope { torch::tensor_item [torch::distributed_all_reduce [torch::tensor_create $v -dtype float64] mean] }
}

set t0 [clock milliseconds]
for {set epoch 1} {$epoch <= $opt(-epochs)} {incr epoch} {
  torch::model_train $model
  set total 0.0
  for {set s 0} {$s < $opt(-steps)} {incr s} {
    set total [expr {$total + [torch::scope {
      lassign [batch] x y
      torch::optimizer_zero_grad $optim
      set logits [torch::layer_forward $model $x]
      set loss [torch::cross_entropy_loss [torch::tensor_reshape $logits [list -1 $V]] [torch::tensor_reshape $y {-1}]]
      torch::tensor_backward $loss
      torch::distributed_sync_gradients $model
      torch::clip_grad_norm $model 1.0
      torch::optimizer_step $optim
      torch::tensor_item $loss
    }]}]
  }
  set loss [global_mean [expr {$total / $opt(-steps)}]]
  say [format "epoch %2d/%d loss %.4f (%.2f bits/char)  %.1fs" $epoch $opt(-epochs) $loss \
           [expr {$loss / log(2)}] [expr {([clock milliseconds] - $t0) / 1000.0}]]
}

# ---- sampling: feed the prompt, then one character at a time from the LSTM state ----
torch::model_eval $model
proc sample {prompt n temperature} {
  set out $prompt
  torch::no_grad {
    set h ""; set c ""
    set next ""
    foreach ch [split $prompt ""] { lappend next $::code($ch) }
    for {set k 0} {$k < $n} {incr k} {
      torch::scope {
        set x [torch::layer_forward $::emb [torch::tensor_reshape [torch::tensor_create $next -dtype int64] {1 -1}]]
        if {$h eq ""} {
          lassign [torch::layer_forward $::lstm $x] y state
        } else {
          lassign [torch::rnn_forward $::lstm $x $h $c] y state
        }
        set old [list $h $c]
        lassign $state h c
        set last [torch::tensor_narrow $y 1 [expr {[lindex [torch::tensor_shape $y] 1] - 1}] 1]
        set logits [torch::tensor_reshape [torch::layer_forward $::head $last] {-1}]
        set p [torch::tensor_softmax [torch::tensor_div $logits $temperature] 0]
        set id [torch::tensor_item [torch::multinomial $p 1]]
        torch::keep [list $h $c]
        if {[lindex $old 0] ne ""} { torch::free $old }
      }
      append out $::char($id)
      set next [list $id]
    }
    torch::free [list $h $c]
  }
  return $out
}
if {$rank == 0} {
  torch::manual_seed $opt(-seed)
  say "sample (temperature $opt(-temperature)):"
  say [sample $opt(-prompt) $opt(-sample) $opt(-temperature)]
}
if {$distributed} { torch::distributed_destroy }
