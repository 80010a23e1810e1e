// Layer families: normalisation, convolution (modules and functional forms),
// padding, resampling, sliding blocks (pooling: pooling.cpp). Names and positional orders follow the
// other Tcl torch API's docs: where it documents a layer constructor
// (batch_norm1d, group_norm, maxpool1d) the command returns a module handle;
// where it documents a function of a tensor (conv1d, avgpool1d,
// instance_norm2d, reflection_pad2d, interpolate) the command computes it.
// Convolutions also exist as modules: conv1d_layer ... conv_transpose3d_layer.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include "tcltorch/nn.h"
#include <cmath>
#include <limits>
#include <torch/nn/functional.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>

namespace tcltorch {

namespace nn = torch::nn;
namespace F = torch::nn::functional;


static Tcl_Obj* moduleResult(Call& c, std::shared_ptr<ModuleObj> o) { return c.result(Kind::Module, o); }

// ---- normalisation layers (modules) ----

enum class NormKind { Batch1d, Batch3d, Group };
using NormSpec = FamilyRow<NormKind>;

template <class Holder, class Options>
static std::shared_ptr<ModuleObj> batchNorm(Call& c, const char* type) {
  Options o(c.integer("num_features"));
  o.eps(c.number("eps")).momentum(c.number("momentum")).affine(c.boolean("affine"))
      .track_running_stats(c.boolean("track_running_stats"));
  return makeModule(Holder(o), type);
}

static Tcl_Obj* makeNorm(Call& c, const NormSpec& s) {
  switch (s.kind) {
    case NormKind::Batch1d: return moduleResult(c, batchNorm<nn::BatchNorm1d, nn::BatchNorm1dOptions>(c, s.name));
    case NormKind::Batch3d: return moduleResult(c, batchNorm<nn::BatchNorm3d, nn::BatchNorm3dOptions>(c, s.name));
    case NormKind::Group: {
      int64_t g = c.integer("num_groups"), ch = c.integer("num_channels");
      if (ch % g != 0) c.badValue("num_groups", "a divisor of num_channels (" + std::to_string(ch) + ")");
      return moduleResult(c, makeModule(nn::GroupNorm(nn::GroupNormOptions(g, ch).eps(c.number("eps"))
                                                          .affine(c.boolean("affine"))), s.name));
    }
  }
  return nullptr;
}

static const std::vector<Param> kBatchNormParams = {
    Param{"num_features", Type::Int, nullptr, "channels C of [N, C] / [N, C, L] / [N, C, D, H, W]"}.positive(),
    {"eps", Type::Double, "1e-5", "added to the variance"},
    {"momentum", Type::Double, "0.1", "running statistics update factor"},
    {"affine", Type::Bool, "1", "learn weight and bias"},
    {"track_running_stats", Type::Bool, "1", "keep running_mean/running_var (used in eval mode)"}};
static const std::vector<Param> kGroupNormParams = {
    Param{"num_groups", Type::Int, nullptr, "groups the channels are split into"}.positive(),
    Param{"num_channels", Type::Int, nullptr, "channels C"}.positive(),
    {"eps", Type::Double, "1e-5", "added to the variance"},
    {"affine", Type::Bool, "1", "learn weight and bias"}};

static const NormSpec kNorms[] = {
    {"batch_norm1d", "Batch normalisation over [N, C] or [N, C, L] (running statistics in eval mode).",
     &kBatchNormParams, NormKind::Batch1d},
    {"batch_norm3d", "Batch normalisation over [N, C, D, H, W] (running statistics in eval mode).",
     &kBatchNormParams, NormKind::Batch3d},
    {"group_norm", "Group normalisation over [N, C, *] (same in train and eval).", &kGroupNormParams,
     NormKind::Group},
};

// ---- convolution layers (modules) ----

using ConvLayerSpec = FamilyRow<bool>;  // kind: transposed

template <size_t D, class Holder, class Options>
static std::shared_ptr<ModuleObj> convLayer(Call& c, const char* type) {
  Options o(c.integer("in_channels"), c.integer("out_channels"), arr<D>(expandInts(c, "kernel_size", D, 1)));
  o.stride(arr<D>(expandInts(c, "stride", D, 1))).padding(arr<D>(expandInts(c, "padding", D, 0)))
      .dilation(arr<D>(expandInts(c, "dilation", D, 1))).groups(c.integer("groups")).bias(c.boolean("bias"));
  if constexpr (std::is_same_v<Options, nn::ConvTranspose1dOptions> ||
                std::is_same_v<Options, nn::ConvTranspose2dOptions> ||
                std::is_same_v<Options, nn::ConvTranspose3dOptions>)
    o.output_padding(arr<D>(expandInts(c, "output_padding", D, 0)));
  return makeModule(Holder(o), type);
}

static Tcl_Obj* makeConvLayer(Call& c, const ConvLayerSpec& s) {
  std::shared_ptr<ModuleObj> m;
  if (!s.kind) {
    if (s.dims == 1) m = convLayer<1, nn::Conv1d, nn::Conv1dOptions>(c, s.name);
    else m = convLayer<3, nn::Conv3d, nn::Conv3dOptions>(c, s.name);
  } else if (s.dims == 1) {
    m = convLayer<1, nn::ConvTranspose1d, nn::ConvTranspose1dOptions>(c, s.name);
  } else if (s.dims == 2) {
    m = convLayer<2, nn::ConvTranspose2d, nn::ConvTranspose2dOptions>(c, s.name);
  } else {
    m = convLayer<3, nn::ConvTranspose3d, nn::ConvTranspose3dOptions>(c, s.name);
  }
  return moduleResult(c, m);
}

static const Param kInCh = Param{"in_channels", Type::Int, nullptr, "input channels"}.positive();
static const Param kOutCh = Param{"out_channels", Type::Int, nullptr, "output channels"}.positive();
static const Param kKernel{"kernel_size", Type::IntList, nullptr, "kernel: k or one size per dimension"};
static const Param kStride{"stride", Type::IntList, "1", "stride: s or one per dimension"};
static const Param kPadding{"padding", Type::IntList, "0", "zero padding: p or one per dimension"};
static const Param kOutPad{"output_padding", Type::IntList, "0", "extra size on one side of the output"};
static const Param kBiasFlag{"bias", Type::Bool, "1", "learn an additive bias"};
static const Param kDilation{"dilation", Type::IntList, "1", "spacing between kernel elements"};
static const Param kGroups =
    Param{"groups", Type::Int, "1", "blocked connections from input to output channels"}.positive();

static const std::vector<Param> kConvLayerParams = {kInCh, kOutCh, kKernel, kStride, kPadding,
                                                    kBiasFlag, kDilation, kGroups};
static const std::vector<Param> kConvTLayerParams = {kInCh, kOutCh, kKernel, kStride, kPadding,
                                                     kOutPad, kBiasFlag, kDilation, kGroups};

static const ConvLayerSpec kConvLayers[] = {
    {"conv1d_layer", "1-D convolution layer over [N, C, L] (module; keys weight, bias).", &kConvLayerParams, false,
     1},
    {"conv3d_layer", "3-D convolution layer over [N, C, D, H, W] (module).", &kConvLayerParams, false, 3},
    {"conv_transpose1d_layer", "1-D transposed convolution layer (module; weight [in, out/groups, k]).",
     &kConvTLayerParams, true, 1},
    {"conv_transpose2d_layer", "2-D transposed convolution layer (module).", &kConvTLayerParams, true, 2},
    {"conv_transpose3d_layer", "3-D transposed convolution layer (module).", &kConvTLayerParams, true, 3},
};

// ---- functional convolutions ----

using ConvFnSpec = FamilyRow<bool>;  // kind: transposed

static Tcl_Obj* convFn(Call& c, const ConvFnSpec& s) {
  at::Tensor x = c.tensor("input"), w = c.tensor("weight"), b = c.optTensor("bias");
  if (w.dim() != s.dims + 2) c.badValue("weight", "a " + std::to_string(s.dims + 2) + "-D weight tensor");
  size_t d = size_t(s.dims);
  auto st = expandInts(c, "stride", d, 1), pad = expandInts(c, "padding", d, 0), dil = expandInts(c, "dilation", d, 1);
  int64_t g = c.integer("groups");
  if (!s.kind) return c.result(at::convolution(x, w, b, st, pad, dil, false, std::vector<int64_t>(d, 0), g));
  return c.result(at::convolution(x, w, b, st, pad, dil, true, expandInts(c, "output_padding", d, 0), g));
}

static const Param kWeight{"weight", Type::Tensor, nullptr, "kernel tensor"};
static const Param kBiasT{"bias", Type::OptTensor, "none", "bias tensor [C_out] or none"};
static const std::vector<Param> kConvFnParams = {kInput, kWeight, kBiasT, kStride, kPadding, kDilation, kGroups};
// The other API's order for transposed convolutions: ... output_padding groups dilation.
static const std::vector<Param> kConvTFnParams = {kInput, kWeight, kBiasT, kStride, kPadding, kOutPad, kGroups,
                                                  kDilation};

static const ConvFnSpec kConvFns[] = {
    {"conv1d", "1-D convolution of [N, C_in, L] with weight [C_out, C_in/groups, K].", &kConvFnParams, false, 1},
    {"tensor_conv1d", "Same as torch::conv1d.", &kConvFnParams, false, 1},
    {"conv3d", "3-D convolution of [N, C_in, D, H, W] with weight [C_out, C_in/groups, kD, kH, kW].",
     &kConvFnParams, false, 3},
    {"conv_transpose1d", "1-D transposed convolution; weight [C_in, C_out/groups, K].", &kConvTFnParams, true, 1},
    {"tensor_conv_transpose1d", "Same as torch::conv_transpose1d.", &kConvTFnParams, true, 1},
    {"conv_transpose_2d", "2-D transposed convolution; weight [C_in, C_out/groups, kH, kW].", &kConvTFnParams, true,
     2},
    {"tensor_conv_transpose2d", "Same as torch::conv_transpose_2d.", &kConvTFnParams, true, 2},
    {"conv_transpose3d", "3-D transposed convolution; weight [C_in, C_out/groups, kD, kH, kW].", &kConvTFnParams, true,
     3},
};

// ---- functional normalisation ----

enum class FnNormKind { Instance, Lrn, CrossMapLrn, Rms };
using FnNormSpec = FamilyRow<FnNormKind>;

static Tcl_Obj* normFn(Call& c, const FnNormSpec& s) {
  at::Tensor x = c.tensor("input");
  switch (s.kind) {
    case FnNormKind::Instance: {
      if (x.dim() != s.dims + 2) c.badValue("input", "a " + std::to_string(s.dims + 2) + "-D tensor [N, C, ...]");
      double eps = c.number("eps");
      // Each (sample, channel) normalised by its own statistics, as a freshly
      // made nn.InstanceNormNd does (unit weight, zero bias, batch statistics).
      (void)c.boolean("affine"), (void)c.boolean("track_running_stats");
      return c.result(at::instance_norm(x, {}, {}, {}, {}, true, c.number("momentum"), eps, false));
    }
    case FnNormKind::Lrn:
    case FnNormKind::CrossMapLrn: {
      if (s.kind == FnNormKind::CrossMapLrn && x.dim() != 4) c.badValue("input", "a 4-D tensor [N, C, H, W]");
      if (x.dim() < 3) c.badValue("input", "a tensor of at least 3 dimensions [N, C, ...]");
      return c.result(F::local_response_norm(x, F::LocalResponseNormFuncOptions(c.integer("size"))
                                                    .alpha(c.number("alpha")).beta(c.number("beta")).k(c.number("k"))));
    }
    case FnNormKind::Rms: {
      auto shape = c.ints("normalized_shape");
      if (shape.empty() || int64_t(shape.size()) > x.dim() ||
          !x.sizes().slice(x.dim() - shape.size()).equals(shape))
        c.badValue("normalized_shape", "the input's trailing dimensions");
      std::vector<int64_t> dims;
      for (int64_t i = 0; i < int64_t(shape.size()); ++i) dims.push_back(-1 - i);
      double eps = c.has("eps") ? c.number("eps") : double(std::numeric_limits<float>::epsilon());
      if (c.has("eps") == false && x.scalar_type() == at::kDouble) eps = std::numeric_limits<double>::epsilon();
      at::Tensor y = x * at::rsqrt(x.pow(2).mean(dims, true) + eps);
      if (c.has("weight")) y = y * c.tensor("weight");
      return c.result(y);
    }
  }
  return nullptr;
}

static const std::vector<Param> kInstanceNormParams = {
    kInput,
    Param{"eps", Type::Double, "1e-5", "added to the variance", "epsilon"}.positive(),
    {"momentum", Type::Double, "0.1", "accepted for compatibility (no running statistics in a function)"},
    {"affine", Type::Bool, "1", "accepted for compatibility (a fresh affine map is the identity)"},
    {"track_running_stats", Type::Bool, "1", "accepted for compatibility (statistics are the input's)"}};
static const std::vector<Param> kLrnParams = {
    kInput,
    Param{"size", Type::Int, "5", "channels in each neighbourhood"}.positive(),
    {"alpha", Type::Double, "1e-4", "multiplicative factor"},
    {"beta", Type::Double, "0.75", "exponent"},
    {"k", Type::Double, "1", "additive factor"}};
static const std::vector<Param> kRmsParams = {
    kInput,
    {"normalized_shape", Type::IntList, nullptr, "trailing shape to normalise over"},
    {"eps", Type::Double, kOptional, "added to the mean square (default: the dtype's machine epsilon)"},
    {"weight", Type::Tensor, kOptional, "elementwise scale of normalized_shape", nullptr, nullptr, true}};

static const FnNormSpec kFnNorms[] = {
    {"instance_norm1d", "Instance normalisation of [N, C, L]: each (sample, channel) by its own mean and variance.",
     &kInstanceNormParams, FnNormKind::Instance, 1},
    {"instance_norm2d", "Instance normalisation of [N, C, H, W].", &kInstanceNormParams, FnNormKind::Instance, 2},
    {"instance_norm3d", "Instance normalisation of [N, C, D, H, W].", &kInstanceNormParams, FnNormKind::Instance, 3},
    {"local_response_norm", "Local response normalisation across channels: x / (k + alpha/size * sum x^2)^beta.",
     &kLrnParams, FnNormKind::Lrn, 0},
    {"cross_map_lrn2d", "Cross-map local response normalisation of [N, C, H, W] (as local_response_norm).",
     &kLrnParams, FnNormKind::CrossMapLrn, 0},
    {"rms_norm", "RMS normalisation: x / sqrt(mean(x^2) + eps) over normalized_shape (times -weight).",
     &kRmsParams, FnNormKind::Rms, 0},
};

// ---- padding ----

enum class PadMode { Reflect, Replicate, Zero, Circular };
using PadSpec = FamilyRow<PadMode>;

static Tcl_Obj* padFn(Call& c, const PadSpec& s) {
  at::Tensor x = c.tensor("input");
  auto p = c.ints("padding");
  size_t n = size_t(2 * s.dims);
  if (p.size() == 1) p.assign(n, p[0]);
  if (p.size() != n) c.badValue("padding", "1 or " + std::to_string(n) + " integers (last dimension first)");
  F::PadFuncOptions o(p);
  switch (s.kind) {
    case PadMode::Reflect: o.mode(torch::kReflect); break;
    case PadMode::Replicate: o.mode(torch::kReplicate); break;
    case PadMode::Circular: o.mode(torch::kCircular); break;
    case PadMode::Zero: o.mode(torch::kConstant).value(0); break;
  }
  return c.result(F::pad(x, o));
}

static const std::vector<Param> kPadParams = {
    kInput, {"padding", Type::IntList, nullptr, "{left right ?top bottom? ?front back?} or one size for all", "pad"}};

#define TCLTORCH_PAD_ROWS(prefix, mode, what)                                                          \
  {prefix "_pad1d", "Pad the last dimension of [N, C, L] or [C, L] (" what ").", &kPadParams, mode, 1}, \
      {prefix "_pad2d", "Pad the last 2 dimensions (" what ").", &kPadParams, mode, 2},                 \
      {prefix "_pad3d", "Pad the last 3 dimensions (" what ").", &kPadParams, mode, 3}
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

static Tcl_Obj* resampleFn(Call& c, const ResampleSpec& s) {
  at::Tensor x = c.tensor("input");
  if (x.dim() < 3 || x.dim() > 5) c.badValue("input", "a 3-D, 4-D or 5-D tensor [N, C, ...]");
  F::InterpolateFuncOptions o;
  bool hasSize = c.has("size"), hasScale = c.has("scale_factor");
  if (hasSize == hasScale) fail("give exactly one of -size and -scale_factor", {"ARGS", "EXCLUSIVE", "size"});
  size_t d = size_t(x.dim() - 2);
  if (hasSize) o.size(expandInts(c, "size", d, 1));
  else {
    auto f = c.doubles("scale_factor");
    if (f.size() == 1) f.assign(d, f[0]);
    if (f.size() != d) c.badValue("scale_factor", "1 or " + std::to_string(d) + " numbers");
    o.scale_factor(f);
  }
  static const char* const kModes[] = {"nearest", "linear", "bilinear", "bicubic", "trilinear", "area"};
  std::string mode = s.kind == ResampleKind::Nearest ? "nearest"
                     : s.kind == ResampleKind::Bilinear ? "bilinear"
                                                        : kModes[c.choice("mode")];
  bool linear = mode != "nearest" && mode != "area";
  if (mode == "nearest") o.mode(torch::kNearest);
  else if (mode == "linear") o.mode(torch::kLinear);
  else if (mode == "bilinear") o.mode(torch::kBilinear);
  else if (mode == "bicubic") o.mode(torch::kBicubic);
  else if (mode == "trilinear") o.mode(torch::kTrilinear);
  else o.mode(torch::kArea);
  if (linear && c.declares("align_corners")) o.align_corners(c.boolean("align_corners"));
  if (c.declares("antialias")) o.antialias(c.boolean("antialias"));
  return c.result(F::interpolate(x, o));
}

static const Param kSizeP{"size", Type::IntList, kOptional, "output size: n or one per spatial dimension",
                          "output_size"};
static const Param kScaleP{"scale_factor", Type::DoubleList, kOptional, "multiplier: f or one per spatial dimension"};
static const Param kAlignP{"align_corners", Type::Bool, "0", "align the corner pixels (linear modes)"};
static const std::vector<Param> kNearestParams = {kInput, kSizeP, kScaleP};
static const std::vector<Param> kBilinearParams = {
    kInput, kSizeP, kAlignP, {"antialias", Type::Bool, "0", "anti-alias when downsampling"}, kScaleP};
static const std::vector<Param> kInterpolateParams = {
    kInput, kSizeP,
    {"mode", Type::Choice, "nearest", "interpolation", nullptr, "nearest linear bilinear bicubic trilinear area"},
    kAlignP, kScaleP};

static const ResampleSpec kResamples[] = {
    {"upsample_nearest", "Nearest-neighbour resize of [N, C, ...] to -size or by -scale_factor.", &kNearestParams,
     ResampleKind::Nearest},
    {"upsample_bilinear", "Bilinear resize of [N, C, H, W] to -size or by -scale_factor.", &kBilinearParams,
     ResampleKind::Bilinear},
    {"interpolate", "Resize [N, C, ...] to -size or by -scale_factor (torch.nn.functional.interpolate).",
     &kInterpolateParams, ResampleKind::Interpolate},
};

enum class ShuffleKind { Pixel, Unpixel, Channel };
using ShuffleSpec = FamilyRow<ShuffleKind>;

static Tcl_Obj* shuffleFn(Call& c, const ShuffleSpec& s) {
  at::Tensor x = c.tensor("input");
  switch (s.kind) {
    case ShuffleKind::Pixel: return c.result(at::pixel_shuffle(x, c.integer("upscale_factor")));
    case ShuffleKind::Unpixel: return c.result(at::pixel_unshuffle(x, c.integer("downscale_factor")));
    case ShuffleKind::Channel: {
      int64_t g = c.integer("groups");
      if (x.dim() < 3 || x.size(1) % g != 0) c.badValue("groups", "a divisor of the input's channels");
      return c.result(at::channel_shuffle(x, g));
    }
  }
  return nullptr;
}

static const std::vector<Param> kPixelShuffleParams = {
    kInput, Param{"upscale_factor", Type::Int, nullptr, "r: [*, C r^2, H, W] -> [*, C, H r, W r]", "factor"}.positive()};
static const std::vector<Param> kPixelUnshuffleParams = {
    kInput, Param{"downscale_factor", Type::Int, nullptr, "r: [*, C, H r, W r] -> [*, C r^2, H, W]", "factor"}.positive()};
static const std::vector<Param> kChannelShuffleParams = {
    kInput, Param{"groups", Type::Int, nullptr, "channel groups to interleave"}.positive()};

static const ShuffleSpec kShuffles[] = {
    {"pixel_shuffle", "Rearrange [*, C r^2, H, W] into [*, C, H r, W r].", &kPixelShuffleParams, ShuffleKind::Pixel},
    {"pixel_unshuffle", "Rearrange [*, C, H r, W r] into [*, C r^2, H, W].", &kPixelUnshuffleParams,
     ShuffleKind::Unpixel},
    {"channel_shuffle", "Interleave the channels of [N, C, ...] across groups.", &kChannelShuffleParams,
     ShuffleKind::Channel},
};

// ---- sliding blocks and positional encoding ----

enum class BlockKind { Fold, Unfold, PositionalEncoding };
using BlockSpec = FamilyRow<BlockKind>;

static Tcl_Obj* blockFn(Call& c, const BlockSpec& s) {
  switch (s.kind) {
    case BlockKind::Fold:
      return c.result(F::fold(c.tensor("input"),
                              F::FoldFuncOptions(arr<2>(expandInts(c, "output_size", 2, 1)),
                                                 arr<2>(expandInts(c, "kernel_size", 2, 1)))
                                  .dilation(arr<2>(expandInts(c, "dilation", 2, 1)))
                                  .padding(arr<2>(expandInts(c, "padding", 2, 0)))
                                  .stride(arr<2>(expandInts(c, "stride", 2, 1)))));
    case BlockKind::Unfold:
      return c.result(c.tensor("input").unfold(c.integer("dimension"), c.integer("size"), c.integer("step")));
    case BlockKind::PositionalEncoding: {
      // PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...), then dropout.
      int64_t n = c.integer("seq_len"), d = c.integer("d_model");
      if (d % 2) c.badValue("d_model", "a positive even integer");
      double p = c.number("dropout");
      at::Tensor pos = at::arange(n, at::kFloat).unsqueeze(1);
      at::Tensor div = at::exp(at::arange(0, d, 2, at::kFloat) * (-std::log(10000.0) / double(d)));
      at::Tensor pe = at::zeros({n, d});
      pe.slice(1, 0, d, 2).copy_(at::sin(pos * div));
      pe.slice(1, 1, d, 2).copy_(at::cos(pos * div));
      return c.result(p > 0 ? at::dropout(pe, p, true) : pe);
    }
  }
  return nullptr;
}

static const std::vector<Param> kFoldParams = {
    kInput,
    {"output_size", Type::IntList, nullptr, "{H W} of the result"},
    {"kernel_size", Type::IntList, nullptr, "block size {kh kw}"},
    {"dilation", Type::IntList, "1", "spacing inside a block"},
    {"padding", Type::IntList, "0", "implicit zero padding"},
    {"stride", Type::IntList, "1", "stride between blocks"}};
static const std::vector<Param> kUnfoldParams = {
    kInput,
    {"dimension", Type::Int, nullptr, "dimension to slide along", "dim"},
    Param{"size", Type::Int, nullptr, "slice length"}.positive(),
    Param{"step", Type::Int, nullptr, "step between slices"}.positive()};
static const std::vector<Param> kPosEncParams = {
    Param{"seq_len", Type::Int, nullptr, "positions"}.positive(),
    Param{"d_model", Type::Int, nullptr, "features (even)"}.positive(),
    Param{"dropout", Type::Double, "0", "dropout on the encoding"}.probability()};

static const BlockSpec kBlocks[] = {
    {"fold", "Sum sliding blocks [N, C*kh*kw, L] into [N, C, H, W] (col2im, torch.nn.functional.fold).",
     &kFoldParams, BlockKind::Fold, 0, "Fold"},
    {"unfold", "All slices of length size along a dimension, step apart (Tensor.unfold): a new last dimension.",
     &kUnfoldParams, BlockKind::Unfold},
    {"positional_encoding", "Sinusoidal positional encoding [seq_len, d_model] (sin on even, cos on odd features).",
     &kPosEncParams, BlockKind::PositionalEncoding},
};

// Copies tensors into a module's parameters and buffers by their PyTorch
// names; everything is checked first, so a bad entry changes nothing.
static void copyState(Call& c, ModuleObj& m, const std::vector<std::pair<std::string, Tcl_Obj*>>& items) {
  std::unordered_map<std::string, at::Tensor> mine;
  for (auto& kv : m.module->named_parameters()) mine[kv.key()] = kv.value();
  for (auto& kv : m.module->named_buffers()) mine[kv.key()] = kv.value();
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  for (auto& [name, obj] : items) {
    auto it = mine.find(name);
    if (it == mine.end()) fail("module has no parameter or buffer \"" + name + "\"", {"STATE", "MISMATCH", name});
    at::Tensor t = c.st.reg.tensor(obj);
    if (!t.sizes().equals(it->second.sizes()))
      fail("\"" + name + "\" has shape " + c10::str(it->second.sizes()) + ", the tensor " + c10::str(t.sizes()),
           {"STATE", "MISMATCH", name});
    copies.emplace_back(it->second, t);
  }
  at::NoGradGuard ng;
  for (auto& [dst, src] : copies) dst.copy_(src);
}

static Tcl_Obj* cmdLayerSetState(Call& c) {
  auto m = c.object<ModuleObj>("module");
  std::vector<std::pair<std::string, Tcl_Obj*>> items;
  Tcl_DictSearch search;
  Tcl_Obj *k, *v;
  int done;
  if (Tcl_DictObjFirst(nullptr, c.obj("state"), &search, &k, &v, &done) != TCL_OK)
    c.badValue("state", "a dict of name -> tensor handle");
  for (; !done; Tcl_DictObjNext(&search, &k, &v, &done)) items.emplace_back(Tcl_GetString(k), v);
  Tcl_DictObjDone(&search);
  copyState(c, *m, items);
  return c.obj("module");
}

static Tcl_Obj* cmdConv2dSetWeights(Call& c) {
  auto m = c.object<ModuleObj>("module");
  if (m->type != "conv2d") c.badValue("module", "a conv2d layer");
  std::vector<std::pair<std::string, Tcl_Obj*>> items = {{"weight", c.obj("weight")}};
  if (c.has("bias")) items.emplace_back("bias", c.obj("bias"));
  copyState(c, *m, items);
  return c.obj("module");
}

// Sums, means or maxima of embedding rows over bags (torch.nn.functional.embedding_bag).
static Tcl_Obj* cmdEmbeddingBag(Call& c) {
  int64_t mode = c.integer("mode");
  at::Tensor idx = c.tensor("input"), off = c.tensor("offsets");
  if (idx.is_floating_point()) idx = idx.to(at::kLong);
  if (off.is_floating_point()) off = off.to(at::kLong);
  c10::optional<at::Tensor> w;
  if (c.has("per_sample_weights")) w = c.tensor("per_sample_weights");
  return c.result(std::get<0>(at::embedding_bag(c.tensor("weight"), idx, off, false, mode, false, w)));
}

std::vector<Command> nnLayersCommands() {
  std::vector<Command> out;
  addFamily<makeNorm>(out, kNorms);
  addFamily<makeConvLayer>(out, kConvLayers);
  addFamily<convFn>(out, kConvFns);
  addFamily<normFn>(out, kFnNorms);
  addFamily<padFn>(out, kPads);
  addFamily<resampleFn>(out, kResamples);
  addFamily<shuffleFn>(out, kShuffles);
  addFamily<blockFn>(out, kBlocks);
  out.push_back({"layer_set_state",
                 "Copy tensors into a module's parameters/buffers by PyTorch name; returns the module.",
                 {{"module", Type::Module, nullptr, "module handle", "layer model"},
                  {"state", Type::String, nullptr, "dict: name -> tensor handle (a subset of the state dict)"}},
                 cmdLayerSetState});
  out.push_back({"conv2d_set_weights", "Copy a weight (and bias) into a conv2d layer; returns the layer.",
                 {{"module", Type::Module, nullptr, "conv2d layer", "layer"},
                  {"weight", Type::Tensor, nullptr, "[out, in/groups, kh, kw]"},
                  {"bias", Type::Tensor, kOptional, "[out]"}},
                 cmdConv2dSetWeights});
  out.push_back({"embedding_bag", "Aggregate embedding rows over bags: [bags, dim] (sum, mean or max).",
                 {kInput,
                  {"weight", Type::Tensor, nullptr, "embedding table [num, dim]"},
                  {"offsets", Type::Tensor, nullptr, "start of each bag in input (int64)"},
                  Param{"mode", Type::Int, nullptr, "0 sum, 1 mean, 2 max"}.within(0, 2).mustBe("0 (sum), 1 (mean) or 2 (max)"),
                  {"per_sample_weights", Type::Tensor, kOptional, "weight of each index (sum mode)"}},
                 cmdEmbeddingBag});
  for (auto& c : nnRecurrentCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
