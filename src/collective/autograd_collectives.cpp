// Collectives with a backward: the building blocks of tensor parallelism
// (Megatron's f and g, DTensor's Shard <-> Replicate redistributions). Each
// runs its collective without autograd and gives the result a grad_fn whose
// backward runs the adjoint collective. CPU backward runs on the thread that
// called backward, in the same order on every rank (the graphs are the same),
// so the collectives of backward line up across ranks as those of forward do.
#include "tcltorch/autograd_collectives.h"
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <numeric>

namespace tcltorch {

namespace {
struct LambdaBackward : torch::autograd::Node {
  LambdaBackward(const char* n, BackwardFn f, torch::autograd::edge_list&& next)
      : Node(std::move(next)), name_(n), fn_(std::move(f)) {}
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    for (size_t i = 0; i < grads.size(); ++i)  // an output nobody used: zero gradient
      if (!grads[i].defined()) grads[i] = input_metadata(i).zeros_like();
    return fn_(std::move(grads));
  }
  std::string name() const override { return name_; }

 private:
  const char* name_;
  BackwardFn fn_;
};
}  // namespace

void attachBackward(const char* name, std::vector<at::Tensor>& outputs, const std::vector<at::Tensor>& inputs,
                    BackwardFn backward) {
  bool any = false;
  for (auto& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any || !at::GradMode::is_enabled()) return;
  torch::autograd::edge_list next;
  for (auto& t : inputs) next.push_back(t.defined() ? torch::autograd::impl::gradient_edge(t) : torch::autograd::Edge());
  auto node = std::shared_ptr<LambdaBackward>(new LambdaBackward(name, std::move(backward), std::move(next)),
                                              torch::autograd::deleteNode);
  for (auto& o : outputs) torch::autograd::set_history(o, node);
}

static at::Tensor waited(const WorkPtr& w) {
  w->wait();
  return w->result();
}

at::Tensor joinAlong(Communicator& c, const at::Tensor& local, int64_t dim, const std::vector<int64_t>& sizes) {
  if (c.size() == 1) return local.clone();
  int64_t big = *std::max_element(sizes.begin(), sizes.end());
  at::Tensor piece = local;
  if (local.size(dim) < big) {  // Gloo moves equal pieces: pad, then trim each
    std::vector<int64_t> pad(size_t(local.dim()) * 2, 0);
    pad[size_t(local.dim() - 1 - dim) * 2 + 1] = big - local.size(dim);
    piece = at::constant_pad_nd(local, pad, 0);
  }
  at::Tensor all = waited(c.allGather(piece));  // [N, ...]
  std::vector<at::Tensor> parts;
  for (size_t r = 0; r < sizes.size(); ++r) parts.push_back(all[int64_t(r)].narrow(dim, 0, sizes[r]));
  return at::cat(parts, dim);
}

std::vector<int64_t> evenSizes(int64_t n, int world) {
  std::vector<int64_t> s(size_t(world), n / world);
  for (int64_t i = 0; i < n % world; ++i) ++s[size_t(i)];
  return s;
}

std::vector<int64_t> splitOffsets(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> off(sizes.size(), 0);
  for (size_t i = 1; i < sizes.size(); ++i) off[i] = off[i - 1] + sizes[i - 1];
  return off;
}

int64_t splitOffset(const std::vector<int64_t>& sizes, int rank) {
  return std::accumulate(sizes.begin(), sizes.begin() + rank, int64_t(0));
}

at::Tensor copyToGroup(const CommPtr& c, const at::Tensor& x) {
  if (!x.requires_grad() || c->size() == 1) return x;
  std::vector<at::Tensor> out{x.detach()};
  attachBackward("CopyToGroupBackward", out, {x}, [c](std::vector<at::Tensor>&& g) {
    at::NoGradGuard ng;
    return std::vector<at::Tensor>{waited(c->allReduce(g[0].clone(), ReduceOp::Sum))};
  });
  return out[0];
}

at::Tensor reduceFromGroup(const CommPtr& c, const at::Tensor& x) {
  at::Tensor y;
  {
    at::NoGradGuard ng;
    y = c->size() == 1 ? x.detach().clone() : waited(c->allReduce(x.detach().clone(), ReduceOp::Sum));
  }
  std::vector<at::Tensor> out{y};
  attachBackward("ReduceFromGroupBackward", out, {x}, [](std::vector<at::Tensor>&& g) { return std::move(g); });
  return out[0];
}

at::Tensor gatherFromGroup(const CommPtr& c, const at::Tensor& x, int64_t dim, const std::vector<int64_t>& sizes) {
  dim = c10::maybe_wrap_dim(dim, x.dim());
  at::Tensor y;
  {
    at::NoGradGuard ng;
    y = joinAlong(*c, x.detach(), dim, sizes);
  }
  std::vector<at::Tensor> out{y};
  int64_t off = splitOffset(sizes, c->rank()), n = sizes[size_t(c->rank())];
  attachBackward("GatherFromGroupBackward", out, {x}, [dim, off, n](std::vector<at::Tensor>&& g) {
    return std::vector<at::Tensor>{g[0].narrow(dim, off, n).contiguous()};
  });
  return out[0];
}

at::Tensor reduceScatterToGroup(const CommPtr& c, const at::Tensor& x, int64_t dim,
                                const std::vector<int64_t>& sizes) {
  dim = c10::maybe_wrap_dim(dim, x.dim());
  int64_t off = splitOffset(sizes, c->rank()), n = sizes[size_t(c->rank())];
  at::Tensor y;
  {
    at::NoGradGuard ng;
    // The whole sum, then this rank's slice: uneven slices cannot use the
    // equal chunks of reduce_scatter, and the bytes moved are the same order.
    y = c->size() == 1 ? x.detach().clone() : waited(c->allReduce(x.detach().clone(), ReduceOp::Sum));
    y = y.narrow(dim, off, n).contiguous();
  }
  std::vector<at::Tensor> out{y};
  attachBackward("ReduceScatterToGroupBackward", out, {x}, [c, dim, sizes](std::vector<at::Tensor>&& g) {
    at::NoGradGuard ng;
    return std::vector<at::Tensor>{joinAlong(*c, g[0].contiguous(), dim, sizes)};
  });
  return out[0];
}

}  // namespace tcltorch
