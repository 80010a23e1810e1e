// Typed parameter keys, proven at compile time. The build compiles this file as
// it is; two tests compile it again with one of the macros below and pass only
// when the compiler refuses it for that reason (CMakeLists.txt).
#include "tcltorch/args.h"

namespace tcltorch {
namespace {
struct ProbeArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor handle"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "0", "dimension"}};
};

Tcl_Obj* probe(Call& c, const ProbeArgs& a) {
#if defined(TCLTORCH_READ_UNDECLARED)
  return c.result(c.tensor(a.input).sum(c.integer(a.dims)));  // the row has no "dims"
#elif defined(TCLTORCH_READ_MISTYPED)
  return c.result(c.tensor(a.input).sum(c.integer(a.input)));  // a tensor read as an integer
#else
  return c.result(c.tensor(a.input).sum(c.integer(a.dim)));
#endif
}
}  // namespace

Command probeRow() { return typedRow<probe>("probe", "A row made only to be compiled."); }
}  // namespace tcltorch
