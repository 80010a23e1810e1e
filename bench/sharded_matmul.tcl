# Benchmark: 4096x4096 @ 4096x4096 float32, every sharding strategy on 2 ranks
# against the single-process matmul, side by side (time, ratio, bytes moved).
#
#   TCLLIBPATH=build tclsh bench/sharded_matmul.tcl ?-n 4096? ?-nproc 2? ?-reps 3?
#
# The parent process is the peer: it times the plain single-process matmul on
# all cores, then runs this same file on the ranks through tcl/torchrun.tcl
# (each rank gets cores/nproc threads, so both sides use the same machine) and
# prints the table. Bytes are the sharding layer's model (what -explain 1
# reports: bytes each rank receives); the peer moves none.
package require torch

array set opt {n 4096 nproc 2 reps 3}
foreach {k v} $argv { set opt([string trimleft $k -]) $v }
set n $opt(n)

# Median of reps timed runs of script (one warm-up first), in ms; `sync` runs
# before and after each rep so that the slowest rank is what is timed.
proc timeit {reps script {sync {}}} {
  uplevel 1 [list torch::scope $script]
  set ts {}
  for {set i 0} {$i < $reps} {incr i} {
    uplevel 1 $sync
    set t0 [clock microseconds]
    uplevel 1 [list torch::scope $script]
    uplevel 1 $sync
    lappend ts [expr {([clock microseconds] - $t0) / 1000.0}]
  }
  lindex [lsort -real $ts] [expr {$reps / 2}]
}

if {[info exists ::env(WORLD_SIZE)]} {
  # ---- one rank ----
  torch::distributed_init -timeout 600
  torch::manual_seed 0
  set A [torch::randn [list $n $n]]
  set B [torch::randn [list $n $n]]
  set rowA [torch::shard $A -dim 0]
  set colA [torch::shard $A -dim 1]
  set rowB [torch::shard $B -dim 0]
  set colB [torch::shard $B -dim 1]
  set sync torch::distributed_barrier
  foreach {label a b args} [list \
      "row (result sharded)"   $rowA $B    {-strategy row} \
      "row -gather 1"          $rowA $B    {-strategy row -gather 1} \
      "column (result sharded)" $A   $colB {-strategy column} \
      "inner (all_reduce)"     $colA $rowB {-strategy inner} \
      "replicate (whole)"      $A    $B    {-strategy replicate} \
      "replicate (gather a,b)" $colA $colB {-strategy replicate}] {
    set bytes [dict get [torch::distributed_matmul $a $b {*}$args -explain 1] bytes]
    set ms [timeit $opt(reps) {torch::distributed_matmul $a $b {*}$args} $sync]
    if {[torch::get_rank] == 0} { puts [list RESULT $label $ms $bytes] }
  }
  torch::distributed_destroy
  exit 0
}

# ---- the parent: the single-process peer, then the ranks ----
torch::manual_seed 0
set A [torch::randn [list $n $n]]
set B [torch::randn [list $n $n]]
set before [timeit $opt(reps) {torch::tensor_matmul $A $B}]

set cores [exec nproc]
set ::env(OMP_NUM_THREADS) [expr {max(1, $cores / $opt(nproc))}]
set launcher [file join [file dirname [file dirname [file normalize [info script]]]] tcl torchrun.tcl]
set out [exec [info nameofexecutable] $launcher -nproc $opt(nproc) -max_time 3000 [info script] \
             -n $n -nproc $opt(nproc) -reps $opt(reps) 2>@1]
# Timed again afterwards: on a shared machine the load drifts; the ratios use
# the mean, and both are printed so the drift is visible.

set after [timeit $opt(reps) {torch::tensor_matmul $A $B}]
torch::free [list $A $B]
set base [expr {($before + $after) / 2.0}]

puts "${n}x${n} @ ${n}x${n} float32, median of $opt(reps); single process: $cores threads; $opt(nproc) ranks x $::env(OMP_NUM_THREADS) threads"
puts [format "%-26s %10s %14s %16s" strategy "time ms" "vs 1 process" "bytes/rank"]
puts [format "%-26s %10.1f %13.2fx %16d" "1 process (before ranks)" $before [expr {$before / $base}] 0]
puts [format "%-26s %10.1f %13.2fx %16d" "1 process (after ranks)" $after [expr {$after / $base}] 0]
foreach line [split $out \n] {
  regsub {^\[\d+\] } $line {} line
  if {[lindex $line 0] ne "RESULT"} continue
  lassign $line - label ms bytes
  puts [format "%-26s %10.1f %13.2fx %16d" $label $ms [expr {$ms / $base}] $bytes]
}
