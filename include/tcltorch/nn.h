// Objects behind module, optimizer and scheduler handles, shared by the nn,
// optim, checkpoint and data-parallel commands.
#pragma once
#include "tcltorch/args.h"
#include <torch/expanding_array.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <functional>
#include <iterator>
#include <utility>

namespace tcltorch {

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

// Families as rows: a table of specs (each with name, doc, a pointer to its
// parameter list and the other API's extra spellings) and one
// Impl(Call&, const Spec&). Every member is a Command carrying its spec as
// family data (Command::withData), all sharing one handler.
template <class Kind>
struct FamilyRow {
  const char* name;
  const char* doc;
  const std::vector<Param>* params;
  Kind kind;                      // which member of the family
  int dims = 0;                   // spatial dimensions, where the family has them
  const char* aliases = nullptr;  // the other API's irregular spellings
};
template <class Spec, Tcl_Obj* (*Impl)(Call&, const Spec&)>
Tcl_Obj* familyHandler(Call& c) { return Impl(c, c.data<Spec>()); }
template <auto Impl, class Spec, size_t N>
void addFamily(std::vector<Command>& out, const Spec (&table)[N]) {
  for (const Spec& row : table)
    out.push_back(Command{row.name, row.doc, *row.params, familyHandler<Spec, Impl>}.withData(&row).withAliases(row.aliases));
}

// A tensor form's parameters: the input first, then the constructor's.
inline std::vector<Param> withInput(const std::vector<Param>& ctor, Param input) {
  std::vector<Param> ps{std::move(input)};
  ps.insert(ps.end(), ctor.begin(), ctor.end());
  return ps;
}

// A kernel size, stride, ... of D dimensions for libtorch's options.
template <size_t D>
torch::ExpandingArray<D> arr(const std::vector<int64_t>& v) {
  return torch::ExpandingArray<D>(at::IntArrayRef(v));
}
// One or two integers -> a 2-D size (the 2-D layers' kernel, stride, padding).
inline torch::ExpandingArray<2> pair(Call& c, const char* name) {
  auto v = c.ints(name);
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2) c.badValue(name, "one or two integers");
  return torch::ExpandingArray<2>({v[0], v[1]});
}
// 1 or N integers -> N (kernel sizes, strides, paddings), each >= min.
std::vector<int64_t> expandInts(Call& c, const char* name, size_t n, int64_t min);

// The sequence layers' slice of nnLayersCommands (nn_recurrent.cpp).
std::vector<Command> nnRecurrentCommands();

// Parameters named by a Tcl value: a module handle (its parameters) or a list
// of tensor handles.
std::vector<at::Tensor> parameterList(Call& c, const char* name);

// A module handle made for one call (a constructor's result inside a tensor
// form): the module behind it, freed with it when the call ends.
class OneCallModule {
 public:
  OneCallModule(State& st, Tcl_Obj* handle);
  ~OneCallModule();
  OneCallModule(const OneCallModule&) = delete;
  OneCallModule& operator=(const OneCallModule&) = delete;
  const std::shared_ptr<ModuleObj>& operator->() const { return m_; }
  const std::shared_ptr<ModuleObj>& get() const { return m_; }

 private:
  State& st_;
  Tcl_Obj* h_;
  std::shared_ptr<ModuleObj> m_;
};

// The tensor form of a layer constructor (the other API's tensor functions:
// embedding $indices 5 4): the layer that Make builds from this call's
// parameters, applied once to -input.
template <Handler Make>
Tcl_Obj* applyOnce(Call& c) {
  OneCallModule m(c.st, Make(c));
  return c.result(m->forward(c.tensor("input")));
}

// Writes a file so that a reader never sees a half-written one: `write` fills
// a temporary file next to `path`, which is then renamed over it.
void saveAtomically(const std::string& path, const std::function<void(const std::string&)>& write);
// The whole file, or a TORCH IO error naming it.
std::vector<char> readFileBytes(const std::string& path);

}  // namespace tcltorch
