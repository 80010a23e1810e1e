// The C++ peer of bench/instructions.sh: libtorch's own at::add on two 4-element
// float32 tensors, the result released every iteration: 200 warm-up calls, then
// one run per argument (N1, N2), each between two calls of bench_mark (where
// callgrind dumps its counts).
#include <ATen/ATen.h>
#include <cstdlib>

extern "C" __attribute__((noinline)) void bench_mark() { asm volatile(""); }

static void run(long n, const at::Tensor& a, const at::Tensor& b) {
  for (long i = 0; i < n; ++i) at::add(a, b);
}

int main(int argc, char** argv) {
  at::Tensor a = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}), b = at::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  run(200, a, b);
  for (int i = 1; i < argc; ++i) {
    bench_mark();
    run(std::atol(argv[i]), a, b);
  }
  bench_mark();
  return 0;
}
