// Bucketed collectives over a module's tensors (include/tcltorch/dp.h).
#include "tcltorch/dp.h"
#include <torch/nn/module.h>

namespace tcltorch {

// Calls fn on each bucket of ts: consecutive tensors of one dtype and device,
// at most `cap` bytes together.
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

void syncGradients(Communicator& comm, torch::nn::Module& m, bool mean, size_t cap) {
  if (comm.size() == 1) return;
  std::vector<at::Tensor> grads;
  at::NoGradGuard ng;
  for (auto& p : m.parameters()) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  double scale = 1.0 / comm.size();
  // Mean = sum then divide: one all_reduce per bucket, whatever the backend.
  bucketed(grads, cap, [&](const at::Tensor& flat) { return comm.allReduce(flat, ReduceOp::Sum); },
           [&](const at::Tensor& flat) {
             if (mean) flat.mul_(scale);
           });
}

}  // namespace tcltorch
