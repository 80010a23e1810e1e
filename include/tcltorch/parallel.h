// Model parallelism below the commands (src/parallel/): device meshes,
// collectives that autograd sees, tensor parallel (parallelize_module), fully
// sharded data parallel (fully_shard) and the state of sharded modules.
// Written only on top of the Communicator interface (collective.h).
#pragma once
#include "tcltorch/autograd_collectives.h"
#include "tcltorch/collective.h"
#include <functional>
#include <map>

namespace tcltorch {

struct ModuleObj;
struct OptimizerObj;

// ---- device meshes (mesh.cpp) ---------------------------------------------
// Ranks laid out as an n-D array, the last dim varying fastest (PyTorch's
// init_device_mesh). Along each dim, the ranks that differ only in that
// coordinate form a process group.
struct DeviceMesh : Object {
  std::vector<int64_t> shape;
  std::vector<std::string> names;
  std::vector<int64_t> coords;       // this rank's coordinates
  std::vector<std::string> groups;   // this rank's group along each dim ("" : the world)
  std::string handlePrefix() const override { return "mesh"; }
  int dimOf(const std::string& name) const;  // -1 when no dim has that name
};
// Called by every rank in the same order (it creates the groups). Without a
// process group every dim must have size 1 and every group is the world.
std::shared_ptr<DeviceMesh> makeDeviceMesh(State& st, const std::vector<int64_t>& shape,
                                           std::vector<std::string> names);

// ---- sharded parameters (state.cpp) ----------------------------------------
// Where a sharded parameter's pieces live: the module's tensor is this rank's
// piece of a whole split along `dim` over `group` (every rank's extent in
// `sizes`). A parameter split twice (tensor parallel, then fully sharded)
// has two layers, outermost first.
struct ParamSplit {
  std::string group;
  int64_t dim = 0;
  std::vector<int64_t> sizes;
  int rank = 0;  // this rank in group
  bool byFullyShard = false;  // made by fully_shard (else by tensor parallel)
  int64_t offset() const;
};
// Per interpreter: TensorImpl of a parameter -> its splits, outermost first.
std::vector<ParamSplit>* paramSplits(State& st, const at::Tensor& p);
void addParamSplit(State& st, const at::Tensor& p, ParamSplit s);

// name -> whole tensor (the module's own names), gathered on every rank.
std::vector<std::pair<std::string, at::Tensor>> fullStateDict(State& st, ModuleObj& m);
// Sum over the ranks of the squared norms of the pieces of every parameter's
// gradient (a replicated parameter counted once): the global gradient norm.
double globalGradNorm(State& st, const std::vector<at::Tensor>& params, double p);
// clip_grad_norm_ over the whole gradients when some parameters are pieces
// (every rank calls it with the same parameters); returns the norm before.
double clipGradNorm(State& st, const std::vector<at::Tensor>& params, double maxNorm, double p);

// ---- tensor parallel (tensor_parallel.cpp) ---------------------------------
enum class ParallelStyle { Colwise, Rowwise };
// plan: submodule name ("0", "2.1", as named_parameters prints them) -> style.
// Linear and embedding layers only; every rank calls it with the same plan.
void parallelizeModule(State& st, ModuleObj& m, const std::vector<std::pair<std::string, ParallelStyle>>& plan,
                       const std::string& group);

// ---- fully sharded data parallel (fully_shard.cpp) -------------------------
struct FullyShardOptions {
  std::string group;
  bool reshardAfterForward = true;
  std::vector<std::string> units;  // submodule names; empty: every one with parameters
};
void fullyShard(State& st, const std::shared_ptr<ModuleObj>& m, const FullyShardOptions& o);

// The leaf modules (ModuleObj with no children of their own) of m in forward
// order with their dotted names ("0", "1.0"); m itself when it has none.
std::vector<std::pair<std::string, std::shared_ptr<ModuleObj>>> leafModules(const std::shared_ptr<ModuleObj>& m);

// ---- distributed checkpoints (checkpoint.cpp) ------------------------------
// Every rank writes its pieces (rank<R>.pt) and rank 0 the metadata; load
// reads whatever split the files hold into whatever split m has now. With an
// optimizer (Adam, AdamW, SGD) its state follows its parameters' splits.
void distributedSave(State& st, ModuleObj& m, OptimizerObj* opt, const std::string& dir);
void distributedLoad(State& st, ModuleObj& m, OptimizerObj* opt, const std::string& dir);

}  // namespace tcltorch
