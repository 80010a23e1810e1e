// Image tensors as pixels: shared by the TensorBoard image summary and Tk photos.
#pragma once
#include <ATen/ATen.h>

namespace tcltorch {
// `t` (H x W, C x H x W with C = 1, 3 or 4, and with allowHwc also H x W x 3 or
// H x W x 4; uint8, or floating point in [0, 1], clamped) as a contiguous CPU uint8
// H x W x C tensor. A bad shape or dtype is a TORCH ARGS VALUE error naming `param`.
at::Tensor imagePixels(const at::Tensor& t, const char* param, bool allowHwc);
}  // namespace tcltorch
