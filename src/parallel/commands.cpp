// Model-parallel commands: thin handlers over src/parallel/ (parallel.h).
#include "tcltorch/commands.h"
#include "tcltorch/nn.h"
#include "tcltorch/parallel.h"

namespace tcltorch {

// The elements of a list-valued parameter (already checked to be a list).
static std::vector<std::string> wordsOf(Call& c, const char* name) {
  std::vector<std::string> r;
  Tcl_Obj* o = c.obj(name);
  Tcl_Size n = 0;
  Tcl_Obj** elems = nullptr;
  if (o && Tcl_ListObjGetElements(nullptr, o, &n, &elems) == TCL_OK)
    for (Tcl_Size k = 0; k < n; ++k) r.push_back(Tcl_GetString(elems[k]));
  return r;
}

static Tcl_Obj* cmdDeviceMesh(Call& c) {
  std::vector<std::string> names;
  for (auto& w : wordsOf(c, "names")) names.push_back(w);
  return c.result(Kind::Mesh, makeDeviceMesh(c.st, c.ints("shape"), names));
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
  auto m = c.object<ModuleObj>("module");
  Tcl_Size n = 0;
  Tcl_Obj** elems = nullptr;
  if (Tcl_ListObjGetElements(nullptr, c.obj("plan"), &n, &elems) != TCL_OK || n % 2)
    c.badValue("plan", "a list of layer names and styles (colwise or rowwise)");
  std::vector<std::string> w;
  for (Tcl_Size k = 0; k < n; ++k) w.push_back(Tcl_GetString(elems[k]));
  std::vector<std::pair<std::string, ParallelStyle>> plan;
  for (size_t k = 0; k < w.size(); k += 2) {
    if (w[k + 1] != "colwise" && w[k + 1] != "rowwise")
      fail("bad style \"" + w[k + 1] + "\" for layer \"" + w[k] + "\": must be colwise or rowwise",
           {"ARGS", "VALUE", "plan", w[k + 1]});
    plan.emplace_back(w[k], w[k + 1] == "colwise" ? ParallelStyle::Colwise : ParallelStyle::Rowwise);
  }
  parallelizeModule(c.st, *m, plan, c.str("group"));
  return c.obj("module");
}

static Tcl_Obj* cmdFullyShard(Call& c) {
  FullyShardOptions o;
  o.group = c.str("group");
  o.reshardAfterForward = c.boolean("reshard_after_forward");
  for (auto& u : wordsOf(c, "units")) o.units.push_back(u);
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
        {"plan", Type::String, nullptr, "layer names (as layer_named_parameters prints them) and styles: {0 colwise 2 rowwise}"},
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
