// Data-parallel training on top of the collective interface: every rank holds
// the whole model, sees its shard of each batch, and all-reduces gradients.
// Only communicator(st, "") is used, so one process (the LocalCommunicator)
// runs the same script unchanged.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/ddp.h"
#include "tcltorch/dp.h"
#include "tcltorch/nn.h"

namespace tcltorch {

static size_t bucketBytes(Call& c) {
  return size_t(c.number("bucket_mb") * 1024 * 1024);
}

static Tcl_Obj* cmdBroadcastParameters(Call& c) {
  auto m = c.object<ModuleObj>("module");
  CommPtr comm = communicator(c.st, "");
  int root = groupRankArg(c, *comm, "root");
  broadcastModule(*comm, *m->module, root, bucketBytes(c));
  return nullptr;
}

static Tcl_Obj* cmdSyncGradients(Call& c) {
  auto m = c.object<ModuleObj>("module");
  bool mean = c.choice("op") == 0;
  size_t cap = bucketBytes(c);
  syncGradients(*communicator(c.st, ""), *m->module, mean, cap);
  return nullptr;
}

static Tcl_Obj* cmdShardIndices(Call& c) {
  int64_t n = c.integer("n");
  CommPtr comm = communicator(c.st, "");
  int64_t rank = comm->rank(), size = comm->size();
  at::Tensor order;
  if (c.boolean("shuffle")) {
    // The same permutation on every rank: seeded by seed + epoch only, as in
    // PyTorch's DistributedSampler, so each epoch reshuffles.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(c.integer("seed") + c.integer("epoch")));
    order = at::randperm(n, gen, at::TensorOptions().dtype(at::kLong));
  } else {
    order = at::arange(n, at::TensorOptions().dtype(at::kLong));
  }
  // Strided split: disjoint, covering, shares differ by at most one.
  at::Tensor mine = order.slice(0, rank, n, size).contiguous();
  const int64_t* p = mine.data_ptr<int64_t>();
  std::vector<int64_t> out(p, p + mine.numel());
  return newList(out);
}

static const Param kModule{"module", Type::Module, nullptr, "module handle"};
static const Param kBucket =
    Param{"bucket_mb", Type::Double, "25", "bucket size in MiB (one collective per bucket)"}.positive();

std::vector<Command> dataParallelCommands() {
  std::vector<Command> rows = {
      {"distributed_broadcast_parameters", "Give every rank root's parameters and buffers (call once before training).",
       {kModule, {"root", Type::Int, "0", "rank whose weights everyone takes"}, kBucket},
       cmdBroadcastParameters},
      {"distributed_sync_gradients",
       "All-reduce a module's gradients across ranks in flat buckets (after backward, before the step); no-op in one process.",
       {kModule, {"op", Type::Choice, "mean", "mean (data-parallel average) or sum", nullptr, "mean sum"}, kBucket},
       cmdSyncGradients},
      {"distributed_shard_indices", "This rank's share of 0..n-1: disjoint across ranks, together covering all.",
       {Param{"n", Type::Int, nullptr, "number of samples"}.nonNegative().mustBe("a non-negative integer"),
        {"shuffle", Type::Bool, "0", "permute before splitting (same permutation on every rank)"},
        {"seed", Type::Int, "0", "shuffle seed (the same on every rank)"},
        {"epoch", Type::Int, "0", "epoch number, added to the seed so each epoch reshuffles"}},
       cmdShardIndices},
  };
  for (auto* more : {&ddpCommands, &zeroCommands})
    for (auto& row : more()) rows.push_back(std::move(row));
  return rows;
}

}  // namespace tcltorch
