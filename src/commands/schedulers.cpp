// Learning-rate schedulers: epoch-driven ones as one family (a maker of the
// epoch -> lr function per row, one handler), reduce on plateau, and stepping.
#include "tcltorch/commands.h"
#include "tcltorch/optim_family.h"
#include "tcltorch/tensor_util.h"
#include <algorithm>
#include <cmath>

namespace tcltorch {

// ---- schedulers: epoch -> lr as a closed form of the base lr ----

namespace {
struct SchedulerObj : Object {
  std::shared_ptr<OptimizerObj> opt;
  double base;
  int64_t epoch = 0;
  std::function<double(double base, int64_t epoch)> lr;
  // Metric-driven schedulers (reduce on plateau): the next lr from a metric.
  std::function<double(double metric)> onMetric;
  // "step_scheduler" for lr_scheduler_step: the other API's handle names.
  std::string prefix;
  std::string handlePrefix() const override { return prefix; }
};
}  // namespace

static double currentLr(const SchedulerObj& s) { return s.opt->opt->param_groups().at(0).options().get_lr(); }

using LrFn = std::function<double(double base, int64_t epoch)>;

static std::shared_ptr<SchedulerObj> makeScheduler(Call& c, const Arg<Type::Optimizer>& opt, LrFn lr) {
  auto s = std::make_shared<SchedulerObj>();
  s->opt = optArg(c, opt);
  s->base = s->opt->opt->param_groups().at(0).options().get_lr();
  s->lr = std::move(lr);
  std::string name = c.info.cmd->name;  // lr_scheduler_step -> step_scheduler
  if (name.rfind("lr_scheduler_", 0) == 0) s->prefix = name.substr(13) + "_scheduler";
  return s;
}
// The optimizer's lr becomes lr(base, 0) at creation, as PyTorch's schedulers
// do (it stays the base lr for most; warmups, cycles and lambdas start elsewhere).
static Tcl_Obj* newScheduler(Call& c, const Arg<Type::Optimizer>& opt, LrFn lr) {
  auto s = makeScheduler(c, opt, std::move(lr));
  setLr(*s->opt->opt, s->lr(s->base, 0));
  return c.result(Kind::Scheduler, s);
}

static const Param kSched{"scheduler", Type::Scheduler, nullptr, "scheduler handle", "handle"};
static const Param kGamma = Param{"gamma", Type::Double, "0.1", "decay factor"}.nonNegative();
static const Param kEtaMin = Param{"eta_min", Type::Double, "0", "lowest learning rate"}.nonNegative();
static const Param kLrLambda{"lr_lambda", Type::CommandWords, nullptr,
                             "a factor, or a command prefix called with the epoch that returns one",
                             "multiplier factor"};
static const Param kLambdaMultiplier{"lr_lambda", Type::CommandWords, "1.0",
                                     "a multiplier, or a command prefix called with the epoch that returns the factor",
                                     "multiplier factor lambda"};
static const Param kWarmup = Param{"num_warmup_steps", Type::Int, nullptr, "epochs of linear warmup from 0",
                                   "warmup_steps warmupSteps"}.nonNegative();

// Epoch-driven schedulers: one argument struct and one maker of the epoch -> lr
// function per row, one handler (cmdSched).

namespace {
struct StepLrArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> step_size{this, Param{"step_size", Type::Int, nullptr, "epochs between decays"}.positive()};
  Arg<Type::Double> gamma{this, kGamma};
};
}  // namespace
static LrFn lrStepLr(Call& c, const StepLrArgs& a) {
  int64_t step = c.integer(a.step_size);
  double gamma = c.number(a.gamma);
  return [step, gamma](double base, int64_t e) {
    return base * std::pow(gamma, double(e / step));
  };
}

namespace {
struct CosineLrArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> t_max{this, Param{"t_max", Type::Int, nullptr, "epochs of one half cosine", "T_max"}.positive()};
  Arg<Type::Double> eta_min{this, kEtaMin};
};
}  // namespace
static LrFn lrCosineLr(Call& c, const CosineLrArgs& a) {
  int64_t tmax = c.integer(a.t_max);
  double etaMin = c.number(a.eta_min);
  return [tmax, etaMin](double base, int64_t e) {
    return etaMin + (base - etaMin) * (1 + std::cos(M_PI * double(e) / double(tmax))) / 2;
  };
}

namespace {
struct ExponentialLrArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Double> gamma{this, Param{"gamma", Type::Double, "0.95", "decay factor per epoch", "decay"}.nonNegative()};
};
}  // namespace
static LrFn lrExponentialLr(Call& c, const ExponentialLrArgs& a) {
  double gamma = c.number(a.gamma);
  return [gamma](double base, int64_t e) { return base * std::pow(gamma, double(e)); };
}

namespace {
struct ExponentialDecayArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Double> decay_rate{
      this, Param{"decay_rate", Type::Double, "0.96", "decay per decay_steps epochs", "gamma"}.nonNegative()};
  Arg<Type::Int> decay_steps{this, Param{"decay_steps", Type::Int, "1", "epochs per decay_rate"}.positive()};
  Arg<Type::Bool> staircase{this, {"staircase", Type::Bool, "0", "decay in steps"}};
};
}  // namespace
// TensorFlow's exponential decay: base * rate^(epoch / decay_steps), floored with staircase.
static LrFn lrExponentialDecayLr(Call& c, const ExponentialDecayArgs& a) {
  double rate = c.number(a.decay_rate);
  int64_t steps = c.integer(a.decay_steps);
  bool stair = c.boolean(a.staircase);
  return [rate, steps, stair](double base, int64_t e) {
    double p = stair ? double(e / steps) : double(e) / double(steps);
    return base * std::pow(rate, p);
  };
}

namespace {
struct MultiStepArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::IntList> milestones{this, {"milestones", Type::IntList, nullptr, "epochs at which to decay"}};
  Arg<Type::Double> gamma{this, kGamma};
};
}  // namespace
static LrFn lrMultiStepLr(Call& c, const MultiStepArgs& a) {
  std::vector<int64_t> ms = c.ints(a.milestones);
  std::sort(ms.begin(), ms.end());
  double gamma = c.number(a.gamma);
  return [ms, gamma](double base, int64_t e) {
    auto n = std::upper_bound(ms.begin(), ms.end(), e) - ms.begin();
    return base * std::pow(gamma, double(n));
  };
}

// A factor: a number, or a command prefix called with the epoch.
static std::function<double(int64_t)> factorFn(Call& c, const Arg<Type::CommandWords>& k) {
  Tcl_Obj* o = c.obj(k);
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

namespace {
// lr_scheduler_lambda and lr_scheduler_multiplicative (their lr_lambda differs).
struct LambdaArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::CommandWords> lr_lambda;
  explicit LambdaArgs(const Param& p = kLrLambda) : lr_lambda{this, p} {}
};
}  // namespace
// LambdaLR: base * f(epoch). A number m is the other API's multiplier,
// applied at every step: base * m^epoch (LambdaLR with lambda e: m ** e).
static LrFn lrLambdaLr(Call& c, const LambdaArgs& a) {
  double m;
  if (Tcl_GetDoubleFromObj(nullptr, c.obj(a.lr_lambda), &m) == TCL_OK)
    return [m](double base, int64_t e) { return base * std::pow(m, double(e)); };
  auto f = factorFn(c, a.lr_lambda);
  return [f](double base, int64_t e) { return base * f(e); };
}
// MultiplicativeLR: lr(e) = lr(e-1) * f(e).
static LrFn lrMultiplicativeLr(Call& c, const LambdaArgs& a) {
  auto f = factorFn(c, a.lr_lambda);
  auto cur = std::make_shared<std::pair<int64_t, double>>(0, 0.0);
  return [f, cur](double base, int64_t e) {
    if (cur->first == 0 || e < cur->first) *cur = {0, base};
    while (cur->first < e) cur->second *= f(++cur->first);
    return cur->second;
  };
}

namespace {
struct PolynomialArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> total_iters{this, Param{"total_iters", Type::Int, "5", "epochs of the decay"}.positive()};
  Arg<Type::Double> power{this, {"power", Type::Double, "1.0", "exponent"}};
};
}  // namespace
static LrFn lrPolynomialLr(Call& c, const PolynomialArgs& a) {
  int64_t total = c.integer(a.total_iters);
  double power = c.number(a.power);
  return [total, power](double base, int64_t e) {
    return base * std::pow(1.0 - double(std::min(e, total)) / double(total), power);
  };
}

namespace {
struct WarmRestartsArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> t_0{this, Param{"t_0", Type::Int, nullptr, "epochs of the first cycle", "T_0"}.positive()};
  Arg<Type::Int> t_mult{this, Param{"t_mult", Type::Int, "1", "growth factor of the cycle length", "T_mult"}.positive()};
  Arg<Type::Double> eta_min{this, kEtaMin};
};
}  // namespace
static LrFn lrCosineWarmRestarts(Call& c, const WarmRestartsArgs& a) {
  int64_t t0 = c.integer(a.t_0);
  int64_t mult = c.integer(a.t_mult);
  double etaMin = c.number(a.eta_min);
  return [t0, mult, etaMin](double base, int64_t e) {
    int64_t cur = e, ti = t0;
    while (cur >= ti) {
      cur -= ti;
      ti *= mult;
    }
    return etaMin + (base - etaMin) * (1 + std::cos(M_PI * double(cur) / double(ti))) / 2;
  };
}

namespace {
struct CyclicArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Double> base_lr{this, Param{"base_lr", Type::Double, nullptr, "lower bound"}.nonNegative()};
  Arg<Type::Double> max_lr{this, Param{"max_lr", Type::Double, nullptr, "upper bound"}.nonNegative()};
  Arg<Type::Int> step_size_up{
      this, Param{"step_size_up", Type::Int, "2000", "epochs of the rising half", "step_size stepSize"}.positive()};
  Arg<Type::Choice> mode{this, {"mode", Type::Choice, "triangular", "triangular, triangular2 or exp_range", nullptr,
                                "triangular triangular2 exp_range"}};
  Arg<Type::Int> step_size_down{
      this, Param{"step_size_down", Type::Int, kOptional, "epochs of the falling half (default step_size_up)"}.positive()};
  Arg<Type::Double> gamma{this, Param{"gamma", Type::Double, "1.0", "exp_range decay per epoch"}.nonNegative()};
};
}  // namespace
// CyclicLR (PyTorch): triangular, triangular2 or exp_range between base_lr and max_lr.
static LrFn lrCyclicLr(Call& c, const CyclicArgs& a) {
  double lo = c.number(a.base_lr), hi = c.number(a.max_lr);
  double up = double(c.integer(a.step_size_up));
  double down = c.has(a.step_size_down) ? double(c.integer(a.step_size_down)) : up;
  int mode = c.choice(a.mode);
  double gamma = c.number(a.gamma);
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

namespace {
// lr_scheduler_one_cycle and lr_scheduler_onecycle_advanced.
struct OneCycleArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Double> max_lr{this, Param{"max_lr", Type::Double, nullptr, "peak learning rate"}.nonNegative()};
  Arg<Type::Int> total_steps{this, Param{"total_steps", Type::Int, nullptr, "number of steps of the cycle"}.positive()};
  Arg<Type::Double> pct_start{
      this, Param{"pct_start", Type::Double, "0.3", "fraction of the cycle spent increasing"}.within(0, 1).mustBe(
                "a number between 0 and 1")};
  Arg<Type::Choice> anneal_strategy{this, {"anneal_strategy", Type::Choice, "cos", "cos or linear", nullptr, "cos linear"}};
  Arg<Type::Double> div_factor{this, Param{"div_factor", Type::Double, "25", "initial lr = max_lr / div_factor"}.positive()};
  Arg<Type::Double> final_div_factor{
      this, Param{"final_div_factor", Type::Double, "10000", "final lr = initial lr / final_div_factor"}.positive()};
  Arg<Type::Bool> three_phase{this, {"three_phase", Type::Bool, "0", "a third phase annihilates the lr"}};
};
}  // namespace
// OneCycleLR (PyTorch, cosine or linear annealing, two or three phases).
static LrFn lrOneCycleLr(Call& c, const OneCycleArgs& a) {
  double maxLr = c.number(a.max_lr);
  int64_t total = c.integer(a.total_steps);
  double pct = c.number(a.pct_start);
  bool cosine = c.choice(a.anneal_strategy) == 0;
  double div = c.number(a.div_factor), finalDiv = c.number(a.final_div_factor);
  bool three = c.boolean(a.three_phase);
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

namespace {
struct LinearWarmupArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> num_warmup_steps{this, kWarmup};
  Arg<Type::Int> num_training_steps{
      this, Param{"num_training_steps", Type::Int, nullptr, "epoch at which the lr reaches 0", "total_steps"}.positive()};
};
struct ConstantWarmupArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> num_warmup_steps{this, kWarmup};
};
}  // namespace
// Linear warmup from 0, then linear decay to 0 at num_training_steps.
static LrFn lrLinearWarmup(Call& c, const LinearWarmupArgs& a) {
  int64_t w = c.integer(a.num_warmup_steps), t = c.integer(a.num_training_steps);
  return [w, t](double base, int64_t e) {
    if (e < w) return base * double(e) / double(std::max<int64_t>(1, w));
    return base * std::max(0.0, double(t - e) / double(std::max<int64_t>(1, t - w)));
  };
}
static LrFn lrConstantWarmup(Call& c, const ConstantWarmupArgs& a) {
  int64_t w = c.integer(a.num_warmup_steps);
  return [w](double base, int64_t e) {
    return e < w ? base * double(e) / double(std::max<int64_t>(1, w)) : base;
  };
}

namespace {
struct InverseSqrtArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> warmup_steps{
      this, Param{"warmup_steps", Type::Int, "0", "epochs of linear warmup", "num_warmup_steps"}.nonNegative()};
  Arg<Type::Double> decay_factor{this, Param{"decay_factor", Type::Double, "1.0", "scales the whole schedule"}.positive()};
};
}  // namespace
// Linear warmup, then base * sqrt(warmup / epoch).
static LrFn lrInverseSqrt(Call& c, const InverseSqrtArgs& a) {
  int64_t w = c.integer(a.warmup_steps);
  double d = c.number(a.decay_factor);
  return [w, d](double base, int64_t e) {
    if (e < w) return base * d * double(e) / double(w);
    return base * d * std::sqrt(double(std::max<int64_t>(w, 1)) / double(std::max<int64_t>(e, 1)));
  };
}

namespace {
struct NoamArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Int> model_size{this, Param{"model_size", Type::Int, nullptr, "model dimension d_model"}.positive()};
  Arg<Type::Int> warmup_steps{this, Param{"warmup_steps", Type::Int, "4000", "epochs of warmup"}.positive()};
  Arg<Type::Double> factor{this, Param{"factor", Type::Double, "1.0", "scale"}.nonNegative()};
};
}  // namespace
// Noam (Attention Is All You Need): base * factor * d^-0.5 * min(s^-0.5, s * warmup^-1.5), s = max(epoch, 1).
static LrFn lrNoam(Call& c, const NoamArgs& a) {
  double d = double(c.integer(a.model_size));
  double w = double(c.integer(a.warmup_steps));
  double factor = c.number(a.factor);
  return [d, w, factor](double base, int64_t e) {
    double s = double(std::max<int64_t>(e, 1));
    return base * factor * std::pow(d, -0.5) * std::min(std::pow(s, -0.5), s * std::pow(w, -1.5));
  };
}

namespace {
struct PlateauArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Choice> mode{this, {"mode", Type::Choice, "min", "min: the metric should fall; max: rise", nullptr, "min max"}};
  Arg<Type::Double> factor{
      this, Param{"factor", Type::Double, "0.1", "lr multiplier on a plateau"}.strictlyWithin(0, 1).mustBe(
                "a number between 0 and 1 (exclusive)")};
  Arg<Type::Int> patience{
      this, Param{"patience", Type::Int, "10", "epochs without improvement before reducing"}.nonNegative()};
  Arg<Type::Double> threshold{
      this, Param{"threshold", Type::Double, "1e-4", "smallest change counted as an improvement"}.nonNegative()};
  Arg<Type::Choice> threshold_mode{
      this, {"threshold_mode", Type::Choice, "rel", "rel (relative) or abs", nullptr, "rel abs"}};
  Arg<Type::Double> min_lr{this, Param{"min_lr", Type::Double, "0", "lowest learning rate"}.nonNegative()};
  Arg<Type::Int> cooldown{this, Param{"cooldown", Type::Int, "0", "epochs to wait after a reduction"}.nonNegative()};
  Arg<Type::Double> eps{
      this, Param{"eps", Type::Double, "1e-8", "smallest change of the lr that is applied"}.nonNegative()};
};
}  // namespace
// ReduceLROnPlateau (PyTorch): lr *= factor after `patience` epochs without improvement.
static Tcl_Obj* cmdPlateau(Call& c, const PlateauArgs& a) {
  bool maxMode = c.choice(a.mode) == 1, absMode = c.choice(a.threshold_mode) == 1;
  double factor = c.number(a.factor);
  int64_t patience = c.integer(a.patience), cooldown = c.integer(a.cooldown);
  double threshold = c.number(a.threshold), minLr = c.number(a.min_lr), eps = c.number(a.eps);
  auto s = makeScheduler(c, a.optimizer, nullptr);
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
static std::shared_ptr<SchedulerObj> schedArg(Call& c, const Arg<Type::Scheduler>& k) {
  return typedObject<SchedulerObj>(c, k, "scheduler");
}

namespace {
struct SchedStepArgs : Args {
  Arg<Type::Scheduler> scheduler{this, kSched};
  Arg<Type::Double> metric{this, {"metric", Type::Double, kOptional, "the monitored value (reduce on plateau)"}};
};
struct SchedArgs : Args {
  Arg<Type::Scheduler> scheduler{this, kSched};
};
}  // namespace

static Tcl_Obj* cmdSchedulerStep(Call& c, const SchedStepArgs& a) {
  auto s = schedArg(c, a.scheduler);
  ++s->epoch;
  if (s->onMetric) {
    if (!c.has(a.metric))
      fail("this scheduler (reduce on plateau) needs -metric", {"ARGS", "MISSING", "metric"});
    return Tcl_NewDoubleObj(s->onMetric(c.number(a.metric)));
  }
  double lr = s->lr(s->base, s->epoch);
  setLr(*s->opt->opt, lr);
  return Tcl_NewDoubleObj(lr);
}

static Tcl_Obj* cmdSchedulerLr(Call& c, const SchedArgs& a) { return Tcl_NewDoubleObj(currentLr(*schedArg(c, a.scheduler))); }

// The handler of an epoch-driven row: its maker's argument struct is the row's.
template <class F> struct MakerArgs;
template <class A> struct MakerArgs<LrFn (*)(Call&, const A&)> { using type = A; };
template <auto Make>
static Tcl_Obj* cmdSched(Call& c, const typename MakerArgs<decltype(Make)>::type& a) {
  return newScheduler(c, a.optimizer, Make(c, a));
}

// One handler for the family, each row with its maker.
static void addScheds(std::vector<Command>& out) {
  auto oneCycle = std::make_shared<const OneCycleArgs>();
  out.insert(out.end(), {
      typedRow<cmdSched<lrStepLr>>("lr_scheduler_step", "Step decay: lr = base_lr * gamma^floor(epoch / step_size)."),
      typedRow<cmdSched<lrCosineLr>>("lr_scheduler_cosine",
                                     "Cosine annealing: lr = eta_min + (base_lr - eta_min)(1 + cos(pi epoch / t_max)) / 2."),
      typedRow<cmdSched<lrExponentialLr>>("lr_scheduler_exponential", "Exponential decay: lr = base_lr * gamma^epoch."),
      typedRow<cmdSched<lrExponentialDecayLr>>("lr_scheduler_exponential_decay",
                                               "lr = base_lr * decay_rate^(epoch / decay_steps) (floored with staircase)."),
      typedRow<cmdSched<lrMultiStepLr>>("lr_scheduler_multi_step", "lr = base_lr * gamma^(number of milestones <= epoch)."),
      typedRow<cmdSched<lrLambdaLr>>(
          "lr_scheduler_lambda",
          "lr = base_lr * f(epoch), f a command prefix called with the epoch; or lr = base_lr * m^epoch, m a number "
          "(the multiplier applied at every step).",
          std::make_shared<const LambdaArgs>(kLambdaMultiplier)),
      typedRow<cmdSched<lrMultiplicativeLr>>("lr_scheduler_multiplicative",
                                             "lr(epoch) = lr(epoch - 1) * f(epoch): f a number or a command prefix."),
      typedRow<cmdSched<lrPolynomialLr>>("lr_scheduler_polynomial",
                                         "lr = base_lr * (1 - min(epoch, total_iters) / total_iters)^power."),
      typedRow<cmdSched<lrCosineWarmRestarts>>("lr_scheduler_cosine_annealing_warm_restarts",
                                               "Cosine annealing restarted after T_0, T_0 T_mult, ... epochs."),
      typedRow<cmdSched<lrCyclicLr>>("lr_scheduler_cyclic",
                                     "Cyclical lr between base_lr and max_lr (triangular, triangular2 or exp_range)."),
      typedRow<cmdSched<lrOneCycleLr>>("lr_scheduler_one_cycle", "One-cycle policy (PyTorch OneCycleLR).", oneCycle),
      typedRow<cmdSched<lrOneCycleLr>>("lr_scheduler_onecycle_advanced", "One-cycle policy (PyTorch OneCycleLR).", oneCycle),
      typedRow<cmdSched<lrLinearWarmup>>("lr_scheduler_linear_with_warmup",
                                         "Linear warmup from 0 to base_lr, then linear decay to 0 at num_training_steps."),
      typedRow<cmdSched<lrConstantWarmup>>("lr_scheduler_constant_with_warmup",
                                           "Linear warmup from 0 to base_lr, then constant."),
      typedRow<cmdSched<lrInverseSqrt>>("lr_scheduler_inverse_sqrt",
                                        "Linear warmup, then base_lr * sqrt(warmup_steps / epoch), all times decay_factor."),
      typedRow<cmdSched<lrNoam>>("lr_scheduler_noam",
                                 "Noam: base_lr * factor * model_size^-0.5 * min(s^-0.5, s * warmup_steps^-1.5)."),
  });
}

std::vector<Command> schedulerCommands() {
  std::vector<Command> out = {
      typedRow<cmdPlateau>("lr_scheduler_reduce_on_plateau",
                           "Multiply the lr by factor when a metric stops improving (step with -metric)."),
      typedRow<cmdSchedulerStep>("lr_scheduler_step_update",
                                 "Advance a scheduler by one epoch, set the optimizer's lr and return it."),
      typedRow<cmdSchedulerLr>("get_lr_advanced", "The current learning rate of a scheduler's optimizer."),
  };
  addScheds(out);
  return out;
}

}  // namespace tcltorch
