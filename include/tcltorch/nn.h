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
#include <utility>

namespace tcltorch {

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
// of tensor handles (Type::TensorsOrModule). `k`: the parameter's key.
std::vector<at::Tensor> parameterList(const std::shared_ptr<Object>& module, const std::vector<at::Tensor>& tensors,
                                      const char* name);
template <class K>
std::vector<at::Tensor> parameterList(Call& c, const K& k) {
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
// parameters, applied once to -input.
template <Handler Make>
Tcl_Obj* applyOnce(Call& c) {
  OneCallModule m(c.st, Make(c));
  return c.result(m->forward(c.tensor("input")));
}

}  // namespace tcltorch
