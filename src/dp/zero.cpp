// Sharded optimizer state (ZeRO stages 1 and 2, as PyTorch's
// ZeroRedundancyOptimizer and FSDP's SHARD_GRAD_OP). All parameters, in
// order, form one flat vector of T elements, padded to N * S (S = ceil(T/N));
// rank r owns elements [r*S, (r+1)*S). Each rank keeps an optimizer of the
// wrapped kind over one flat tensor of S elements (its slice), so optimizer
// state is S elements per state tensor instead of T. A step:
//   stage 1: the gradients are already averaged (distributed_data_parallel or
//            distributed_sync_gradients); take this rank's slice of them;
//   stage 2: reduce-scatter the local gradients (Communicator::reduceScatter,
//            composed from alltoall on Gloo) and divide by N: only the slice
//            is ever averaged;
// then step the slice and all-gather the updated slices into every parameter.
// Only element-wise optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) give the
// same result on a flat slice as on the whole parameters.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/ddp.h"
#include "tcltorch/nn.h"
#include <torch/optim.h>
#include <torch/serialize.h>
#include <sstream>

namespace tcltorch {

namespace optim = torch::optim;

namespace {

// A new optimizer of o's kind and options (of its first group) over `ps`.
std::unique_ptr<optim::Optimizer> makeLike(const optim::Optimizer& o, const std::vector<at::Tensor>& ps) {
  const optim::OptimizerOptions& g = o.param_groups().at(0).options();
  if (auto* x = dynamic_cast<const optim::SGDOptions*>(&g)) return std::make_unique<optim::SGD>(ps, *x);
  if (auto* x = dynamic_cast<const optim::AdamOptions*>(&g)) return std::make_unique<optim::Adam>(ps, *x);
  if (auto* x = dynamic_cast<const optim::AdamWOptions*>(&g)) return std::make_unique<optim::AdamW>(ps, *x);
  if (auto* x = dynamic_cast<const optim::RMSpropOptions*>(&g)) return std::make_unique<optim::RMSprop>(ps, *x);
  if (auto* x = dynamic_cast<const optim::AdagradOptions*>(&g)) return std::make_unique<optim::Adagrad>(ps, *x);
  return nullptr;
}

class ShardedOptimizer : public optim::Optimizer {
 public:
  // `proto` gives the kind and options; its own state is not used.
  ShardedOptimizer(const optim::Optimizer& proto, std::vector<at::Tensor> params, CommPtr comm, int stage)
      : optim::Optimizer({optim::OptimizerParamGroup(params, proto.param_groups().at(0).options().clone())},
                         proto.param_groups().at(0).options().clone()),
        params_(std::move(params)), comm_(std::move(comm)), stage_(stage) {
    int64_t n = comm_->size();
    for (auto& p : params_) total_ += p.numel();
    per_ = (total_ + n - 1) / n;
    lo_ = std::min(total_, per_ * comm_->rank());
    hi_ = std::min(total_, lo_ + per_);
    shard_ = at::zeros({per_}, params_.at(0).options().requires_grad(false)).requires_grad_(true);
    shard_.mutable_grad() = at::zeros_like(shard_.detach());
    inner_ = makeLike(proto, {shard_});
  }

  at::Tensor step(LossClosure closure = nullptr) override {
    at::NoGradGuard ng;
    at::Tensor loss;
    if (closure) {
      at::AutoGradMode on(true);
      loss = closure();
    }
    // lr and the other options as set on this handle (optimizer_set_lr, schedulers).
    inner_->param_groups().at(0).set_options(param_groups().at(0).options().clone());
    at::Tensor g = shard_.mutable_grad();
    at::Tensor s = shard_.detach();
    if (stage_ == 2) {
      at::Tensor flat = at::zeros({per_ * comm_->size()}, s.options());
      forSlice(0, total_, [&](const at::Tensor& p, int64_t off, int64_t pos, int64_t len) {
        if (p.grad().defined()) flat.narrow(0, pos, len).copy_(p.grad().reshape({-1}).narrow(0, off, len));
      });
      auto w = comm_->reduceScatter(flat, ReduceOp::Sum);
      w->wait();
      g.copy_(w->result()).mul_(1.0 / comm_->size());
    } else {
      g.zero_();
      forSlice(lo_, hi_, [&](const at::Tensor& p, int64_t off, int64_t pos, int64_t len) {
        if (p.grad().defined()) g.narrow(0, pos - lo_, len).copy_(p.grad().reshape({-1}).narrow(0, off, len));
      });
    }
    // The slice of the parameters as they are now (a load_state_dict or a
    // broadcast since the last step is seen).
    forSlice(lo_, hi_, [&](const at::Tensor& p, int64_t off, int64_t pos, int64_t len) {
      s.narrow(0, pos - lo_, len).copy_(p.detach().reshape({-1}).narrow(0, off, len));
    });
    inner_->step();
    at::Tensor all = s;
    if (comm_->size() > 1) {
      auto w = comm_->allGather(s);
      w->wait();
      all = w->result().reshape({-1});
    }
    forSlice(0, total_, [&](const at::Tensor& p, int64_t off, int64_t pos, int64_t len) {
      at::Tensor d = p.detach();
      if (d.is_contiguous())
        d.view({-1}).narrow(0, off, len).copy_(all.narrow(0, pos, len));
      else
        d.copy_(all.narrow(0, pos, len).view(d.sizes()));
    });
    return loss;
  }

  // Each rank its own slice: the inner optimizer's state plus the layout it
  // belongs to (checked on load).
  void save(torch::serialize::OutputArchive& a) const override {
    torch::serialize::OutputArchive inner;
    inner_->save(inner);
    a.write("shard", inner);
    a.write("rank", c10::IValue(int64_t(comm_->rank())));
    a.write("world_size", c10::IValue(int64_t(comm_->size())));
    a.write("total", c10::IValue(total_));
  }

  void load(torch::serialize::InputArchive& a) override {
    c10::IValue rank, world, total;
    a.read("rank", rank);
    a.read("world_size", world);
    a.read("total", total);
    if (world.toInt() != comm_->size() || rank.toInt() != comm_->rank() || total.toInt() != total_)
      throw std::runtime_error("it holds the slice of rank " + std::to_string(rank.toInt()) + " of " +
                               std::to_string(world.toInt()) + " over " + std::to_string(total.toInt()) +
                               " elements; this is rank " + std::to_string(comm_->rank()) + " of " +
                               std::to_string(comm_->size()) + " over " + std::to_string(total_));
    torch::serialize::InputArchive inner;
    a.read("shard", inner);
    inner_->load(inner);  // state only: options stay this handle's, as libtorch's load does
  }

  const optim::Optimizer& inner() const { return *inner_; }
  int stage() const { return stage_; }
  int64_t sliceBegin() const { return lo_; }
  int64_t sliceEnd() const { return hi_; }
  int64_t total() const { return total_; }

 private:
  // fn(parameter, offset in it, offset in the flat vector, length) for every
  // piece of a parameter inside [a, b) of the flat vector.
  template <class Fn>
  void forSlice(int64_t a, int64_t b, Fn&& fn) const {
    int64_t pos = 0;
    for (auto& p : params_) {
      int64_t n = p.numel(), s = std::max(a, pos), e = std::min(b, pos + n);
      if (s < e) fn(p, s - pos, s, e - s);
      pos += n;
    }
  }

  std::vector<at::Tensor> params_;
  CommPtr comm_;
  int stage_;
  int64_t total_ = 0, per_ = 0, lo_ = 0, hi_ = 0;
  at::Tensor shard_;
  std::unique_ptr<optim::Optimizer> inner_;
};

template <class S>
bool addStateBytes(const optim::OptimizerParamState& st, int64_t& bytes,
                   std::initializer_list<const at::Tensor& (S::*)() const> fields) {
  auto* s = dynamic_cast<const S*>(&st);
  if (!s) return false;
  for (auto f : fields) {
    const at::Tensor& t = (s->*f)();
    if (t.defined()) bytes += t.numel() * int64_t(t.element_size());
  }
  return true;
}

int64_t stateBytes(const optim::Optimizer& o) {
  if (auto* z = dynamic_cast<const ShardedOptimizer*>(&o)) return stateBytes(z->inner());
  int64_t bytes = 0;
  for (auto& kv : o.state()) {
    const optim::OptimizerParamState& st = *kv.second;
    if (addStateBytes<optim::SGDParamState>(st, bytes, {&optim::SGDParamState::momentum_buffer}) ||
        addStateBytes<optim::AdamParamState>(st, bytes, {&optim::AdamParamState::exp_avg, &optim::AdamParamState::exp_avg_sq,
                                                          &optim::AdamParamState::max_exp_avg_sq}) ||
        addStateBytes<optim::AdamWParamState>(st, bytes, {&optim::AdamWParamState::exp_avg, &optim::AdamWParamState::exp_avg_sq,
                                                           &optim::AdamWParamState::max_exp_avg_sq}) ||
        addStateBytes<optim::RMSpropParamState>(st, bytes, {&optim::RMSpropParamState::square_avg,
                                                             &optim::RMSpropParamState::momentum_buffer,
                                                             &optim::RMSpropParamState::grad_avg}) ||
        addStateBytes<optim::AdagradParamState>(st, bytes, {&optim::AdagradParamState::sum}))
      continue;
    // Another kind: the size of its serialised state.
    torch::serialize::OutputArchive a;
    st.serialize(a);
    std::ostringstream os;
    a.save_to(os);
    bytes += int64_t(os.str().size());
  }
  return bytes;
}

struct ZeroArgs : Args {
  Arg<Type::Optimizer> optimizer{
      this, {"optimizer", Type::Optimizer, nullptr, "optimizer handle giving kind and options (sgd, adam, adamw, rmsprop, adagrad)"}};
  Arg<Type::Int> stage{this, Param{"stage", Type::Int, "1", "1: shard optimizer state; 2: also shard (reduce-scatter) gradients"}
                                 .within(1, 2)
                                 .mustBe("1 or 2")};
  Arg<Type::String> group{this, {"group", Type::String, "", "process group (default: the world)"}};
};

Tcl_Obj* cmdZero(Call& c, const ZeroArgs& a) {
  auto o = c.object<OptimizerObj>(a.optimizer);
  int64_t stage = c.integer(a.stage);
  if (dynamic_cast<ShardedOptimizer*>(o->opt.get()))
    fail("the optimizer is already sharded", {"ARGS", "VALUE", "optimizer"});
  if (o->opt->param_groups().size() != 1)
    fail("zero_redundancy_optimizer needs an optimizer with one parameter group", {"ARGS", "VALUE", "optimizer"});
  std::vector<at::Tensor> ps = o->opt->param_groups()[0].params();
  if (ps.empty()) fail("the optimizer has no parameters", {"ARGS", "VALUE", "optimizer"});
  for (auto& p : ps)
    if (p.scalar_type() != ps[0].scalar_type() || p.device() != ps[0].device())
      fail("zero_redundancy_optimizer needs parameters of one dtype and device", {"ARGS", "VALUE", "optimizer"});
  if (!makeLike(*o->opt, {at::zeros({1}, ps[0].options())}))
    fail("cannot shard a " + o->type + " optimizer: only element-wise ones (sgd, adam, adamw, rmsprop, adagrad)",
         {"ARGS", "VALUE", "optimizer"});
  CommPtr comm = communicator(c.st, c.str(a.group));
  // The prototype keeps kind and options (it never steps): make() builds a
  // fresh wrapper for optimizer_load.
  std::shared_ptr<optim::Optimizer> proto = makeLike(*o->opt, ps);
  int st = int(stage);
  auto z = std::make_shared<OptimizerObj>();
  z->type = o->type;
  z->make = [proto, ps, comm, st] { return std::make_unique<ShardedOptimizer>(*proto, ps, comm, st); };
  z->opt = z->make();
  return c.result(Kind::Optimizer, z);
}

// optimizer_state_bytes, zero_redundancy_optimizer_info
struct OptimizerArgs : Args {
  Arg<Type::Optimizer> optimizer{this, {"optimizer", Type::Optimizer, nullptr, "optimizer handle"}};
};

Tcl_Obj* cmdStateBytes(Call& c, const OptimizerArgs& a) {
  return Tcl_NewWideIntObj(Tcl_WideInt(stateBytes(*c.object<OptimizerObj>(a.optimizer)->opt)));
}

Tcl_Obj* cmdZeroInfo(Call& c, const OptimizerArgs& a) {
  auto* z = dynamic_cast<ShardedOptimizer*>(c.object<OptimizerObj>(a.optimizer)->opt.get());
  if (!z) fail("not a zero_redundancy_optimizer handle", {"ARGS", "TYPE", "optimizer"});
  Tcl_Obj* res = Tcl_NewDictObj();
  auto put = [&](const char* k, int64_t v) {
    Tcl_DictObjPut(nullptr, res, Tcl_NewStringObj(k, -1), Tcl_NewWideIntObj(Tcl_WideInt(v)));
  };
  put("stage", z->stage());
  put("total", z->total());
  put("begin", z->sliceBegin());
  put("end", z->sliceEnd());
  put("state_bytes", stateBytes(*z));
  return res;
}

}  // namespace

std::vector<Command> zeroCommands() {
  auto optimizer = std::make_shared<const OptimizerArgs>();
  return {
      typedRow<cmdZero>(
          "zero_redundancy_optimizer",
          "Shard an optimizer's state across ranks (ZeRO): each rank steps its 1/N slice of the parameters, then "
          "the slices are all-gathered. Stage 2 also reduce-scatters the gradients (no all_reduce needed before)."),
      typedRow<cmdStateBytes>("optimizer_state_bytes",
                              "Bytes of an optimizer's state tensors on this rank (moments, momentum buffers).", optimizer),
      typedRow<cmdZeroInfo>("zero_redundancy_optimizer_info",
                            "Dict: stage, total (elements of all parameters), begin and end (this rank's slice), state_bytes.",
                            optimizer),
  };
}

}  // namespace tcltorch
