// Optimizers libtorch's C++ API lacks (Adamax, NAdam, RAdam, Rprop, SparseAdam,
// LAMB, NovoGrad, Adafactor), written as torch::optim::Optimizer subclasses so
// every optimizer command (step, zero_grad, lr, save, load, schedulers) serves
// them. One optimizer class; each algorithm is one row of a table: its
// hyper-parameters and its per-parameter update.
#include "tcltorch/compat.h"
#include "tcltorch/optim_family.h"
#include <torch/serialize/archive.h>
#include <cmath>

namespace tcltorch {

namespace optim = torch::optim;
using at::Tensor;

namespace {

struct Hyper : optim::OptimizerCloneableOptions<Hyper> {
  double lr = 1e-3;
  std::vector<double> h;  // the row's hyper-parameters, in its declared order
  double get_lr() const override { return lr; }
  void set_lr(const double v) override { lr = v; }
};

struct PState : optim::OptimizerCloneableParamState<PState> {
  int64_t step = 0;
  std::vector<Tensor> buf;  // the row's state tensors, created on the first step
};

using Update = void (*)(const Hyper& o, Tensor& p, Tensor g, PState& s);

// Shorthands inside the updates.
// References stay valid: the vector is given room for every row's state once.
inline Tensor& buf(PState& s, size_t i, const Tensor& like, double fill = 0) {
  if (s.buf.capacity() < 8) s.buf.reserve(8);
  while (s.buf.size() <= i) s.buf.push_back(Tensor());
  if (!s.buf[i].defined()) s.buf[i] = at::full_like(like, fill, at::MemoryFormat::Preserve);
  return s.buf[i];
}
inline Tensor decayed(const Hyper& o, const Tensor& p, Tensor g, double wd) {
  return wd != 0 ? g + wd * p : g;
}

// h: beta1 beta2 eps weight_decay
void adamax(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double b1 = o.h[0], b2 = o.h[1], eps = o.h[2];
  g = decayed(o, p, g, o.h[3]);
  Tensor& m = buf(s, 0, p);
  Tensor& u = buf(s, 1, p);
  m.lerp_(g, 1 - b1);
  u.copy_(at::maximum(u * b2, g.abs() + eps));
  p.addcdiv_(m, u, -o.lr / (1 - std::pow(b1, double(s.step))));
}
// h: beta1 beta2 eps weight_decay momentum_decay
void nadam(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double b1 = o.h[0], b2 = o.h[1], eps = o.h[2], psi = o.h[4];
  g = decayed(o, p, g, o.h[3]);
  Tensor& m = buf(s, 0, p);
  Tensor& v = buf(s, 1, p);
  Tensor& muProduct = buf(s, 2, at::ones({}, p.options()), 1.0);
  double t = double(s.step);
  double mu = b1 * (1 - 0.5 * std::pow(0.96, t * psi));
  double muNext = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
  muProduct.mul_(mu);
  double mp = muProduct.item<double>();
  m.lerp_(g, 1 - b1);
  v.mul_(b2).addcmul_(g, g, 1 - b2);
  Tensor denom = (v / (1 - std::pow(b2, t))).sqrt_().add_(eps);
  p.addcdiv_(g, denom, -o.lr * (1 - mu) / (1 - mp));
  p.addcdiv_(m, denom, -o.lr * muNext / (1 - mp * muNext));
}
// h: beta1 beta2 eps weight_decay
void radam(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double b1 = o.h[0], b2 = o.h[1], eps = o.h[2];
  g = decayed(o, p, g, o.h[3]);
  Tensor& m = buf(s, 0, p);
  Tensor& v = buf(s, 1, p);
  double t = double(s.step);
  m.lerp_(g, 1 - b1);
  v.mul_(b2).addcmul_(g, g, 1 - b2);
  double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
  double rhoInf = 2 / (1 - b2) - 1;
  double rho = rhoInf - 2 * t * std::pow(b2, t) / bc2;
  if (rho > 5) {
    double rect = std::sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho));
    Tensor adaptive = std::sqrt(bc2) / (v.sqrt() + eps);
    p.add_(m * adaptive, -o.lr * rect / bc1);
  } else {
    p.add_(m, -o.lr / bc1);
  }
}
// h: eta_minus eta_plus step_min step_max
void rprop(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  Tensor& prev = buf(s, 0, p);
  Tensor& step = buf(s, 1, p, o.lr);
  Tensor sign = (g * prev).sign();
  Tensor factor = at::where(sign > 0, at::full_like(g, o.h[1]), at::where(sign < 0, at::full_like(g, o.h[0]), at::ones_like(g)));
  step.mul_(factor).clamp_(o.h[2], o.h[3]);
  g = at::where(sign < 0, at::zeros_like(g), g);
  p.addcmul_(g.sign(), step, -1);
  prev.copy_(g);
}
// h: beta1 beta2 eps. Only elements with a non-zero gradient are updated (the
// values of a sparse gradient; dense gradients are read that way).
void sparseAdam(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double b1 = o.h[0], b2 = o.h[1], eps = o.h[2];
  Tensor& m = buf(s, 0, p);
  Tensor& v = buf(s, 1, p);
  Tensor mask = g != 0;
  double t = double(s.step);
  m.copy_(at::where(mask, m * b1 + g * (1 - b1), m));
  v.copy_(at::where(mask, v * b2 + g * g * (1 - b2), v));
  double stepSize = o.lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
  p.sub_(at::where(mask, m / (v.sqrt() + eps), at::zeros_like(p)) * stepSize);
}
// LAMB (You et al.): h: beta1 beta2 eps weight_decay
void lamb(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double b1 = o.h[0], b2 = o.h[1], eps = o.h[2], wd = o.h[3];
  Tensor& m = buf(s, 0, p);
  Tensor& v = buf(s, 1, p);
  double t = double(s.step);
  m.lerp_(g, 1 - b1);
  v.mul_(b2).addcmul_(g, g, 1 - b2);
  Tensor r = (m / (1 - std::pow(b1, t))) / ((v / (1 - std::pow(b2, t))).sqrt() + eps);
  if (wd != 0) r = r + wd * p;
  double pn = p.norm().item<double>(), rn = r.norm().item<double>();
  double trust = pn > 0 && rn > 0 ? pn / rn : 1.0;
  p.add_(r, -o.lr * trust);
}
// NovoGrad (Ginsburg et al.): layer-wise second moment. h: beta1 beta2 eps weight_decay
void novograd(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double b1 = o.h[0], b2 = o.h[1], eps = o.h[2], wd = o.h[3];
  Tensor& m = buf(s, 0, p);
  Tensor& v = buf(s, 1, at::zeros({}, p.options()));
  Tensor n2 = g.pow(2).sum();
  if (s.step == 1) v.copy_(n2);
  else v.mul_(b2).add_(n2, 1 - b2);
  Tensor gs = g / (v.sqrt() + eps);
  if (wd != 0) gs = gs + wd * p;
  if (s.step == 1) m.copy_(gs);
  else m.mul_(b1).add_(gs);
  p.add_(m, -o.lr);
}
// Adafactor (as torch.optim.Adafactor): factored second moments for matrices.
// h: beta2_decay eps1 eps2 d weight_decay
void adafactor(const Hyper& o, Tensor& p, Tensor g, PState& s) {
  double decay = o.h[0], eps1 = o.h[1], eps2 = o.h[2], d = o.h[3], wd = o.h[4];
  double t = double(s.step);
  if (eps1 < 0) eps1 = c10::scalarTypeToTypeMeta(p.scalar_type()) == caffe2::TypeMeta::Make<double>()
                           ? std::numeric_limits<double>::epsilon() : std::numeric_limits<float>::epsilon();
  double beta2 = 1 - std::pow(t, decay);
  double rho = std::min(o.lr, 1 / std::sqrt(t));
  double alpha = std::max(eps2, p.norm().item<double>() / std::sqrt(double(p.numel()))) * rho;
  if (wd != 0) p.mul_(1 - o.lr * wd);
  Tensor var;
  if (p.dim() >= 2) {
    auto rowShape = p.sizes().vec();
    rowShape.back() = 1;
    auto colShape = p.sizes().vec();
    colShape[colShape.size() - 2] = 1;
    Tensor& row = buf(s, 0, at::zeros(rowShape, p.options()));
    Tensor& col = buf(s, 1, at::zeros(colShape, p.options()));
    Tensor g2 = g * g;
    row.lerp_(g2.mean(-1, true), 1 - beta2);
    col.lerp_(g2.mean(-2, true), 1 - beta2);
    var = row.matmul(col) / row.mean(-2, true);
  } else {
    Tensor& v = buf(s, 0, p);
    v.lerp_(g * g, 1 - beta2);
    var = v;
  }
  Tensor update = var.clamp_min(eps1 * eps1).rsqrt() * g;
  double rms = update.norm().item<double>() / std::sqrt(double(update.numel()));
  update = update / std::max(1.0, rms / d);
  p.add_(update, -alpha);
}

class Family : public optim::Optimizer {
 public:
  Family(std::vector<Tensor> params, const Hyper& h, Update u)
      : Optimizer(std::move(params), std::make_unique<Hyper>(h)), update_(u) {}

  Tensor step(LossClosure closure = nullptr) override {
    Tensor loss;
    if (closure) {
      at::AutoGradMode on(true);
      loss = closure();
    }
    at::NoGradGuard ng;
    for (auto& group : param_groups_) {
      auto& h = static_cast<const Hyper&>(group.options());
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        auto& slot = state_[key(p)];
        if (!slot) slot = std::make_unique<PState>();
        auto& s = static_cast<PState&>(*slot);
        ++s.step;
        Tensor q = p;
        update_(h, q, p.grad(), s);
      }
    }
    return loss;
  }

  // State by parameter position: step counts and state tensors.
  void save(torch::serialize::OutputArchive& a) const override {
    const auto& ps = param_groups_.at(0).params();
    for (size_t i = 0; i < ps.size(); ++i) {
      auto it = state_.find(key(ps[i]));
      if (it == state_.end()) continue;
      auto& s = static_cast<const PState&>(*it->second);
      std::string k = "p" + std::to_string(i);
      a.write(k + ".step", at::tensor(s.step));
      a.write(k + ".n", at::tensor(int64_t(s.buf.size())));
      for (size_t j = 0; j < s.buf.size(); ++j) a.write(k + ".b" + std::to_string(j), s.buf[j]);
    }
    a.write("params", at::tensor(int64_t(ps.size())));
  }
  void load(torch::serialize::InputArchive& a) override {
    const auto& ps = param_groups_.at(0).params();
    Tensor n;
    a.read("params", n);
    if (n.item<int64_t>() != int64_t(ps.size()))
      throw std::runtime_error("the file holds state for " + std::to_string(n.item<int64_t>()) + " parameters, not " +
                               std::to_string(ps.size()));
    for (size_t i = 0; i < ps.size(); ++i) {
      std::string k = "p" + std::to_string(i);
      Tensor step, count;
      if (!a.try_read(k + ".step", step)) continue;
      a.read(k + ".n", count);
      auto s = std::make_unique<PState>();
      s->step = step.item<int64_t>();
      for (int64_t j = 0; j < count.item<int64_t>(); ++j) {
        Tensor b;
        a.read(k + ".b" + std::to_string(j), b);
        s->buf.push_back(b);
      }
      state_[key(ps[i])] = std::move(s);
    }
  }

 private:
  static compat::OptimStateKey key(const Tensor& p) { return compat::optimStateKey(p); }
  Update update_;
};

struct AlgoSpec {
  const char* name;
  const char* doc;
  const char* lr;            // default learning rate
  std::vector<Param> hyper;  // read in order into Hyper::h
  Update update;
};

const Param kB1{"beta1", Type::Double, "0.9", "decay of the first moment"};
const Param kB2{"beta2", Type::Double, "0.999", "decay of the second moment"};
const Param kEps8{"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"};
const Param kWd0{"weight_decay", Type::Double, "0", "L2 penalty"};

const std::vector<AlgoSpec>& algos() {
  static const std::vector<AlgoSpec> a = {
      {"optimizer_adamax", "Adamax: Adam with the infinity norm.", "0.002", {kB1, kB2, kEps8, kWd0}, adamax},
      {"optimizer_nadam", "NAdam: Adam with Nesterov momentum.", "0.002",
       {kB1, kB2, kEps8, kWd0, {"momentum_decay", Type::Double, "0.004", "momentum decay psi"}}, nadam},
      {"optimizer_radam", "RAdam: Adam with a rectified adaptive learning rate.", "0.001", {kB1, kB2, kEps8, kWd0}, radam},
      {"optimizer_rprop", "Rprop: per-element step sizes grown or shrunk by the gradient's sign.", "0.01",
       {{"eta_minus", Type::Double, "0.5", "step size factor on a sign change", "etaminus"},
        {"eta_plus", Type::Double, "1.2", "step size factor otherwise", "etaplus"},
        {"step_min", Type::Double, "1e-6", "smallest step size"},
        {"step_max", Type::Double, "50", "largest step size"}},
       rprop},
      {"optimizer_sparse_adam", "SparseAdam: Adam updating only the elements whose gradient is non-zero.", "0.001",
       {kB1, kB2, kEps8}, sparseAdam},
      {"optimizer_lamb", "LAMB: Adam steps scaled per parameter by the trust ratio |p| / |update|.", "0.001",
       {kB1, kB2, {"eps", Type::Double, "1e-6", "added to the denominator", "epsilon"}, kWd0}, lamb},
      {"optimizer_novograd", "NovoGrad: layer-wise normalised gradients with momentum.", "0.001",
       {{"beta1", Type::Double, "0.95", "momentum"}, {"beta2", Type::Double, "0.98", "decay of the layer's second moment"},
        kEps8, kWd0},
       novograd},
      {"optimizer_adafactor", "Adafactor (as torch.optim.Adafactor): factored second moments, relative step sizes.", "0.01",
       {{"beta2_decay", Type::Double, "-0.8", "second-moment decay exponent"},
        {"eps1", Type::Double, "-1", "smallest variance (negative: the dtype's epsilon)"},
        {"eps2", Type::Double, "0.001", "smallest parameter scale"},
        {"d", Type::Double, "1.0", "clipping threshold of the update's RMS"}, kWd0},
       adafactor},
  };
  return a;
}

// params, lr (the row's default), then the row's hyper-parameters in order.
struct AlgoArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kOptParams};  // named "params" (Args::params is the row's list)
  Arg<Type::Double> lr;
  std::vector<Arg<Type::Double>> hyper;
  explicit AlgoArgs(const AlgoSpec& a)
      : lr{this, Param{"lr", Type::Double, a.lr, "learning rate", kLrAliases}.nonNegative()} {
    hyper.reserve(a.hyper.size());
    for (const Param& p : a.hyper) hyper.emplace_back(this, p);
  }
};

Tcl_Obj* cmdAlgo(Call& c, const AlgoArgs& k) {
  const AlgoSpec& a = c.data<AlgoSpec>();
  Hyper h;
  h.lr = c.number(k.lr);
  for (auto& p : k.hyper) h.h.push_back(c.number(p));
  auto ps = parameterList(c, k.parameters);
  Update u = a.update;
  std::string type = a.name + strlen("optimizer_");
  return newOptimizerObj(c, type.c_str(), [ps, h, u] { return std::make_unique<Family>(ps, h, u); });
}

// One handler for the family, each row carrying its algorithm.
void addAlgos(std::vector<Command>& out) {
  for (const AlgoSpec& a : algos())
    out.push_back(typedRow<cmdAlgo>(a.name, a.doc, std::make_shared<const AlgoArgs>(a)).withData(&a));
}

}  // namespace

std::vector<Command> optimFamilyCommands() {
  std::vector<Command> out;
  addAlgos(out);
  return out;
}

}  // namespace tcltorch
