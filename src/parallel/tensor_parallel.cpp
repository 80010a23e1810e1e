// Tensor parallelism (Megatron; PyTorch's parallelize_module with
// ColwiseParallel / RowwiseParallel): linear and embedding layers keep only
// their slice of the weight, and their forwards run the collectives that make
// the slices add up to the whole layer, each with its backward.
#include "tcltorch/module.h"
#include "tcltorch/parallel.h"
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

namespace tcltorch {

std::vector<std::pair<std::string, std::shared_ptr<ModuleObj>>> leafModules(const std::shared_ptr<ModuleObj>& m) {
  std::vector<std::pair<std::string, std::shared_ptr<ModuleObj>>> r;
  std::function<void(const std::string&, const std::shared_ptr<ModuleObj>&)> walk =
      [&](const std::string& name, const std::shared_ptr<ModuleObj>& o) {
        if (o->children.empty()) {
          r.emplace_back(name, o);
          return;
        }
        for (auto& [n, k] : o->children) walk(name.empty() ? n : name + "." + n, k);
      };
  walk("", m);
  return r;
}

namespace {
// A layer's weight (and bias) cut to this rank's slice along dim.
void keepSlice(State& st, const at::Tensor& p, int64_t dim, const CommPtr& c, const std::string& group) {
  if (!p.defined()) return;
  at::NoGradGuard ng;
  ParamSplit s{group, dim, evenSizes(p.size(dim), c->size()), c->rank()};
  at::Tensor piece = p.narrow(dim, s.offset(), s.sizes[size_t(s.rank)]).clone();
  const_cast<at::Tensor&>(p).set_data(piece);
  addParamSplit(st, p, std::move(s));
}
}  // namespace

void parallelizeModule(State& st, ModuleObj& root, const std::vector<std::pair<std::string, ParallelStyle>>& plan,
                       const std::string& group) {
  CommPtr c = communicator(st, group);
  auto self = std::shared_ptr<ModuleObj>(&root, [](ModuleObj*) {});  // the walk only reads it
  auto leaves = leafModules(self);
  // Check the whole plan before changing anything.
  std::vector<std::optional<ParallelStyle>> style(leaves.size());
  for (auto& [name, s] : plan) {
    size_t k = 0;
    while (k < leaves.size() && leaves[k].first != name) ++k;
    if (k == leaves.size())
      fail("parallelize_module: no layer \"" + name + "\" in the module (its layers are named as in "
           "layer_named_parameters: 0, 1, 2.0, ...)", {"PARALLEL", "PLAN", name});
    const std::string& type = leaves[k].second->type;
    if (type != "linear" && type != "embedding")
      fail("parallelize_module: layer \"" + name + "\" is a " + type + ": only linear and embedding layers split",
           {"PARALLEL", "PLAN", name});
    if (paramSplits(st, leaves[k].second->module->parameters().at(0)))
      fail("parallelize_module: layer \"" + name + "\" is already split", {"PARALLEL", "PLAN", name});
    style[k] = s;
  }
  // The next layer with parameters after k, or -1.
  auto nextWithParams = [&](size_t k) -> long {
    for (size_t j = k + 1; j < leaves.size(); ++j)
      if (!leaves[j].second->module->parameters().empty()) return long(j);
    return -1;
  };
  std::vector<bool> shardedIn(leaves.size(), false);  // fed by a colwise linear that kept its output split
  for (size_t k = 0; k < leaves.size(); ++k) {
    if (!style[k]) continue;
    auto& o = leaves[k].second;
    int rank = c->rank();
    if (o->type == "linear") {
      auto lin = std::dynamic_pointer_cast<torch::nn::LinearImpl>(o->module);
      if (*style[k] == ParallelStyle::Colwise) {
        long nx = nextWithParams(k);
        bool keepSplit = nx >= 0 && style[size_t(nx)] == ParallelStyle::Rowwise && leaves[size_t(nx)].second->type == "linear";
        if (keepSplit) shardedIn[size_t(nx)] = true;
        auto sizes = evenSizes(lin->weight.size(0), c->size());
        keepSlice(st, lin->weight, 0, c, group);
        keepSlice(st, lin->bias, 0, c, group);
        o->forward = [lin, c, keepSplit, sizes](const at::Tensor& x) {
          at::Tensor y = at::linear(copyToGroup(c, x), lin->weight, lin->bias);
          return keepSplit ? y : gatherFromGroup(c, y, -1, sizes);
        };
      } else {
        bool splitIn = shardedIn[k];
        auto sizes = evenSizes(lin->weight.size(1), c->size());
        int64_t off = splitOffset(sizes, rank), n = sizes[size_t(rank)];
        keepSlice(st, lin->weight, 1, c, group);
        o->forward = [lin, c, splitIn, off, n](const at::Tensor& x) {
          at::Tensor xs = splitIn ? x : copyToGroup(c, x).narrow(-1, off, n);
          at::Tensor y = reduceFromGroup(c, at::linear(xs, lin->weight));
          return lin->bias.defined() ? y + lin->bias : y;
        };
      }
    } else {  // embedding
      auto emb = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(o->module);
      int64_t pad = emb->options.padding_idx() ? *emb->options.padding_idx() : -1;
      auto longIdx = [](const at::Tensor& x) { return x.is_floating_point() ? x.to(at::kLong) : x; };
      if (*style[k] == ParallelStyle::Colwise) {  // each rank: some features of every row
        auto sizes = evenSizes(emb->weight.size(1), c->size());
        keepSlice(st, emb->weight, 1, c, group);
        o->forward = [emb, c, sizes, pad, longIdx](const at::Tensor& x) {
          return gatherFromGroup(c, at::embedding(emb->weight, longIdx(x), pad), -1, sizes);
        };
      } else {  // each rank: some rows; other rows look up zeros, summed over the ranks
        auto sizes = evenSizes(emb->weight.size(0), c->size());
        int64_t off = splitOffset(sizes, rank), n = sizes[size_t(rank)];
        int64_t localPad = pad >= off && pad < off + n ? pad - off : -1;
        keepSlice(st, emb->weight, 0, c, group);
        o->forward = [emb, c, off, n, localPad, longIdx](const at::Tensor& x) {
          at::Tensor idx = longIdx(x);
          at::Tensor outside = (idx < off).logical_or(idx >= off + n);
          at::Tensor e = at::embedding(emb->weight, (idx - off).masked_fill(outside, 0), localPad);
          return reduceFromGroup(c, e.masked_fill(outside.unsqueeze(-1), 0));
        };
      }
    }
  }
}

}  // namespace tcltorch
