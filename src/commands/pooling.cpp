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

namespace {
struct Pool2dArgs : Args {
  Arg<Type::IntList> kernel_size{this, Param{"kernel_size", Type::IntList, nullptr, "window: k or {kh kw}"}.atLeast(1)};
  Arg<Type::IntList> stride{this, Param{"stride", Type::IntList, kOptional, "stride (default: the kernel size)"}.atLeast(1)};
  Arg<Type::IntList> padding{this, Param{"padding", Type::IntList, "0", "implicit padding"}.atLeast(0)};
};
}  // namespace

template <class Holder, class Options>
static Tcl_Obj* pool(Call& c, const Pool2dArgs& a, const char* type) {
  Options o(pair(c, a.kernel_size));
  o.stride(c.has(a.stride) ? pair(c, a.stride) : pair(c, a.kernel_size)).padding(pair(c, a.padding));
  return moduleResult(c, makeModule(Holder(o), type));
}
static Tcl_Obj* cmdMaxPool2d(Call& c, const Pool2dArgs& a) {
  return pool<nn::MaxPool2d, nn::MaxPool2dOptions>(c, a, "maxpool2d");
}
static Tcl_Obj* cmdAvgPool2d(Call& c, const Pool2dArgs& a) {
  return pool<nn::AvgPool2d, nn::AvgPool2dOptions>(c, a, "avgpool2d");
}

// ---- max pooling layers (modules) ----

using MaxPoolSpec = FamilyRow<PoolKind>;

static const Param kPoolKernel{"kernel_size", Type::IntList, nullptr, "window: k or one size per dimension"};
static const Param kPoolStride{"stride", Type::IntList, kOptional, "stride (default: the kernel size)"};
static const Param kCeil{"ceil_mode", Type::Bool, "0", "ceil instead of floor for the output size"};

namespace {
struct MaxPoolArgs : Args {
  Arg<Type::IntList> kernel_size{this, kPoolKernel};
  Arg<Type::IntList> stride{this, kPoolStride};
  Arg<Type::IntList> padding{this, {"padding", Type::IntList, "0", "implicit -inf padding on both sides"}};
  Arg<Type::Bool> ceil_mode{this, kCeil};
  Arg<Type::IntList> dilation{this, {"dilation", Type::IntList, "1", "spacing between window elements"}};
};
}  // namespace

template <size_t D, class Holder, class Options>
static std::shared_ptr<ModuleObj> maxPool(Call& c, const MaxPoolArgs& a, const char* type) {
  auto k = expandInts(c, a.kernel_size, D, 1);
  Options o(arr<D>(k));
  o.stride(arr<D>(c.has(a.stride) ? expandInts(c, a.stride, D, 1) : k))
      .padding(arr<D>(expandInts(c, a.padding, D, 0)))
      .dilation(arr<D>(expandInts(c, a.dilation, D, 1)))
      .ceil_mode(c.boolean(a.ceil_mode));
  return makeModule(Holder(o), type);
}

static Tcl_Obj* makeMaxPool(Call& c, const MaxPoolArgs& a) {
  const MaxPoolSpec& s = c.data<MaxPoolSpec>();
  if (s.dims == 1) return moduleResult(c, maxPool<1, nn::MaxPool1d, nn::MaxPool1dOptions>(c, a, s.name));
  return moduleResult(c, maxPool<3, nn::MaxPool3d, nn::MaxPool3dOptions>(c, a, s.name));
}

static const MaxPoolSpec kMaxPools[] = {
    {"maxpool1d", "1-D max pooling layer over [N, C, L].", memberRow<makeMaxPool>, PoolKind::Max, 1, "maxPool1d"},
    {"maxpool3d", "3-D max pooling layer over [N, C, D, H, W].", memberRow<makeMaxPool>, PoolKind::Max, 3, "maxPool3d"},
};

// ---- functional pooling ----

using PoolSpec = FamilyRow<PoolKind>;

static void checkRank(Call& c, const Arg<Type::Tensor>& input, const at::Tensor& x, int dims) {
  if (x.dim() != dims + 1 && x.dim() != dims + 2)
    c.badValue(input, "a " + std::to_string(dims + 1) + "-D or " + std::to_string(dims + 2) + "-D tensor");
}

static at::Tensor avgPool(const at::Tensor& x, int dims, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                          const std::vector<int64_t>& p, bool ceil, bool count_pad) {
  if (dims == 1) return at::avg_pool1d(x, k, s, p, ceil, count_pad);
  if (dims == 2) return at::avg_pool2d(x, k, s, p, ceil, count_pad);
  return at::avg_pool3d(x, k, s, p, ceil, count_pad);
}

namespace {
struct AvgPoolArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> kernel_size{this, kPoolKernel};
  Arg<Type::IntList> stride{this, kPoolStride};
  Arg<Type::IntList> padding{this, {"padding", Type::IntList, "0", "implicit zero padding on both sides"}};
  Arg<Type::Bool> count_include_pad{this, {"count_include_pad", Type::Bool, "1", "count the padding zeros in the averages"}};
  Arg<Type::Bool> ceil_mode{this, kCeil};
};
struct AdaptivePoolArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> output_size{this, {"output_size", Type::IntList, nullptr, "output size: n or one per dimension"}};
};
struct LpPoolArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> norm_type{this, Param{"norm_type", Type::Double, nullptr, "p of the p-norm"}.positive()};
  Arg<Type::IntList> kernel_size{this, kPoolKernel};
  Arg<Type::IntList> stride{this, kPoolStride};
  Arg<Type::Bool> ceil_mode{this, kCeil};
};
struct FractionalPoolArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> kernel_size{this, kPoolKernel};
  Arg<Type::DoubleList> output_ratio{this, {"output_ratio", Type::DoubleList, "0.5", "output size / input size, in (0, 1)"}};
};
}  // namespace

static Tcl_Obj* avgPoolFn(Call& c, const AvgPoolArgs& a) {
  const PoolSpec& s = c.data<PoolSpec>();
  at::Tensor x = c.tensor(a.input);
  checkRank(c, a.input, x, s.dims);
  size_t d = size_t(s.dims);
  auto k = expandInts(c, a.kernel_size, d, 1);
  auto st = c.has(a.stride) ? expandInts(c, a.stride, d, 1) : k;
  return c.result(avgPool(x, s.dims, k, st, expandInts(c, a.padding, d, 0), c.boolean(a.ceil_mode),
                          c.boolean(a.count_include_pad)));
}

static Tcl_Obj* adaptivePoolFn(Call& c, const AdaptivePoolArgs& a) {
  const PoolSpec& s = c.data<PoolSpec>();
  at::Tensor x = c.tensor(a.input);
  checkRank(c, a.input, x, s.dims);
  auto o = expandInts(c, a.output_size, size_t(s.dims), 1);
  if (s.kind == PoolKind::AdaptiveAvg)
    return c.result(s.dims == 1 ? at::adaptive_avg_pool1d(x, o) : at::adaptive_avg_pool3d(x, o));
  return c.result(std::get<0>(s.dims == 1 ? at::adaptive_max_pool1d(x, o) : at::adaptive_max_pool3d(x, o)));
}

// torch.nn.functional.lp_pool*d: (sum over the window of x^p)^(1/p).
static Tcl_Obj* lpPoolFn(Call& c, const LpPoolArgs& a) {
  const PoolSpec& s = c.data<PoolSpec>();
  at::Tensor x = c.tensor(a.input);
  checkRank(c, a.input, x, s.dims);
  size_t d = size_t(s.dims);
  double p = c.number(a.norm_type);
  auto k = expandInts(c, a.kernel_size, d, 1);
  auto st = c.has(a.stride) ? expandInts(c, a.stride, d, 1) : k;
  at::Tensor out = avgPool(x.pow(p), s.dims, k, st, std::vector<int64_t>(d, 0), c.boolean(a.ceil_mode), true);
  int64_t n = 1;
  for (auto v : k) n *= v;
  return c.result((at::sign(out) * at::relu(at::abs(out))).mul(double(n)).pow(1.0 / p));
}

static Tcl_Obj* fractionalPoolFn(Call& c, const FractionalPoolArgs& a) {
  const PoolSpec& s = c.data<PoolSpec>();
  at::Tensor x = c.tensor(a.input);
  checkRank(c, a.input, x, s.dims);
  size_t d = size_t(s.dims);
  auto k = expandInts(c, a.kernel_size, d, 1);
  auto r = c.doubles(a.output_ratio);
  if (r.size() == 1) r.assign(d, r[0]);
  bool ok = r.size() == d;
  for (auto v : r) ok = ok && v > 0 && v < 1;
  if (!ok) c.badValue(a.output_ratio, "1 or " + std::to_string(d) + " numbers in (0, 1)");
  if (s.dims == 2)
    return c.result(F::fractional_max_pool2d(
        x, F::FractionalMaxPool2dFuncOptions(arr<2>(k)).output_ratio(torch::ExpandingArray<2, double>({r[0], r[1]}))));
  return c.result(F::fractional_max_pool3d(
      x, F::FractionalMaxPool3dFuncOptions(arr<3>(k)).output_ratio(
             torch::ExpandingArray<3, double>({r[0], r[1], r[2]}))));
}

static const PoolSpec kPools[] = {
    {"avgpool1d", "1-D average pooling of [N, C, L].", memberRow<avgPoolFn>, PoolKind::Avg, 1, "avgPool1d"},
    {"avgpool3d", "3-D average pooling of [N, C, D, H, W].", memberRow<avgPoolFn>, PoolKind::Avg, 3, "avgPool3d"},
    {"adaptive_avgpool1d", "1-D adaptive average pooling to output_size.", memberRow<adaptivePoolFn>,
     PoolKind::AdaptiveAvg, 1},
    {"adaptive_avgpool3d", "3-D adaptive average pooling to output_size.", memberRow<adaptivePoolFn>,
     PoolKind::AdaptiveAvg, 3},
    {"adaptive_maxpool1d", "1-D adaptive max pooling to output_size (values only).", memberRow<adaptivePoolFn>,
     PoolKind::AdaptiveMax, 1},
    {"adaptive_maxpool3d", "3-D adaptive max pooling to output_size (values only).", memberRow<adaptivePoolFn>,
     PoolKind::AdaptiveMax, 3},
    {"lppool1d", "1-D power-average pooling: (sum x^p)^(1/p) over each window.", memberRow<lpPoolFn>, PoolKind::Lp, 1,
     "lpPool1d"},
    {"lppool2d", "2-D power-average pooling.", memberRow<lpPoolFn>, PoolKind::Lp, 2, "lpPool2d"},
    {"lppool3d", "3-D power-average pooling.", memberRow<lpPoolFn>, PoolKind::Lp, 3, "lpPool3d"},
    {"fractional_maxpool2d", "2-D fractional max pooling (random windows) of [N, C, H, W].", memberRow<fractionalPoolFn>,
     PoolKind::Fractional, 2},
    {"fractional_maxpool3d", "3-D fractional max pooling (random windows) of [N, C, D, H, W].",
     memberRow<fractionalPoolFn>, PoolKind::Fractional, 3},
};

std::vector<Command> poolingCommands() {
  std::vector<Command> out = {
      typedRow<cmdMaxPool2d>("maxpool2d", "2-D max pooling."),
      typedRow<applyOnce<cmdMaxPool2d>>("maxpool2d", "2-D max pooling of input [N, C, H, W] or [C, H, W].",
                                        std::make_shared<const WithInput<Pool2dArgs>>(kInput))
          .asTensorForm(),
      typedRow<cmdAvgPool2d>("avgpool2d", "2-D average pooling."),
      typedRow<applyOnce<cmdAvgPool2d>>("avgpool2d", "2-D average pooling of input [N, C, H, W] or [C, H, W].",
                                        std::make_shared<const WithInput<Pool2dArgs>>(kInput))
          .asTensorForm(),
  };
  addFamily(out, kMaxPools);
  addFamily(out, kPools);
  return out;
}

}  // namespace tcltorch
