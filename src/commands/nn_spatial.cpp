// Spatial functions of tensors: padding, resampling and rearrangement (pixel
// shuffles), sliding blocks (fold, unfold) and the sinusoidal positional
// encoding. Families are tables of FamilyRow specs, one handler per shape.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include "tcltorch/nn.h"
#include <cmath>
#include <torch/nn/functional.h>

namespace tcltorch {

namespace F = torch::nn::functional;

// ---- padding ----

enum class PadMode { Reflect, Replicate, Zero, Circular };
using PadSpec = FamilyRow<PadMode>;

namespace {
struct PadArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> padding{
      this, {"padding", Type::IntList, nullptr, "{left right ?top bottom? ?front back?} or one size for all", "pad"}};
};
}  // namespace

static Tcl_Obj* padFn(Call& c, const PadArgs& a) {
  const PadSpec& s = c.data<PadSpec>();
  at::Tensor x = c.tensor(a.input);
  auto p = c.ints(a.padding);
  size_t n = size_t(2 * s.dims);
  if (p.size() == 1) p.assign(n, p[0]);
  if (p.size() != n) c.badValue(a.padding, "1 or " + std::to_string(n) + " integers (last dimension first)");
  F::PadFuncOptions o(p);
  switch (s.kind) {
    case PadMode::Reflect: o.mode(torch::kReflect); break;
    case PadMode::Replicate: o.mode(torch::kReplicate); break;
    case PadMode::Circular: o.mode(torch::kCircular); break;
    case PadMode::Zero: o.mode(torch::kConstant).value(0); break;
  }
  return c.result(F::pad(x, o));
}

#define TCLTORCH_PAD_ROWS(prefix, mode, what)                                                              \
  {prefix "_pad1d", "Pad the last dimension of [N, C, L] or [C, L] (" what ").", memberRow<padFn>, mode, 1}, \
      {prefix "_pad2d", "Pad the last 2 dimensions (" what ").", memberRow<padFn>, mode, 2},                 \
      {prefix "_pad3d", "Pad the last 3 dimensions (" what ").", memberRow<padFn>, mode, 3}
static const PadSpec kPads[] = {
    TCLTORCH_PAD_ROWS("reflection", PadMode::Reflect, "reflection of the border"),
    TCLTORCH_PAD_ROWS("replication", PadMode::Replicate, "copies of the border"),
    TCLTORCH_PAD_ROWS("zero", PadMode::Zero, "zeros"),
    TCLTORCH_PAD_ROWS("circular", PadMode::Circular, "wrap around"),
};
#undef TCLTORCH_PAD_ROWS

// ---- resampling and rearrangement ----

enum class ResampleKind { Nearest, Bilinear, Interpolate };
using ResampleSpec = FamilyRow<ResampleKind>;

static const Param kSizeP{"size", Type::IntList, kOptional, "output size: n or one per spatial dimension",
                          "output_size"};
static const Param kScaleP{"scale_factor", Type::DoubleList, kOptional, "multiplier: f or one per spatial dimension"};
static const Param kAlignP{"align_corners", Type::Bool, "0", "align the corner pixels (linear modes)"};
namespace {
struct NearestArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> size{this, kSizeP};
  Arg<Type::DoubleList> scale_factor{this, kScaleP};
};
struct BilinearArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> size{this, kSizeP};
  Arg<Type::Bool> align_corners{this, kAlignP};
  Arg<Type::Bool> antialias{this, {"antialias", Type::Bool, "0", "anti-alias when downsampling"}};
  Arg<Type::DoubleList> scale_factor{this, kScaleP};
};
struct InterpolateArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> size{this, kSizeP};
  Arg<Type::Choice> mode{
      this, {"mode", Type::Choice, "nearest", "interpolation", nullptr, "nearest linear bilinear bicubic trilinear area"}};
  Arg<Type::Bool> align_corners{this, kAlignP};
  Arg<Type::DoubleList> scale_factor{this, kScaleP};
};
}  // namespace

// Each row's mode: fixed, or -mode.
static std::string modeOf(Call&, const NearestArgs&) { return "nearest"; }
static std::string modeOf(Call&, const BilinearArgs&) { return "bilinear"; }
static std::string modeOf(Call& c, const InterpolateArgs& a) {
  static const char* const kModes[] = {"nearest", "linear", "bilinear", "bicubic", "trilinear", "area"};
  return kModes[c.choice(a.mode)];
}

template <class A>
static Tcl_Obj* resampleFn(Call& c, const A& a) {
  at::Tensor x = c.tensor(a.input);
  if (x.dim() < 3 || x.dim() > 5) c.badValue(a.input, "a 3-D, 4-D or 5-D tensor [N, C, ...]");
  F::InterpolateFuncOptions o;
  bool hasSize = c.has(a.size), hasScale = c.has(a.scale_factor);
  if (hasSize == hasScale) fail("give exactly one of -size and -scale_factor", {"ARGS", "EXCLUSIVE", "size"});
  size_t d = size_t(x.dim() - 2);
  if (hasSize) o.size(expandInts(c, a.size, d, 1));
  else {
    auto f = c.doubles(a.scale_factor);
    if (f.size() == 1) f.assign(d, f[0]);
    if (f.size() != d) c.badValue(a.scale_factor, "1 or " + std::to_string(d) + " numbers");
    o.scale_factor(f);
  }
  std::string mode = modeOf(c, a);
  bool linear = mode != "nearest" && mode != "area";
  if (mode == "nearest") o.mode(torch::kNearest);
  else if (mode == "linear") o.mode(torch::kLinear);
  else if (mode == "bilinear") o.mode(torch::kBilinear);
  else if (mode == "bicubic") o.mode(torch::kBicubic);
  else if (mode == "trilinear") o.mode(torch::kTrilinear);
  else o.mode(torch::kArea);
  if constexpr (!std::is_same_v<A, NearestArgs>)
    if (linear) o.align_corners(c.boolean(a.align_corners));
  if constexpr (std::is_same_v<A, BilinearArgs>) o.antialias(c.boolean(a.antialias));
  return c.result(F::interpolate(x, o));
}

static const ResampleSpec kResamples[] = {
    {"upsample_nearest", "Nearest-neighbour resize of [N, C, ...] to -size or by -scale_factor.",
     memberRow<resampleFn<NearestArgs>>, ResampleKind::Nearest},
    {"upsample_bilinear", "Bilinear resize of [N, C, H, W] to -size or by -scale_factor.",
     memberRow<resampleFn<BilinearArgs>>, ResampleKind::Bilinear},
    {"interpolate", "Resize [N, C, ...] to -size or by -scale_factor (torch.nn.functional.interpolate).",
     memberRow<resampleFn<InterpolateArgs>>, ResampleKind::Interpolate},
};

enum class ShuffleKind { Pixel, Unpixel, Channel };
using ShuffleSpec = FamilyRow<ShuffleKind>;

// Each member's integer after the input.
static Param shuffleFactor(ShuffleKind k) {
  switch (k) {
    case ShuffleKind::Pixel:
      return Param{"upscale_factor", Type::Int, nullptr, "r: [*, C r^2, H, W] -> [*, C, H r, W r]", "factor"}.positive();
    case ShuffleKind::Unpixel:
      return Param{"downscale_factor", Type::Int, nullptr, "r: [*, C, H r, W r] -> [*, C r^2, H, W]", "factor"}.positive();
    case ShuffleKind::Channel: break;
  }
  return Param{"groups", Type::Int, nullptr, "channel groups to interleave"}.positive();
}
namespace {
struct ShuffleArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> factor;  // upscale_factor, downscale_factor or groups
  explicit ShuffleArgs(const ShuffleSpec& s) : factor{this, shuffleFactor(s.kind)} {}
};
}  // namespace

static Tcl_Obj* shuffleFn(Call& c, const ShuffleArgs& a) {
  at::Tensor x = c.tensor(a.input);
  switch (c.data<ShuffleSpec>().kind) {
    case ShuffleKind::Pixel: return c.result(at::pixel_shuffle(x, c.integer(a.factor)));
    case ShuffleKind::Unpixel: return c.result(at::pixel_unshuffle(x, c.integer(a.factor)));
    case ShuffleKind::Channel: {
      int64_t g = c.integer(a.factor);
      if (x.dim() < 3 || x.size(1) % g != 0) c.badValue(a.factor, "a divisor of the input's channels");
      return c.result(at::channel_shuffle(x, g));
    }
  }
  return nullptr;
}

static const ShuffleSpec kShuffles[] = {
    {"pixel_shuffle", "Rearrange [*, C r^2, H, W] into [*, C, H r, W r].", memberRow<shuffleFn>, ShuffleKind::Pixel},
    {"pixel_unshuffle", "Rearrange [*, C, H r, W r] into [*, C r^2, H, W].", memberRow<shuffleFn>, ShuffleKind::Unpixel},
    {"channel_shuffle", "Interleave the channels of [N, C, ...] across groups.", memberRow<shuffleFn>,
     ShuffleKind::Channel},
};

// ---- sliding blocks and positional encoding ----

enum class BlockKind { Fold, Unfold, PositionalEncoding };
using BlockSpec = FamilyRow<BlockKind>;

namespace {
struct FoldArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> output_size{this, {"output_size", Type::IntList, nullptr, "{H W} of the result"}};
  Arg<Type::IntList> kernel_size{this, {"kernel_size", Type::IntList, nullptr, "block size {kh kw}"}};
  Arg<Type::IntList> dilation{this, {"dilation", Type::IntList, "1", "spacing inside a block"}};
  Arg<Type::IntList> padding{this, {"padding", Type::IntList, "0", "implicit zero padding"}};
  Arg<Type::IntList> stride{this, {"stride", Type::IntList, "1", "stride between blocks"}};
};
struct UnfoldArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dimension{this, {"dimension", Type::Int, nullptr, "dimension to slide along", "dim"}};
  Arg<Type::Int> size{this, Param{"size", Type::Int, nullptr, "slice length"}.positive()};
  Arg<Type::Int> step{this, Param{"step", Type::Int, nullptr, "step between slices"}.positive()};
};
struct PosEncArgs : Args {
  Arg<Type::Int> seq_len{this, Param{"seq_len", Type::Int, nullptr, "positions"}.positive()};
  Arg<Type::Int> d_model{this, Param{"d_model", Type::Int, nullptr, "features (even)"}.positive()};
  Arg<Type::Double> dropout{this, Param{"dropout", Type::Double, "0", "dropout on the encoding"}.probability()};
};
}  // namespace

static Tcl_Obj* foldFn(Call& c, const FoldArgs& a) {
  return c.result(F::fold(c.tensor(a.input),
                          F::FoldFuncOptions(arr<2>(expandInts(c, a.output_size, 2, 1)),
                                             arr<2>(expandInts(c, a.kernel_size, 2, 1)))
                              .dilation(arr<2>(expandInts(c, a.dilation, 2, 1)))
                              .padding(arr<2>(expandInts(c, a.padding, 2, 0)))
                              .stride(arr<2>(expandInts(c, a.stride, 2, 1)))));
}

static Tcl_Obj* unfoldFn(Call& c, const UnfoldArgs& a) {
  return c.result(c.tensor(a.input).unfold(c.integer(a.dimension), c.integer(a.size), c.integer(a.step)));
}

static Tcl_Obj* positionalEncoding(Call& c, const PosEncArgs& a) {
  // PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...), then dropout.
  int64_t n = c.integer(a.seq_len), d = c.integer(a.d_model);
  if (d % 2) c.badValue(a.d_model, "a positive even integer");
  double p = c.number(a.dropout);
  at::Tensor pos = at::arange(n, at::kFloat).unsqueeze(1);
  at::Tensor div = at::exp(at::arange(0, d, 2, at::kFloat) * (-std::log(10000.0) / double(d)));
  at::Tensor pe = at::zeros({n, d});
  pe.slice(1, 0, d, 2).copy_(at::sin(pos * div));
  pe.slice(1, 1, d, 2).copy_(at::cos(pos * div));
  return c.result(p > 0 ? at::dropout(pe, p, true) : pe);
}

static const BlockSpec kBlocks[] = {
    {"fold", "Sum sliding blocks [N, C*kh*kw, L] into [N, C, H, W] (col2im, torch.nn.functional.fold).",
     memberRow<foldFn>, BlockKind::Fold, 0, "Fold"},
    {"unfold", "All slices of length size along a dimension, step apart (Tensor.unfold): a new last dimension.",
     memberRow<unfoldFn>, BlockKind::Unfold},
    {"positional_encoding", "Sinusoidal positional encoding [seq_len, d_model] (sin on even, cos on odd features).",
     memberRow<positionalEncoding>, BlockKind::PositionalEncoding},
};

std::vector<Command> nnSpatialCommands() {
  std::vector<Command> out;
  addFamily(out, kPads);
  addFamily(out, kResamples);
  addFamily(out, kShuffles);
  addFamily(out, kBlocks);
  return out;
}

}  // namespace tcltorch
