// Data-parallel training on top of the collective interface: every rank holds
// the whole model, sees its shard of each batch, and all-reduces gradients.
// Only communicator(st, "") is used, so one process (the LocalCommunicator)
// runs the same script unchanged.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/ddp.h"
#include "tcltorch/nn.h"

namespace tcltorch {

// Tensors packed into flat buffers of one dtype and device, at most `cap`
// bytes each (a tensor larger than cap gets a bucket of its own). One
// collective per bucket instead of one per parameter.
template <class Fn>
static void forEachBucket(const std::vector<at::Tensor>& ts, size_t cap, Fn&& fn) {
  std::vector<at::Tensor> bucket;
  size_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    fn(bucket);
    bucket.clear();
    bytes = 0;
  };
  for (auto& t : ts) {
    size_t n = t.numel() * t.element_size();
    if (!bucket.empty() && (bucket[0].scalar_type() != t.scalar_type() ||
                            bucket[0].device() != t.device() || bytes + n > cap))
      flush();
    bucket.push_back(t);
    bytes += n;
  }
  flush();
}

// A bucket flattened into one buffer (or the tensor itself when it is alone
// and contiguous), its collective in flight, and the copy back.
namespace {
struct Flat {
  std::vector<at::Tensor> parts;
  at::Tensor buf;
  WorkPtr work;
  explicit Flat(const std::vector<at::Tensor>& b) : parts(b) {
    if (b.size() == 1 && b[0].is_contiguous()) {
      buf = b[0];
      return;
    }
    std::vector<at::Tensor> flats;
    flats.reserve(b.size());
    for (auto& t : b) flats.push_back(t.reshape({-1}));
    buf = at::cat(flats);
  }
  void copyBack() {
    if (parts.size() == 1 && buf.is_same(parts[0])) return;
    int64_t off = 0;
    for (auto& t : parts) {
      t.copy_(buf.narrow(0, off, t.numel()).view_as(t));
      off += t.numel();
    }
  }
};
}  // namespace

// Starts one collective per bucket, all before waiting on any, so the
// backend works on several buckets at once; then waits and copies back.
template <class Start, class Finish>
static void bucketed(const std::vector<at::Tensor>& ts, size_t cap, Start&& start, Finish&& finish) {
  std::vector<Flat> flats;
  forEachBucket(ts, cap, [&](const std::vector<at::Tensor>& b) {
    flats.emplace_back(b);
    flats.back().work = start(flats.back().buf);
  });
  for (auto& f : flats) {
    f.work->wait();
    finish(f.buf);
    f.copyBack();
  }
}

void broadcastModule(Communicator& comm, torch::nn::Module& m, int root, size_t cap) {
  if (comm.size() == 1) return;
  // Parameters and buffers (e.g. batch-norm running statistics).
  std::vector<at::Tensor> ts;
  for (auto& p : m.parameters()) ts.push_back(p.detach());
  for (auto& b : m.buffers()) ts.push_back(b.detach());
  at::NoGradGuard ng;
  bucketed(ts, cap, [&](const at::Tensor& flat) { return comm.broadcast(flat, root); },
           [](const at::Tensor&) {});
}

static size_t bucketBytes(Call& c) {
  double mb = c.number("bucket_mb");
  if (!(mb > 0)) c.badValue("bucket_mb", "a positive number");
  return size_t(mb * 1024 * 1024);
}

static Tcl_Obj* cmdBroadcastParameters(Call& c) {
  auto m = c.object<ModuleObj>("module");
  CommPtr comm = communicator(c.st, "");
  int64_t root = c.integer("root");
  root = checkRank(*comm, root, "root");
  broadcastModule(*comm, *m->module, int(root), bucketBytes(c));
  return nullptr;
}

static Tcl_Obj* cmdSyncGradients(Call& c) {
  auto m = c.object<ModuleObj>("module");
  bool mean = c.choice("op") == 0;
  size_t cap = bucketBytes(c);
  CommPtr comm = communicator(c.st, "");
  if (comm->size() == 1) return nullptr;
  // Every rank must build the same buckets: a parameter without a gradient
  // on this rank (unused in its forward) contributes zeros.
  std::vector<at::Tensor> grads;
  at::NoGradGuard ng;
  for (auto& p : m->module->parameters()) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  double scale = 1.0 / comm->size();
  // Mean = sum then divide: one all_reduce per bucket, whatever the backend.
  bucketed(grads, cap, [&](const at::Tensor& flat) { return comm->allReduce(flat, ReduceOp::Sum); },
           [&](const at::Tensor& flat) {
             if (mean) flat.mul_(scale);
           });
  return nullptr;
}

static Tcl_Obj* cmdShardIndices(Call& c) {
  int64_t n = c.integer("n");
  if (n < 0) c.badValue("n", "a non-negative integer");
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
static const Param kBucket{"bucket_mb", Type::Double, "25", "bucket size in MiB (one collective per bucket)"};

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
       {{"n", Type::Int, nullptr, "number of samples"},
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
