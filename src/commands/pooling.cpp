// Pooling, all of it: the 2-D max and average pooling layers (modules), the
// 1-D and 3-D max pooling layers, and functional pooling (average, adaptive,
// power-average, fractional) in 1, 2 and 3 dimensions. As everywhere, the
// stride defaults to the kernel size, as in PyTorch.
#include "tcltorch/commands.h"
#include "tcltorch/nn.h"
#include "tcltorch/tensor_util.h"
#include <torch/nn/functional.h>
#include <torch/nn/modules/pooling.h>

namespace tcltorch {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

enum class PoolKind { Max, Avg, AdaptiveAvg, AdaptiveMax, Lp, Fractional };

static Tcl_Obj* moduleResult(Call& c, std::shared_ptr<ModuleObj> o) { return c.result(Kind::Module, o); }

// ---- 2-D pooling layers (modules) ----

template <class Holder, class Options>
static Tcl_Obj* pool(Call& c, const char* type) {
  Options o(pair(c, "kernel_size"));
  o.stride(c.has("stride") ? pair(c, "stride") : pair(c, "kernel_size")).padding(pair(c, "padding"));
  return moduleResult(c, makeModule(Holder(o), type));
}
static Tcl_Obj* cmdMaxPool2d(Call& c) { return pool<nn::MaxPool2d, nn::MaxPool2dOptions>(c, "maxpool2d"); }
static Tcl_Obj* cmdAvgPool2d(Call& c) { return pool<nn::AvgPool2d, nn::AvgPool2dOptions>(c, "avgpool2d"); }

// ---- max pooling layers (modules) ----

using MaxPoolSpec = FamilyRow<PoolKind>;

template <size_t D, class Holder, class Options>
static std::shared_ptr<ModuleObj> maxPool(Call& c, const char* type) {
  auto k = expandInts(c, "kernel_size", D, 1);
  Options o(arr<D>(k));
  o.stride(arr<D>(c.has("stride") ? expandInts(c, "stride", D, 1) : k))
      .padding(arr<D>(expandInts(c, "padding", D, 0)))
      .dilation(arr<D>(expandInts(c, "dilation", D, 1)))
      .ceil_mode(c.boolean("ceil_mode"));
  return makeModule(Holder(o), type);
}

static Tcl_Obj* makeMaxPool(Call& c, const MaxPoolSpec& s) {
  if (s.dims == 1) return moduleResult(c, maxPool<1, nn::MaxPool1d, nn::MaxPool1dOptions>(c, s.name));
  return moduleResult(c, maxPool<3, nn::MaxPool3d, nn::MaxPool3dOptions>(c, s.name));
}

static const std::vector<Param> kMaxPoolParams = {
    {"kernel_size", Type::IntList, nullptr, "window: k or one size per dimension"},
    {"stride", Type::IntList, kOptional, "stride (default: the kernel size)"},
    {"padding", Type::IntList, "0", "implicit -inf padding on both sides"},
    {"ceil_mode", Type::Bool, "0", "ceil instead of floor for the output size"},
    {"dilation", Type::IntList, "1", "spacing between window elements"}};

static const MaxPoolSpec kMaxPools[] = {
    {"maxpool1d", "1-D max pooling layer over [N, C, L].", &kMaxPoolParams, PoolKind::Max, 1, "maxPool1d"},
    {"maxpool3d", "3-D max pooling layer over [N, C, D, H, W].", &kMaxPoolParams, PoolKind::Max, 3, "maxPool3d"},
};

// ---- functional pooling ----

using PoolSpec = FamilyRow<PoolKind>;

static void checkRank(Call& c, const at::Tensor& x, int dims) {
  if (x.dim() != dims + 1 && x.dim() != dims + 2)
    c.badValue("input", "a " + std::to_string(dims + 1) + "-D or " + std::to_string(dims + 2) + "-D tensor");
}

static at::Tensor avgPool(const at::Tensor& x, int dims, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                          const std::vector<int64_t>& p, bool ceil, bool count_pad) {
  if (dims == 1) return at::avg_pool1d(x, k, s, p, ceil, count_pad);
  if (dims == 2) return at::avg_pool2d(x, k, s, p, ceil, count_pad);
  return at::avg_pool3d(x, k, s, p, ceil, count_pad);
}

static Tcl_Obj* poolFn(Call& c, const PoolSpec& s) {
  at::Tensor x = c.tensor("input");
  checkRank(c, x, s.dims);
  size_t d = size_t(s.dims);
  switch (s.kind) {
    case PoolKind::Max: break;  // the maxpool rows are modules (makeMaxPool)
    case PoolKind::Avg: {
      auto k = expandInts(c, "kernel_size", d, 1);
      auto st = c.has("stride") ? expandInts(c, "stride", d, 1) : k;
      return c.result(avgPool(x, s.dims, k, st, expandInts(c, "padding", d, 0), c.boolean("ceil_mode"),
                              c.boolean("count_include_pad")));
    }
    case PoolKind::AdaptiveAvg: {
      auto o = expandInts(c, "output_size", d, 1);
      return c.result(s.dims == 1 ? at::adaptive_avg_pool1d(x, o) : at::adaptive_avg_pool3d(x, o));
    }
    case PoolKind::AdaptiveMax: {
      auto o = expandInts(c, "output_size", d, 1);
      return c.result(std::get<0>(s.dims == 1 ? at::adaptive_max_pool1d(x, o) : at::adaptive_max_pool3d(x, o)));
    }
    case PoolKind::Lp: {
      // torch.nn.functional.lp_pool*d: (sum over the window of x^p)^(1/p).
      double p = c.number("norm_type");
      auto k = expandInts(c, "kernel_size", d, 1);
      auto st = c.has("stride") ? expandInts(c, "stride", d, 1) : k;
      at::Tensor out = avgPool(x.pow(p), s.dims, k, st, std::vector<int64_t>(d, 0), c.boolean("ceil_mode"), true);
      int64_t n = 1;
      for (auto v : k) n *= v;
      return c.result((at::sign(out) * at::relu(at::abs(out))).mul(double(n)).pow(1.0 / p));
    }
    case PoolKind::Fractional: {
      auto k = expandInts(c, "kernel_size", d, 1);
      auto r = c.doubles("output_ratio");
      if (r.size() == 1) r.assign(d, r[0]);
      bool ok = r.size() == d;
      for (auto v : r) ok = ok && v > 0 && v < 1;
      if (!ok) c.badValue("output_ratio", "1 or " + std::to_string(d) + " numbers in (0, 1)");
      if (s.dims == 2)
        return c.result(F::fractional_max_pool2d(
            x, F::FractionalMaxPool2dFuncOptions(arr<2>(k)).output_ratio(torch::ExpandingArray<2, double>({r[0], r[1]}))));
      return c.result(F::fractional_max_pool3d(
          x, F::FractionalMaxPool3dFuncOptions(arr<3>(k)).output_ratio(
                 torch::ExpandingArray<3, double>({r[0], r[1], r[2]}))));
    }
  }
  return nullptr;
}

static const Param kPoolKernel{"kernel_size", Type::IntList, nullptr, "window: k or one size per dimension"};
static const Param kPoolStride{"stride", Type::IntList, kOptional, "stride (default: the kernel size)"};
static const Param kCeil{"ceil_mode", Type::Bool, "0", "ceil instead of floor for the output size"};
static const std::vector<Param> kAvgPoolParams = {
    kInput, kPoolKernel, kPoolStride,
    {"padding", Type::IntList, "0", "implicit zero padding on both sides"},
    {"count_include_pad", Type::Bool, "1", "count the padding zeros in the averages"},
    kCeil};
static const std::vector<Param> kAdaptiveParams = {
    kInput, {"output_size", Type::IntList, nullptr, "output size: n or one per dimension"}};
static const std::vector<Param> kLpPoolParams = {
    kInput, Param{"norm_type", Type::Double, nullptr, "p of the p-norm"}.positive(), kPoolKernel, kPoolStride, kCeil};
static const std::vector<Param> kFractionalParams = {
    kInput, kPoolKernel, {"output_ratio", Type::DoubleList, "0.5", "output size / input size, in (0, 1)"}};

static const PoolSpec kPools[] = {
    {"avgpool1d", "1-D average pooling of [N, C, L].", &kAvgPoolParams, PoolKind::Avg, 1, "avgPool1d"},
    {"avgpool3d", "3-D average pooling of [N, C, D, H, W].", &kAvgPoolParams, PoolKind::Avg, 3, "avgPool3d"},
    {"adaptive_avgpool1d", "1-D adaptive average pooling to output_size.", &kAdaptiveParams, PoolKind::AdaptiveAvg, 1},
    {"adaptive_avgpool3d", "3-D adaptive average pooling to output_size.", &kAdaptiveParams, PoolKind::AdaptiveAvg, 3},
    {"adaptive_maxpool1d", "1-D adaptive max pooling to output_size (values only).", &kAdaptiveParams,
     PoolKind::AdaptiveMax, 1},
    {"adaptive_maxpool3d", "3-D adaptive max pooling to output_size (values only).", &kAdaptiveParams,
     PoolKind::AdaptiveMax, 3},
    {"lppool1d", "1-D power-average pooling: (sum x^p)^(1/p) over each window.", &kLpPoolParams, PoolKind::Lp, 1, "lpPool1d"},
    {"lppool2d", "2-D power-average pooling.", &kLpPoolParams, PoolKind::Lp, 2, "lpPool2d"},
    {"lppool3d", "3-D power-average pooling.", &kLpPoolParams, PoolKind::Lp, 3, "lpPool3d"},
    {"fractional_maxpool2d", "2-D fractional max pooling (random windows) of [N, C, H, W].", &kFractionalParams,
     PoolKind::Fractional, 2},
    {"fractional_maxpool3d", "3-D fractional max pooling (random windows) of [N, C, D, H, W].", &kFractionalParams,
     PoolKind::Fractional, 3},
};

std::vector<Command> poolingCommands() {
  const std::vector<Param> poolParams = {
      Param{"kernel_size", Type::IntList, nullptr, "window: k or {kh kw}"}.atLeast(1),
      Param{"stride", Type::IntList, kOptional, "stride (default: the kernel size)"}.atLeast(1),
      Param{"padding", Type::IntList, "0", "implicit padding"}.atLeast(0)};
  std::vector<Command> out = {
      {"maxpool2d", "2-D max pooling.", poolParams, cmdMaxPool2d},
      Command{"maxpool2d", "2-D max pooling of input [N, C, H, W] or [C, H, W].", withInput(poolParams, kInput),
              applyOnce<cmdMaxPool2d>}
          .asTensorForm(),
      {"avgpool2d", "2-D average pooling.", poolParams, cmdAvgPool2d},
      Command{"avgpool2d", "2-D average pooling of input [N, C, H, W] or [C, H, W].", withInput(poolParams, kInput),
              applyOnce<cmdAvgPool2d>}
          .asTensorForm(),
  };
  addFamily<makeMaxPool>(out, kMaxPools);
  addFamily<poolFn>(out, kPools);
  return out;
}

}  // namespace tcltorch
