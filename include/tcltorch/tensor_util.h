// Helpers shared by tensor-producing commands.
#pragma once
#include "tcltorch/args.h"

namespace tcltorch {

// Common parameters, declared once.
// The input tensor of most commands (-tensor is the other API's spelling).
inline const Param kInput{"input", Type::Tensor, nullptr, "tensor handle", "tensor"};
// The argument struct of the many commands that take only the input.
struct InputArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
};
// dtype and device may come in either order after a shape (both orders occur in
// the other API's docs and tests): matched by type.
inline const Param kDtypeParam = Param{"dtype", Type::Dtype, "float32", "element type"}.byType();
inline const Param kDeviceParam = Param{"device", Type::Device, "cpu", "cpu, cuda or cuda:N"}.byType();
inline const Param kRequiresGradParam{"requires_grad", Type::Bool, "0", "record operations for autograd"};

// dtype, and device where the row has one, from the standard parameters.
inline at::TensorOptions applyOptions(Call& c, at::TensorOptions o, const Arg<Type::Dtype>& dtype) {
  return c.has(dtype) ? o.dtype(c.dtype(dtype)) : o;
}
inline at::TensorOptions applyOptions(Call& c, at::TensorOptions o, const Arg<Type::Dtype>& dtype,
                                      const Arg<Type::Device>& device) {
  o = applyOptions(c, o, dtype);
  return c.has(device) ? o.device(c.device(device)) : o;
}

// A second tensor operand: -other, or the other API's -tensor2 / -input2.
inline const Param kOtherParam{"other", Type::Tensor, nullptr, "tensor handle", "tensor2 input2"};
// Named only: commands whose PyTorch result is (values, indices) return the values,
// or both handles with -with_indices 1.
inline const Param kWithIndicesParam{"with_indices", Type::Bool, "0", "1: return {values indices}", nullptr,
                                     nullptr, true};

}  // namespace tcltorch
