# Time per epoch of the main job's CNN (examples/train_fashion_mnist.tcl, one process)
# against the same model, data, batch and optimizer in PyTorch's Python API
# (bench/fashion_mnist.py), in one run; prints the ratio Tcl / Python (target <= 1.0)
# for the first epoch and for the steady state (the mean of the later epochs).
#
#   TCLLIBPATH=build tclsh bench/fashion_mnist.tcl ?-threads 1? ?-epochs 3? ?-train 12000? ?-batch 64? ?-together 1?
#
# Both sides train on the first -train images with -threads intra-op threads (1 is what
# each of the main job's 2 ranks uses on 2 cores); an epoch's time is its training loop
# only (both read the loss and the correct count back every step), not loading or
# evaluation. With -together 1 (the default) the two run at the same time, one core each
# on a 2-core machine, so that both see the same load from the rest of the machine;
# -together 0 runs them one after the other. Both start from the same weights and
# draw the same batches, so their losses agree too (printed).
# -loader both (the default) then also runs the Tcl job twice side by side, batches from
# torch::dataloader's worker thread (-loader 1, the main job's way) against
# dataset_batches + index_select on the main thread (-loader 0), and prints the
# images per second of each; -loader 1 or 0 only runs the comparison with Python that way.
array set opt {-threads 1 -epochs 3 -train 12000 -batch 64 -together 1 -python /usr/bin/python3
               -data /usr/share/datasets/fashion-mnist -loader both}
array set opt $argv
set root [file dirname [file dirname [file normalize [info script]]]]

proc start {cmd} {
  set ::env(OMP_NUM_THREADS) $::opt(-threads)
  open |[concat $cmd [list 2>@1]] r
}
proc finish {chan what} {
  set out [read $chan]
  if {[catch {close $chan} err]} { error "$what failed: $err\n$out" }
  return $out
}

set ckpt [file join [expr {[info exists ::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}] fashion_bench_[pid].pt]
set tclCmd [list [info nameofexecutable] [file join $root examples train_fashion_mnist.tcl] \
    -epochs $opt(-epochs) -train $opt(-train) -test 1000 -batch $opt(-batch) -data $opt(-data) -checkpoint $ckpt \
    -loader [expr {$opt(-loader) eq "0" ? 0 : 1}]]
set pyCmd [list $opt(-python) [file join $root bench fashion_mnist.py] \
    $opt(-threads) $opt(-epochs) $opt(-train) $opt(-batch) $opt(-data)]
if {$opt(-together)} {
  set tc [start $tclCmd]
  set pc [start $pyCmd]
  set pyOut [finish $pc python]
  set tclOut [finish $tc tcl]
} else {
  set tclOut [finish [start $tclCmd] tcl]
  set pyOut [finish [start $pyCmd] python]
}
file delete $ckpt $ckpt.optim

set tcl [regexp -all -inline -line {^epoch \d+/\d+ .* loss ([0-9.]+) .* ([0-9.]+)s$} $tclOut]
set py [regexp -all -inline -line {^epoch \d+ ([0-9.]+) ([0-9.]+)$} $pyOut]
set tclSecs {}; set tclLoss {}; foreach {- l s} $tcl { lappend tclSecs $s; lappend tclLoss $l }
set pySecs {}; set pyLoss {}; foreach {- s l} $py { lappend pySecs $s; lappend pyLoss $l }
if {[llength $tclSecs] != $opt(-epochs) || [llength $pySecs] != $opt(-epochs)} {
  error "could not read the epoch times:\n$tclOut\n$pyOut"
}

puts [format "fashion-mnist CNN, %d images per epoch, batch %d, %d thread(s) each, run %s" $opt(-train) \
          $opt(-batch) $opt(-threads) [expr {$opt(-together) ? "side by side" : "one after the other"}]]
puts [format "%-6s %10s %10s %8s %10s %10s" epoch "tcl s" "python s" ratio "tcl loss" "py loss"]
for {set i 0} {$i < $opt(-epochs)} {incr i} {
  set t [lindex $tclSecs $i]; set p [lindex $pySecs $i]
  puts [format "%-6d %10.2f %10.2f %8.2f %10s %10s" [expr {$i + 1}] $t $p [expr {$t / $p}] \
            [lindex $tclLoss $i] [lindex $pyLoss $i]]
}
proc mean {l} { expr {[tcl::mathop::+ {*}$l] / double([llength $l])} }
set first [expr {[lindex $tclSecs 0] / [lindex $pySecs 0]}]
if {$opt(-epochs) > 1} {
  set steady [expr {[mean [lrange $tclSecs 1 end]] / [mean [lrange $pySecs 1 end]]}]
} else {
  set steady $first
}
puts [format "ratio tcl/python: first epoch %.2f, steady state %.2f (target <= 1.0)" $first $steady]

# Images per second with and without the loader's worker thread, in the same run.
if {$opt(-loader) eq "both"} {
  set imgs {}
  set chans {}
  foreach l {0 1} {
    lset tclCmd end $l
    set c [lreplace $tclCmd [lsearch $tclCmd -checkpoint]+1 [lsearch $tclCmd -checkpoint]+1 $ckpt.$l]
    lappend chans [start $c]
  }
  foreach c $chans l {0 1} {
    set out [finish $c "tcl -loader $l"]
    lappend imgs [lmap {- n} [regexp -all -inline -line {^epoch \d+/\d+ .* (\d+) images/s} $out] { set n }]
    file delete $ckpt.$l $ckpt.$l.optim
  }
  puts [format "images/s per epoch, side by side: dataset_batches + index_select %s | dataloader (1 worker) %s" \
            [lindex $imgs 0] [lindex $imgs 1]]
  puts [format "ratio dataloader / main thread, mean of the epochs: %.2f" \
            [expr {[mean [lindex $imgs 1]] / [mean [lindex $imgs 0]]}]]
}
