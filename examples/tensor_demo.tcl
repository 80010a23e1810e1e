# A short tensor demo: create, compute, read back, byte I/O, scopes.
package require torch
puts "torch [dict get [torch::version] package] on libtorch [dict get [torch::version] libtorch]"

set a [torch::tensor_create {{1 2} {3 4}} -dtype float32]
set b [torch::tensor_add $a $a -alpha 0.5]          ;# positional, then named
puts "a + 0.5*a = [torch::tensor_to_list $b]"
puts "a @ a     = [torch::tensor_to_list [torch::tensor_matmul $a $a]]"
puts "sum(a, 0) = [torch::tensor_to_list [torch::tensor_sum $a 0]], mean = [torch::tensor_item [torch::tensor_mean $a]]"

# Bulk data goes through byte arrays, not lists of numbers.
set t [torch::tensor_from_bytes [binary format f* {0.5 1.5 2.5 3.5 4.5 5.5}] {2 3} float32]
binary scan [torch::tensor_to_bytes [torch::tensor_transpose $t 0 1]] f* tr
puts "transpose via bytes: $tr"

# A loop in flat memory: every handle made inside a scope is freed at its end.
torch::manual_seed 0
set w [torch::randn {4 4}]
for {set i 0} {$i < 1000} {incr i} {
  torch::scope { set s [torch::tensor_item [torch::tensor_sum [torch::tensor_relu [torch::tensor_matmul $w $w]]]] }
}
puts [format "relu(w@w) sums to %.4f; live tensors: %d" $s [dict get [torch::memory] tensors]]
