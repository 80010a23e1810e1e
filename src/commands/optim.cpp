// Optimizers, learning-rate schedulers and optimizer checkpoints.
#include "tcltorch/commands.h"
#include "tcltorch/nn.h"
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

static Tcl_Obj* cmdStep(Call& c) {
  at::NoGradGuard ng;  // also correct when called inside tensor code that records grad
  optArg(c)->opt->step();
  return nullptr;
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

struct SchedulerObj : Object {
  std::shared_ptr<OptimizerObj> opt;
  double base;
  int64_t epoch = 0;
  std::function<double(double base, int64_t epoch)> lr;
};

static Tcl_Obj* newScheduler(Call& c, std::function<double(double, int64_t)> lr) {
  auto s = std::make_shared<SchedulerObj>();
  s->opt = optArg(c);
  s->base = s->opt->opt->param_groups().at(0).options().get_lr();
  s->lr = std::move(lr);
  return c.result(Kind::Scheduler, s);
}

static Tcl_Obj* cmdStepLr(Call& c) {
  int64_t step = c.integer("step_size");
  if (step <= 0) c.badValue("step_size", "a positive integer");
  double gamma = nonNegative(c, "gamma");
  return newScheduler(c, [step, gamma](double base, int64_t e) {
    return base * std::pow(gamma, double(e / step));
  });
}

static Tcl_Obj* cmdCosineLr(Call& c) {
  int64_t tmax = c.integer("t_max");
  if (tmax <= 0) c.badValue("t_max", "a positive integer");
  double etaMin = nonNegative(c, "eta_min");
  return newScheduler(c, [tmax, etaMin](double base, int64_t e) {
    return etaMin + (base - etaMin) * (1 + std::cos(M_PI * double(e) / double(tmax))) / 2;
  });
}

static Tcl_Obj* cmdSchedulerStep(Call& c) {
  auto s = c.object<SchedulerObj>("scheduler");
  double lr = s->lr(s->base, ++s->epoch);
  setLr(*s->opt->opt, lr);
  return Tcl_NewDoubleObj(lr);
}

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

static const Param kOpt{"optimizer", Type::Optimizer, nullptr, "optimizer handle"};
static const Param kParams{"params", Type::TensorsOrModule, nullptr, "list of parameter handles, or a module handle"};
static const Param kWd{"weight_decay", Type::Double, "0", "L2 penalty"};
// Adam and AdamW share everything but the weight decay's meaning and default.
static const Param kAdamLr{"lr", Type::Double, "0.001", "learning rate"};
static const Param kBeta1{"beta1", Type::Double, "0.9", "decay of the first moment"};
static const Param kBeta2{"beta2", Type::Double, "0.999", "decay of the second moment"};
static const Param kAdamEps{"eps", Type::Double, "1e-8", "added to the denominator"};
static const Param kAmsgrad{"amsgrad", Type::Bool, "0", "AMSGrad variant"};

std::vector<Command> optimCommands() {
  return {
      {"optimizer_sgd", "Stochastic gradient descent (with momentum, dampening, Nesterov) over parameters.",
       {kParams, {"lr", Type::Double, nullptr, "learning rate"},
        {"momentum", Type::Double, "0", "momentum factor"},
        {"dampening", Type::Double, "0", "dampening for momentum"}, kWd,
        {"nesterov", Type::Bool, "0", "Nesterov momentum"}},
       cmdSgd},
      {"optimizer_adam", "Adam optimizer.",
       {kParams, kAdamLr, kBeta1, kBeta2, kAdamEps, kWd, kAmsgrad},
       cmdAdam},
      {"optimizer_adamw", "AdamW optimizer (decoupled weight decay).",
       {kParams, kAdamLr, kBeta1, kBeta2, kAdamEps,
        {"weight_decay", Type::Double, "0.01", "decoupled weight decay"}, kAmsgrad},
       cmdAdamW},
      {"optimizer_rmsprop", "RMSprop optimizer.",
       {kParams, {"lr", Type::Double, "0.01", "learning rate"},
        {"alpha", Type::Double, "0.99", "smoothing constant"},
        {"eps", Type::Double, "1e-8", "added to the denominator"}, kWd,
        {"momentum", Type::Double, "0", "momentum factor"},
        {"centered", Type::Bool, "0", "normalise by the estimated variance of the gradient"}},
       cmdRmsprop},
      {"optimizer_step", "One optimization step from the parameters' current gradients.", {kOpt}, cmdStep},
      {"optimizer_zero_grad", "Zero (or drop) the gradients of the optimizer's parameters.",
       {kOpt, {"set_to_none", Type::Bool, "0", "drop the gradients instead of zeroing them"}}, cmdZeroGrad},
      {"optimizer_get_lr", "Learning rate (of the first parameter group).", {kOpt}, cmdGetLr},
      {"optimizer_set_lr", "Set the learning rate of every parameter group.",
       {kOpt, {"lr", Type::Double, nullptr, "learning rate"}}, cmdSetLr},
      {"clip_grad_norm", "Scale gradients so their total norm is at most max_norm; returns the norm before clipping.",
       {kParams, {"max_norm", Type::Double, nullptr, "largest allowed total norm"},
        {"norm_type", Type::Double, "2", "p of the p-norm (inf for the largest absolute value)"}},
       cmdClipGradNorm},
      {"lr_scheduler_step", "Step decay: lr = base_lr * gamma^floor(epoch / step_size).",
       {kOpt, {"step_size", Type::Int, nullptr, "epochs between decays"},
        {"gamma", Type::Double, "0.1", "decay factor"}},
       cmdStepLr},
      {"lr_scheduler_cosine", "Cosine annealing: lr = eta_min + (base_lr - eta_min)(1 + cos(pi epoch / t_max)) / 2.",
       {kOpt, {"t_max", Type::Int, nullptr, "epochs of one half cosine"},
        {"eta_min", Type::Double, "0", "lowest learning rate"}},
       cmdCosineLr},
      {"lr_scheduler_step_update", "Advance a scheduler by one epoch, set the optimizer's lr and return it.",
       {{"scheduler", Type::Scheduler, nullptr, "scheduler handle"}}, cmdSchedulerStep},
      {"optimizer_save", "Save an optimizer's state (moments, step counts, options) to a file.",
       {kOpt, {"file", Type::Path, nullptr, "file path"}}, cmdOptSave},
      {"optimizer_load", "Load optimizer state saved by optimizer_save for the same parameters.",
       {kOpt, {"file", Type::Path, nullptr, "file path"}}, cmdOptLoad},
  };
}

}  // namespace tcltorch
