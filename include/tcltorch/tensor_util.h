// Helpers shared by tensor-producing commands.
#pragma once
#include "tcltorch/args.h"

namespace tcltorch {

// Common parameters, declared once.
// The input tensor of most commands (-tensor is the other API's spelling).
inline const Param kInput{"input", Type::Tensor, nullptr, "tensor handle", "tensor"};
// dtype and device may come in either order after a shape (both orders occur in
// the other API's docs and tests): matched by type.
inline const Param kDtypeParam = Param{"dtype", Type::Dtype, "float32", "element type"}.byType();
inline const Param kDeviceParam = Param{"device", Type::Device, "cpu", "cpu, cuda or cuda:N"}.byType();
inline const Param kRequiresGradParam{"requires_grad", Type::Bool, "0", "record operations for autograd"};

// dtype and device from the standard parameters, where the command has them.
inline at::TensorOptions applyOptions(Call& c, at::TensorOptions o) {
  if (c.declares("dtype") && c.has("dtype")) o = o.dtype(c.dtype("dtype"));
  if (c.declares("device") && c.has("device")) o = o.device(c.device("device"));
  return o;
}

// Nested Tcl list (or a number) -> float64 tensor with the nesting's shape.
at::Tensor tensorFromData(Call& c, Tcl_Obj* data);

}  // namespace tcltorch
