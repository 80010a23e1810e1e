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

# Small op: per call, including the release of the result. The results of 1000
# calls are freed by the scope that encloses them (Python frees each result when
# its reference count drops; both costs are inside the timed region).
set a [torch::tensor_create {1 2 3 4} -dtype float32]
proc adds {a n} {
  torch::scope { for {set i 0} {$i < $n} {incr i} { torch::tensor_add $a $a } ; list }
}
adds $a 20000
set n 1000
set us [best 200 { adds $a $n }]
puts "small_add [expr {double($us) / $n}]"

# tensor_create from a 1,000,000-element list of doubles (float32 result), freed.
set data [lmap x [lrepeat 1000000 0] {expr {rand()}}]
set us [best 5 { torch::free [torch::tensor_create $data] }]
puts "create_1M $us"

# tensor_to_list of 1,000,000 float32 elements; the list is freed inside the timing.
set t [torch::rand {1000000}]
set us [best 5 { set l [torch::tensor_to_list $t]; unset l }]
puts "to_list_1M $us"

# tensor_from_bytes of 64 MiB (16M float32), result freed.
set bytes [torch::tensor_to_bytes [torch::rand {16777216}]]
set us [best 5 { torch::free [torch::tensor_from_bytes $bytes {16777216} float32] }]
puts "from_bytes_64MiB $us"
