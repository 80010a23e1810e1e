// Objects behind module, optimizer and scheduler handles, shared by the nn,
// optim, checkpoint and data-parallel commands.
#pragma once
#include "tcltorch/args.h"
#include "tcltorch/files.h"
#include "tcltorch/module.h"
#include <torch/expanding_array.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

namespace tcltorch {

// Families as rows: a table of specs, each with name, doc, the row it makes
// (memberRow<H>: handler H over its argument struct) and the other API's extra
// spellings. Every member's row carries its spec as family data
// (Command::withData), read by the handler with c.data<Spec>().
template <class Kind>
struct FamilyRow {
  const char* name;
  const char* doc;
  Command (*row)(const FamilyRow&);  // memberRow<H>
  Kind kind;                      // which member of the family
  int dims = 0;                   // spatial dimensions, where the family has them
  const char* aliases = nullptr;  // the other API's irregular spellings
};
// A family member's row: typedRow<H> over H's argument struct, made from the
// spec where the struct takes one (a per-member parameter), else by default.
template <auto H, class Spec>
Command memberRow(const Spec& s) {
  using A = typename HandlerArgs<decltype(H)>::type;
  std::shared_ptr<const A> args;
  if constexpr (std::is_constructible_v<A, const Spec&>) args = std::make_shared<const A>(s);
  else args = std::make_shared<const A>();
  return typedRow<H>(s.name, s.doc, std::move(args)).withData(&s).withAliases(s.aliases);
}
template <class Spec, size_t N>
void addFamily(std::vector<Command>& out, const Spec (&table)[N]) {
  for (const Spec& s : table) out.push_back(s.row(s));
}

// A tensor form's parameters: the input first, then the constructor's (whose
// keys find them by name in this row).
template <class A>
struct WithInput : Args {
  Arg<Type::Tensor> input;
  A ctor;
  explicit WithInput(const Param& in) : input{this, in} {
    params.insert(params.end(), ctor.params.begin(), ctor.params.end());
  }
};

// A kernel size, stride, ... of D dimensions for libtorch's options.
template <size_t D>
torch::ExpandingArray<D> arr(const std::vector<int64_t>& v) {
  return torch::ExpandingArray<D>(at::IntArrayRef(v));
}
// One or two integers -> a 2-D size (the 2-D layers' kernel, stride, padding).
inline torch::ExpandingArray<2> pair(Call& c, const Arg<Type::IntList>& k) {
  auto v = c.ints(k);
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2) c.badValue(k, "one or two integers");
  return torch::ExpandingArray<2>({v[0], v[1]});
}
// 1 or N integers -> N (kernel sizes, strides, paddings), each >= min.
std::vector<int64_t> expandInts(Call& c, const Arg<Type::IntList>& k, size_t n, int64_t min);

// The sequence layers' slice of nnLayersCommands (nn_recurrent.cpp).
std::vector<Command> nnRecurrentCommands();
// Padding, resampling, sliding blocks: their slice of nnLayersCommands (nn_spatial.cpp).
std::vector<Command> nnSpatialCommands();

// Parameters named by a Tcl value: a module handle (its parameters) or a list
// of tensor handles (Type::TensorsOrModule). `k`: the parameter's key.
std::vector<at::Tensor> parameterList(const std::shared_ptr<Object>& module, const std::vector<at::Tensor>& tensors,
                                      const char* name);
inline std::vector<at::Tensor> parameterList(Call& c, const Arg<Type::TensorsOrModule>& k) {
  return parameterList(c.objectRaw(k), c.tensors(k), c.nameOf(k));
}

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
// parameters, applied once to the input.
template <auto Make>
Tcl_Obj* applyOnce(Call& c, const WithInput<typename HandlerArgs<decltype(Make)>::type>& a) {
  OneCallModule m(c.st, Make(c, a.ctor));
  return c.result(m->forward(c.tensor(a.input)));
}

}  // namespace tcltorch
