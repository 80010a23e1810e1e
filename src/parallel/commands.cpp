// Model-parallel commands: thin handlers over src/parallel/ (parallel.h).
#include "tcltorch/commands.h"
#include "tcltorch/nn.h"
#include "tcltorch/parallel.h"

namespace tcltorch {

static Tcl_Obj* cmdDeviceMesh(Call& c) {
  return c.result(Kind::Mesh, makeDeviceMesh(c.st, c.ints("shape"), c.words("names")));
}

static Tcl_Obj* cmdMeshGroup(Call& c) {
  auto m = c.object<DeviceMesh>("mesh");
  std::string dim = c.str("dim");
  int d = m->dimOf(dim);
  if (d < 0) {
    std::string all;
    for (size_t k = 0; k < m->names.size(); ++k) all += (k ? ", " : "") + m->names[k];
    c.badValue("dim", "a dim name of the mesh (" + all + ")");
  }
  return newString(m->groups[size_t(d)]);
}

static Tcl_Obj* cmdMeshInfo(Call& c) {
  auto m = c.object<DeviceMesh>("mesh");
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

static Tcl_Obj* cmdParallelizeModule(Call& c) {
  std::vector<std::pair<std::string, ParallelStyle>> plan;
  for (auto& [name, style] : c.namedChoices("plan")) plan.emplace_back(name, ParallelStyle(style));
  parallelizeModule(c.st, *c.object<ModuleObj>("module"), plan, c.str("group"));
  return c.obj("module");
}

static Tcl_Obj* cmdFullyShard(Call& c) {
  FullyShardOptions o;
  o.group = c.str("group");
  o.reshardAfterForward = c.boolean("reshard_after_forward");
  o.units = c.words("units");
  fullyShard(c.st, c.object<ModuleObj>("module"), o);
  return c.obj("module");
}

static Tcl_Obj* cmdFullStateDict(Call& c) {
  Tcl_Obj* d = Tcl_NewDictObj();
  for (auto& [name, t] : fullStateDict(c.st, *c.object<ModuleObj>("module")))
    Tcl_DictObjPut(nullptr, d, newString(name), c.result(t));
  return d;
}

static Tcl_Obj* cmdDistributedSave(Call& c) {
  auto opt = c.has("optimizer") ? c.object<OptimizerObj>("optimizer") : nullptr;
  distributedSave(c.st, *c.object<ModuleObj>("module"), opt.get(), c.str("dir"));
  return nullptr;
}

static Tcl_Obj* cmdDistributedLoad(Call& c) {
  auto opt = c.has("optimizer") ? c.object<OptimizerObj>("optimizer") : nullptr;
  distributedLoad(c.st, *c.object<ModuleObj>("module"), opt.get(), c.str("dir"));
  return nullptr;
}

static const Param kModule{"module", Type::Module, nullptr, "module handle"};
static const Param kOptimizer{"optimizer", Type::Optimizer, kOptional, "optimizer whose state (Adam, AdamW, SGD) is saved or loaded too"};
static const Param kGroup{"group", Type::String, "", "process group name (\"\" = default group)"};

std::vector<Command> parallelCommands() {
  return {
      {"device_mesh", "Lay the world's ranks out as an n-D mesh (the last dim varies fastest); one group per line along each dim.",
       {{"shape", Type::IntList, nullptr, "ranks along each dim; their product is the world size"},
        Param{"names", Type::Words, "", "a name for each dim (default dim0 dim1 ...)"}.variadicList()},
       cmdDeviceMesh},
      {"mesh_group", "This rank's process group along a mesh dim, for any -group argument.",
       {{"mesh", Type::Mesh, nullptr, "mesh handle"}, {"dim", Type::String, nullptr, "dim name"}}, cmdMeshGroup},
      {"mesh_info", "Dict of a mesh: shape, names, coords (this rank's), groups (this rank's, per dim).",
       {{"mesh", Type::Mesh, nullptr, "mesh handle"}}, cmdMeshInfo},
      {"parallelize_module", "Tensor parallel: split linear and embedding layers over a group, colwise or rowwise; returns the module.",
       {kModule,
        Param{"plan", Type::NamedChoices, nullptr, "layer names (as layer_named_parameters prints them), each with its style: {0 colwise 2 rowwise}",
              nullptr, "colwise rowwise"}.mustBe("a list of layer names, each followed by colwise or rowwise"),
        kGroup},
       cmdParallelizeModule},
      {"fully_shard", "Fully sharded data parallel (ZeRO-3): each rank keeps 1/N of every parameter, gradient and optimizer state; returns the module.",
       {kModule, kGroup,
        {"reshard_after_forward", Type::Bool, "1", "free each unit's gathered parameters after its forward"},
        Param{"units", Type::Words, "", "submodule names gathered as one unit (default: every layer with parameters)"}.variadicList()},
       cmdFullyShard},
      {"full_state_dict", "Dict of parameter and buffer names to whole tensors, gathered from every rank's pieces.",
       {kModule}, cmdFullStateDict},
      {"distributed_save", "Write this rank's pieces of a (sharded) module and their place in the whole to a folder.",
       {kModule, {"dir", Type::Path, nullptr, "folder (made if missing)"}, kOptimizer}, cmdDistributedSave},
      {"distributed_load", "Load a folder written by distributed_save into a module split any way, on any world size.",
       {kModule, {"dir", Type::Path, nullptr, "folder written by distributed_save"}, kOptimizer}, cmdDistributedLoad},
  };
}

}  // namespace tcltorch
