# The cost of the default desync check: all_reduce -inplace 1 of float32
# tensors on 2 ranks, check on and off, side by side in one run. Three groups
# over the same ranks, one with the check and two without
# (distributed_new_group -desync_check), are used in blocks of calls, in a
# rotating order, so that all see the same machine at the same moments (on a
# shared 2-core machine the time of one all_reduce swings by 2x between
# runs). The second group without the check measures the noise floor: its
# ratio to the first would be 1 on a quiet machine.
#
#   tclsh tcl/torchrun.tcl -nproc 2 bench/allreduce_desync.tcl ?blocks?
#
# Rank 0 prints, per size, for the first call on a fresh tensor and for the
# steady time per call: the medians over the blocks (on, off), and the medians
# of the blocks' ratios on/off and off2/off (each block's three runs follow
# each other closely, which cancels the machine's slow swings); then the time
# to make each group.
#   desync <bytes> first on <us> off <us> ratio <r> floor <r> steady on <us> off <us> ratio <r> floor <r>
#   group creation on <ms> off <ms>
package require torch
set blocks [expr {[llength $argv] ? [lindex $argv 0] : 200}]
proc median {l} { set l [lsort -real $l]; lindex $l [expr {[llength $l] / 2}] }
torch::distributed_init -timeout 120
set made(on) [lindex [time {set group(on) [torch::distributed_new_group -ranks {0 1} -desync_check 1]}] 0]
set made(off) [lindex [time {set group(off) [torch::distributed_new_group -ranks {0 1} -desync_check 0]}] 0]
set group(off2) [torch::distributed_new_group -ranks {0 1} -desync_check 0]
set kinds {on off off2}
foreach numel {1024 262144} {
  set iters [expr {$numel >= 262144 ? 5 : 10}]
  foreach k $kinds {
    set t [torch::ones [list $numel] -dtype float32]
    for {set i 0} {$i < 20} {incr i} { torch::distributed_all_reduce $t -inplace 1 -group $group($k) }
    torch::free $t
  }
  for {set b 0} {$b < $blocks} {incr b} {
    set shift [expr {$b % 3}]
    foreach k [concat [lrange $kinds $shift end] [lrange $kinds 0 [expr {$shift - 1}]]] {
      set t [torch::ones [list $numel] -dtype float32]
      torch::distributed_barrier
      lappend first($numel,$k) [lindex [time {torch::distributed_all_reduce $t -inplace 1 -group $group($k)}] 0]
      lappend steady($numel,$k) [lindex [time {torch::distributed_all_reduce $t -inplace 1 -group $group($k)} $iters] 0]
      torch::free $t
    }
  }
}
if {$::env(RANK) == 0} {
  foreach numel {1024 262144} {
    set line [format "desync %d" [expr {$numel * 4}]]
    foreach what {first steady} {
      upvar 0 $what v
      set ratios [lmap on $v($numel,on) off $v($numel,off) {expr {double($on) / $off}}]
      set floor [lmap a $v($numel,off2) off $v($numel,off) {expr {double($a) / $off}}]
      append line [format " %s on %.1f off %.1f ratio %.3f floor %.3f" $what [median $v($numel,on)] \
                       [median $v($numel,off)] [median $ratios] [median $floor]]
    }
    puts $line
  }
  puts [format "group creation on %.1f ms off %.1f ms" [expr {$made(on) / 1000.0}] [expr {$made(off) / 1000.0}]]
}
torch::distributed_destroy
