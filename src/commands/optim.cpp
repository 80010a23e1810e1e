// Optimizers, learning-rate schedulers and optimizer checkpoints.
#include "tcltorch/commands.h"
#include "tcltorch/optim_family.h"
#include <algorithm>
#include <cmath>

namespace tcltorch {

namespace optim = torch::optim;

static std::shared_ptr<OptimizerObj> optArg(Call& c) { return c.object<OptimizerObj>("optimizer"); }

static double nonNegative(Call& c, const char* name) {
  double v = c.number(name);
  if (!(v >= 0)) c.badValue(name, "a number >= 0");
  return v;
}

// Builds the optimizer; `make` is kept so a load can go into a fresh copy first.
static Tcl_Obj* newOptimizer(Call& c, const char* type,
                             std::function<std::unique_ptr<optim::Optimizer>()> make) {
  auto o = std::make_shared<OptimizerObj>();
  o->type = type;
  o->opt = make();
  o->make = std::move(make);
  return c.result(Kind::Optimizer, o);
}

Tcl_Obj* newOptimizerObj(Call& c, const char* type, std::function<std::unique_ptr<optim::Optimizer>()> make) {
  return newOptimizer(c, type, std::move(make));
}

static Tcl_Obj* cmdSgd(Call& c) {
  auto opts = optim::SGDOptions(nonNegative(c, "lr"))
                  .momentum(nonNegative(c, "momentum")).dampening(c.number("dampening"))
                  .weight_decay(nonNegative(c, "weight_decay")).nesterov(c.boolean("nesterov"));
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "sgd", [ps, opts] { return std::make_unique<optim::SGD>(ps, opts); });
}

template <class Options>
static Options adamOptions(Call& c) {
  return Options(nonNegative(c, "lr"))
      .betas({nonNegative(c, "beta1"), nonNegative(c, "beta2")})
      .eps(nonNegative(c, "eps")).weight_decay(nonNegative(c, "weight_decay")).amsgrad(c.boolean("amsgrad"));
}

static Tcl_Obj* cmdAdam(Call& c) {
  auto opts = adamOptions<optim::AdamOptions>(c);
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "adam", [ps, opts] { return std::make_unique<optim::Adam>(ps, opts); });
}

static Tcl_Obj* cmdAdamW(Call& c) {
  auto opts = adamOptions<optim::AdamWOptions>(c);
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "adamw", [ps, opts] { return std::make_unique<optim::AdamW>(ps, opts); });
}

static Tcl_Obj* cmdRmsprop(Call& c) {
  auto opts = optim::RMSpropOptions(nonNegative(c, "lr"))
                  .alpha(nonNegative(c, "alpha")).eps(nonNegative(c, "eps"))
                  .weight_decay(nonNegative(c, "weight_decay")).momentum(nonNegative(c, "momentum"))
                  .centered(c.boolean("centered"));
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "rmsprop", [ps, opts] { return std::make_unique<optim::RMSprop>(ps, opts); });
}

static Tcl_Obj* cmdAdagrad(Call& c) {
  auto opts = optim::AdagradOptions(nonNegative(c, "lr"))
                  .lr_decay(nonNegative(c, "lr_decay")).weight_decay(nonNegative(c, "weight_decay"))
                  .initial_accumulator_value(nonNegative(c, "initial_accumulator_value")).eps(nonNegative(c, "eps"));
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "adagrad", [ps, opts] { return std::make_unique<optim::Adagrad>(ps, opts); });
}

static Tcl_Obj* cmdLbfgs(Call& c) {
  auto opts = optim::LBFGSOptions(nonNegative(c, "lr")).max_iter(c.integer("max_iter"))
                  .tolerance_grad(nonNegative(c, "tolerance_grad")).tolerance_change(nonNegative(c, "tolerance_change"))
                  .history_size(c.integer("history_size"));
  if (c.has("max_eval")) opts.max_eval(c.integer("max_eval"));
  if (c.choice("line_search_fn") == 1) opts.line_search_fn("strong_wolfe");
  if (opts.max_iter() <= 0) c.badValue("max_iter", "a positive integer");
  if (opts.history_size() <= 0) c.badValue("history_size", "a positive integer");
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "lbfgs", [ps, opts] { return std::make_unique<optim::LBFGS>(ps, opts); });
}

// With -closure, the script is run (with grad on) whenever the optimizer needs
// the loss: it zeroes the gradients, computes the loss, calls backward and
// returns the loss handle. LBFGS needs it. Returns the loss's value then.
static Tcl_Obj* cmdStep(Call& c) {
  auto o = optArg(c);
  if (!c.has("closure")) {
    if (o->type == "lbfgs") fail("optimizer_step on an lbfgs optimizer needs -closure", {"ARGS", "MISSING", "closure"});
    at::NoGradGuard ng;  // also correct when called inside tensor code that records grad
    o->opt->step();
    return nullptr;
  }
  Tcl_Obj* script = c.obj("closure");
  Tcl_Interp* interp = c.interp;
  State& st = c.st;
  at::Tensor loss = o->opt->step([script, interp, &st]() {
    at::AutoGradMode on(true);
    int code = Tcl_EvalObjEx(interp, script, 0);
    if (code != TCL_OK) throw ScriptCode{code};
    return st.reg.tensor(Tcl_GetObjResult(interp)).detach();
  });
  return loss.defined() ? Tcl_NewDoubleObj(loss.item<double>()) : nullptr;
}

static Tcl_Obj* cmdZeroGrad(Call& c) {
  bool none = c.boolean("set_to_none");
  for (auto& g : optArg(c)->opt->param_groups())
    for (auto& p : g.params()) {
      if (!p.grad().defined()) continue;
      if (none) {
        p.mutable_grad().reset();
      } else {
        p.mutable_grad().detach_();
        p.mutable_grad().zero_();
      }
    }
  return nullptr;
}

static Tcl_Obj* cmdGetLr(Call& c) {
  return Tcl_NewDoubleObj(optArg(c)->opt->param_groups().at(0).options().get_lr());
}

static void setLr(optim::Optimizer& o, double lr) {
  for (auto& g : o.param_groups()) g.options().set_lr(lr);
}

static Tcl_Obj* cmdSetLr(Call& c) {
  setLr(*optArg(c)->opt, nonNegative(c, "lr"));
  return nullptr;
}

// Scales all gradients together so that their total norm is at most max_norm.
static Tcl_Obj* cmdClipGradNorm(Call& c) {
  double maxNorm = nonNegative(c, "max_norm");
  return Tcl_NewDoubleObj(torch::nn::utils::clip_grad_norm_(parameterList(c, "params"), maxNorm, c.number("norm_type")));
}

// ---- schedulers: epoch -> lr as a closed form of the base lr ----

namespace {
struct SchedulerObj : Object {
  std::shared_ptr<OptimizerObj> opt;
  double base;
  int64_t epoch = 0;
  std::function<double(double base, int64_t epoch)> lr;
  // Metric-driven schedulers (reduce on plateau): the next lr from a metric.
  std::function<double(double metric)> onMetric;
};
}  // namespace

static double currentLr(const SchedulerObj& s) { return s.opt->opt->param_groups().at(0).options().get_lr(); }

using LrFn = std::function<double(double base, int64_t epoch)>;

static std::shared_ptr<SchedulerObj> makeScheduler(Call& c, LrFn lr) {
  auto s = std::make_shared<SchedulerObj>();
  s->opt = optArg(c);
  s->base = s->opt->opt->param_groups().at(0).options().get_lr();
  s->lr = std::move(lr);
  return s;
}
// The optimizer's lr becomes lr(base, 0) at creation, as PyTorch's schedulers
// do (it stays the base lr for most; warmups, cycles and lambdas start elsewhere).
static Tcl_Obj* newScheduler(Call& c, LrFn lr) {
  auto s = makeScheduler(c, std::move(lr));
  setLr(*s->opt->opt, s->lr(s->base, 0));
  return c.result(Kind::Scheduler, s);
}

static int64_t positiveInt(Call& c, const char* name) {
  int64_t v = c.integer(name);
  if (v <= 0) c.badValue(name, "a positive integer");
  return v;
}

static double positive(Call& c, const char* name) {
  double v = c.number(name);
  if (!(v > 0)) c.badValue(name, "a number > 0");
  return v;
}

static LrFn lrStepLr(Call& c) {
  int64_t step = positiveInt(c, "step_size");
  double gamma = nonNegative(c, "gamma");
  return [step, gamma](double base, int64_t e) {
    return base * std::pow(gamma, double(e / step));
  };
}

static LrFn lrCosineLr(Call& c) {
  int64_t tmax = positiveInt(c, "t_max");
  double etaMin = nonNegative(c, "eta_min");
  return [tmax, etaMin](double base, int64_t e) {
    return etaMin + (base - etaMin) * (1 + std::cos(M_PI * double(e) / double(tmax))) / 2;
  };
}

static LrFn lrExponentialLr(Call& c) {
  double gamma = nonNegative(c, "gamma");
  return [gamma](double base, int64_t e) { return base * std::pow(gamma, double(e)); };
}

// TensorFlow's exponential decay: base * rate^(epoch / decay_steps), floored with staircase.
static LrFn lrExponentialDecayLr(Call& c) {
  double rate = nonNegative(c, "decay_rate");
  int64_t steps = positiveInt(c, "decay_steps");
  bool stair = c.boolean("staircase");
  return [rate, steps, stair](double base, int64_t e) {
    double p = stair ? double(e / steps) : double(e) / double(steps);
    return base * std::pow(rate, p);
  };
}

static LrFn lrMultiStepLr(Call& c) {
  std::vector<int64_t> ms = c.ints("milestones");
  std::sort(ms.begin(), ms.end());
  double gamma = nonNegative(c, "gamma");
  return [ms, gamma](double base, int64_t e) {
    auto n = std::upper_bound(ms.begin(), ms.end(), e) - ms.begin();
    return base * std::pow(gamma, double(n));
  };
}

// A factor: a number, or a command prefix called with the epoch.
static std::function<double(int64_t)> factorFn(Call& c, const char* name) {
  Tcl_Obj* o = c.obj(name);
  double d;
  if (Tcl_GetDoubleFromObj(nullptr, o, &d) == TCL_OK) return [d](int64_t) { return d; };
  Tcl_Interp* interp = c.interp;
  std::shared_ptr<Tcl_Obj> prefix(Tcl_DuplicateObj(o), [](Tcl_Obj* p) { Tcl_DecrRefCount(p); });
  Tcl_IncrRefCount(prefix.get());
  return [interp, prefix](int64_t e) {
    Tcl_Obj* cmd = Tcl_DuplicateObj(prefix.get());
    Tcl_IncrRefCount(cmd);
    Tcl_ListObjAppendElement(nullptr, cmd, Tcl_NewWideIntObj(e));
    int code = Tcl_EvalObjEx(interp, cmd, 0);
    Tcl_DecrRefCount(cmd);
    if (code != TCL_OK) throw ScriptCode{code};
    double v;
    if (Tcl_GetDoubleFromObj(nullptr, Tcl_GetObjResult(interp), &v) != TCL_OK)
      fail("lr_lambda must return a number, got \"" + std::string(Tcl_GetStringResult(interp)) + "\"",
           {"ARGS", "VALUE", "lr_lambda"});
    return v;
  };
}

// LambdaLR: base * f(epoch).
static LrFn lrLambdaLr(Call& c) {
  auto f = factorFn(c, "lr_lambda");
  return [f](double base, int64_t e) { return base * f(e); };
}
// MultiplicativeLR: lr(e) = lr(e-1) * f(e).
static LrFn lrMultiplicativeLr(Call& c) {
  auto f = factorFn(c, "lr_lambda");
  auto cur = std::make_shared<std::pair<int64_t, double>>(0, 0.0);
  return [f, cur](double base, int64_t e) {
    if (cur->first == 0 || e < cur->first) *cur = {0, base};
    while (cur->first < e) cur->second *= f(++cur->first);
    return cur->second;
  };
}

static LrFn lrPolynomialLr(Call& c) {
  int64_t total = positiveInt(c, "total_iters");
  double power = c.number("power");
  return [total, power](double base, int64_t e) {
    return base * std::pow(1.0 - double(std::min(e, total)) / double(total), power);
  };
}

static LrFn lrCosineWarmRestarts(Call& c) {
  int64_t t0 = positiveInt(c, "t_0");
  int64_t mult = positiveInt(c, "t_mult");
  double etaMin = nonNegative(c, "eta_min");
  return [t0, mult, etaMin](double base, int64_t e) {
    int64_t cur = e, ti = t0;
    while (cur >= ti) {
      cur -= ti;
      ti *= mult;
    }
    return etaMin + (base - etaMin) * (1 + std::cos(M_PI * double(cur) / double(ti))) / 2;
  };
}

// CyclicLR (PyTorch): triangular, triangular2 or exp_range between base_lr and max_lr.
static LrFn lrCyclicLr(Call& c) {
  double lo = nonNegative(c, "base_lr"), hi = nonNegative(c, "max_lr");
  double up = double(positiveInt(c, "step_size_up"));
  double down = c.has("step_size_down") ? double(positiveInt(c, "step_size_down")) : up;
  int mode = c.choice("mode");
  double gamma = nonNegative(c, "gamma");
  return [lo, hi, up, down, mode, gamma](double, int64_t e) {
    double total = up + down, ratio = up / total;
    double cycle = std::floor(1 + double(e) / total);
    double x = 1 + double(e) / total - cycle;
    double scale = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double amp = (hi - lo) * scale;
    double f = mode == 0 ? 1.0 : mode == 1 ? 1 / std::pow(2.0, cycle - 1) : std::pow(gamma, double(e));
    return lo + amp * f;
  };
}

// OneCycleLR (PyTorch, cosine or linear annealing, two or three phases).
static LrFn lrOneCycleLr(Call& c) {
  double maxLr = nonNegative(c, "max_lr");
  int64_t total = positiveInt(c, "total_steps");
  double pct = c.number("pct_start");
  if (!(pct >= 0 && pct <= 1)) c.badValue("pct_start", "a number between 0 and 1");
  bool cosine = c.choice("anneal_strategy") == 0;
  double div = positive(c, "div_factor"), finalDiv = positive(c, "final_div_factor");
  bool three = c.boolean("three_phase");
  double initial = maxLr / div, minLr = initial / finalDiv;
  std::vector<std::pair<double, std::pair<double, double>>> phases;  // end step, start lr, end lr
  if (three) {
    phases = {{pct * double(total) - 1, {initial, maxLr}},
              {2 * pct * double(total) - 2, {maxLr, initial}},
              {double(total) - 1, {initial, minLr}}};
  } else {
    phases = {{pct * double(total) - 1, {initial, maxLr}}, {double(total) - 1, {maxLr, minLr}}};
  }
  return [phases, cosine](double, int64_t e) {
    double start = 0, lr = 0;
    for (size_t i = 0; i < phases.size(); ++i) {
      double end = phases[i].first;
      if (double(e) <= end || i + 1 == phases.size()) {
        double pctIn = end - start > 0 ? (double(e) - start) / (end - start) : 0;
        double a = phases[i].second.first, b = phases[i].second.second;
        lr = cosine ? b + (a - b) / 2 * (std::cos(M_PI * pctIn) + 1) : (b - a) * pctIn + a;
        break;
      }
      start = end;
    }
    return lr;
  };
}

// Linear warmup from 0, then linear decay to 0 at num_training_steps.
static LrFn lrLinearWarmup(Call& c) {
  int64_t w = c.integer("num_warmup_steps"), t = positiveInt(c, "num_training_steps");
  if (w < 0) c.badValue("num_warmup_steps", "an integer >= 0");
  return [w, t](double base, int64_t e) {
    if (e < w) return base * double(e) / double(std::max<int64_t>(1, w));
    return base * std::max(0.0, double(t - e) / double(std::max<int64_t>(1, t - w)));
  };
}
static LrFn lrConstantWarmup(Call& c) {
  int64_t w = c.integer("num_warmup_steps");
  if (w < 0) c.badValue("num_warmup_steps", "an integer >= 0");
  return [w](double base, int64_t e) {
    return e < w ? base * double(e) / double(std::max<int64_t>(1, w)) : base;
  };
}
// Linear warmup, then base * sqrt(warmup / epoch).
static LrFn lrInverseSqrt(Call& c) {
  int64_t w = c.integer("warmup_steps");
  if (w < 0) c.badValue("warmup_steps", "an integer >= 0");
  return [w](double base, int64_t e) {
    if (e < w) return base * double(e) / double(w);
    return base * std::sqrt(double(std::max<int64_t>(w, 1)) / double(std::max<int64_t>(e, 1)));
  };
}
// Noam (Attention Is All You Need): base * factor * d^-0.5 * min(s^-0.5, s * warmup^-1.5), s = max(epoch, 1).
static LrFn lrNoam(Call& c) {
  double d = double(positiveInt(c, "model_size"));
  double w = double(positiveInt(c, "warmup_steps"));
  double factor = nonNegative(c, "factor");
  return [d, w, factor](double base, int64_t e) {
    double s = double(std::max<int64_t>(e, 1));
    return base * factor * std::pow(d, -0.5) * std::min(std::pow(s, -0.5), s * std::pow(w, -1.5));
  };
}

// ReduceLROnPlateau (PyTorch): lr *= factor after `patience` epochs without improvement.
static Tcl_Obj* cmdPlateau(Call& c) {
  bool maxMode = c.choice("mode") == 1, absMode = c.choice("threshold_mode") == 1;
  double factor = c.number("factor");
  if (!(factor > 0 && factor < 1)) c.badValue("factor", "a number between 0 and 1 (exclusive)");
  int64_t patience = c.integer("patience"), cooldown = c.integer("cooldown");
  if (patience < 0) c.badValue("patience", "an integer >= 0");
  if (cooldown < 0) c.badValue("cooldown", "an integer >= 0");
  double threshold = nonNegative(c, "threshold"), minLr = nonNegative(c, "min_lr"), eps = nonNegative(c, "eps");
  auto s = makeScheduler(c, nullptr);
  struct St { double best; int64_t bad = 0, cool = 0; };
  auto st = std::make_shared<St>();
  st->best = maxMode ? -INFINITY : INFINITY;
  SchedulerObj* self = s.get();
  s->onMetric = [=](double m) {
    bool better = maxMode ? (absMode ? m > st->best + threshold : m > st->best * (1 + threshold))
                          : (absMode ? m < st->best - threshold : m < st->best * (1 - threshold));
    if (better) {
      st->best = m;
      st->bad = 0;
    } else {
      ++st->bad;
    }
    if (st->cool > 0) {
      --st->cool;
      st->bad = 0;
    }
    if (st->bad > patience) {
      for (auto& g : self->opt->opt->param_groups()) {
        double old = g.options().get_lr(), lr = std::max(old * factor, minLr);
        if (old - lr > eps) g.options().set_lr(lr);
      }
      st->cool = cooldown;
      st->bad = 0;
    }
    return currentLr(*self);
  };
  return c.result(Kind::Scheduler, s);
}

// Scheduler handles are shared with grad scalers (amp_runtime.cpp): check the type.
static std::shared_ptr<SchedulerObj> schedArg(Call& c) { return typedObject<SchedulerObj>(c, "scheduler", "scheduler"); }

static Tcl_Obj* cmdSchedulerStep(Call& c) {
  auto s = schedArg(c);
  ++s->epoch;
  if (s->onMetric) {
    if (!c.has("metric"))
      fail("this scheduler (reduce on plateau) needs -metric", {"ARGS", "MISSING", "metric"});
    return Tcl_NewDoubleObj(s->onMetric(c.number("metric")));
  }
  double lr = s->lr(s->base, s->epoch);
  setLr(*s->opt->opt, lr);
  return Tcl_NewDoubleObj(lr);
}

static Tcl_Obj* cmdSchedulerLr(Call& c) { return Tcl_NewDoubleObj(currentLr(*schedArg(c))); }

// ---- checkpoints ----

static Tcl_Obj* cmdOptSave(Call& c) {
  auto o = optArg(c);
  saveAtomically(c.str("file"), [&](const std::string& tmp) { torch::save(*o->opt, tmp); });
  return nullptr;
}

static Tcl_Obj* cmdOptLoad(Call& c) {
  auto o = optArg(c);
  std::string path = c.str("file");
  readFileBytes(path);  // a clear error for a missing or unreadable file
  // Into a fresh optimizer over the same parameters first: a file that does
  // not fit fails there and leaves this optimizer's state untouched.
  std::unique_ptr<optim::Optimizer> fresh = o->make();
  try {
    torch::load(*fresh, path);
  } catch (const std::exception& e) {
    fail("\"" + path + "\" is not a valid checkpoint for this " + o->type + " optimizer: " + torchMessage(e),
         {"IO", "FORMAT", path});
  }
  if (fresh->param_groups().size() != o->opt->param_groups().size())
    fail("\"" + path + "\" holds a different number of parameter groups", {"IO", "FORMAT", path});
  o->opt = std::move(fresh);
  return nullptr;
}

static const Param kOpt{"optimizer", Type::Optimizer, nullptr, "optimizer handle", "opt"};
static const Param& kParams = kOptParams;
static const Param kWd{"weight_decay", Type::Double, "0", "L2 penalty"};
// Adam and AdamW share everything but the weight decay's meaning, default and position.
static const Param kAdamLr{"lr", Type::Double, "0.001", "learning rate", kLrAliases};
static const Param kBeta1{"beta1", Type::Double, "0.9", "decay of the first moment"};
static const Param kBeta2{"beta2", Type::Double, "0.999", "decay of the second moment"};
static const Param kAdamEps{"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"};
static const Param kAmsgrad{"amsgrad", Type::Bool, "0", "AMSGrad variant"};
static const Param kSched{"scheduler", Type::Scheduler, nullptr, "scheduler handle", "handle"};
static const Param kGamma{"gamma", Type::Double, "0.1", "decay factor"};
static const Param kEtaMin{"eta_min", Type::Double, "0", "lowest learning rate"};
static const Param kLrLambda{"lr_lambda", Type::CommandWords, nullptr,
                             "a factor, or a command prefix called with the epoch that returns one",
                             "multiplier factor"};
static const Param kWarmup{"num_warmup_steps", Type::Int, nullptr, "epochs of linear warmup from 0",
                           "warmup_steps warmupSteps"};

// Epoch-driven schedulers: one row each (a maker of the epoch -> lr function),
// one handler.
namespace {
struct SchedSpec {
  const char* name;
  const char* doc;
  std::vector<Param> params;
  LrFn (*make)(Call&);
};
}  // namespace

static const Param kOneCycle[] = {
    kOpt, {"max_lr", Type::Double, nullptr, "peak learning rate"},
    {"total_steps", Type::Int, nullptr, "number of steps of the cycle"},
    {"pct_start", Type::Double, "0.3", "fraction of the cycle spent increasing"},
    {"anneal_strategy", Type::Choice, "cos", "cos or linear", nullptr, "cos linear"},
    {"div_factor", Type::Double, "25", "initial lr = max_lr / div_factor"},
    {"final_div_factor", Type::Double, "10000", "final lr = initial lr / final_div_factor"},
    {"three_phase", Type::Bool, "0", "a third phase annihilates the lr"}};

static const std::vector<SchedSpec>& schedSpecs() {
  static const std::vector<SchedSpec> specs = {
      {"lr_scheduler_step", "Step decay: lr = base_lr * gamma^floor(epoch / step_size).",
       {kOpt, {"step_size", Type::Int, nullptr, "epochs between decays"}, kGamma}, lrStepLr},
      {"lr_scheduler_cosine", "Cosine annealing: lr = eta_min + (base_lr - eta_min)(1 + cos(pi epoch / t_max)) / 2.",
       {kOpt, {"t_max", Type::Int, nullptr, "epochs of one half cosine", "T_max"}, kEtaMin}, lrCosineLr},
      {"lr_scheduler_exponential", "Exponential decay: lr = base_lr * gamma^epoch.",
       {kOpt, {"gamma", Type::Double, "0.95", "decay factor per epoch", "decay"}}, lrExponentialLr},
      {"lr_scheduler_exponential_decay", "lr = base_lr * decay_rate^(epoch / decay_steps) (floored with staircase).",
       {kOpt, {"decay_rate", Type::Double, "0.96", "decay per decay_steps epochs", "gamma"},
        {"decay_steps", Type::Int, "1", "epochs per decay_rate"}, {"staircase", Type::Bool, "0", "decay in steps"}},
       lrExponentialDecayLr},
      {"lr_scheduler_multi_step", "lr = base_lr * gamma^(number of milestones <= epoch).",
       {kOpt, {"milestones", Type::IntList, nullptr, "epochs at which to decay"}, kGamma}, lrMultiStepLr},
      {"lr_scheduler_lambda", "lr = base_lr * f(epoch): f a number or a command prefix called with the epoch.",
       {kOpt, kLrLambda}, lrLambdaLr},
      {"lr_scheduler_multiplicative", "lr(epoch) = lr(epoch - 1) * f(epoch): f a number or a command prefix.",
       {kOpt, kLrLambda}, lrMultiplicativeLr},
      {"lr_scheduler_polynomial", "lr = base_lr * (1 - min(epoch, total_iters) / total_iters)^power.",
       {kOpt, {"total_iters", Type::Int, "5", "epochs of the decay"}, {"power", Type::Double, "1.0", "exponent"}},
       lrPolynomialLr},
      {"lr_scheduler_cosine_annealing_warm_restarts", "Cosine annealing restarted after T_0, T_0 T_mult, ... epochs.",
       {kOpt, {"t_0", Type::Int, nullptr, "epochs of the first cycle", "T_0"},
        {"t_mult", Type::Int, "1", "growth factor of the cycle length", "T_mult"}, kEtaMin},
       lrCosineWarmRestarts},
      {"lr_scheduler_cyclic", "Cyclical lr between base_lr and max_lr (triangular, triangular2 or exp_range).",
       {kOpt, {"base_lr", Type::Double, nullptr, "lower bound"}, {"max_lr", Type::Double, nullptr, "upper bound"},
        {"step_size_up", Type::Int, "2000", "epochs of the rising half", "step_size stepSize"},
        {"mode", Type::Choice, "triangular", "triangular, triangular2 or exp_range", nullptr,
         "triangular triangular2 exp_range"},
        {"step_size_down", Type::Int, kOptional, "epochs of the falling half (default step_size_up)"},
        {"gamma", Type::Double, "1.0", "exp_range decay per epoch"}},
       lrCyclicLr},
      {"lr_scheduler_one_cycle", "One-cycle policy (PyTorch OneCycleLR).", {std::begin(kOneCycle), std::end(kOneCycle)},
       lrOneCycleLr},
      {"lr_scheduler_onecycle_advanced", "One-cycle policy (PyTorch OneCycleLR).",
       {std::begin(kOneCycle), std::end(kOneCycle)}, lrOneCycleLr},
      {"lr_scheduler_linear_with_warmup", "Linear warmup from 0 to base_lr, then linear decay to 0 at num_training_steps.",
       {kOpt, kWarmup, {"num_training_steps", Type::Int, nullptr, "epoch at which the lr reaches 0", "total_steps"}},
       lrLinearWarmup},
      {"lr_scheduler_constant_with_warmup", "Linear warmup from 0 to base_lr, then constant.", {kOpt, kWarmup},
       lrConstantWarmup},
      {"lr_scheduler_inverse_sqrt", "Linear warmup, then base_lr * sqrt(warmup_steps / epoch).",
       {kOpt, {"warmup_steps", Type::Int, "0", "epochs of linear warmup", "num_warmup_steps"}}, lrInverseSqrt},
      {"lr_scheduler_noam", "Noam: base_lr * factor * model_size^-0.5 * min(s^-0.5, s * warmup_steps^-1.5).",
       {kOpt, {"model_size", Type::Int, nullptr, "model dimension d_model"},
        {"warmup_steps", Type::Int, "4000", "epochs of warmup"}, {"factor", Type::Double, "1.0", "scale"}},
       lrNoam},
  };
  return specs;
}

static Tcl_Obj* cmdSched(Call& c) { return newScheduler(c, c.data<SchedSpec>().make(c)); }

// One handler for the family, each row carrying its spec.
static void addScheds(std::vector<Command>& out) {
  for (const SchedSpec& s : schedSpecs()) out.push_back(Command{s.name, s.doc, s.params, cmdSched}.withData(&s));
}

std::vector<Command> optimCommands() {
  const Param sgdLr{"lr", Type::Double, nullptr, "learning rate", kLrAliases};
  const Param sgdRest[] = {{"dampening", Type::Double, "0", "dampening for momentum"}, kWd,
                           {"nesterov", Type::Bool, "0", "Nesterov momentum"}};
  const Param plateau[] = {
      kOpt, {"mode", Type::Choice, "min", "min: the metric should fall; max: rise", nullptr, "min max"},
      {"factor", Type::Double, "0.1", "lr multiplier on a plateau"},
      {"patience", Type::Int, "10", "epochs without improvement before reducing"},
      {"threshold", Type::Double, "1e-4", "smallest change counted as an improvement"},
      {"threshold_mode", Type::Choice, "rel", "rel (relative) or abs", nullptr, "rel abs"},
      {"min_lr", Type::Double, "0", "lowest learning rate"},
      {"cooldown", Type::Int, "0", "epochs to wait after a reduction"},
      {"eps", Type::Double, "1e-8", "smallest change of the lr that is applied"}};
  std::vector<Command> out = {
      {"optimizer_sgd", "Stochastic gradient descent (with momentum, dampening, Nesterov) over parameters.",
       {kParams, sgdLr, {"momentum", Type::Double, "0", "momentum factor"}, sgdRest[0], sgdRest[1], sgdRest[2]},
       cmdSgd},
      {"optimizer_momentum_sgd", "SGD with momentum (0.9 unless given).",
       {kParams, sgdLr, {"momentum", Type::Double, "0.9", "momentum factor"}, sgdRest[1], sgdRest[0], sgdRest[2]},
       cmdSgd},
      {"optimizer_adam", "Adam optimizer.", {kParams, kAdamLr, kBeta1, kBeta2, kWd, kAdamEps, kAmsgrad}, cmdAdam},
      {"optimizer_adamw", "AdamW optimizer (decoupled weight decay).",
       {kParams, kAdamLr, {"weight_decay", Type::Double, "0.01", "decoupled weight decay"}, kBeta1, kBeta2, kAdamEps,
        kAmsgrad},
       cmdAdamW},
      {"optimizer_rmsprop", "RMSprop optimizer.",
       {kParams, {"lr", Type::Double, "0.01", "learning rate", kLrAliases},
        {"alpha", Type::Double, "0.99", "smoothing constant"},
        {"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"}, kWd,
        {"momentum", Type::Double, "0", "momentum factor"},
        {"centered", Type::Bool, "0", "normalise by the estimated variance of the gradient"}},
       cmdRmsprop},
      {"optimizer_adagrad", "Adagrad: per-element learning rates from the sum of squared gradients.",
       {kParams, {"lr", Type::Double, "0.01", "learning rate", kLrAliases},
        {"lr_decay", Type::Double, "0", "learning rate decay"}, kWd,
        {"initial_accumulator_value", Type::Double, "0", "starting value of the sums"},
        {"eps", Type::Double, "1e-10", "added to the denominator", "epsilon"}},
       cmdAdagrad},
      {"optimizer_lbfgs", "L-BFGS (needs optimizer_step -closure).",
       {kParams, {"lr", Type::Double, "1", "learning rate", kLrAliases},
        {"max_iter", Type::Int, "20", "iterations per step"},
        {"max_eval", Type::Int, kOptional, "function evaluations per step (default max_iter * 5 / 4)"},
        {"tolerance_grad", Type::Double, "1e-7", "first-order optimality tolerance"},
        {"tolerance_change", Type::Double, "1e-9", "tolerance on function value and parameter changes"},
        {"history_size", Type::Int, "100", "update history size"},
        {"line_search_fn", Type::Choice, "none", "none or strong_wolfe", nullptr, "none strong_wolfe"}},
       cmdLbfgs},
      {"optimizer_step", "One optimization step from the parameters' current gradients.",
       {kOpt, {"closure", Type::Script, kOptional,
               "script that zeroes the gradients, computes the loss, calls backward and returns the loss"}},
       cmdStep},
      {"optimizer_zero_grad", "Zero (or drop) the gradients of the optimizer's parameters.",
       {kOpt, {"set_to_none", Type::Bool, "0", "drop the gradients instead of zeroing them"}}, cmdZeroGrad},
      {"optimizer_get_lr", "Learning rate (of the first parameter group).", {kOpt}, cmdGetLr},
      {"optimizer_set_lr", "Set the learning rate of every parameter group.",
       {kOpt, {"lr", Type::Double, nullptr, "learning rate", kLrAliases}}, cmdSetLr},
      {"clip_grad_norm", "Scale gradients so their total norm is at most max_norm; returns the norm before clipping.",
       {kParams, {"max_norm", Type::Double, nullptr, "largest allowed total norm"},
        {"norm_type", Type::Double, "2", "p of the p-norm (inf for the largest absolute value)"}},
       cmdClipGradNorm},
      {"lr_scheduler_reduce_on_plateau", "Multiply the lr by factor when a metric stops improving (step with -metric).",
       {std::begin(plateau), std::end(plateau)}, cmdPlateau},
      {"lr_scheduler_plateau", "Multiply the lr by factor when a metric stops improving (step with -metric).",
       {std::begin(plateau), std::end(plateau)}, cmdPlateau},
      {"lr_scheduler_step_update", "Advance a scheduler by one epoch, set the optimizer's lr and return it.",
       {kSched, {"metric", Type::Double, kOptional, "the monitored value (reduce on plateau)"}}, cmdSchedulerStep},
      {"lr_scheduler_step_advanced", "Advance a scheduler by one epoch (with -metric for reduce on plateau); returns the lr.",
       {kSched, {"metric", Type::Double, kOptional, "the monitored value (reduce on plateau)"}}, cmdSchedulerStep},
      {"get_lr_advanced", "The current learning rate of a scheduler's optimizer.", {kSched}, cmdSchedulerLr},
      {"optimizer_save", "Save an optimizer's state (moments, step counts, options) to a file.",
       {kOpt, {"file", Type::Path, nullptr, "file path", "filename"}}, cmdOptSave},
      {"optimizer_load", "Load optimizer state saved by optimizer_save for the same parameters.",
       {kOpt, {"file", Type::Path, nullptr, "file path", "filename"}}, cmdOptLoad},

  };
  addScheds(out);
  for (auto& c : optimFamilyCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
