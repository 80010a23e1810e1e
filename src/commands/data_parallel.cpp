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

static const Param kModule{"module", Type::Module, nullptr, "module handle"};
static const Param kBucket =
    Param{"bucket_mb", Type::Double, "25", "bucket size in MiB (one collective per bucket)"}.positive();

static size_t bucketBytes(Call& c, const Arg<Type::Double>& bucketMb) {
  return size_t(c.number(bucketMb) * 1024 * 1024);
}

namespace {
struct BroadcastParametersArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Int> root{this, {"root", Type::Int, "0", "rank whose weights everyone takes"}};
  Arg<Type::Double> bucket_mb{this, kBucket};
};
}  // namespace
static Tcl_Obj* cmdBroadcastParameters(Call& c, const BroadcastParametersArgs& a) {
  auto m = c.object<ModuleObj>(a.module);
  CommPtr comm = communicator(c.st, "");
  int root = groupRankArg(c, *comm, a.root);
  broadcastModule(*comm, *m->module, root, bucketBytes(c, a.bucket_mb));
  return nullptr;
}

namespace {
struct SyncGradientsArgs : Args {
  Arg<Type::Module> module{this, kModule};
  Arg<Type::Choice> op{this, {"op", Type::Choice, "mean", "mean (data-parallel average) or sum", nullptr, "mean sum"}};
  Arg<Type::Double> bucket_mb{this, kBucket};
};
}  // namespace
static Tcl_Obj* cmdSyncGradients(Call& c, const SyncGradientsArgs& a) {
  auto m = c.object<ModuleObj>(a.module);
  bool mean = c.choice(a.op) == 0;
  size_t cap = bucketBytes(c, a.bucket_mb);
  syncGradients(*communicator(c.st, ""), *m->module, mean, cap);
  return nullptr;
}

namespace {
struct ShardIndicesArgs : Args {
  Arg<Type::Int> n{this, Param{"n", Type::Int, nullptr, "number of samples"}.nonNegative().mustBe("a non-negative integer")};
  Arg<Type::Bool> shuffle{this, {"shuffle", Type::Bool, "0", "permute before splitting (same permutation on every rank)"}};
  Arg<Type::Int> seed{this, {"seed", Type::Int, "0", "shuffle seed (the same on every rank)"}};
  Arg<Type::Int> epoch{this, {"epoch", Type::Int, "0", "epoch number, added to the seed so each epoch reshuffles"}};
};
}  // namespace
static Tcl_Obj* cmdShardIndices(Call& c, const ShardIndicesArgs& a) {
  int64_t n = c.integer(a.n);
  CommPtr comm = communicator(c.st, "");
  int64_t rank = comm->rank(), size = comm->size();
  at::Tensor order;
  if (c.boolean(a.shuffle)) {
    // The same permutation on every rank: seeded by seed + epoch only, as in
    // PyTorch's DistributedSampler, so each epoch reshuffles.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(c.integer(a.seed) + c.integer(a.epoch)));
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

std::vector<Command> dataParallelCommands() {
  std::vector<Command> rows = {
      typedRow<cmdBroadcastParameters>("distributed_broadcast_parameters",
                                       "Give every rank root's parameters and buffers (call once before training)."),
      typedRow<cmdSyncGradients>(
          "distributed_sync_gradients",
          "All-reduce a module's gradients across ranks in flat buckets (after backward, before the step); no-op in one process."),
      typedRow<cmdShardIndices>("distributed_shard_indices",
                                "This rank's share of 0..n-1: disjoint across ranks, together covering all."),
  };
  for (auto* more : {&ddpCommands, &zeroCommands})
    for (auto& row : more()) rows.push_back(std::move(row));
  return rows;
}

}  // namespace tcltorch
