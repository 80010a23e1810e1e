// Objects behind module, optimizer and scheduler handles, shared by the nn,
// optim, checkpoint and data-parallel commands.
#pragma once
#include "tcltorch/args.h"
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <functional>

namespace tcltorch {

// A module handle: the torch::nn module (parameters, buffers, children, train
// mode, to(), serialisation all come from libtorch) plus its forward. libtorch
// modules have no common virtual forward, so each constructor captures the
// concrete module's forward in a closure; sequential chains its children's.
struct ModuleObj : Object {
  std::string type;  // "linear", "sequential", ... (for messages and docs)
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor&)> forward;
};

// An optimizer handle. Parameters are the module's own tensors (same
// TensorImpl), so a step is visible through every handle that names them.
struct OptimizerObj : Object {
  std::string type;  // "sgd", "adam", "adamw", "rmsprop"
  std::unique_ptr<torch::optim::Optimizer> opt;
  // A new optimizer of the same kind over the same parameters and options:
  // optimizer_load fills one of these first, so a bad file changes nothing.
  std::function<std::unique_ptr<torch::optim::Optimizer>()> make;
};

// Parameters named by a Tcl value: a module handle (its parameters) or a list
// of tensor handles.
std::vector<at::Tensor> parameterList(Call& c, const char* name);

// Writes a file so that a reader never sees a half-written one: `write` fills
// a temporary file next to `path`, which is then renamed over it.
void saveAtomically(const std::string& path, const std::function<void(const std::string&)>& write);
// The whole file, or a TORCH IO error naming it.
std::vector<char> readFileBytes(const std::string& path);

}  // namespace tcltorch
