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

static std::shared_ptr<ModuleObj> moduleArg(Call& c, const char* name = "module") {
  return c.object<ModuleObj>(name);
}

// ---- layers ----

static Tcl_Obj* cmdLinear(Call& c) {
  return wrap(c, nn::Linear(nn::LinearOptions(c.integer("in_features"), c.integer("out_features"))
                                .bias(c.boolean("bias"))), "linear");
}

static Tcl_Obj* cmdConv2d(Call& c) {
  return wrap(c, nn::Conv2d(nn::Conv2dOptions(c.integer("in_channels"), c.integer("out_channels"),
                                              pair(c, "kernel_size"))
                                .stride(pair(c, "stride")).padding(pair(c, "padding"))
                                .bias(c.boolean("bias")).dilation(pair(c, "dilation"))
                                .groups(c.integer("groups"))), "conv2d");
}



static Tcl_Obj* cmdBatchNorm2d(Call& c) {
  return wrap(c, nn::BatchNorm2d(nn::BatchNorm2dOptions(c.integer("num_features"))
                                     .eps(c.number("eps")).momentum(c.number("momentum"))
                                     .affine(c.boolean("affine"))
                                     .track_running_stats(c.boolean("track_running_stats"))), "batch_norm2d");
}

static Tcl_Obj* cmdLayerNorm(Call& c) {
  auto shape = c.ints("normalized_shape");
  return wrap(c, nn::LayerNorm(nn::LayerNormOptions(shape)
                                   .eps(c.number("eps")).elementwise_affine(c.boolean("elementwise_affine"))),
              "layer_norm");
}

static Tcl_Obj* cmdDropoutLayer(Call& c) {
  nn::Dropout m(nn::DropoutOptions(c.number("p")).inplace(c.boolean("inplace")));
  if (!c.boolean("training")) m->eval();
  return wrap(c, m, "dropout");
}

static Tcl_Obj* cmdEmbedding(Call& c) {
  nn::EmbeddingOptions o(c.integer("num_embeddings"), c.integer("embedding_dim"));
  if (c.has("padding_idx")) o.padding_idx(c.integer("padding_idx"));
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

static Tcl_Obj* cmdFlatten(Call& c) {
  return wrap(c, nn::Flatten(nn::FlattenOptions().start_dim(c.integer("start_dim")).end_dim(c.integer("end_dim"))),
              "flatten");
}

static Tcl_Obj* cmdSoftmaxLayer(Call& c) {
  return wrap(c, nn::Softmax(nn::SoftmaxOptions(c.integer("dim"))), "softmax");
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

// Children registered as "0", "1", ... so parameter names match PyTorch's
// nn.Sequential ("0.weight"); train/eval/to recurse through them.
static Tcl_Obj* cmdSequential(Call& c) {
  std::vector<std::shared_ptr<ModuleObj>> kids;
  if (c.has("modules"))
    for (auto& m : c.objects("modules")) kids.push_back(std::static_pointer_cast<ModuleObj>(m));
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

static Tcl_Obj* cmdForward(Call& c) {
  auto m = moduleArg(c);
  at::Tensor x = c.tensor("input");
  if (m->forwardFull) return m->forwardFull(c, x);
  return c.result(m->forward(x));
}

static Tcl_Obj* cmdParameters(Call& c) { return c.results(moduleArg(c)->module->parameters()); }

static Tcl_Obj* cmdNamedParameters(Call& c) {
  Tcl_Obj* d = Tcl_NewDictObj();
  for (auto& kv : moduleArg(c)->module->named_parameters())
    Tcl_DictObjPut(nullptr, d, newString(kv.key()), c.result(kv.value()));
  return d;
}

static Tcl_Obj* cmdCountParameters(Call& c) {
  bool trainable = c.boolean("trainable_only");
  int64_t n = 0;
  for (auto& p : moduleArg(c)->module->parameters())
    if (!trainable || p.requires_grad()) n += p.numel();
  return Tcl_NewWideIntObj(n);
}

static Tcl_Obj* cmdTrain(Call& c) {
  moduleArg(c)->module->train(c.boolean("mode"));
  return c.obj("module");
}

static Tcl_Obj* cmdEval(Call& c) {
  moduleArg(c)->module->eval();
  return c.obj("module");
}

static Tcl_Obj* cmdLayerTo(Call& c) {
  auto m = moduleArg(c);
  c10::Device dev = c.device("device");
  if (c.has("dtype")) {
    at::ScalarType t = c.dtype("dtype");
    if (!at::isFloatingType(t)) c.badValue("dtype", "a floating point type");
    m->module->to(dev, t);
  } else {
    m->module->to(dev);
  }
  return c.obj("module");
}

static Tcl_Obj* cmdLayerZeroGrad(Call& c) {
  moduleArg(c)->module->zero_grad(c.boolean("set_to_none"));
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

static Tcl_Obj* cmdSaveStateDict(Call& c) {
  auto m = moduleArg(c);
  std::string path = c.str("file");
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
static Tcl_Obj* cmdLoadStateDict(Call& c) {
  auto m = moduleArg(c);
  std::string path = c.str("file");
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
  bool strict = c.boolean("strict");
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

static Tcl_Obj* cmdTensorSave(Call& c) {
  std::vector<char> bytes = torch::pickle_save(c.tensor("tensor").detach().cpu());
  saveAtomically(c.str("file"), [&](const std::string& tmp) { writeBytes(tmp, bytes); });
  return nullptr;
}

static Tcl_Obj* cmdTensorLoad(Call& c) {
  std::string path = c.str("file");
  c10::IValue v = loadPickle(path);
  if (!v.isTensor()) badFile(path, "it holds no tensor");
  return c.result(v.toTensor());
}

// -layer and -model, -filename: the other API's spellings.
static const Param kModule{"module", Type::Module, nullptr, "module handle", "layer model"};
static const Param kFile{"file", Type::Path, nullptr, "file path", "filename"};

std::vector<Command> nnCommands() {
  const std::vector<Param> embeddingParams = {{"num_embeddings", Type::PosInt, nullptr, "number of rows"},
                                              {"embedding_dim", Type::PosInt, nullptr, "size of each vector"},
                                              {"padding_idx", Type::Int, kOptional, "row that stays zero and gets no gradient"}};
  std::vector<Command> out = {
      {"linear", "Fully connected layer y = x W^T + b.",
       {{"in_features", Type::PosInt, nullptr, "size of each input sample"},
        {"out_features", Type::PosInt, nullptr, "size of each output sample"},
        {"bias", Type::Bool, "1", "learn an additive bias"}},
       cmdLinear},
      {"conv2d", "2-D convolution over [N, C, H, W] input.",
       {{"in_channels", Type::PosInt, nullptr, "input channels"},
        {"out_channels", Type::PosInt, nullptr, "output channels"},
        Param{"kernel_size", Type::IntList, nullptr, "kernel size: k or {kh kw}"}.atLeast(1),
        Param{"stride", Type::IntList, "1", "stride: s or {sh sw}"}.atLeast(1),
        Param{"padding", Type::IntList, "0", "zero padding: p or {ph pw}"}.atLeast(0),
        {"bias", Type::Bool, "1", "learn an additive bias"},
        Param{"dilation", Type::IntList, "1", "spacing between kernel elements"}.atLeast(1),
        {"groups", Type::PosInt, "1", "blocked connections from input to output channels"}},
       cmdConv2d},
      {"batch_norm2d", "Batch normalisation over [N, C, H, W] (running statistics used in eval mode).",
       {{"num_features", Type::PosInt, nullptr, "channels C"},
        {"eps", Type::Double, "1e-5", "added to the variance"},
        {"momentum", Type::Double, "0.1", "running statistics update factor"},
        {"affine", Type::Bool, "1", "learn scale and shift"},
        {"track_running_stats", Type::Bool, "1", "keep running mean and variance for eval mode"}},
       cmdBatchNorm2d},
      {"layer_norm", "Layer normalisation over the trailing dimensions.",
       {Param{"normalized_shape", Type::IntList, nullptr, "trailing shape to normalise over"}.atLeast(1).nonEmpty().mustBe(
            "a non-empty list of integers >= 1"),
        {"eps", Type::Double, "1e-5", "added to the variance"},
        {"elementwise_affine", Type::Bool, "1", "learn scale and shift"}},
       cmdLayerNorm},
      {"dropout", "Dropout layer (active in train mode only).",
       {{"p", Type::Probability, "0.5", "probability of zeroing an element"},
        {"training", Type::Bool, "1", "start in training mode (0: evaluation, dropout off)"},
        {"inplace", Type::Bool, "0", "zero the input's elements in place"}},
       cmdDropoutLayer},
      {"embedding", "Lookup table of num_embeddings vectors of size embedding_dim.", embeddingParams, cmdEmbedding},
      Command{"embedding", "A new embedding table (random rows) looked up once: the vectors of input's indices.",
              withInput(embeddingParams, {"input", Type::Tensor, nullptr, "indices (int64, or whole numbers)", "tensor"}),
              applyOnce<cmdEmbedding>}
          .asTensorForm(),
      {"flatten", "Flatten a range of dimensions into one.",
       {{"start_dim", Type::Int, "1", "first dimension to flatten"},
        {"end_dim", Type::Int, "-1", "last dimension to flatten"}},
       cmdFlatten},
      {"softmax", "Softmax layer along a dimension.",
       {{"dim", Type::Int, "-1", "dimension that sums to one"}}, cmdSoftmaxLayer},
      {"sequential", "Chain modules: the output of each is the input of the next.",
       {{"modules", Type::ModuleList, kOptional, "list of module handles"}}, cmdSequential},
      {"layer_forward", "Run a module on an input tensor.",
       {kModule, {"input", Type::Tensor, nullptr, "input tensor"}}, cmdForward},
      {"layer_parameters", "Handles of a module's parameters (they alias the module's tensors).",
       {kModule}, cmdParameters},
      {"layer_named_parameters", "Dict of parameter name -> handle (names as in PyTorch, e.g. 0.weight).",
       {kModule}, cmdNamedParameters},
      {"count_parameters", "Number of scalar parameters in a module.",
       {kModule, {"trainable_only", Type::Bool, "0", "count only parameters that require grad"}},
       cmdCountParameters},
      {"model_train", "Put a module (and its children) in training mode; returns the module.",
       {kModule, {"mode", Type::Bool, "1", "1: training, 0: evaluation"}}, cmdTrain},
      {"model_eval", "Put a module (and its children) in evaluation mode; returns the module.",
       {kModule}, cmdEval},
      {"layer_to", "Move a module's parameters and buffers to a device (and floating dtype); returns the module.",
       {kModule, kDeviceParam, {"dtype", Type::Dtype, kOptional, "floating dtype"}}, cmdLayerTo},
      {"layer_zero_grad", "Zero the gradients of a module's parameters.",
       {kModule, {"set_to_none", Type::Bool, "0", "drop the gradients instead of zeroing them"}},
       cmdLayerZeroGrad},
      {"save_state_dict",
       "Save a module's parameters and buffers: torch.save format (Python's torch.load reads it), or safetensors "
       "when the file name ends in .safetensors.",
       {kModule, kFile}, cmdSaveStateDict},
      {"load_state_dict",
       "Load parameters and buffers from save_state_dict, Python's torch.save(model.state_dict()) or a .safetensors "
       "file; returns {missing {...} unexpected {...}}. Shapes must always match.",
       {kModule, kFile, {"strict", Type::Bool, "1", "1: the names must match exactly; 0: load the names both have"}},
       cmdLoadStateDict},
      {"tensor_save", "Save a tensor to a file (torch.save format).",
       {{"tensor", Type::Tensor, nullptr, "tensor handle"}, kFile}, cmdTensorSave},
      {"tensor_load", "Load a tensor saved by tensor_save (or torch.save in Python).", {kFile}, cmdTensorLoad},
  };
  for (auto& a : kActivations) out.push_back({a.name, a.doc, {}, a.make});
  return out;
}

}  // namespace tcltorch
