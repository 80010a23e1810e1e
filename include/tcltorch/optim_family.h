// Shared between the optimizer command files.
#pragma once
#include "tcltorch/nn.h"
#include <torch/optim.h>

namespace tcltorch {

// The parameters every optimizer constructor takes first.
inline const Param kOptParams{"params", Type::TensorsOrModule, nullptr, "list of parameter handles, or a module handle", "parameters"};
inline constexpr const char* kLrAliases = "learningRate learning_rate";
// The optimizer handle of the commands that act on one.
inline const Param kOpt{"optimizer", Type::Optimizer, nullptr, "optimizer handle", "opt"};
inline std::shared_ptr<OptimizerObj> optArg(Call& c, const Arg<Type::Optimizer>& k) { return c.object<OptimizerObj>(k); }
// Every parameter group's learning rate.
inline void setLr(torch::optim::Optimizer& o, double lr) {
  for (auto& g : o.param_groups()) g.options().set_lr(lr);
}

// Registers an optimizer handle; `make` builds it (again for optimizer_load).
Tcl_Obj* newOptimizerObj(Call& c, const char* type, std::function<std::unique_ptr<torch::optim::Optimizer>()> make);

// An object of type T behind a handle of a kind several types share (schedulers
// and grad scalers are both scheduler handles), or a HANDLE error naming `what`.
template <class T, class K>
std::shared_ptr<T> typedObject(Call& c, const K& k, const char* what) {
  auto o = std::dynamic_pointer_cast<T>(c.objectRaw(k));
  if (!o) badHandle(what, c.obj(k));
  return o;
}

// Commands of optim_algorithms.cpp, appended to optimCommands().
std::vector<Command> optimFamilyCommands();

}  // namespace tcltorch
