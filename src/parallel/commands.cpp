// Model-parallel commands: thin handlers over src/parallel/ (parallel.h).
#include "tcltorch/commands.h"
#include "tcltorch/nn.h"
#include "tcltorch/parallel.h"

namespace tcltorch {

static const Param kModule{"module", Type::Module, nullptr, "module handle"};
static const Param kOptimizer{"optimizer", Type::Optimizer, kOptional, "optimizer whose state (Adam, AdamW, SGD) is saved or loaded too"};
static const Param kGroup{"group", Type::String, "", "process group name (\"\" = default group)"};
static const Param kMesh{"mesh", Type::Mesh, nullptr, "mesh handle"};

namespace {
struct DeviceMeshArgs : Args {
  Arg<Type::IntList> shape{this, {"shape", Type::IntList, nullptr, "ranks along each dim; their product is the world size"}};
  Arg<Type::Words> names{this, Param{"names", Type::Words, "", "a name for each dim (default dim0 dim1 ...)"}.variadicList()};
};
}  // namespace
static Tcl_Obj* cmdDeviceMesh(Call& c, const DeviceMeshArgs& a) {
  return c.result(Kind::Mesh, makeDeviceMesh(c.st, c.ints(a.shape), c.words(a.names)));
}

namespace {
struct MeshGroupArgs : Args {
  Arg<Type::Mesh> mesh{this, kMesh};
  Arg<Type::String> dim{this, {"dim", Type::String, nullptr, "dim name"}};
};
}  // namespace
static Tcl_Obj* cmdMeshGroup(Call& c, const MeshGroupArgs& a) {
  auto m = c.object<DeviceMesh>(a.mesh);
  std::string dim = c.str(a.dim);
  int d = m->dimOf(dim);
  if (d < 0) {
    std::string all;
    for (size_t k = 0; k < m->names.size(); ++k) all += (k ? ", " : "") + m->names[k];
    c.badValue(a.dim, "a dim name of the mesh (" + all + ")");
  }
  return newString(m->groups[size_t(d)]);
}

namespace {
struct MeshInfoArgs : Args {
  Arg<Type::Mesh> mesh{this, kMesh};
};
}  // namespace
static Tcl_Obj* cmdMeshInfo(Call& c, const MeshInfoArgs& a) {
  auto m = c.object<DeviceMesh>(a.mesh);
  Tcl_Obj* d = Tcl_NewDictObj();
  auto put = [&](const char* k, Tcl_Obj* v) { Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj(k, -1), v); };
  Tcl_Obj* names = Tcl_NewListObj(0, nullptr);
  Tcl_Obj* groups = Tcl_NewListObj(0, nullptr);
  for (auto& n : m->names) Tcl_ListObjAppendElement(nullptr, names, newString(n));
  for (auto& g : m->groups) Tcl_ListObjAppendElement(nullptr, groups, newString(g));
  put("shape", newList(m->shape));
  put("names", names);
  put("coords", newList(m->coords));
  put("groups", groups);
  return d;
}

namespace {
struct ParallelizeArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::NamedChoices> plan{
      this, Param{"plan", Type::NamedChoices, nullptr, "layer names (as layer_named_parameters prints them), each with its style: {0 colwise 2 rowwise}",
                  nullptr, "colwise rowwise"}.mustBe("a list of layer names, each followed by colwise or rowwise")};
  Arg<Type::String> group{this, kGroup};
};
}  // namespace
static Tcl_Obj* cmdParallelizeModule(Call& c, const ParallelizeArgs& a) {
  std::vector<std::pair<std::string, ParallelStyle>> plan;
  for (auto& [name, style] : c.namedChoices(a.plan)) plan.emplace_back(name, ParallelStyle(style));
  parallelizeModule(c.st, *c.object<ModuleObj>(a.module), plan, c.str(a.group));
  return c.obj(a.module);
}

namespace {
struct FullyShardArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::String> group{this, kGroup};
  Arg<Type::Bool> reshard_after_forward{this, {"reshard_after_forward", Type::Bool, "1", "free each unit's gathered parameters after its forward"}};
  Arg<Type::Words> units{
      this, Param{"units", Type::Words, "", "submodule names gathered as one unit (default: every layer with parameters)"}.variadicList()};
};
}  // namespace
static Tcl_Obj* cmdFullyShard(Call& c, const FullyShardArgs& a) {
  FullyShardOptions o;
  o.group = c.str(a.group);
  o.reshardAfterForward = c.boolean(a.reshard_after_forward);
  o.units = c.words(a.units);
  fullyShard(c.st, c.object<ModuleObj>(a.module), o);
  return c.obj(a.module);
}

namespace {
struct ModuleArgs : Args {
  Arg<Type::Module> module{this, kModule};
};
}  // namespace
static Tcl_Obj* cmdFullStateDict(Call& c, const ModuleArgs& a) {
  Tcl_Obj* d = Tcl_NewDictObj();
  for (auto& [name, t] : fullStateDict(c.st, *c.object<ModuleObj>(a.module)))
    Tcl_DictObjPut(nullptr, d, newString(name), c.result(t));
  return d;
}

namespace {
// distributed_save and distributed_load: the folder's doc differs.
struct CheckpointArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Path> dir;
  Arg<Type::Optimizer> optimizer{this, kOptimizer};
  explicit CheckpointArgs(const char* dirDoc) : dir{this, {"dir", Type::Path, nullptr, dirDoc}} {}
};
}  // namespace
static Tcl_Obj* cmdDistributedSave(Call& c, const CheckpointArgs& a) {
  auto opt = c.has(a.optimizer) ? c.object<OptimizerObj>(a.optimizer) : nullptr;
  distributedSave(c.st, *c.object<ModuleObj>(a.module), opt.get(), c.str(a.dir));
  return nullptr;
}

static Tcl_Obj* cmdDistributedLoad(Call& c, const CheckpointArgs& a) {
  auto opt = c.has(a.optimizer) ? c.object<OptimizerObj>(a.optimizer) : nullptr;
  distributedLoad(c.st, *c.object<ModuleObj>(a.module), opt.get(), c.str(a.dir));
  return nullptr;
}

std::vector<Command> parallelCommands() {
  return {
      typedRow<cmdDeviceMesh>("device_mesh",
                              "Lay the world's ranks out as an n-D mesh (the last dim varies fastest); one group per line along each dim."),
      typedRow<cmdMeshGroup>("mesh_group", "This rank's process group along a mesh dim, for any -group argument."),
      typedRow<cmdMeshInfo>("mesh_info", "Dict of a mesh: shape, names, coords (this rank's), groups (this rank's, per dim)."),
      typedRow<cmdParallelizeModule>(
          "parallelize_module",
          "Tensor parallel: split linear and embedding layers over a group, colwise or rowwise; returns the module."),
      typedRow<cmdFullyShard>(
          "fully_shard",
          "Fully sharded data parallel (ZeRO-3): each rank keeps 1/N of every parameter, gradient and optimizer state; returns the module."),
      typedRow<cmdFullStateDict>("full_state_dict",
                                 "Dict of parameter and buffer names to whole tensors, gathered from every rank's pieces."),
      typedRow<cmdDistributedSave>("distributed_save",
                                   "Write this rank's pieces of a (sharded) module and their place in the whole to a folder.",
                                   std::make_shared<const CheckpointArgs>("folder (made if missing)")),
      typedRow<cmdDistributedLoad>("distributed_load",
                                   "Load a folder written by distributed_save into a module split any way, on any world size.",
                                   std::make_shared<const CheckpointArgs>("folder written by distributed_save")),
  };
}

}  // namespace tcltorch
