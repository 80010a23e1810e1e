# Time per epoch of the main job's CNN (examples/train_fashion_mnist.tcl, one process)
# against the same model, data, batch and optimizer in PyTorch's Python API
# (bench/fashion_mnist.py), in one run; prints the ratio Tcl / Python (target <= 1.0)
# for the first epoch and for the steady state (the mean of the later epochs).
#
#   TCLLIBPATH=build tclsh bench/fashion_mnist.tcl ?-threads 2? ?-epochs 3? ?-train 12000? ?-batch 64?
#
# Both sides train on the first -train images with -threads intra-op threads; an
# epoch's time is its training loop only (both read the loss and the correct count
# back every step), not loading or evaluation.
array set opt {-threads 2 -epochs 3 -train 12000 -batch 64 -python /usr/bin/python3
               -data /usr/share/datasets/fashion-mnist}
array set opt $argv
set root [file dirname [file dirname [file normalize [info script]]]]

proc run {cmd} {
  set ::env(OMP_NUM_THREADS) $::opt(-threads)
  if {[catch {exec {*}$cmd 2>@1} out]} { error "failed: $cmd\n$out" }
  return $out
}

set ckpt [file join [expr {[info exists ::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}] fashion_bench_[pid].pt]
set tclOut [run [list [info nameofexecutable] [file join $root examples train_fashion_mnist.tcl] \
    -epochs $opt(-epochs) -train $opt(-train) -test 1000 -batch $opt(-batch) -data $opt(-data) -checkpoint $ckpt]]
file delete $ckpt $ckpt.optim
set pyOut [run [list $opt(-python) [file join $root bench fashion_mnist.py] \
    $opt(-threads) $opt(-epochs) $opt(-train) $opt(-batch) $opt(-data)]]

set tcl [regexp -all -inline -line {^epoch \d+/\d+ .* ([0-9.]+)s$} $tclOut]
set py [regexp -all -inline -line {^epoch \d+ ([0-9.]+) } $pyOut]
set tclSecs {}; foreach {- s} $tcl { lappend tclSecs $s }
set pySecs {}; foreach {- s} $py { lappend pySecs $s }
if {[llength $tclSecs] != $opt(-epochs) || [llength $pySecs] != $opt(-epochs)} {
  error "could not read the epoch times:\n$tclOut\n$pyOut"
}

puts [format "fashion-mnist CNN, %d images per epoch, batch %d, %d thread(s)" $opt(-train) $opt(-batch) $opt(-threads)]
puts [format "%-6s %10s %10s %8s" epoch "tcl s" "python s" ratio]
for {set i 0} {$i < $opt(-epochs)} {incr i} {
  set t [lindex $tclSecs $i]; set p [lindex $pySecs $i]
  puts [format "%-6d %10.2f %10.2f %8.2f" [expr {$i + 1}] $t $p [expr {$t / $p}]]
}
proc mean {l} { expr {[tcl::mathop::+ {*}$l] / double([llength $l])} }
set first [expr {[lindex $tclSecs 0] / [lindex $pySecs 0]}]
if {$opt(-epochs) > 1} {
  set steady [expr {[mean [lrange $tclSecs 1 end]] / [mean [lrange $pySecs 1 end]]}]
} else {
  set steady $first
}
puts [format "ratio tcl/python: first epoch %.2f, steady state %.2f (target <= 1.0)" $first $steady]
