// Data parallel with gradient synchronisation overlapped with backward (as
// PyTorch's DistributedDataParallel): a post-hook on every parameter's
// gradient accumulator copies the fresh gradient into its bucket; a bucket
// whose parameters are all ready starts its all_reduce at once (asynchronous
// c10d work on the backend's threads) while autograd goes on with the layers
// before it. A callback queued on the autograd engine runs when backward
// ends: it marks the parameters that got no gradient ready (their current
// gradient, or zeros), starts the remaining buckets, waits for all of them and
// copies the averages back into .grad. So when tensor_backward returns, the
// gradients are averaged, exactly as after backward + distributed_sync_gradients.
//
// Buckets hold parameters in reverse registration order (roughly the order
// backward produces them) and are started strictly in index order, so every
// rank issues the same collectives in the same order whatever its own
// gradients' order. Each bucket carries one extra element per parameter:
// 1 when that rank had a gradient for it; a parameter no rank had a gradient
// for keeps an undefined .grad (the optimizer skips it, as in one process).
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/ddp.h"
#include "tcltorch/dp.h"
#include "tcltorch/nn.h"
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <algorithm>
#include <chrono>

namespace tcltorch {

namespace {

struct Bucket {
  std::vector<size_t> vars;      // parameter indices
  std::vector<int64_t> offsets;  // element offset of each in buf
  int64_t numel = 0;             // gradient elements; vars.size() flags follow
  at::Tensor buf;
  size_t pending = 0;  // parameters not ready yet in this backward
  WorkPtr work;
};

class Reducer : public std::enable_shared_from_this<Reducer> {
 public:
  Reducer(CommPtr comm, std::vector<at::Tensor> params) : comm_(std::move(comm)), params_(std::move(params)) {}

  ~Reducer() {
    for (size_t i = 0; i < accs_.size(); ++i)
      if (accs_[i]) accs_[i]->del_post_hook(keys_[i]);
  }

  // Buckets of at most `cap` bytes (the first at most `first`) in reverse
  // parameter order, then the hooks.
  void build(size_t cap, size_t first) {
    cap_ = cap;
    first_ = first;
    std::vector<size_t> order;
    for (size_t k = params_.size(); k-- > 0;) order.push_back(k);
    assign(order);
    accs_.resize(params_.size());
    keys_.resize(params_.size());
    std::weak_ptr<Reducer> self = weak_from_this();
    for (size_t i = 0; i < params_.size(); ++i) {
      // Kept alive here: the tensor holds its accumulator only weakly, and a
      // new one (without our hook) would be made for the next backward.
      accs_[i] = torch::autograd::impl::grad_accumulator(params_[i]);
      keys_[i] = accs_[i]->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [self, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            if (auto r = self.lock()) r->onGradient(i);
            return outputs;
          }));
    }
  }

  // Buckets over the parameters in `order`; cut[i] starts a new bucket at order[i].
  void assign(const std::vector<size_t>& order, const std::vector<char>& cut = {}) {
    buckets_.clear();
    where_.assign(params_.size(), {0, 0});
    size_t bytes = 0, cap = cap_, first = first_;
    for (size_t i = 0; i < order.size(); ++i) {
      size_t k = order[i];
      const at::Tensor& p = params_[k];
      size_t n = size_t(p.numel()) * p.element_size();
      size_t limit = buckets_.size() <= 1 ? std::min(first, cap) : cap;
      if (buckets_.empty() || (!buckets_.back().vars.empty() &&
                               ((i < cut.size() && cut[i] && bytes >= kMinCutBytes) || bytes + n > limit || params_[buckets_.back().vars[0]].scalar_type() != p.scalar_type() ||
                                params_[buckets_.back().vars[0]].device() != p.device()))) {
        buckets_.emplace_back();
        bytes = 0;
      }
      Bucket& b = buckets_.back();
      where_[k] = {buckets_.size() - 1, b.vars.size()};
      b.vars.push_back(k);
      b.offsets.push_back(b.numel);
      b.numel += p.numel();
      bytes += n;
    }
    for (auto& b : buckets_)
      b.buf = at::zeros({b.numel + int64_t(b.vars.size())}, params_[b.vars[0]].options().requires_grad(false));
    ready_.assign(params_.size(), 0);
  }

  // After the second synchronised backward (the first warm one), as
  // PyTorch's DDP does after the first: buckets follow
  // the order in which gradients arrived, parameters without a gradient last.
  // Beyond DDP: a bucket also ends where backward computed for a while before
  // the next gradient came (a layer boundary with real work after it), so
  // its all_reduce runs during that work instead of waiting for a size limit.
  // Rank 0's order and cuts are broadcast, so that all ranks agree.
  void rebuild() {
    size_t np = params_.size();
    std::vector<int64_t> plan(arrival_.begin(), arrival_.end());
    for (size_t k = np; k-- > 0;)
      if (std::find(arrival_.begin(), arrival_.end(), k) == arrival_.end()) plan.push_back(int64_t(k));
    plan.resize(2 * np, 0);
    for (size_t i = 1; i < arrivalAt_.size(); ++i)
      plan[np + i] = arrivalAt_[i] - arrivalAt_[i - 1] > kCut ? 1 : 0;
    at::Tensor t = at::tensor(plan, at::kLong);
    comm_->broadcast(t, 0)->wait();
    const int64_t* v = t.data_ptr<int64_t>();
    std::vector<size_t> order(v, v + np);
    std::vector<char> cut(v + np, v + 2 * np);
    assign(order, cut);
    arrival_.clear();
    arrivalAt_.clear();
  }

  bool noSync = false;
  int64_t syncs = 0;          // synchronised backward passes
  int64_t earlyLaunches = 0;  // buckets of the last sync started during backward

  const std::vector<Bucket>& buckets() const { return buckets_; }
  const std::vector<at::Tensor>& params() const { return params_; }

  // After a backward that failed half way (its final callback was dropped):
  // waits for what it had started, so that its buffers are free again.
  void drain() {
    stale_ = false;
    active_ = false;
    for (auto& b : buckets_)
      if (b.work) {
        auto w = std::move(b.work);
        w->wait();
      }
  }

 private:
  void onGradient(size_t i) {
    if (noSync || comm_->size() == 1) return;
    if (stale_) drain();
    if (!active_) begin();
    if (ready_[i])
      fail("distributed_data_parallel: a parameter got two gradients in one backward pass (reentrant backward?)",
           {"DIST", "DDP", "READY"});
    at::NoGradGuard ng;
    markReady(i);
  }

  // Owned by the callback queued on the engine: destroyed without having run
  // when the backward pass fails, which marks the reducer stale.
  struct Pass {
    std::weak_ptr<Reducer> r;
    bool ran = false;
    ~Pass() {
      if (auto x = r.lock(); x && !ran) x->stale_ = true;
    }
  };

  void begin() {
    active_ = true;
    std::fill(ready_.begin(), ready_.end(), 0);
    for (auto& b : buckets_) {
      b.pending = b.vars.size();
      b.work.reset();
    }
    next_ = 0;
    earlyLaunches = 0;
    auto pass = std::make_shared<Pass>();
    pass->r = weak_from_this();
    torch::autograd::Engine::get_default_engine().queue_callback([pass] {
      pass->ran = true;
      if (auto r = pass->r.lock()) r->finalize();
    });
  }

  void markReady(size_t i) {
    auto [bi, slot] = where_[i];
    Bucket& b = buckets_[bi];
    const at::Tensor& g = params_[i].grad();
    at::Tensor dst = b.buf.narrow(0, b.offsets[slot], params_[i].numel());
    if (g.defined())
      dst.copy_(g.reshape({-1}));
    else
      dst.zero_();
    b.buf.narrow(0, b.numel + int64_t(slot), 1).fill_(g.defined() ? 1 : 0);
    ready_[i] = 1;
    if (!finalizing_ && !rebuilt_ && syncs == 1) {  // the second pass: warm
      arrival_.push_back(i);
      arrivalAt_.push_back(std::chrono::steady_clock::now());
    }
    if (--b.pending == 0) launchReady();
  }

  // Strictly in index order: every rank issues the same sequence.
  void launchReady() {
    while (next_ < buckets_.size() && buckets_[next_].pending == 0) {
      Bucket& b = buckets_[next_++];
      b.work = comm_->allReduce(b.buf, ReduceOp::Sum);
      if (!finalizing_) ++earlyLaunches;
    }
  }

  void finalize() {
    if (!active_) return;
    at::NoGradGuard ng;
    struct Done {
      Reducer* r;
      ~Done() { r->active_ = false, r->finalizing_ = false; }
    } done{this};
    finalizing_ = true;
    // Parameters without a gradient in this pass (unused here, or used only
    // in earlier micro-steps under no_sync): their current gradient or zeros.
    for (auto& b : buckets_)
      for (size_t v : b.vars)
        if (!ready_[v]) markReady(v);
    double scale = 1.0 / comm_->size();
    for (auto& b : buckets_) {
      auto w = std::move(b.work);
      w->wait();
      at::Tensor flags = b.buf.narrow(0, b.numel, int64_t(b.vars.size())).to(at::kCPU, at::kDouble);
      const double* f = flags.data_ptr<double>();
      for (size_t s = 0; s < b.vars.size(); ++s) {
        if (!(f[s] > 0)) continue;  // no rank had a gradient: leave .grad as it is
        at::Tensor& p = params_[b.vars[s]];
        at::Tensor sum = b.buf.narrow(0, b.offsets[s], p.numel()).view(p.sizes());
        if (p.grad().defined() && p.grad().is_contiguous())
          at::mul_out(p.mutable_grad(), sum, scale);  // the average, in one pass
        else
          p.mutable_grad() = sum.mul(scale);
      }
    }
    ++syncs;
    if (!rebuilt_ && syncs == 2) {
      rebuilt_ = true;
      rebuild();
    }
  }

  CommPtr comm_;
  std::vector<at::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> where_;  // parameter -> (bucket, slot)
  std::vector<char> ready_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accs_;
  std::vector<uintptr_t> keys_;
  // Gradient order and arrival times of the second synchronised pass.
  std::vector<size_t> arrival_;
  std::vector<std::chrono::steady_clock::time_point> arrivalAt_;
  // A gap this long between two gradients ends a bucket (worth more than the
  // latency of one more collective).
  static constexpr std::chrono::microseconds kCut{150};
  // ... unless the bucket so far is this small (its all_reduce would be all
  // latency: it rides along with the next one instead).
  static constexpr size_t kMinCutBytes = 32 * 1024;
  size_t next_ = 0, cap_ = 0, first_ = 0;
  bool active_ = false, finalizing_ = false, rebuilt_ = false, stale_ = false;
};

// The handle: a module handle (same torch::nn module, same forward) that also
// owns the reducer, so every module command accepts it.
struct DdpObj : ModuleObj {
  std::shared_ptr<Reducer> reducer;
};

constexpr const char* kDdpType = "distributed_data_parallel";

std::shared_ptr<DdpObj> ddpArg(Call& c, const Arg<Type::Module>& module) {
  auto m = c.object<ModuleObj>(module);
  if (m->type != kDdpType)
    fail("\"" + c.str(module) + "\" is a " + m->type + " module, not a distributed_data_parallel handle",
         {"ARGS", "TYPE", "module"});
  return std::static_pointer_cast<DdpObj>(m);
}

struct DdpArgs : Args {
  Arg<Type::Module> module{this, {"module", Type::Module, nullptr, "module handle"}};
  Arg<Type::Double> bucket_mb{this, Param{"bucket_mb", Type::Double, "25", "bucket size in MiB (one all_reduce per bucket)"}.positive()};
  Arg<Type::Double> first_bucket_mb{
      this, Param{"first_bucket_mb", Type::Double, "1", "size of the first bucket (the last layers' gradients) in MiB"}.positive()};
  Arg<Type::String> group{this, {"group", Type::String, "", "process group (default: the world)"}};
  Arg<Type::Bool> broadcast{this, {"broadcast", Type::Bool, "1", "give every rank rank 0's parameters and buffers first"}};
};

Tcl_Obj* cmdDdp(Call& c, const DdpArgs& a) {
  auto m = c.object<ModuleObj>(a.module);
  double mb = c.number(a.bucket_mb), first = c.number(a.first_bucket_mb);
  CommPtr comm = communicator(c.st, c.str(a.group));
  if (c.boolean(a.broadcast)) broadcastModule(*comm, *m->module, 0, size_t(mb * 1024 * 1024));
  std::vector<at::Tensor> ps;
  for (auto& p : m->module->parameters())
    if (p.requires_grad()) ps.push_back(p);
  auto d = std::make_shared<DdpObj>();
  d->type = kDdpType;
  d->module = m->module;
  d->forward = m->forward;
  d->reducer = std::make_shared<Reducer>(comm, std::move(ps));
  d->reducer->build(size_t(mb * 1024 * 1024), size_t(first * 1024 * 1024));
  return c.result(Kind::Module, d);
}

const Param kDdpModule{"module", Type::Module, nullptr, "distributed_data_parallel handle"};

struct NoSyncArgs : Args {
  Arg<Type::Module> module{this, kDdpModule};
  Arg<Type::Script> script{this, {"script", Type::Script, nullptr, "the script to run"}};
};

Tcl_Obj* cmdNoSync(Call& c, const NoSyncArgs& a) {
  auto d = ddpArg(c, a.module);
  struct Restore {
    Reducer& r;
    bool was;
    ~Restore() { r.noSync = was; }
  } restore{*d->reducer, d->reducer->noSync};
  d->reducer->noSync = true;
  int code = Tcl_EvalObjEx(c.interp, c.obj(a.script), 0);
  if (code != TCL_OK) throw ScriptCode{code};
  return Tcl_GetObjResult(c.interp);
}

struct DdpInfoArgs : Args {
  Arg<Type::Module> module{this, kDdpModule};
};

Tcl_Obj* cmdDdpInfo(Call& c, const DdpInfoArgs& a) {
  auto d = ddpArg(c, a.module);
  const Reducer& r = *d->reducer;
  Tcl_Obj* sizes = Tcl_NewListObj(0, nullptr);
  Tcl_Obj* bytes = Tcl_NewListObj(0, nullptr);
  for (auto& b : r.buckets()) {
    Tcl_ListObjAppendElement(nullptr, sizes, Tcl_NewWideIntObj(Tcl_WideInt(b.vars.size())));
    Tcl_ListObjAppendElement(nullptr, bytes, Tcl_NewWideIntObj(Tcl_WideInt(b.numel * b.buf.element_size())));
  }
  Tcl_Obj* res = Tcl_NewDictObj();
  auto put = [&](const char* k, Tcl_Obj* v) { Tcl_DictObjPut(nullptr, res, Tcl_NewStringObj(k, -1), v); };
  put("buckets", sizes);
  put("bucket_bytes", bytes);
  put("syncs", Tcl_NewWideIntObj(Tcl_WideInt(r.syncs)));
  put("early_launches", Tcl_NewWideIntObj(Tcl_WideInt(r.earlyLaunches)));
  put("no_sync", Tcl_NewBooleanObj(r.noSync));
  return res;
}

}  // namespace

std::vector<Command> ddpCommands() {
  return {
      typedRow<cmdDdp>(
          "distributed_data_parallel",
          "Wrap a module for data-parallel training: gradients are averaged across ranks by bucketed all_reduce "
          "started during backward (as PyTorch's DDP). Returns a module handle; forward through it or the model."),
      typedRow<cmdNoSync>("no_sync",
                          "Run a script whose backward passes only accumulate gradients locally; the next backward outside "
                          "synchronises the accumulated gradients (gradient accumulation)."),
      typedRow<cmdDdpInfo>("distributed_data_parallel_info",
                           "Dict: buckets (parameters per bucket, in launch order), bucket_bytes, syncs (synchronised backward "
                           "passes), early_launches (buckets of the last sync started during backward), no_sync."),
  };
}

}  // namespace tcltorch
