// The C++ peer of bench/instructions.sh: libtorch's own at::add on two 4-element
// float32 tensors, the result released every iteration, N times (argv[1]).
#include <ATen/ATen.h>
#include <cstdlib>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 1000;
  at::Tensor a = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}), b = at::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  for (long i = 0; i < 200 + n; ++i) at::add(a, b);  // 200 warm-up calls, as the other two
  return 0;
}
