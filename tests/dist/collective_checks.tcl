# The rank script of collectives.test and netns.test: rank r contributes
# element i = 10*r + i + 1 (2N elements), computes the expected numbers itself
# and prints "name ok" or what went wrong; [expected N] is the list of lines
# every rank prints.
set checks {
  proc flat {l} {
    if {[llength $l] == 1 && [lindex $l 0] eq $l} { return $l }
    set out {}
    foreach e $l { lappend out {*}[flat $e] }
    return $out
  }
  proc check {name got want} {
    set got [flat $got]
    set want [flat $want]
    set ok [expr {[llength $got] == [llength $want]}]
    foreach g $got w $want {
      if {!$ok} break
      if {[string is double -strict $g] && [string is double -strict $w]} {
        if {abs($g - $w) > 1e-4 * max(1.0, abs($w))} { set ok 0 }
      } elseif {$g ne $w} { set ok 0 }
    }
    puts [expr {$ok ? "$name ok" : "$name FAIL got {$got} want {$want}"}]
  }
  proc input {r n} {
    set v {}
    for {set i 0} {$i < 2 * $n} {incr i} { lappend v [expr {10 * $r + $i + 1}] }
    return $v
  }
  proc reduced {n op} {
    set out {}
    for {set i 0} {$i < 2 * $n} {incr i} {
      set col {}
      for {set r 0} {$r < $n} {incr r} { lappend col [lindex [input $r $n] $i] }
      switch $op {
        sum     { set x [tcl::mathop::+ {*}$col] }
        mean    { set x [expr {[tcl::mathop::+ {*}$col] / double($n)}] }
        max     { set x [tcl::mathfunc::max {*}$col] }
        min     { set x [tcl::mathfunc::min {*}$col] }
        product { set x [tcl::mathop::* {*}$col] }
      }
      lappend out $x
    }
    return $out
  }
  proc chunk {list n k} { lrange $list [expr {$k * [llength $list] / $n}] [expr {($k + 1) * [llength $list] / $n - 1}] }
  proc vals {t} { torch::tensor_to_list $t }

  torch::distributed_init -timeout 60
  set r [torch::get_rank]
  set n [torch::get_world_size]
  set x [torch::tensor_create [input $r $n] -dtype float32]
  foreach op {sum mean max min product} {
    check all_reduce-$op [vals [torch::distributed_all_reduce $x $op]] [reduced $n $op]
    check reduce-$op [vals [torch::distributed_reduce -tensor $x -dst 1 -op $op]] \
        [expr {$r == 1 ? [reduced $n $op] : [input $r $n]}]
    check reduce_scatter-$op [vals [torch::distributed_reduce_scatter $x -operation $op]] \
        [chunk [reduced $n $op] $n $r]
  }
  check input-unchanged [vals $x] [input $r $n]
  check broadcast [vals [torch::distributed_broadcast $x -src [expr {$n - 1}]]] [input [expr {$n - 1}] $n]
  set all {}
  for {set k 0} {$k < $n} {incr k} { lappend all [input $k $n] }
  set ag [torch::distributed_all_gather $x]
  check all_gather [list [torch::tensor_shape $ag] [vals $ag]] [list $n [expr {2 * $n}] $all]
  set g [torch::distributed_gather $x 1]
  check gather [expr {$r == 1 ? [vals $g] : "empty$g"}] [expr {$r == 1 ? $all : "empty"}]
  check scatter [vals [torch::distributed_scatter $x 1]] [chunk [input 1 $n] $n $r]
  set a2a {}
  for {set k 0} {$k < $n} {incr k} { lappend a2a {*}[chunk [input $k $n] $n $r] }
  check all_to_all [vals [torch::distributed_all_to_all $x]] $a2a
  # In place: the same handle comes back, holding the result.
  set y [torch::tensor_create [input $r $n] -dtype float32]
  check inplace-all_reduce [list [expr {[torch::distributed_all_reduce $y max -inplace 1] eq $y}] [vals $y]] \
      [list 1 [reduced $n max]]
  set z [torch::tensor_create [input $r $n] -dtype float32]
  check inplace-all_to_all [list [expr {[torch::distributed_all_to_all $z -inplace 1] eq $z}] [vals $z]] [list 1 $a2a]
  # Async: several in flight, waited in reverse order.
  set w1 [torch::distributed_all_reduce $x -async 1]
  set w2 [torch::distributed_reduce_scatter $x min -async 1]
  set w3 [torch::distributed_barrier -async 1]
  check async-barrier [torch::distributed_wait $w3] {}
  check async-reduce_scatter [vals [torch::distributed_wait $w2]] [chunk [reduced $n min] $n $r]
  check async-all_reduce [list [torch::distributed_test $w1] [vals [torch::distributed_wait $w1]]] [list 1 [reduced $n sum]]
  # Integer tensors keep their dtype (mean truncates).
  set i [torch::tensor_create [list [expr {$r + 1}] 7] -dtype int64]
  check int-sum [list [torch::tensor_dtype [set s [torch::distributed_all_reduce $i]]] [vals $s]] \
      [list int64 [expr {$n * ($n + 1) / 2}] [expr {7 * $n}]]
  # A split needs dim 0 divisible by N: an error on every rank, before any transfer.
  set odd [torch::tensor_create {1 2 3} -dtype float32]
  catch {torch::distributed_reduce_scatter $odd} msg
  check split-error $::errorCode {TORCH DIST SHAPE reduce_scatter}
  torch::distributed_barrier
  torch::distributed_destroy
  puts "end [torch::distributed_is_initialized]"
}

proc expected {n} {
  set l {}
  foreach op {sum mean max min product} { lappend l "all_reduce-$op ok" "reduce-$op ok" "reduce_scatter-$op ok" }
  lappend l {input-unchanged ok} {broadcast ok} {all_gather ok} {gather ok} {scatter ok} {all_to_all ok} \
      {inplace-all_reduce ok} {inplace-all_to_all ok} {async-barrier ok} {async-reduce_scatter ok} \
      {async-all_reduce ok} {int-sum ok} {split-error ok} {end 0}
  return $l
}

