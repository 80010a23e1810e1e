// Model management: checkpoints (module + optimizer + epoch/loss in one file),
// freezing, summaries, device moves, and the other API's names for commands
// that exist here under another name.
#include "tcltorch/commands.h"
#include "tcltorch/nn.h"
#include <torch/serialize.h>
#include <torch/serialize/archive.h>

namespace tcltorch {

namespace {
const Param kModel{"model", Type::Module, nullptr, "module handle", "module layer"};
const Param kCheckpointFile{"file", Type::String, nullptr, "file path", "filename path"};
struct SaveCheckpointArgs : Args {
  Arg<Type::Module> model{this, kModel};
  Arg<Type::Optimizer> optimizer{this, {"optimizer", Type::Optimizer, kOptional, "optimizer handle"}};
  Arg<Type::String> file{this, kCheckpointFile};
  Arg<Type::Int> epoch{this, {"epoch", Type::Int, "0", "epoch number to record"}};
  Arg<Type::Double> loss{this, {"loss", Type::Double, "0", "loss to record"}};
};
struct LoadCheckpointArgs : Args {
  Arg<Type::Module> model{this, kModel};
  Arg<Type::Optimizer> optimizer{this, {"optimizer", Type::Optimizer, kOptional, "optimizer handle"}};
  Arg<Type::String> file{this, kCheckpointFile};
};
struct FileArgs : Args {
  Arg<Type::String> file{this, kCheckpointFile};
};
// The commands on one module.
struct ModelArgs : Args {
  Arg<Type::Module> model{this, kModel};
};
struct ParametersToArgs : Args {
  Arg<Type::TensorsOrModule> parameters{
      this, {"parameters", Type::TensorsOrModule, nullptr, "a module handle, or a list of tensor handles", "params model"}};
  Arg<Type::Device> device{this, {"device", Type::Device, "cpu", "target device"}};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, kOptional, "target dtype"}};
};
struct LayerCudaArgs : Args {
  Arg<Type::Module> model{this, kModel};
  Arg<Type::Device> device{this, {"device", Type::Device, kOptional, "cuda (the default) or cuda:N"}};
};
}  // namespace

static std::shared_ptr<ModuleObj> modelArg(Call& c, const Arg<Type::Module>& model) {
  return c.object<ModuleObj>(model);
}

// One file (libtorch archive): "model" (parameters and buffers), "optimizer"
// (its state, when given), "epoch", "loss", "lr".
static Tcl_Obj* cmdSaveCheckpoint(Call& c, const SaveCheckpointArgs& k) {
  auto m = modelArg(c, k.model);
  torch::serialize::OutputArchive a;
  torch::serialize::OutputArchive ma;
  m->module->save(ma);
  a.write("model", ma);
  if (c.has(k.optimizer)) {
    auto o = c.object<OptimizerObj>(k.optimizer);
    torch::serialize::OutputArchive oa;
    o->opt->save(oa);
    a.write("optimizer", oa);
    a.write("optimizer_type", at::tensor(std::vector<int64_t>(o->type.begin(), o->type.end())));
    a.write("lr", at::tensor(o->opt->param_groups().at(0).options().get_lr(), at::kDouble));
  }
  a.write("epoch", at::tensor(c.integer(k.epoch)));
  a.write("loss", at::tensor(c.number(k.loss), at::kDouble));
  saveAtomically(c.str(k.file), [&](const std::string& tmp) { a.save_to(tmp); });
  return nullptr;
}

static torch::serialize::InputArchive openCheckpoint(const std::string& path) {
  readFileBytes(path);  // a clear error for a missing or unreadable file
  torch::serialize::InputArchive a;
  try {
    a.load_from(path);
  } catch (const std::exception& e) {
    fail("\"" + path + "\" is not a checkpoint: " + torchMessage(e), {"IO", "FORMAT", path});
  }
  return a;
}
static Tcl_Obj* infoDict(torch::serialize::InputArchive& a) {
  Tcl_Obj* d = Tcl_NewDictObj();
  auto put = [&](const char* k, Tcl_Obj* v) { Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj(k, -1), v); };
  // A fresh tensor per read: reading into a defined tensor reuses its dtype.
  auto read = [&](const char* k) {
    at::Tensor t;
    return a.try_read(k, t) ? t : at::Tensor();
  };
  if (auto t = read("epoch"); t.defined()) put("epoch", Tcl_NewWideIntObj(t.item<int64_t>()));
  if (auto t = read("loss"); t.defined()) put("loss", Tcl_NewDoubleObj(t.item<double>()));
  if (auto t = read("lr"); t.defined()) put("lr", Tcl_NewDoubleObj(t.item<double>()));
  if (auto t = read("optimizer_type"); t.defined()) {
    std::string s;
    for (int64_t i = 0; i < t.numel(); ++i) s += char(t[i].item<int64_t>());
    put("optimizer", Tcl_NewStringObj(s.c_str(), -1));
  }
  return d;
}

// Checks everything before changing anything: a file that does not fit leaves
// the model and the optimizer as they were. Returns {epoch loss ...}.
static Tcl_Obj* cmdLoadCheckpoint(Call& c, const LoadCheckpointArgs& k) {
  auto m = modelArg(c, k.model);
  std::string path = c.str(k.file);
  auto a = openCheckpoint(path);
  torch::serialize::InputArchive ma;
  if (!a.try_read("model", ma)) fail("\"" + path + "\" holds no model", {"IO", "FORMAT", path});
  std::unique_ptr<torch::optim::Optimizer> fresh;
  std::shared_ptr<OptimizerObj> o;
  if (c.has(k.optimizer)) {
    o = c.object<OptimizerObj>(k.optimizer);
    torch::serialize::InputArchive oa;
    if (!a.try_read("optimizer", oa)) fail("\"" + path + "\" holds no optimizer state", {"IO", "FORMAT", path});
    fresh = o->make();
    try {
      fresh->load(oa);
    } catch (const std::exception& e) {
      fail("\"" + path + "\" does not fit this " + o->type + " optimizer: " + torchMessage(e), {"IO", "FORMAT", path});
    }
  }
  // The module's tensors: read all into copies first.
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  auto readAll = [&](const torch::OrderedDict<std::string, at::Tensor>& named, bool buffers) {
    for (auto& p : named) {
      at::Tensor v;
      if (!ma.try_read(p.key(), v, buffers) || !v.sizes().equals(p.value().sizes()))
        fail("\"" + path + "\" does not fit the model: " + (buffers ? "buffer" : "parameter") + " \"" + p.key() +
                 "\" missing or of another shape", {"STATE", "MISMATCH", path});
      copies.emplace_back(p.value(), v);
    }
  };
  readAll(m->module->named_parameters(true), false);
  readAll(m->module->named_buffers(true), true);
  at::NoGradGuard ng;
  for (auto& [dst, src] : copies) dst.copy_(src);
  if (o) o->opt = std::move(fresh);
  return infoDict(a);
}

static Tcl_Obj* cmdCheckpointInfo(Call& c, const FileArgs& k) {
  auto a = openCheckpoint(c.str(k.file));
  Tcl_Obj* d = infoDict(a);
  torch::serialize::InputArchive oa;
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("has_optimizer", -1), Tcl_NewBooleanObj(a.try_read("optimizer", oa)));
  return d;
}

static Tcl_Obj* setTrainable(Call& c, const Arg<Type::Module>& model, bool on) {
  for (auto& p : modelArg(c, model)->module->parameters()) p.requires_grad_(on);
  return c.obj(model);
}
static Tcl_Obj* cmdFreeze(Call& c, const ModelArgs& a) { return setTrainable(c, a.model, false); }
static Tcl_Obj* cmdUnfreeze(Call& c, const ModelArgs& a) { return setTrainable(c, a.model, true); }

// {type T parameters N trainable M layers {{name shape numel requires_grad} ...}}
static Tcl_Obj* cmdSummary(Call& c, const ModelArgs& a) {
  auto m = modelArg(c, a.model);
  int64_t total = 0, trainable = 0;
  Tcl_Obj* rows = Tcl_NewListObj(0, nullptr);
  for (auto& p : m->module->named_parameters(true)) {
    total += p.value().numel();
    if (p.value().requires_grad()) trainable += p.value().numel();
    Tcl_Obj* row[] = {Tcl_NewStringObj(p.key().c_str(), -1), newList(p.value().sizes().vec()),
                      Tcl_NewWideIntObj(p.value().numel()), Tcl_NewBooleanObj(p.value().requires_grad())};
    Tcl_ListObjAppendElement(nullptr, rows, Tcl_NewListObj(4, row));
  }
  Tcl_Obj* d = Tcl_NewDictObj();
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("type", -1), Tcl_NewStringObj(m->type.c_str(), -1));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("parameters", -1), Tcl_NewWideIntObj(total));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("trainable", -1), Tcl_NewWideIntObj(trainable));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("layers", -1), rows);
  return d;
}

// A module moves in place (returns the module); a list of tensors gives new
// handles on the device (leaves keep requires_grad).
static Tcl_Obj* cmdParametersTo(Call& c, const ParametersToArgs& a) {
  c10::Device dev = c.device(a.device);
  if (auto& o = c.objectRaw(a.parameters)) {
    auto m = std::static_pointer_cast<ModuleObj>(o);
    if (c.has(a.dtype)) m->module->to(dev, c.dtype(a.dtype));
    else m->module->to(dev);
    return c.obj(a.parameters);
  }
  std::vector<at::Tensor> out;
  for (auto& p : parameterList(c, a.parameters)) {
    at::Tensor t = c.has(a.dtype) ? p.detach().to(dev, c.dtype(a.dtype)) : p.detach().to(dev);
    if (p.requires_grad()) t.requires_grad_(true);
    out.push_back(t);
  }
  return c.results(out);
}

static Tcl_Obj* moveModel(Call& c, const Arg<Type::Module>& model, c10::Device dev) {
  modelArg(c, model)->module->to(dev);
  return c.obj(model);
}
static Tcl_Obj* cmdLayerCpu(Call& c, const ModelArgs& a) { return moveModel(c, a.model, c10::Device(c10::kCPU)); }
static Tcl_Obj* cmdLayerCuda(Call& c, const LayerCudaArgs& a) {
  c10::Device dev = c.has(a.device) ? c.device(a.device) : c10::Device(c10::kCUDA);
  if (!dev.is_cuda()) c.badValue(a.device, "cuda or cuda:N");
  return moveModel(c, a.model, dev);
}
static Tcl_Obj* cmdLayerDevice(Call& c, const ModelArgs& a) {
  auto m = modelArg(c, a.model);
  auto ps = m->module->parameters();
  if (ps.empty()) {
    auto bs = m->module->buffers();
    return newString(bs.empty() ? "cpu" : bs[0].device().str());
  }
  return newString(ps[0].device().str());
}

std::vector<Command> modelManagementCommands() {
  auto model = std::make_shared<const ModelArgs>();
  std::vector<Command> out = {
      typedRow<cmdSaveCheckpoint>("save_checkpoint",
                                  "Save a model, optionally its optimizer's state, an epoch and a loss to one file."),
      typedRow<cmdLoadCheckpoint>("load_checkpoint",
                                  "Load a file of save_checkpoint into the model (and optimizer); returns {epoch loss ...}."),
      typedRow<cmdCheckpointInfo>("get_checkpoint_info",
                                  "Dict of a checkpoint's epoch, loss, lr, optimizer type and has_optimizer."),
      typedRow<cmdFreeze>("freeze_model", "Stop gradients for every parameter of a model; returns the model.", model),
      typedRow<cmdUnfreeze>("unfreeze_model", "Record gradients for every parameter of a model again; returns the model.",
                            model),
      typedRow<cmdSummary>("model_summary", "Dict: type, parameters, trainable, layers {{name shape numel requires_grad} ...}.",
                           model),
      typedRow<cmdParametersTo>("parameters_to",
                                "Move a module's parameters in place, or copy a list of tensors, to a device (and dtype)."),
      typedRow<cmdLayerCpu>("layer_cpu", "Move a module to the CPU; returns the module.", model),
      typedRow<cmdLayerCuda>("layer_cuda", "Move a module to a CUDA device; returns the module."),
      typedRow<cmdLayerDevice>("layer_device", "The device of a module's parameters (cpu, cuda:0, ...).", model),
  };
  return out;
}

}  // namespace tcltorch
