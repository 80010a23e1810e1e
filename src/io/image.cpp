// Image tensors as pixels (include/tcltorch/image.h).
#include "tcltorch/image.h"
#include "tcltorch/runtime.h"
#include "tcltorch/vocab.h"

namespace tcltorch {

static std::string shapeText(const at::Tensor& t) {
  std::string s;
  for (int64_t d : t.sizes()) s += (s.empty() ? "" : " x ") + std::to_string(d);
  return s.empty() ? "a scalar" : s;
}

at::Tensor imagePixels(const at::Tensor& t, const char* param, bool allowHwc) {
  auto bad = [&](const std::string& why) {
    fail(std::string("bad ") + param + ": " + why, {"ARGS", "VALUE", param});
  };
  const char* shapes = allowHwc ? "H x W, H x W x 3, H x W x 4, or C x H x W with C = 1, 3 or 4"
                                : "H x W, or C x H x W with C = 1, 3 or 4";
  auto isC = [](int64_t c) { return c == 1 || c == 3 || c == 4; };
  at::Tensor x;
  if (t.dim() == 2) {
    x = t.unsqueeze(2);
  } else if (t.dim() == 3 && isC(t.size(0))) {  // C x H x W first: PyTorch's layout
    x = t.permute({1, 2, 0});
  } else if (t.dim() == 3 && allowHwc && (t.size(2) == 3 || t.size(2) == 4)) {
    x = t;
  } else {
    bad("the image is " + shapeText(t) + ", it must be " + shapes);
  }
  if (x.size(0) < 1 || x.size(1) < 1) bad("the image is " + shapeText(t) + ", it has no pixels");
  if (x.scalar_type() == at::kByte) {
  } else if (at::isFloatingType(x.scalar_type())) {
    x = x.detach().to(at::kFloat).nan_to_num(0).clamp(0, 1).mul(255).round_().to(at::kByte);
  } else {
    bad(std::string("the image is ") + dtypeName(t.scalar_type()) + ", it must be uint8 or floating point in [0, 1]");
  }
  return x.to(at::kCPU).contiguous();
}

}  // namespace tcltorch
