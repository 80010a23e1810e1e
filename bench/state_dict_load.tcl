# Loading a 201 MB state dict (24 x Linear(2048, 1024)), Tcl against PyTorch's Python
# API in one run; prints the ratios Tcl / Python (target <= 1.0).
#
#   TCLLIBPATH=build tclsh bench/state_dict_load.tcl ?-rounds 5? ?-threads 1? ?-dir /tmp?
#
# Python (bench/state_dict_load.py) writes the weights as sd.pt (torch.save) and as
# sd.safetensors. Each case times loads of the file just evicted from the page cache
# (fsync + posix_fadvise DONTNEED: a first load, read from the disk) and loads with the
# file in the page cache (steady state), the best of -rounds of each. Python's side is torch.load
# (and model.load_state_dict(torch.load(f)) where Tcl fills a module).
#   Tcl load_state_dict sd.pt          vs  m.load_state_dict(torch.load(f))
#   Tcl load_state_dict sd.safetensors vs  m.load_state_dict(torch.load(f))
#   Tcl safetensors_load (new tensors) vs  torch.load(f)
#   Tcl safetensors_load -mmap 1       vs  torch.load(f)  (1.13 has no torch.load(mmap=True))
array set opt {-rounds 5 -threads 1 -dir "" -python /usr/bin/python3}
array set opt $argv
set ::env(OMP_NUM_THREADS) $opt(-threads)
package require torch

set here [file dirname [file normalize [info script]]]
set dir [expr {$opt(-dir) ne "" ? $opt(-dir) : [file join [expr {[info exists ::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}] tcltorch-bench-sd-[pid]]}]
file mkdir $dir
exec $opt(-python) $here/state_dict_load.py make $dir

# Python first: its numbers come from its own process, as Tcl's come from this one.
set py {}
foreach line [split [string trim [exec $opt(-python) $here/state_dict_load.py time $dir $opt(-rounds)]] \n] {
  dict set py [lindex $line 0] [lrange $line 1 2]
}

set model [torch::sequential [lmap k [lrepeat 24 x] {torch::linear 2048 1024}]]
proc seconds {script} {
  set t [clock microseconds]
  uplevel 1 $script
  expr {([clock microseconds] - $t) / 1e6}
}
# The script runs in a scope whose result names no handle, so what it loads is
# freed before the next round (as Python drops its result).
proc timed {file script} {
  set script "$script; list"
  set first Inf
  set best Inf
  for {set k 0} {$k < $::opt(-rounds)} {incr k} {
    exec $::opt(-python) $::here/state_dict_load.py evict $file
    set first [expr {min($first, [seconds [list torch::scope $script]])}]
  }
  for {set k 0} {$k < $::opt(-rounds)} {incr k} {
    set best [expr {min($best, [seconds [list torch::scope $script]])}]
  }
  list $first $best
}
set tcl [dict create \
  load_state_dict.pt [timed $dir/sd.pt [list torch::load_state_dict $model $dir/sd.pt]] \
  load_state_dict.safetensors [timed $dir/sd.safetensors [list torch::load_state_dict $model $dir/sd.safetensors]] \
  safetensors_load [timed $dir/sd.safetensors [list torch::safetensors_load $dir/sd.safetensors]] \
  safetensors_mmap [timed $dir/sd.safetensors [list torch::safetensors_load $dir/sd.safetensors -mmap 1]]]

puts [format "state dict load, %d MB, %s thread(s); best of %d, first (file evicted) / steady (cached)" \
          [expr {[file size $dir/sd.pt] / 1000000}] $opt(-threads) $opt(-rounds)]
puts [format "%-52s %9s %9s %9s %9s %7s %7s" case "Tcl 1st" "Py 1st" "Tcl" "Py" "1st" "steady"]
foreach {case tclKey pyKey} {
  {load_state_dict(.pt) vs load_state_dict(torch.load)} load_state_dict.pt load_state_dict
  {load_state_dict(.safetensors) vs the same (.pt)} load_state_dict.safetensors load_state_dict
  {safetensors_load vs torch.load} safetensors_load torch.load
  {safetensors_load -mmap 1 vs torch.load} safetensors_mmap torch.load
} {
  lassign [dict get $tcl $tclKey] t1 ts
  lassign [dict get $py $pyKey] p1 ps
  puts [format "%-52s %8.3fs %8.3fs %8.3fs %8.3fs %6.2fx %6.2fx" $case $t1 $p1 $ts $ps [expr {$t1 / $p1}] [expr {$ts / $ps}]]
}
file delete -force $dir
