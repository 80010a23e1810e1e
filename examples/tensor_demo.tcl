# A short tensor demo: create, compute, read back.
package require torch
set a [torch::tensor_create {{1 2} {3 4}} -dtype float32]
set b [torch::tensor_add $a $a -alpha 0.5]
puts "torch [dict get [torch::version] package] on libtorch [dict get [torch::version] libtorch]"
puts "a + 0.5*a has shape [torch::tensor_shape $b]"
