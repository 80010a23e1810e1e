// Which parameters are pieces of a larger whole, and the whole state of a
// sharded module: gathered state dicts and the global gradient norm.
#include "tcltorch/module.h"
#include "tcltorch/parallel.h"
#include <torch/nn/utils/clip_grad.h>
#include <unordered_map>

namespace tcltorch {

int64_t ParamSplit::offset() const { return splitOffset(sizes, rank); }

namespace {
struct Splits {
  c10::weak_intrusive_ptr<c10::TensorImpl> impl;  // a freed parameter's address may come back
  std::vector<ParamSplit> layers;
};
struct ParallelState {
  std::unordered_map<const c10::TensorImpl*, Splits> params;
};
ParallelState& pstate(State& st) {
  auto& slot = st.ext["parallel"];
  if (!slot) slot = std::make_shared<ParallelState>();
  return *std::static_pointer_cast<ParallelState>(slot);
}
}  // namespace

std::vector<ParamSplit>* paramSplits(State& st, const at::Tensor& p) {
  auto& m = pstate(st).params;
  auto it = m.find(p.unsafeGetTensorImpl());
  if (it == m.end()) return nullptr;
  if (it->second.impl.expired()) {
    m.erase(it);
    return nullptr;
  }
  return &it->second.layers;
}

void addParamSplit(State& st, const at::Tensor& p, ParamSplit s) {
  auto& m = pstate(st).params;
  auto it = m.find(p.unsafeGetTensorImpl());
  if (it != m.end() && it->second.impl.expired()) {
    m.erase(it);
    it = m.end();
  }
  if (it == m.end())
    it = m.emplace(p.unsafeGetTensorImpl(), Splits{c10::weak_intrusive_ptr<c10::TensorImpl>(p.getIntrusivePtr()), {}}).first;
  it->second.layers.push_back(std::move(s));
}

// The whole tensor of which t is this rank's piece: joined along each split,
// innermost first.
static at::Tensor whole(State& st, const at::Tensor& t) {
  auto* layers = paramSplits(st, t);
  at::Tensor w = t.detach();
  if (!layers) return w.clone();
  for (size_t k = layers->size(); k-- > 0;) {
    const ParamSplit& s = (*layers)[k];
    w = joinAlong(*communicator(st, s.group), w.contiguous(), s.dim, s.sizes);
  }
  return w;
}

std::vector<std::pair<std::string, at::Tensor>> fullStateDict(State& st, ModuleObj& m) {
  at::NoGradGuard ng;
  std::vector<std::pair<std::string, at::Tensor>> r;
  for (auto& kv : m.module->named_parameters()) r.emplace_back(kv.key(), whole(st, kv.value()));
  for (auto& kv : m.module->named_buffers()) r.emplace_back(kv.key(), whole(st, kv.value()));
  return r;
}

double globalGradNorm(State& st, const std::vector<at::Tensor>& params, double p) {
  at::NoGradGuard ng;
  // Parameters grouped by the groups their pieces are spread over, in the
  // order they first appear (the same on every rank): each group's sum of
  // |g|^p is summed over those groups' ranks, a replicated one counted once.
  std::vector<std::vector<std::string>> keys;
  std::vector<double> sums;
  bool inf = std::isinf(p);
  for (auto& t : params) {
    std::vector<std::string> key;  // every parameter, with or without a gradient: the same keys everywhere
    if (auto* layers = paramSplits(st, t))
      for (auto& s : *layers) key.push_back(s.group);
    double v = !t.grad().defined() ? 0 : inf ? t.grad().abs().max().item<double>()
                                             : std::pow(t.grad().norm(p).item<double>(), p);
    size_t k = std::find(keys.begin(), keys.end(), key) - keys.begin();
    if (k == keys.size()) {
      keys.push_back(key);
      sums.push_back(0);
    }
    sums[k] = inf ? std::max(sums[k], v) : sums[k] + v;
  }
  double total = 0;
  for (size_t k = 0; k < keys.size(); ++k) {
    at::Tensor s = at::full({1}, sums[k], at::kDouble);
    for (auto& g : keys[k]) {
      auto w = communicator(st, g)->allReduce(s, inf ? ReduceOp::Max : ReduceOp::Sum);
      w->wait();
    }
    total = inf ? std::max(total, s.item<double>()) : total + s.item<double>();
  }
  return inf ? total : std::pow(total, 1.0 / p);
}

double clipGradNorm(State& st, const std::vector<at::Tensor>& params, double maxNorm, double p) {
  bool split = false;
  for (auto& t : params) split = split || paramSplits(st, t);
  if (!split) return torch::nn::utils::clip_grad_norm_(params, maxNorm, p);
  double total = globalGradNorm(st, params, p);
  double coef = maxNorm / (total + 1e-6);  // libtorch's own epsilon
  if (coef < 1) {
    at::NoGradGuard ng;
    for (auto& t : params)
      if (t.grad().defined()) t.grad().mul_(coef);
  }
  return total;
}

}  // namespace tcltorch
