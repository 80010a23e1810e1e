# Tcl side of tensor_bench.sh: prints "key microseconds" lines.
# Every timing is the best of several repetitions (the machine is shared and noisy).
proc best {reps script} {
  set b Inf
  for {set r 0} {$r < $reps} {incr r} {
    set t0 [clock microseconds]
    uplevel 1 $script
    set b [expr {min($b, [clock microseconds] - $t0)}]
  }
  return $b
}

if {[lindex $argv 0] eq "import"} {
  set t0 [clock microseconds]
  package require torch
  puts "import [expr {[clock microseconds] - $t0}]"
  exit
}
package require torch

# Small op: per call, including the release of the result. Python frees each
# result when the next call drops its last reference; here each result is
# freed by an explicit torch::free, a second command whose cost is included
# (both loops' own overhead is inside the timing too). The scoped form, 100
# results freed per torch::scope as in a loop body, is printed for information.
set a [torch::tensor_create {1 2 3 4} -dtype float32]
proc addf {a n} {
  for {set i 0} {$i < $n} {incr i} { torch::free [torch::tensor_add $a $a] }
}
proc adds {a n} {
  for {set j 0} {$j < $n} {incr j 100} {
    torch::scope { for {set i 0} {$i < 100} {incr i} { torch::tensor_add $a $a } ; list }
  }
}
addf $a 20000
adds $a 20000
set n 1000
puts "small_add [expr {double([best 300 { addf $a $n }]) / $n}]"
puts "info_small_add_scope100 [expr {double([best 300 { adds $a $n }]) / $n}]"

# tensor_create from a 1,000,000-element list of doubles (float32 result), freed.
# First call: each repetition builds a fresh list (no string form, as a script
# that computes its data has) and times the first tensor_create on it; the median
# is reported. Steady: repeated calls on one list, best of 5.
set firsts {}
for {set r 0} {$r < 5} {incr r} {
  set data [lmap x [lrepeat 1000000 0] {expr {rand()}}]
  set t0 [clock microseconds]
  torch::free [torch::tensor_create $data]
  lappend firsts [expr {[clock microseconds] - $t0}]
}
puts "create_1M_first [lindex [lsort -integer $firsts] 2]"
set us [best 5 { torch::free [torch::tensor_create $data] }]
puts "create_1M_steady $us"

# tensor_to_list of 1,000,000 float32 elements; the list is freed inside the timing.
set t [torch::rand {1000000}]
set us [best 10 { set l [torch::tensor_to_list $t]; unset l }]
puts "to_list_1M $us"

# tensor_from_bytes of 64 MiB (16M float32), result freed.
set bytes [torch::tensor_to_bytes [torch::rand {16777216}]]
set us [best 5 { torch::free [torch::tensor_from_bytes $bytes {16777216} float32] }]
puts "from_bytes_64MiB $us"
