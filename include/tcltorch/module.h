// The objects behind module and optimizer handles, below the commands: the
// model-parallel mechanism (src/parallel/) rewrites module forwards and reads
// optimizer state without the parser.
#pragma once
#include "tcltorch/runtime.h"
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <functional>

namespace tcltorch {

class Call;

// A module handle: the torch::nn module (parameters, buffers, children, train
// mode, to(), serialisation all come from libtorch) plus its forward. libtorch
// modules have no common virtual forward, so each constructor captures the
// concrete module's forward in a closure; sequential chains its children's.
struct ModuleObj : Object {
  std::string type;  // "linear", "sequential", ... (for messages and docs)
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor&)> forward;
  // Set by modules whose call gives more than one tensor (recurrent layers:
  // output and final states): layer_forward returns this instead of
  // forward's single tensor, while sequential chains `forward` (the output).
  std::function<Tcl_Obj*(Call&, const at::Tensor&)> forwardFull;
  // The module handles a container chains, by their names in `module`
  // ("0", "1", ...): tensor parallel and fully_shard rewrite their forwards.
  std::vector<std::pair<std::string, std::shared_ptr<ModuleObj>>> children;
  // Handles named after the layer (linear3, gru1), as the other API names them.
  std::string handlePrefix() const override { return type; }
};

// Wraps any libtorch module holder (nn::Conv1d, ...) as a module handle whose
// forward is the holder's own.
template <class Holder>
std::shared_ptr<ModuleObj> makeModule(Holder m, const char* type) {
  auto o = std::make_shared<ModuleObj>();
  o->type = type;
  o->module = m.ptr();
  o->forward = [m](const at::Tensor& x) mutable { return m->forward(x); };
  return o;
}

// An optimizer handle. Parameters are the module's own tensors (same
// TensorImpl), so a step is visible through every handle that names them.
struct OptimizerObj : Object {
  std::string type;  // "sgd", "adam", "adamw", "rmsprop"
  std::unique_ptr<torch::optim::Optimizer> opt;
  // A new optimizer of the same kind over the same parameters and options:
  // optimizer_load fills one of these first, so a bad file changes nothing.
  std::function<std::unique_ptr<torch::optim::Optimizer>()> make;
};

}  // namespace tcltorch
