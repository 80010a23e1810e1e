// Layers (module handles), module queries and checkpoints of modules and
// tensors. Pooling is in pooling.cpp.
#include "tcltorch/commands.h"
#include "tcltorch/model_files.h"
#include "tcltorch/nn.h"
#include "tcltorch/tensor_util.h"
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace tcltorch {

namespace nn = torch::nn;

// Wraps any libtorch module holder (nn::Linear, ...) as a module handle.
template <class Holder>
static Tcl_Obj* wrap(Call& c, Holder m, const char* type) {
  return c.result(Kind::Module, makeModule(std::move(m), type));
}

// -layer and -model, -filename: the other API's spellings.
static const Param kModule{"module", Type::Module, nullptr, "module handle", "layer model"};
static const Param kFile{"file", Type::Path, nullptr, "file path", "filename"};

static std::shared_ptr<ModuleObj> moduleArg(Call& c, const Arg<Type::Module>& k) { return c.object<ModuleObj>(k); }

// ---- layers ----

namespace {
const Param kBias{"bias", Type::Bool, "1", "learn an additive bias"};
const Param kNormEps{"eps", Type::Double, "1e-5", "added to the variance"};
struct LinearArgs : Args {
  Arg<Type::PosInt> in_features{this, {"in_features", Type::PosInt, nullptr, "size of each input sample"}};
  Arg<Type::PosInt> out_features{this, {"out_features", Type::PosInt, nullptr, "size of each output sample"}};
  Arg<Type::Bool> bias{this, kBias};
};
}  // namespace

static Tcl_Obj* cmdLinear(Call& c, const LinearArgs& a) {
  return wrap(c, nn::Linear(nn::LinearOptions(c.integer(a.in_features), c.integer(a.out_features))
                                .bias(c.boolean(a.bias))), "linear");
}

namespace {
struct Conv2dArgs : Args {
  Arg<Type::PosInt> in_channels{this, {"in_channels", Type::PosInt, nullptr, "input channels"}};
  Arg<Type::PosInt> out_channels{this, {"out_channels", Type::PosInt, nullptr, "output channels"}};
  Arg<Type::IntList> kernel_size{this, Param{"kernel_size", Type::IntList, nullptr, "kernel size: k or {kh kw}"}.atLeast(1)};
  Arg<Type::IntList> stride{this, Param{"stride", Type::IntList, "1", "stride: s or {sh sw}"}.atLeast(1)};
  Arg<Type::IntList> padding{this, Param{"padding", Type::IntList, "0", "zero padding: p or {ph pw}"}.atLeast(0)};
  Arg<Type::Bool> bias{this, kBias};
  Arg<Type::IntList> dilation{this, Param{"dilation", Type::IntList, "1", "spacing between kernel elements"}.atLeast(1)};
  Arg<Type::PosInt> groups{this, {"groups", Type::PosInt, "1", "blocked connections from input to output channels"}};
};
}  // namespace

static Tcl_Obj* cmdConv2d(Call& c, const Conv2dArgs& a) {
  return wrap(c, nn::Conv2d(nn::Conv2dOptions(c.integer(a.in_channels), c.integer(a.out_channels),
                                              pair(c, a.kernel_size))
                                .stride(pair(c, a.stride)).padding(pair(c, a.padding))
                                .bias(c.boolean(a.bias)).dilation(pair(c, a.dilation))
                                .groups(c.integer(a.groups))), "conv2d");
}

namespace {
struct BatchNorm2dArgs : Args {
  Arg<Type::PosInt> num_features{this, {"num_features", Type::PosInt, nullptr, "channels C"}};
  Arg<Type::Double> eps{this, kNormEps};
  Arg<Type::Double> momentum{this, {"momentum", Type::Double, "0.1", "running statistics update factor"}};
  Arg<Type::Bool> affine{this, {"affine", Type::Bool, "1", "learn scale and shift"}};
  Arg<Type::Bool> track_running_stats{this, {"track_running_stats", Type::Bool, "1", "keep running mean and variance for eval mode"}};
};
}  // namespace

static Tcl_Obj* cmdBatchNorm2d(Call& c, const BatchNorm2dArgs& a) {
  return wrap(c, nn::BatchNorm2d(nn::BatchNorm2dOptions(c.integer(a.num_features))
                                     .eps(c.number(a.eps)).momentum(c.number(a.momentum))
                                     .affine(c.boolean(a.affine))
                                     .track_running_stats(c.boolean(a.track_running_stats))), "batch_norm2d");
}

namespace {
struct LayerNormArgs : Args {
  Arg<Type::IntList> normalized_shape{
      this, Param{"normalized_shape", Type::IntList, nullptr, "trailing shape to normalise over"}.atLeast(1).nonEmpty().mustBe(
                "a non-empty list of integers >= 1")};
  Arg<Type::Double> eps{this, kNormEps};
  Arg<Type::Bool> elementwise_affine{this, {"elementwise_affine", Type::Bool, "1", "learn scale and shift"}};
};
}  // namespace

static Tcl_Obj* cmdLayerNorm(Call& c, const LayerNormArgs& a) {
  auto shape = c.ints(a.normalized_shape);
  return wrap(c, nn::LayerNorm(nn::LayerNormOptions(shape)
                                   .eps(c.number(a.eps)).elementwise_affine(c.boolean(a.elementwise_affine))),
              "layer_norm");
}

namespace {
struct DropoutArgs : Args {
  Arg<Type::Probability> p{this, {"p", Type::Probability, "0.5", "probability of zeroing an element"}};
  Arg<Type::Bool> training{this, {"training", Type::Bool, "1", "start in training mode (0: evaluation, dropout off)"}};
  Arg<Type::Bool> inplace{this, {"inplace", Type::Bool, "0", "zero the input's elements in place"}};
};
}  // namespace

static Tcl_Obj* cmdDropoutLayer(Call& c, const DropoutArgs& a) {
  nn::Dropout m(nn::DropoutOptions(c.number(a.p)).inplace(c.boolean(a.inplace)));
  if (!c.boolean(a.training)) m->eval();
  return wrap(c, m, "dropout");
}

namespace {
struct EmbeddingArgs : Args {
  Arg<Type::PosInt> num_embeddings{this, {"num_embeddings", Type::PosInt, nullptr, "number of rows"}};
  Arg<Type::PosInt> embedding_dim{this, {"embedding_dim", Type::PosInt, nullptr, "size of each vector"}};
  Arg<Type::Int> padding_idx{this, {"padding_idx", Type::Int, kOptional, "row that stays zero and gets no gradient"}};
};
}  // namespace

static Tcl_Obj* cmdEmbedding(Call& c, const EmbeddingArgs& a) {
  nn::EmbeddingOptions o(c.integer(a.num_embeddings), c.integer(a.embedding_dim));
  if (c.has(a.padding_idx)) o.padding_idx(c.integer(a.padding_idx));
  nn::Embedding m(o);
  auto obj = std::make_shared<ModuleObj>();
  obj->type = "embedding";
  obj->module = m.ptr();
  // Indices written as Tcl numbers arrive as floats; embeddings need int64.
  obj->forward = [m](const at::Tensor& x) mutable {
    return m->forward(x.is_floating_point() ? x.to(at::kLong) : x);
  };
  return c.result(Kind::Module, obj);
}

namespace {
struct FlattenArgs : Args {
  Arg<Type::Int> start_dim{this, {"start_dim", Type::Int, "1", "first dimension to flatten"}};
  Arg<Type::Int> end_dim{this, {"end_dim", Type::Int, "-1", "last dimension to flatten"}};
};
}  // namespace

static Tcl_Obj* cmdFlatten(Call& c, const FlattenArgs& a) {
  return wrap(c, nn::Flatten(nn::FlattenOptions().start_dim(c.integer(a.start_dim)).end_dim(c.integer(a.end_dim))),
              "flatten");
}

namespace {
struct SoftmaxLayerArgs : Args {
  Arg<Type::Int> dim{this, {"dim", Type::Int, "-1", "dimension that sums to one"}};
};
}  // namespace

static Tcl_Obj* cmdSoftmaxLayer(Call& c, const SoftmaxLayerArgs& a) {
  return wrap(c, nn::Softmax(nn::SoftmaxOptions(c.integer(a.dim))), "softmax");
}

// Activations without options: one table, one handler template.
namespace {
struct ActSpec {
  const char* name;
  const char* doc;
  Tcl_Obj* (*make)(Call&);
};
}  // namespace
static const ActSpec kActivations[] = {
    {"relu", "ReLU activation layer: max(x, 0).", [](Call& c) { return wrap(c, nn::ReLU(), "relu"); }},
    {"gelu", "GELU activation layer.", [](Call& c) { return wrap(c, nn::GELU(), "gelu"); }},
    {"tanh", "Tanh activation layer.", [](Call& c) { return wrap(c, nn::Tanh(), "tanh"); }},
    {"sigmoid", "Sigmoid activation layer.", [](Call& c) { return wrap(c, nn::Sigmoid(), "sigmoid"); }},
};

namespace {
struct SequentialArgs : Args {
  Arg<Type::ModuleList> modules{this, {"modules", Type::ModuleList, kOptional, "list of module handles"}};
};
}  // namespace
// Children registered as "0", "1", ... so parameter names match PyTorch's
// nn.Sequential ("0.weight"); train/eval/to recurse through them.
static Tcl_Obj* cmdSequential(Call& c, const SequentialArgs& a) {
  std::vector<std::shared_ptr<ModuleObj>> kids;
  if (c.has(a.modules))
    for (auto& m : c.objects(a.modules)) kids.push_back(std::static_pointer_cast<ModuleObj>(m));
  auto seq = std::make_shared<nn::Module>("Sequential");
  for (size_t i = 0; i < kids.size(); ++i) seq->register_module(std::to_string(i), kids[i]->module);
  auto o = std::make_shared<ModuleObj>();
  o->type = "sequential";
  o->module = seq;
  for (size_t i = 0; i < kids.size(); ++i) o->children.emplace_back(std::to_string(i), kids[i]);
  o->forward = [kids](const at::Tensor& x) {
    at::Tensor y = x;
    for (auto& k : kids) y = k->forward(y);
    return y;
  };
  return c.result(Kind::Module, o);
}

// ---- using modules ----

namespace {
struct ModuleArgs : Args {
  Arg<Type::Module> module{this, kModule};
};
struct ForwardArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "input tensor"}};
};
struct CountArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Bool> trainable_only{this, {"trainable_only", Type::Bool, "0", "count only parameters that require grad"}};
};
struct TrainArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Bool> mode{this, {"mode", Type::Bool, "1", "1: training, 0: evaluation"}};
};
struct LayerToArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, kOptional, "floating dtype"}};
};
struct ZeroGradArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Bool> set_to_none{this, {"set_to_none", Type::Bool, "0", "drop the gradients instead of zeroing them"}};
};
}  // namespace

static Tcl_Obj* cmdForward(Call& c, const ForwardArgs& a) {
  auto m = moduleArg(c, a.module);
  at::Tensor x = c.tensor(a.input);
  if (m->forwardFull) return m->forwardFull(c, x);
  return c.result(m->forward(x));
}

static Tcl_Obj* cmdParameters(Call& c, const ModuleArgs& a) { return c.results(moduleArg(c, a.module)->module->parameters()); }

static Tcl_Obj* cmdNamedParameters(Call& c, const ModuleArgs& a) {
  Tcl_Obj* d = Tcl_NewDictObj();
  for (auto& kv : moduleArg(c, a.module)->module->named_parameters())
    Tcl_DictObjPut(nullptr, d, newString(kv.key()), c.result(kv.value()));
  return d;
}

static Tcl_Obj* cmdCountParameters(Call& c, const CountArgs& a) {
  bool trainable = c.boolean(a.trainable_only);
  int64_t n = 0;
  for (auto& p : moduleArg(c, a.module)->module->parameters())
    if (!trainable || p.requires_grad()) n += p.numel();
  return Tcl_NewWideIntObj(n);
}

static Tcl_Obj* cmdTrain(Call& c, const TrainArgs& a) {
  moduleArg(c, a.module)->module->train(c.boolean(a.mode));
  return c.obj(a.module);
}

static Tcl_Obj* cmdEval(Call& c, const ModuleArgs& a) {
  moduleArg(c, a.module)->module->eval();
  return c.obj(a.module);
}

static Tcl_Obj* cmdLayerTo(Call& c, const LayerToArgs& a) {
  auto m = moduleArg(c, a.module);
  c10::Device dev = c.device(a.device);
  if (c.has(a.dtype)) {
    at::ScalarType t = c.dtype(a.dtype);
    if (!at::isFloatingType(t)) c.badValue(a.dtype, "a floating point type");
    m->module->to(dev, t);
  } else {
    m->module->to(dev);
  }
  return c.obj(a.module);
}

static Tcl_Obj* cmdLayerZeroGrad(Call& c, const ZeroGradArgs& a) {
  moduleArg(c, a.module)->module->zero_grad(c.boolean(a.set_to_none));
  return nullptr;
}

// ---- shared helpers (nn.h) ----

OneCallModule::OneCallModule(State& st, Tcl_Obj* handle) : st_(st), h_(handle) {
  Tcl_IncrRefCount(h_);
  m_ = st_.reg.get<ModuleObj>(Kind::Module, h_);
}
OneCallModule::~OneCallModule() {
  st_.reg.free(h_);
  Tcl_DecrRefCount(h_);
}


std::vector<at::Tensor> parameterList(const std::shared_ptr<Object>& m, const std::vector<at::Tensor>& tensors,
                                      const char* name) {
  if (m) return std::static_pointer_cast<ModuleObj>(m)->module->parameters();
  std::vector<at::Tensor> out = tensors;
  if (out.empty()) fail("no parameters: -" + std::string(name) + " is empty", {"ARGS", "EMPTY", name});
  return out;
}

static void writeBytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) fail("cannot write \"" + path + "\": " + std::strerror(errno), {"IO", "WRITE", path});
  f.write(bytes.data(), std::streamsize(bytes.size()));
  f.close();
  if (!f) fail("cannot write \"" + path + "\": write failed", {"IO", "WRITE", path});
}

// A file that is not the expected kind of checkpoint.
[[noreturn]] static void badFile(const std::string& path, const std::string& why) {
  fail("\"" + path + "\" is not a valid checkpoint: " + why, {"IO", "FORMAT", path});
}

// Unpickles a file written by torch::pickle_save (or Python's torch.save).
static c10::IValue loadPickle(const std::string& path) {
  std::vector<char> bytes = readFileBytes(path);
  if (bytes.empty()) badFile(path, "empty file");
  try {
    return torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    badFile(path, torchMessage(e));
  }
}

// ---- checkpoints ----
// State dicts and tensors use the zip+pickle format of torch.save, so Python's
// torch.load reads them (and keys match PyTorch's names).

static std::vector<std::pair<std::string, at::Tensor>> stateEntries(nn::Module& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (auto& kv : m.named_parameters()) out.emplace_back(kv.key(), kv.value());
  for (auto& kv : m.named_buffers()) out.emplace_back(kv.key(), kv.value());
  return out;
}

namespace {
struct StateFileArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Path> file{this, kFile};
};
struct LoadStateArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Path> file{this, kFile};
  Arg<Type::Bool> strict{this, {"strict", Type::Bool, "1", "1: the names must match exactly; 0: load the names both have"}};
};
}  // namespace

static Tcl_Obj* cmdSaveStateDict(Call& c, const StateFileArgs& a) {
  auto m = moduleArg(c, a.module);
  std::string path = c.str(a.file);
  auto entries = stateEntries(*m->module);
  if (isSafetensorsPath(path)) {
    writeSafetensors(path, entries, {});
    return nullptr;
  }
  std::vector<char> bytes = torchStateDictBytes(path, entries);
  saveAtomically(path, [&](const std::string& tmp) { writeBytes(tmp, bytes); });
  return nullptr;
}

// Reads a state dict written by save_state_dict, by Python's
// torch.save(model.state_dict()) or as safetensors (by the extension). The
// file's tensors alias its mapping, so each weight is copied once, straight
// into the module. Returns {missing {...} unexpected {...}} as PyTorch does.
static Tcl_Obj* cmdLoadStateDict(Call& c, const LoadStateArgs& a) {
  auto m = moduleArg(c, a.module);
  std::string path = c.str(a.file);
  NamedTensors saved = isSafetensorsPath(path) ? readSafetensors(path).tensors : readTorchStateDict(path);
  std::unordered_map<std::string, const at::Tensor*> byName;
  for (auto& kv : saved) byName[kv.first] = &kv.second;
  // Check everything before copying anything: a bad file changes no weight.
  auto entries = stateEntries(*m->module);
  std::unordered_set<std::string> mine;
  std::vector<std::string> missing, unexpected;
  std::ostringstream why;
  for (auto& e : entries) {
    mine.insert(e.first);
    auto it = byName.find(e.first);
    if (it == byName.end()) missing.push_back(e.first);
    else if (!it->second->sizes().equals(e.second.sizes()))
      why << " \"" << e.first << "\" has shape " << it->second->sizes() << ", the module " << e.second.sizes() << ";";
  }
  for (auto& kv : saved)
    if (!mine.count(kv.first)) unexpected.push_back(kv.first);
  bool strict = c.boolean(a.strict);
  if (strict) {
    std::ostringstream keys;
    for (auto& k : missing) keys << " missing \"" << k << "\";";
    for (auto& k : unexpected) keys << " unexpected \"" << k << "\";";
    why.str(keys.str() + why.str());
  }
  if (!why.str().empty())
    fail("state dict in \"" + path + "\" does not fit the module:" + why.str(), {"STATE", "MISMATCH", path});
  {
    at::NoGradGuard ng;
    for (auto& e : entries)
      if (auto it = byName.find(e.first); it != byName.end()) e.second.copy_(*it->second);
  }
  auto list = [](const std::vector<std::string>& v) {
    Tcl_Obj* l = Tcl_NewListObj(0, nullptr);
    for (auto& k : v) Tcl_ListObjAppendElement(nullptr, l, newString(k));
    return l;
  };
  Tcl_Obj* d = Tcl_NewDictObj();
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("missing", -1), list(missing));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("unexpected", -1), list(unexpected));
  return d;
}

namespace {
struct TensorSaveArgs : Args {
  Arg<Type::Tensor> tensor{this, {"tensor", Type::Tensor, nullptr, "tensor handle"}};
  Arg<Type::Path> file{this, kFile};
};
struct FileArgs : Args {
  Arg<Type::Path> file{this, kFile};
};
}  // namespace

static Tcl_Obj* cmdTensorSave(Call& c, const TensorSaveArgs& a) {
  std::vector<char> bytes = torch::pickle_save(c.tensor(a.tensor).detach().cpu());
  saveAtomically(c.str(a.file), [&](const std::string& tmp) { writeBytes(tmp, bytes); });
  return nullptr;
}

static Tcl_Obj* cmdTensorLoad(Call& c, const FileArgs& a) {
  std::string path = c.str(a.file);
  c10::IValue v = loadPickle(path);
  if (!v.isTensor()) badFile(path, "it holds no tensor");
  return c.result(v.toTensor());
}

std::vector<Command> nnCommands() {
  std::vector<Command> out = {
      typedRow<cmdLinear>("linear", "Fully connected layer y = x W^T + b."),
      typedRow<cmdConv2d>("conv2d", "2-D convolution over [N, C, H, W] input."),
      typedRow<cmdBatchNorm2d>("batch_norm2d",
                               "Batch normalisation over [N, C, H, W] (running statistics used in eval mode)."),
      typedRow<cmdLayerNorm>("layer_norm", "Layer normalisation over the trailing dimensions."),
      typedRow<cmdDropoutLayer>("dropout", "Dropout layer (active in train mode only)."),
      typedRow<cmdEmbedding>("embedding", "Lookup table of num_embeddings vectors of size embedding_dim."),
      typedRow<applyOnce<cmdEmbedding>>(
          "embedding", "A new embedding table (random rows) looked up once: the vectors of input's indices.",
          std::make_shared<const WithInput<EmbeddingArgs>>(
              Param{"input", Type::Tensor, nullptr, "indices (int64, or whole numbers)", "tensor"}))
          .asTensorForm(),
      typedRow<cmdFlatten>("flatten", "Flatten a range of dimensions into one."),
      typedRow<cmdSoftmaxLayer>("softmax", "Softmax layer along a dimension."),
      typedRow<cmdSequential>("sequential", "Chain modules: the output of each is the input of the next."),
      typedRow<cmdForward>("layer_forward", "Run a module on an input tensor."),
      typedRow<cmdParameters>("layer_parameters", "Handles of a module's parameters (they alias the module's tensors)."),
      typedRow<cmdNamedParameters>("layer_named_parameters",
                                   "Dict of parameter name -> handle (names as in PyTorch, e.g. 0.weight)."),
      typedRow<cmdCountParameters>("count_parameters", "Number of scalar parameters in a module."),
      typedRow<cmdTrain>("model_train", "Put a module (and its children) in training mode; returns the module."),
      typedRow<cmdEval>("model_eval", "Put a module (and its children) in evaluation mode; returns the module."),
      typedRow<cmdLayerTo>("layer_to",
                           "Move a module's parameters and buffers to a device (and floating dtype); returns the module."),
      typedRow<cmdLayerZeroGrad>("layer_zero_grad", "Zero the gradients of a module's parameters."),
      typedRow<cmdSaveStateDict>(
          "save_state_dict",
          "Save a module's parameters and buffers: torch.save format (Python's torch.load reads it), or safetensors "
          "when the file name ends in .safetensors."),
      typedRow<cmdLoadStateDict>(
          "load_state_dict",
          "Load parameters and buffers from save_state_dict, Python's torch.save(model.state_dict()) or a .safetensors "
          "file; returns {missing {...} unexpected {...}}. Shapes must always match."),
      typedRow<cmdTensorSave>("tensor_save", "Save a tensor to a file (torch.save format)."),
      typedRow<cmdTensorLoad>("tensor_load", "Load a tensor saved by tensor_save (or torch.save in Python)."),
  };
  for (auto& a : kActivations) out.push_back({a.name, a.doc, {}, a.make});
  return out;
}

}  // namespace tcltorch
