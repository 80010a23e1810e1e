# all_reduce benchmark, 2 ranks on this machine, side by side in one run:
#   C++    a plain c10d program (bench/allreduce.cpp, CMake target bench_allreduce)
#   Python torch.distributed on Gloo (/usr/bin/python3, Debian python3-torch)
#   Tcl    torch::distributed_all_reduce, -inplace 1 and the default (new tensor)
# All three go through tcl/torchrun.tcl with GLOO_SOCKET_IFNAME=lo, the same
# Gloo settings (2 threads, loopback). Each is run -rounds times (default 3),
# interleaved, and the best time per size is kept.
#
#   cmake --build build --target bench_allreduce
#   tclsh bench/run_allreduce.tcl ?-build build? ?-python /usr/bin/python3? ?-rounds 3?
# (or: cmake --build build --target bench_collective)
set here [file dirname [file normalize [info script]]]
set root [file dirname $here]
set opts [dict create build [file join $root build] python /usr/bin/python3 rounds 3]
foreach {k v} $argv { dict set opts [string range $k 1 end] $v }
set build [file normalize [dict get $opts build]]
set ::env(TCLLIBPATH) [list $build]
set ::env(GLOO_SOCKET_IFNAME) lo
# The peers have no desync check: the Tcl side runs without it too (its cost
# is measured on its own, on vs off, at the end: bench/allreduce_desync.tcl).
set ::env(TCLTORCH_DESYNC_CHECK) 0
set launcher [file join $root tcl torchrun.tcl]
set cpp [file join $build bench_allreduce]
if {![file executable $cpp]} { puts stderr "build the C++ peer first: cmake --build build --target bench_allreduce"; exit 1 }

# Runs one peer on 2 ranks; rank 0's lines: size seconds ?seconds?
proc run {args} {
  set out [exec [info nameofexecutable] $::launcher -nproc 2 {*}$args 2>@1]
  set rows {}
  foreach line [split $out \n] {
    if {[regexp {^\[0\] (\d+) ([0-9.e+-]+)(?: ([0-9.e+-]+))?$} $line -> size a b]} {
      dict set rows $size [list $a $b]
    }
  }
  if {[dict size $rows] != 4} { error "unexpected output from $args:\n$out" }
  return $rows
}
proc best {var size col value} {
  upvar $var d
  if {![dict exists $d $size $col] || $value < [dict get $d $size $col]} { dict set d $size $col $value }
}

set res {}
for {set round 0} {$round < [dict get $opts rounds]} {incr round} {
  dict for {size v} [run $cpp] { best res $size cpp [lindex $v 0] }
  dict for {size v} [run [dict get $opts python] [file join $here allreduce.py]] { best res $size py [lindex $v 0] }
  dict for {size v} [run [file join $here allreduce.tcl]] {
    best res $size tcl [lindex $v 0]
    best res $size copy [lindex $v 1]
  }
}

proc human {bytes} {
  foreach {u n} {MiB 1048576 KiB 1024} { if {$bytes >= $n} { return "[expr {$bytes / $n}] $u" } }
  return "$bytes B"
}
proc cell {s bytes} { format "%10.1f us %7.3f GB/s" [expr {$s * 1e6}] [expr {$bytes / $s / 1e9}] }
puts "all_reduce float32, 2 ranks, Gloo over loopback (best of [dict get $opts rounds] rounds)"
puts [format "%-8s | %-26s | %-26s | %-26s | %-26s | %8s %8s %8s" size "C++ c10d" "Python torch.distributed" \
    "Tcl -inplace 1" "Tcl (new tensor)" tcl/C++ tcl/py copy/py]
set ok 1
dict for {size d} $res {
  dict with d {
    puts [format "%-8s | %s | %s | %s | %s | %8.3f %8.3f %8.3f" [human $size] [cell $cpp $size] [cell $py $size] \
        [cell $tcl $size] [cell $copy $size] [expr {$tcl / $cpp}] [expr {$tcl / $py}] [expr {$copy / $py}]]
    if {$tcl > $py} { set ok 0; puts "  target missed: Tcl in-place slower than Python at [human $size]" }
    if {$size >= 67108864 && $tcl > 1.05 * $cpp} { set ok 0; puts "  target missed: Tcl in-place more than 5% over C++ at 64 MiB" }
  }
}
puts [expr {$ok ? "targets met: in-place within 5% of C++ at 64 MiB, no slower than Python at every size" : "some targets missed (see above)"}]

# The desync check's cost, on vs off in the same run.
unset ::env(TCLTORCH_DESYNC_CHECK)
set out [exec [info nameofexecutable] $launcher -nproc 2 [file join $here allreduce_desync.tcl] [dict get $opts rounds] 2>@1]
foreach line [split $out \n] {
  if {[regexp {^\[0\] desync (\d+) on ([0-9.]+) off ([0-9.]+) ratio ([0-9.]+)$} $line -> size on off ratio]} {
    puts [format "desync check at %-8s: %8.1f us on, %8.1f us off, ratio %.3f" [human $size] $on $off $ratio]
  }
}
