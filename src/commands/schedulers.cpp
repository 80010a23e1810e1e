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

static std::shared_ptr<SchedulerObj> makeScheduler(Call& c, LrFn lr) {
  auto s = std::make_shared<SchedulerObj>();
  s->opt = optArg(c);
  s->base = s->opt->opt->param_groups().at(0).options().get_lr();
  s->lr = std::move(lr);
  std::string name = c.info.cmd->name;  // lr_scheduler_step -> step_scheduler
  if (name.rfind("lr_scheduler_", 0) == 0) s->prefix = name.substr(13) + "_scheduler";
  return s;
}
// The optimizer's lr becomes lr(base, 0) at creation, as PyTorch's schedulers
// do (it stays the base lr for most; warmups, cycles and lambdas start elsewhere).
static Tcl_Obj* newScheduler(Call& c, LrFn lr) {
  auto s = makeScheduler(c, std::move(lr));
  setLr(*s->opt->opt, s->lr(s->base, 0));
  return c.result(Kind::Scheduler, s);
}

static LrFn lrStepLr(Call& c) {
  int64_t step = c.integer("step_size");
  double gamma = c.number("gamma");
  return [step, gamma](double base, int64_t e) {
    return base * std::pow(gamma, double(e / step));
  };
}

static LrFn lrCosineLr(Call& c) {
  int64_t tmax = c.integer("t_max");
  double etaMin = c.number("eta_min");
  return [tmax, etaMin](double base, int64_t e) {
    return etaMin + (base - etaMin) * (1 + std::cos(M_PI * double(e) / double(tmax))) / 2;
  };
}

static LrFn lrExponentialLr(Call& c) {
  double gamma = c.number("gamma");
  return [gamma](double base, int64_t e) { return base * std::pow(gamma, double(e)); };
}

// TensorFlow's exponential decay: base * rate^(epoch / decay_steps), floored with staircase.
static LrFn lrExponentialDecayLr(Call& c) {
  double rate = c.number("decay_rate");
  int64_t steps = c.integer("decay_steps");
  bool stair = c.boolean("staircase");
  return [rate, steps, stair](double base, int64_t e) {
    double p = stair ? double(e / steps) : double(e) / double(steps);
    return base * std::pow(rate, p);
  };
}

static LrFn lrMultiStepLr(Call& c) {
  std::vector<int64_t> ms = c.ints("milestones");
  std::sort(ms.begin(), ms.end());
  double gamma = c.number("gamma");
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

// LambdaLR: base * f(epoch). A number m is the other API's multiplier,
// applied at every step: base * m^epoch (LambdaLR with lambda e: m ** e).
static LrFn lrLambdaLr(Call& c) {
  double m;
  if (Tcl_GetDoubleFromObj(nullptr, c.obj("lr_lambda"), &m) == TCL_OK)
    return [m](double base, int64_t e) { return base * std::pow(m, double(e)); };
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
  int64_t total = c.integer("total_iters");
  double power = c.number("power");
  return [total, power](double base, int64_t e) {
    return base * std::pow(1.0 - double(std::min(e, total)) / double(total), power);
  };
}

static LrFn lrCosineWarmRestarts(Call& c) {
  int64_t t0 = c.integer("t_0");
  int64_t mult = c.integer("t_mult");
  double etaMin = c.number("eta_min");
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
  double lo = c.number("base_lr"), hi = c.number("max_lr");
  double up = double(c.integer("step_size_up"));
  double down = c.has("step_size_down") ? double(c.integer("step_size_down")) : up;
  int mode = c.choice("mode");
  double gamma = c.number("gamma");
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
  double maxLr = c.number("max_lr");
  int64_t total = c.integer("total_steps");
  double pct = c.number("pct_start");
  bool cosine = c.choice("anneal_strategy") == 0;
  double div = c.number("div_factor"), finalDiv = c.number("final_div_factor");
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
  int64_t w = c.integer("num_warmup_steps"), t = c.integer("num_training_steps");
  return [w, t](double base, int64_t e) {
    if (e < w) return base * double(e) / double(std::max<int64_t>(1, w));
    return base * std::max(0.0, double(t - e) / double(std::max<int64_t>(1, t - w)));
  };
}
static LrFn lrConstantWarmup(Call& c) {
  int64_t w = c.integer("num_warmup_steps");
  return [w](double base, int64_t e) {
    return e < w ? base * double(e) / double(std::max<int64_t>(1, w)) : base;
  };
}
// Linear warmup, then base * sqrt(warmup / epoch).
static LrFn lrInverseSqrt(Call& c) {
  int64_t w = c.integer("warmup_steps");
  double d = c.number("decay_factor");
  return [w, d](double base, int64_t e) {
    if (e < w) return base * d * double(e) / double(w);
    return base * d * std::sqrt(double(std::max<int64_t>(w, 1)) / double(std::max<int64_t>(e, 1)));
  };
}
// Noam (Attention Is All You Need): base * factor * d^-0.5 * min(s^-0.5, s * warmup^-1.5), s = max(epoch, 1).
static LrFn lrNoam(Call& c) {
  double d = double(c.integer("model_size"));
  double w = double(c.integer("warmup_steps"));
  double factor = c.number("factor");
  return [d, w, factor](double base, int64_t e) {
    double s = double(std::max<int64_t>(e, 1));
    return base * factor * std::pow(d, -0.5) * std::min(std::pow(s, -0.5), s * std::pow(w, -1.5));
  };
}

// ReduceLROnPlateau (PyTorch): lr *= factor after `patience` epochs without improvement.
static Tcl_Obj* cmdPlateau(Call& c) {
  bool maxMode = c.choice("mode") == 1, absMode = c.choice("threshold_mode") == 1;
  double factor = c.number("factor");
  int64_t patience = c.integer("patience"), cooldown = c.integer("cooldown");
  double threshold = c.number("threshold"), minLr = c.number("min_lr"), eps = c.number("eps");
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

static const Param kSched{"scheduler", Type::Scheduler, nullptr, "scheduler handle", "handle"};
static const Param kGamma = Param{"gamma", Type::Double, "0.1", "decay factor"}.nonNegative();
static const Param kEtaMin = Param{"eta_min", Type::Double, "0", "lowest learning rate"}.nonNegative();
static const Param kLrLambda{"lr_lambda", Type::CommandWords, nullptr,
                             "a factor, or a command prefix called with the epoch that returns one",
                             "multiplier factor"};
static const Param kWarmup = Param{"num_warmup_steps", Type::Int, nullptr, "epochs of linear warmup from 0",
                                   "warmup_steps warmupSteps"}.nonNegative();

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
    kOpt, Param{"max_lr", Type::Double, nullptr, "peak learning rate"}.nonNegative(),
    Param{"total_steps", Type::Int, nullptr, "number of steps of the cycle"}.positive(),
    Param{"pct_start", Type::Double, "0.3", "fraction of the cycle spent increasing"}.within(0, 1).mustBe(
        "a number between 0 and 1"),
    {"anneal_strategy", Type::Choice, "cos", "cos or linear", nullptr, "cos linear"},
    Param{"div_factor", Type::Double, "25", "initial lr = max_lr / div_factor"}.positive(),
    Param{"final_div_factor", Type::Double, "10000", "final lr = initial lr / final_div_factor"}.positive(),
    {"three_phase", Type::Bool, "0", "a third phase annihilates the lr"}};

static const std::vector<SchedSpec>& schedSpecs() {
  static const std::vector<SchedSpec> specs = {
      {"lr_scheduler_step", "Step decay: lr = base_lr * gamma^floor(epoch / step_size).",
       {kOpt, Param{"step_size", Type::Int, nullptr, "epochs between decays"}.positive(), kGamma}, lrStepLr},
      {"lr_scheduler_cosine", "Cosine annealing: lr = eta_min + (base_lr - eta_min)(1 + cos(pi epoch / t_max)) / 2.",
       {kOpt, Param{"t_max", Type::Int, nullptr, "epochs of one half cosine", "T_max"}.positive(), kEtaMin}, lrCosineLr},
      {"lr_scheduler_exponential", "Exponential decay: lr = base_lr * gamma^epoch.",
       {kOpt, Param{"gamma", Type::Double, "0.95", "decay factor per epoch", "decay"}.nonNegative()}, lrExponentialLr},
      {"lr_scheduler_exponential_decay", "lr = base_lr * decay_rate^(epoch / decay_steps) (floored with staircase).",
       {kOpt, Param{"decay_rate", Type::Double, "0.96", "decay per decay_steps epochs", "gamma"}.nonNegative(),
        Param{"decay_steps", Type::Int, "1", "epochs per decay_rate"}.positive(), {"staircase", Type::Bool, "0", "decay in steps"}},
       lrExponentialDecayLr},
      {"lr_scheduler_multi_step", "lr = base_lr * gamma^(number of milestones <= epoch).",
       {kOpt, {"milestones", Type::IntList, nullptr, "epochs at which to decay"}, kGamma}, lrMultiStepLr},
      {"lr_scheduler_lambda",
       "lr = base_lr * f(epoch), f a command prefix called with the epoch; or lr = base_lr * m^epoch, m a number "
       "(the multiplier applied at every step).",
       {kOpt, Param{"lr_lambda", Type::CommandWords, "1.0",
                    "a multiplier, or a command prefix called with the epoch that returns the factor",
                    "multiplier factor lambda"}},
       lrLambdaLr},
      {"lr_scheduler_multiplicative", "lr(epoch) = lr(epoch - 1) * f(epoch): f a number or a command prefix.",
       {kOpt, kLrLambda}, lrMultiplicativeLr},
      {"lr_scheduler_polynomial", "lr = base_lr * (1 - min(epoch, total_iters) / total_iters)^power.",
       {kOpt, Param{"total_iters", Type::Int, "5", "epochs of the decay"}.positive(), {"power", Type::Double, "1.0", "exponent"}},
       lrPolynomialLr},
      {"lr_scheduler_cosine_annealing_warm_restarts", "Cosine annealing restarted after T_0, T_0 T_mult, ... epochs.",
       {kOpt, Param{"t_0", Type::Int, nullptr, "epochs of the first cycle", "T_0"}.positive(),
        Param{"t_mult", Type::Int, "1", "growth factor of the cycle length", "T_mult"}.positive(), kEtaMin},
       lrCosineWarmRestarts},
      {"lr_scheduler_cyclic", "Cyclical lr between base_lr and max_lr (triangular, triangular2 or exp_range).",
       {kOpt, Param{"base_lr", Type::Double, nullptr, "lower bound"}.nonNegative(),
        Param{"max_lr", Type::Double, nullptr, "upper bound"}.nonNegative(),
        Param{"step_size_up", Type::Int, "2000", "epochs of the rising half", "step_size stepSize"}.positive(),
        {"mode", Type::Choice, "triangular", "triangular, triangular2 or exp_range", nullptr,
         "triangular triangular2 exp_range"},
        Param{"step_size_down", Type::Int, kOptional, "epochs of the falling half (default step_size_up)"}.positive(),
        Param{"gamma", Type::Double, "1.0", "exp_range decay per epoch"}.nonNegative()},
       lrCyclicLr},
      {"lr_scheduler_one_cycle", "One-cycle policy (PyTorch OneCycleLR).", {std::begin(kOneCycle), std::end(kOneCycle)},
       lrOneCycleLr},
      {"lr_scheduler_onecycle_advanced", "One-cycle policy (PyTorch OneCycleLR).",
       {std::begin(kOneCycle), std::end(kOneCycle)}, lrOneCycleLr},
      {"lr_scheduler_linear_with_warmup", "Linear warmup from 0 to base_lr, then linear decay to 0 at num_training_steps.",
       {kOpt, kWarmup,
        Param{"num_training_steps", Type::Int, nullptr, "epoch at which the lr reaches 0", "total_steps"}.positive()},
       lrLinearWarmup},
      {"lr_scheduler_constant_with_warmup", "Linear warmup from 0 to base_lr, then constant.", {kOpt, kWarmup},
       lrConstantWarmup},
      {"lr_scheduler_inverse_sqrt", "Linear warmup, then base_lr * sqrt(warmup_steps / epoch), all times decay_factor.",
       {kOpt, Param{"warmup_steps", Type::Int, "0", "epochs of linear warmup", "num_warmup_steps"}.nonNegative(),
        Param{"decay_factor", Type::Double, "1.0", "scales the whole schedule"}.positive()},
       lrInverseSqrt},
      {"lr_scheduler_noam", "Noam: base_lr * factor * model_size^-0.5 * min(s^-0.5, s * warmup_steps^-1.5).",
       {kOpt, Param{"model_size", Type::Int, nullptr, "model dimension d_model"}.positive(),
        Param{"warmup_steps", Type::Int, "4000", "epochs of warmup"}.positive(),
        Param{"factor", Type::Double, "1.0", "scale"}.nonNegative()},
       lrNoam},
  };
  return specs;
}

static Tcl_Obj* cmdSched(Call& c) { return newScheduler(c, c.data<SchedSpec>().make(c)); }

// One handler for the family, each row carrying its spec.
static void addScheds(std::vector<Command>& out) {
  for (const SchedSpec& s : schedSpecs()) out.push_back(Command{s.name, s.doc, s.params, cmdSched}.withData(&s));
}

std::vector<Command> schedulerCommands() {
  const Param plateau[] = {
      kOpt, {"mode", Type::Choice, "min", "min: the metric should fall; max: rise", nullptr, "min max"},
      Param{"factor", Type::Double, "0.1", "lr multiplier on a plateau"}.strictlyWithin(0, 1).mustBe(
          "a number between 0 and 1 (exclusive)"),
      Param{"patience", Type::Int, "10", "epochs without improvement before reducing"}.nonNegative(),
      Param{"threshold", Type::Double, "1e-4", "smallest change counted as an improvement"}.nonNegative(),
      {"threshold_mode", Type::Choice, "rel", "rel (relative) or abs", nullptr, "rel abs"},
      Param{"min_lr", Type::Double, "0", "lowest learning rate"}.nonNegative(),
      Param{"cooldown", Type::Int, "0", "epochs to wait after a reduction"}.nonNegative(),
      Param{"eps", Type::Double, "1e-8", "smallest change of the lr that is applied"}.nonNegative()};
  std::vector<Command> out = {
      {"lr_scheduler_reduce_on_plateau", "Multiply the lr by factor when a metric stops improving (step with -metric).",
       {std::begin(plateau), std::end(plateau)}, cmdPlateau},
      {"lr_scheduler_step_update", "Advance a scheduler by one epoch, set the optimizer's lr and return it.",
       {kSched, {"metric", Type::Double, kOptional, "the monitored value (reduce on plateau)"}}, cmdSchedulerStep},
      {"get_lr_advanced", "The current learning rate of a scheduler's optimizer.", {kSched}, cmdSchedulerLr},
  };
  addScheds(out);
  return out;
}

}  // namespace tcltorch
