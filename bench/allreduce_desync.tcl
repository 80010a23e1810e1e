# The cost of the default desync check: all_reduce -inplace 1 of float32
# tensors on 2 ranks with the check on and off, in the same run (the process
# group is made again for each setting, alternating, best of -rounds).
#
#   tclsh tcl/torchrun.tcl -nproc 2 bench/allreduce_desync.tcl ?rounds?
#
# Rank 0 prints one line per size:
#   desync <bytes> on <us per call> off <us per call> ratio <on/off>
#
# Measured 2026-11-30 on the shared 2-core development machine, three runs
# (load 8-11 with other builds and suites running; the third at load 4):
#   4 KiB   ratio 4.63 (1284 vs 278 us), 4.25 (1266 vs 298 us), 2.14 (662 vs 310 us)
#   1 MiB   ratio 1.42 (1778 vs 1251 us), 1.32 (1245 vs 944 us), 1.41 (1085 vs 769 us)
# The check is one more (small) collective per call: its cost is a
# collective's latency, mostly thread wake-ups inside Gloo, which a loaded
# machine inflates. It misses the aim (<= 5% at 4 KiB, nothing measurable at
# 1 MiB); see docs/distributed.md, "When things go wrong".
package require torch
set rounds [expr {[llength $argv] ? [lindex $argv 0] : 3}]
set sizes {1024 262144}   ;# 4 KiB and 1 MiB
set base $::env(MASTER_PORT)
set best {}
set k 0
for {set round 0} {$round < $rounds} {incr round} {
  foreach check {1 0} {
    # A fresh rendezvous per group: the next port (the environment must agree).
    set ::env(MASTER_PORT) [expr {$base + [incr k]}]
    torch::distributed_init -timeout 120 -desync_check $check
    foreach numel $sizes {
      set iters [expr {$numel >= 262144 ? 100 : 1000}]
      set t [torch::ones [list $numel] -dtype float32]
      for {set i 0} {$i < 20} {incr i} { torch::distributed_all_reduce $t -inplace 1 }
      for {set block 0} {$block < 5} {incr block} {
        torch::distributed_barrier
        set us [lindex [time {torch::distributed_all_reduce $t -inplace 1} $iters] 0]
        if {![dict exists $best $numel $check] || $us < [dict get $best $numel $check]} {
          dict set best $numel $check $us
        }
      }
      torch::free $t
    }
    torch::distributed_barrier
    torch::distributed_destroy
  }
}
if {$::env(RANK) == 0} {
  foreach numel $sizes {
    set on [dict get $best $numel 1]
    set off [dict get $best $numel 0]
    puts [format "desync %d on %.1f off %.1f ratio %.3f" [expr {$numel * 4}] $on $off [expr {$on / $off}]]
  }
}
