// Layer families: normalisation, convolution (modules and functional forms)
// (padding, resampling, sliding blocks: nn_spatial.cpp; pooling: pooling.cpp). Names and positional orders follow the
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

namespace {
const Param kNormEps{"eps", Type::Double, "1e-5", "added to the variance"};
const Param kAffine{"affine", Type::Bool, "1", "learn weight and bias"};
struct BatchNormArgs : Args {
  Arg<Type::Int> num_features{
      this, Param{"num_features", Type::Int, nullptr, "channels C of [N, C] / [N, C, L] / [N, C, D, H, W]"}.positive()};
  Arg<Type::Double> eps{this, kNormEps};
  Arg<Type::Double> momentum{this, {"momentum", Type::Double, "0.1", "running statistics update factor"}};
  Arg<Type::Bool> affine{this, kAffine};
  Arg<Type::Bool> track_running_stats{
      this, {"track_running_stats", Type::Bool, "1", "keep running_mean/running_var (used in eval mode)"}};
};
struct GroupNormArgs : Args {
  Arg<Type::Int> num_groups{this, Param{"num_groups", Type::Int, nullptr, "groups the channels are split into"}.positive()};
  Arg<Type::Int> num_channels{this, Param{"num_channels", Type::Int, nullptr, "channels C"}.positive()};
  Arg<Type::Double> eps{this, kNormEps};
  Arg<Type::Bool> affine{this, kAffine};
};
}  // namespace

template <class Holder, class Options>
static std::shared_ptr<ModuleObj> batchNorm(Call& c, const BatchNormArgs& a, const char* type) {
  Options o(c.integer(a.num_features));
  o.eps(c.number(a.eps)).momentum(c.number(a.momentum)).affine(c.boolean(a.affine))
      .track_running_stats(c.boolean(a.track_running_stats));
  return makeModule(Holder(o), type);
}

static Tcl_Obj* makeBatchNorm(Call& c, const BatchNormArgs& a) {
  const NormSpec& s = c.data<NormSpec>();
  if (s.kind == NormKind::Batch1d)
    return moduleResult(c, batchNorm<nn::BatchNorm1d, nn::BatchNorm1dOptions>(c, a, s.name));
  return moduleResult(c, batchNorm<nn::BatchNorm3d, nn::BatchNorm3dOptions>(c, a, s.name));
}

static Tcl_Obj* makeGroupNorm(Call& c, const GroupNormArgs& a) {
  int64_t g = c.integer(a.num_groups), ch = c.integer(a.num_channels);
  if (ch % g != 0) c.badValue(a.num_groups, "a divisor of num_channels (" + std::to_string(ch) + ")");
  return moduleResult(c, makeModule(nn::GroupNorm(nn::GroupNormOptions(g, ch).eps(c.number(a.eps))
                                                      .affine(c.boolean(a.affine))), c.data<NormSpec>().name));
}

static const NormSpec kNorms[] = {
    {"batch_norm1d", "Batch normalisation over [N, C] or [N, C, L] (running statistics in eval mode).",
     memberRow<makeBatchNorm>, NormKind::Batch1d},
    {"batch_norm3d", "Batch normalisation over [N, C, D, H, W] (running statistics in eval mode).",
     memberRow<makeBatchNorm>, NormKind::Batch3d},
    {"group_norm", "Group normalisation over [N, C, *] (same in train and eval).", memberRow<makeGroupNorm>,
     NormKind::Group},
};

// ---- convolution layers (modules) ----

using ConvLayerSpec = FamilyRow<bool>;  // kind: transposed

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

namespace {
struct ConvLayerArgs : Args {
  Arg<Type::Int> in_channels{this, kInCh};
  Arg<Type::Int> out_channels{this, kOutCh};
  Arg<Type::IntList> kernel_size{this, kKernel};
  Arg<Type::IntList> stride{this, kStride};
  Arg<Type::IntList> padding{this, kPadding};
  Arg<Type::Bool> bias{this, kBiasFlag};
  Arg<Type::IntList> dilation{this, kDilation};
  Arg<Type::Int> groups{this, kGroups};
};
struct ConvTLayerArgs : Args {
  Arg<Type::Int> in_channels{this, kInCh};
  Arg<Type::Int> out_channels{this, kOutCh};
  Arg<Type::IntList> kernel_size{this, kKernel};
  Arg<Type::IntList> stride{this, kStride};
  Arg<Type::IntList> padding{this, kPadding};
  Arg<Type::IntList> output_padding{this, kOutPad};
  Arg<Type::Bool> bias{this, kBiasFlag};
  Arg<Type::IntList> dilation{this, kDilation};
  Arg<Type::Int> groups{this, kGroups};
};
}  // namespace

template <size_t D, class Holder, class Options, class A>
static Tcl_Obj* convLayer(Call& c, const A& a) {
  Options o(c.integer(a.in_channels), c.integer(a.out_channels), arr<D>(expandInts(c, a.kernel_size, D, 1)));
  o.stride(arr<D>(expandInts(c, a.stride, D, 1))).padding(arr<D>(expandInts(c, a.padding, D, 0)))
      .dilation(arr<D>(expandInts(c, a.dilation, D, 1))).groups(c.integer(a.groups)).bias(c.boolean(a.bias));
  if constexpr (std::is_same_v<A, ConvTLayerArgs>) o.output_padding(arr<D>(expandInts(c, a.output_padding, D, 0)));
  return moduleResult(c, makeModule(Holder(o), c.data<ConvLayerSpec>().name));
}

static Tcl_Obj* makeConvLayer(Call& c, const ConvLayerArgs& a) {
  if (c.data<ConvLayerSpec>().dims == 1) return convLayer<1, nn::Conv1d, nn::Conv1dOptions>(c, a);
  return convLayer<3, nn::Conv3d, nn::Conv3dOptions>(c, a);
}

static Tcl_Obj* makeConvTLayer(Call& c, const ConvTLayerArgs& a) {
  int dims = c.data<ConvLayerSpec>().dims;
  if (dims == 1) return convLayer<1, nn::ConvTranspose1d, nn::ConvTranspose1dOptions>(c, a);
  if (dims == 2) return convLayer<2, nn::ConvTranspose2d, nn::ConvTranspose2dOptions>(c, a);
  return convLayer<3, nn::ConvTranspose3d, nn::ConvTranspose3dOptions>(c, a);
}

static const ConvLayerSpec kConvLayers[] = {
    {"conv1d_layer", "1-D convolution layer over [N, C, L] (module; keys weight, bias).", memberRow<makeConvLayer>,
     false, 1},
    {"conv3d_layer", "3-D convolution layer over [N, C, D, H, W] (module).", memberRow<makeConvLayer>, false, 3},
    {"conv_transpose1d_layer", "1-D transposed convolution layer (module; weight [in, out/groups, k]).",
     memberRow<makeConvTLayer>, true, 1},
    {"conv_transpose2d_layer", "2-D transposed convolution layer (module).", memberRow<makeConvTLayer>, true, 2},
    {"conv_transpose3d_layer", "3-D transposed convolution layer (module).", memberRow<makeConvTLayer>, true, 3},
};

// ---- functional convolutions ----

using ConvFnSpec = FamilyRow<bool>;  // kind: transposed

static const Param kWeight{"weight", Type::Tensor, nullptr, "kernel tensor"};
static const Param kBiasT{"bias", Type::OptTensor, "none", "bias tensor [C_out] or none"};
namespace {
struct ConvFnArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> weight{this, kWeight};
  Arg<Type::OptTensor> bias{this, kBiasT};
  Arg<Type::IntList> stride{this, kStride};
  Arg<Type::IntList> padding{this, kPadding};
  Arg<Type::IntList> dilation{this, kDilation};
  Arg<Type::Int> groups{this, kGroups};
};
// The other API's order for transposed convolutions: ... output_padding groups dilation.
struct ConvTFnArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> weight{this, kWeight};
  Arg<Type::OptTensor> bias{this, kBiasT};
  Arg<Type::IntList> stride{this, kStride};
  Arg<Type::IntList> padding{this, kPadding};
  Arg<Type::IntList> output_padding{this, kOutPad};
  Arg<Type::Int> groups{this, kGroups};
  Arg<Type::IntList> dilation{this, kDilation};
};
}  // namespace

template <class A>
static Tcl_Obj* convFn(Call& c, const A& a) {
  const ConvFnSpec& s = c.data<ConvFnSpec>();
  at::Tensor x = c.tensor(a.input), w = c.tensor(a.weight), b = c.optTensor(a.bias);
  if (w.dim() != s.dims + 2) c.badValue(a.weight, "a " + std::to_string(s.dims + 2) + "-D weight tensor");
  size_t d = size_t(s.dims);
  auto st = expandInts(c, a.stride, d, 1), pad = expandInts(c, a.padding, d, 0), dil = expandInts(c, a.dilation, d, 1);
  int64_t g = c.integer(a.groups);
  if constexpr (std::is_same_v<A, ConvFnArgs>)
    return c.result(at::convolution(x, w, b, st, pad, dil, false, std::vector<int64_t>(d, 0), g));
  else
    return c.result(at::convolution(x, w, b, st, pad, dil, true, expandInts(c, a.output_padding, d, 0), g));
}

static const ConvFnSpec kConvFns[] = {
    {"conv1d", "1-D convolution of [N, C_in, L] with weight [C_out, C_in/groups, K].", memberRow<convFn<ConvFnArgs>>,
     false, 1},
    {"tensor_conv1d", "Same as torch::conv1d.", memberRow<convFn<ConvFnArgs>>, false, 1},
    {"conv3d", "3-D convolution of [N, C_in, D, H, W] with weight [C_out, C_in/groups, kD, kH, kW].",
     memberRow<convFn<ConvFnArgs>>, false, 3},
    {"conv_transpose1d", "1-D transposed convolution; weight [C_in, C_out/groups, K].", memberRow<convFn<ConvTFnArgs>>,
     true, 1},
    {"tensor_conv_transpose1d", "Same as torch::conv_transpose1d.", memberRow<convFn<ConvTFnArgs>>, true, 1},
    {"conv_transpose_2d", "2-D transposed convolution; weight [C_in, C_out/groups, kH, kW].",
     memberRow<convFn<ConvTFnArgs>>, true, 2},
    {"tensor_conv_transpose2d", "Same as torch::conv_transpose_2d.", memberRow<convFn<ConvTFnArgs>>, true, 2},
    {"conv_transpose3d", "3-D transposed convolution; weight [C_in, C_out/groups, kD, kH, kW].",
     memberRow<convFn<ConvTFnArgs>>, true, 3},
};

// ---- functional normalisation ----

enum class FnNormKind { Instance, Lrn, CrossMapLrn, Rms };
using FnNormSpec = FamilyRow<FnNormKind>;

namespace {
struct InstanceNormArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> eps{this, Param{"eps", Type::Double, "1e-5", "added to the variance", "epsilon"}.positive()};
  Arg<Type::Double> momentum{
      this, {"momentum", Type::Double, "0.1", "accepted for compatibility (no running statistics in a function)"}};
  Arg<Type::Bool> affine{
      this, {"affine", Type::Bool, "1", "accepted for compatibility (a fresh affine map is the identity)"}};
  Arg<Type::Bool> track_running_stats{
      this, {"track_running_stats", Type::Bool, "1", "accepted for compatibility (statistics are the input's)"}};
};
struct LrnArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> size{this, Param{"size", Type::Int, "5", "channels in each neighbourhood"}.positive()};
  Arg<Type::Double> alpha{this, {"alpha", Type::Double, "1e-4", "multiplicative factor"}};
  Arg<Type::Double> beta{this, {"beta", Type::Double, "0.75", "exponent"}};
  Arg<Type::Double> k{this, {"k", Type::Double, "1", "additive factor"}};
};
struct RmsNormArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> normalized_shape{this, {"normalized_shape", Type::IntList, nullptr, "trailing shape to normalise over"}};
  Arg<Type::Double> eps{
      this, {"eps", Type::Double, kOptional, "added to the mean square (default: the dtype's machine epsilon)"}};
  Arg<Type::Tensor> weight{
      this, {"weight", Type::Tensor, kOptional, "elementwise scale of normalized_shape", nullptr, nullptr, true}};
};
}  // namespace

static Tcl_Obj* instanceNorm(Call& c, const InstanceNormArgs& a) {
  const FnNormSpec& s = c.data<FnNormSpec>();
  at::Tensor x = c.tensor(a.input);
  if (x.dim() != s.dims + 2) c.badValue(a.input, "a " + std::to_string(s.dims + 2) + "-D tensor [N, C, ...]");
  double eps = c.number(a.eps);
  // Each (sample, channel) normalised by its own statistics, as a freshly
  // made nn.InstanceNormNd does (unit weight, zero bias, batch statistics).
  (void)c.boolean(a.affine), (void)c.boolean(a.track_running_stats);
  return c.result(at::instance_norm(x, {}, {}, {}, {}, true, c.number(a.momentum), eps, false));
}

static Tcl_Obj* lrn(Call& c, const LrnArgs& a) {
  at::Tensor x = c.tensor(a.input);
  if (c.data<FnNormSpec>().kind == FnNormKind::CrossMapLrn && x.dim() != 4)
    c.badValue(a.input, "a 4-D tensor [N, C, H, W]");
  if (x.dim() < 3) c.badValue(a.input, "a tensor of at least 3 dimensions [N, C, ...]");
  return c.result(F::local_response_norm(x, F::LocalResponseNormFuncOptions(c.integer(a.size))
                                                .alpha(c.number(a.alpha)).beta(c.number(a.beta)).k(c.number(a.k))));
}

static Tcl_Obj* rmsNorm(Call& c, const RmsNormArgs& a) {
  at::Tensor x = c.tensor(a.input);
  auto shape = c.ints(a.normalized_shape);
  if (shape.empty() || int64_t(shape.size()) > x.dim() ||
      !x.sizes().slice(x.dim() - shape.size()).equals(shape))
    c.badValue(a.normalized_shape, "the input's trailing dimensions");
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < int64_t(shape.size()); ++i) dims.push_back(-1 - i);
  double eps = c.has(a.eps) ? c.number(a.eps) : double(std::numeric_limits<float>::epsilon());
  if (c.has(a.eps) == false && x.scalar_type() == at::kDouble) eps = std::numeric_limits<double>::epsilon();
  at::Tensor y = x * at::rsqrt(x.pow(2).mean(dims, true) + eps);
  if (c.has(a.weight)) y = y * c.tensor(a.weight);
  return c.result(y);
}

static const FnNormSpec kFnNorms[] = {
    {"instance_norm1d", "Instance normalisation of [N, C, L]: each (sample, channel) by its own mean and variance.",
     memberRow<instanceNorm>, FnNormKind::Instance, 1},
    {"instance_norm2d", "Instance normalisation of [N, C, H, W].", memberRow<instanceNorm>, FnNormKind::Instance, 2},
    {"instance_norm3d", "Instance normalisation of [N, C, D, H, W].", memberRow<instanceNorm>, FnNormKind::Instance, 3},
    {"local_response_norm", "Local response normalisation across channels: x / (k + alpha/size * sum x^2)^beta.",
     memberRow<lrn>, FnNormKind::Lrn, 0},
    {"cross_map_lrn2d", "Cross-map local response normalisation of [N, C, H, W] (as local_response_norm).",
     memberRow<lrn>, FnNormKind::CrossMapLrn, 0},
    {"rms_norm", "RMS normalisation: x / sqrt(mean(x^2) + eps) over normalized_shape (times -weight).",
     memberRow<rmsNorm>, FnNormKind::Rms, 0},
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

namespace {
struct SetStateArgs : Args {
  Arg<Type::Module> module{this, {"module", Type::Module, nullptr, "module handle", "layer model"}};
  Arg<Type::String> state{this, {"state", Type::String, nullptr, "dict: name -> tensor handle (a subset of the state dict)"}};
};
}  // namespace

static Tcl_Obj* cmdLayerSetState(Call& c, const SetStateArgs& a) {
  auto m = c.object<ModuleObj>(a.module);
  std::vector<std::pair<std::string, Tcl_Obj*>> items;
  Tcl_DictSearch search;
  Tcl_Obj *k, *v;
  int done;
  if (Tcl_DictObjFirst(nullptr, c.obj(a.state), &search, &k, &v, &done) != TCL_OK)
    c.badValue(a.state, "a dict of name -> tensor handle");
  for (; !done; Tcl_DictObjNext(&search, &k, &v, &done)) items.emplace_back(Tcl_GetString(k), v);
  Tcl_DictObjDone(&search);
  copyState(c, *m, items);
  return c.obj(a.module);
}

namespace {
struct SetWeightsArgs : Args {
  Arg<Type::Module> module{this, {"module", Type::Module, nullptr, "conv2d layer", "layer"}};
  Arg<Type::Tensor> weight{this, {"weight", Type::Tensor, nullptr, "[out, in/groups, kh, kw]"}};
  Arg<Type::Tensor> bias{this, {"bias", Type::Tensor, kOptional, "[out]"}};
};
}  // namespace

static Tcl_Obj* cmdConv2dSetWeights(Call& c, const SetWeightsArgs& a) {
  auto m = c.object<ModuleObj>(a.module);
  if (m->type != "conv2d") c.badValue(a.module, "a conv2d layer");
  std::vector<std::pair<std::string, Tcl_Obj*>> items = {{"weight", c.obj(a.weight)}};
  if (c.has(a.bias)) items.emplace_back("bias", c.obj(a.bias));
  copyState(c, *m, items);
  return c.obj(a.module);
}

namespace {
struct EmbeddingBagArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> weight{this, {"weight", Type::Tensor, nullptr, "embedding table [num, dim]"}};
  Arg<Type::Tensor> offsets{this, {"offsets", Type::Tensor, nullptr, "start of each bag in input (int64)"}};
  Arg<Type::Int> mode{
      this, Param{"mode", Type::Int, nullptr, "0 sum, 1 mean, 2 max"}.within(0, 2).mustBe("0 (sum), 1 (mean) or 2 (max)")};
  Arg<Type::Tensor> per_sample_weights{
      this, {"per_sample_weights", Type::Tensor, kOptional, "weight of each index (sum mode)"}};
};
}  // namespace

// Sums, means or maxima of embedding rows over bags (torch.nn.functional.embedding_bag).
static Tcl_Obj* cmdEmbeddingBag(Call& c, const EmbeddingBagArgs& a) {
  int64_t mode = c.integer(a.mode);
  at::Tensor idx = c.tensor(a.input), off = c.tensor(a.offsets);
  if (idx.is_floating_point()) idx = idx.to(at::kLong);
  if (off.is_floating_point()) off = off.to(at::kLong);
  c10::optional<at::Tensor> w;
  if (c.has(a.per_sample_weights)) w = c.tensor(a.per_sample_weights);
  return c.result(std::get<0>(at::embedding_bag(c.tensor(a.weight), idx, off, false, mode, false, w)));
}

std::vector<Command> nnLayersCommands() {
  std::vector<Command> out;
  addFamily(out, kNorms);
  addFamily(out, kConvLayers);
  addFamily(out, kConvFns);
  addFamily(out, kFnNorms);
  for (auto& c : nnSpatialCommands()) out.push_back(c);
  out.push_back(typedRow<cmdLayerSetState>(
      "layer_set_state", "Copy tensors into a module's parameters/buffers by PyTorch name; returns the module."));
  out.push_back(typedRow<cmdConv2dSetWeights>("conv2d_set_weights",
                                              "Copy a weight (and bias) into a conv2d layer; returns the layer."));
  out.push_back(typedRow<cmdEmbeddingBag>("embedding_bag",
                                          "Aggregate embedding rows over bags: [bags, dim] (sum, mean or max)."));
  for (auto& c : nnRecurrentCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
