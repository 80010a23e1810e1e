// Optimizers (libtorch's own), their step, gradients and learning rate, and
// optimizer checkpoints. Learning-rate schedulers are in schedulers.cpp.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include "tcltorch/optim_family.h"
#include "tcltorch/parallel.h"
#include <algorithm>
#include <cmath>

namespace tcltorch {

namespace optim = torch::optim;

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

static const Param& kParams = kOptParams;
static const Param kWd = Param{"weight_decay", Type::Double, "0", "L2 penalty"}.nonNegative();
static const Param kSgdLr = Param{"lr", Type::Double, nullptr, "learning rate", kLrAliases}.nonNegative();
static const Param kDampening{"dampening", Type::Double, "0", "dampening for momentum"};
static const Param kNesterov{"nesterov", Type::Bool, "0", "Nesterov momentum"};
// Adam and AdamW share everything but the weight decay's meaning, default and position.
static const Param kAdamLr = Param{"lr", Type::Double, "0.001", "learning rate", kLrAliases}.nonNegative();
static const Param kBeta1 = Param{"beta1", Type::Double, "0.9", "decay of the first moment"}.nonNegative();
static const Param kBeta2 = Param{"beta2", Type::Double, "0.999", "decay of the second moment"}.nonNegative();
static const Param kAdamEps = Param{"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"}.nonNegative();
static const Param kAmsgrad{"amsgrad", Type::Bool, "0", "AMSGrad variant"};

namespace {
// optimizer_sgd and optimizer_momentum_sgd differ in momentum's default and in
// the order of dampening and weight_decay.
struct SgdArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};  // named "params" (Args::params is the row's list)
  Arg<Type::Double> lr{this, kSgdLr};
  Arg<Type::Double> momentum{this, Param{"momentum", Type::Double, "0", "momentum factor"}.nonNegative()};
  Arg<Type::Double> dampening{this, kDampening};
  Arg<Type::Double> weight_decay{this, kWd};
  Arg<Type::Bool> nesterov{this, kNesterov};
};
struct MomentumSgdArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> lr{this, kSgdLr};
  Arg<Type::Double> momentum{this, Param{"momentum", Type::Double, "0.9", "momentum factor"}.nonNegative()};
  Arg<Type::Double> weight_decay{this, kWd};
  Arg<Type::Double> dampening{this, kDampening};
  Arg<Type::Bool> nesterov{this, kNesterov};
};
}  // namespace

template <class A>
static Tcl_Obj* cmdSgd(Call& c, const A& a) {
  auto opts = optim::SGDOptions(c.number(a.lr))
                  .momentum(c.number(a.momentum)).dampening(c.number(a.dampening))
                  .weight_decay(c.number(a.weight_decay)).nesterov(c.boolean(a.nesterov));
  auto ps = parameterList(c, a.parameters);
  return newOptimizer(c, "sgd", [ps, opts] { return std::make_unique<optim::SGD>(ps, opts); });
}

namespace {
struct AdamArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> lr{this, kAdamLr};
  Arg<Type::Double> beta1{this, kBeta1};
  Arg<Type::Double> beta2{this, kBeta2};
  Arg<Type::Double> weight_decay{this, kWd};
  Arg<Type::Double> eps{this, kAdamEps};
  Arg<Type::Bool> amsgrad{this, kAmsgrad};
};
struct AdamWArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> lr{this, kAdamLr};
  Arg<Type::Double> weight_decay{this, Param{"weight_decay", Type::Double, "0.01", "decoupled weight decay"}.nonNegative()};
  Arg<Type::Double> beta1{this, kBeta1};
  Arg<Type::Double> beta2{this, kBeta2};
  Arg<Type::Double> eps{this, kAdamEps};
  Arg<Type::Bool> amsgrad{this, kAmsgrad};
};
}  // namespace

template <class Options, class A>
static Options adamOptions(Call& c, const A& a) {
  return Options(c.number(a.lr))
      .betas({c.number(a.beta1), c.number(a.beta2)})
      .eps(c.number(a.eps)).weight_decay(c.number(a.weight_decay)).amsgrad(c.boolean(a.amsgrad));
}

static Tcl_Obj* cmdAdam(Call& c, const AdamArgs& a) {
  auto opts = adamOptions<optim::AdamOptions>(c, a);
  auto ps = parameterList(c, a.parameters);
  return newOptimizer(c, "adam", [ps, opts] { return std::make_unique<optim::Adam>(ps, opts); });
}

static Tcl_Obj* cmdAdamW(Call& c, const AdamWArgs& a) {
  auto opts = adamOptions<optim::AdamWOptions>(c, a);
  auto ps = parameterList(c, a.parameters);
  return newOptimizer(c, "adamw", [ps, opts] { return std::make_unique<optim::AdamW>(ps, opts); });
}

namespace {
struct RmspropArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> lr{this, Param{"lr", Type::Double, "0.01", "learning rate", kLrAliases}.nonNegative()};
  Arg<Type::Double> alpha{this, Param{"alpha", Type::Double, "0.99", "smoothing constant"}.nonNegative()};
  Arg<Type::Double> eps{this, Param{"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"}.nonNegative()};
  Arg<Type::Double> weight_decay{this, kWd};
  Arg<Type::Double> momentum{this, Param{"momentum", Type::Double, "0", "momentum factor"}.nonNegative()};
  Arg<Type::Bool> centered{this, {"centered", Type::Bool, "0", "normalise by the estimated variance of the gradient"}};
};
}  // namespace

static Tcl_Obj* cmdRmsprop(Call& c, const RmspropArgs& a) {
  auto opts = optim::RMSpropOptions(c.number(a.lr))
                  .alpha(c.number(a.alpha)).eps(c.number(a.eps))
                  .weight_decay(c.number(a.weight_decay)).momentum(c.number(a.momentum))
                  .centered(c.boolean(a.centered));
  auto ps = parameterList(c, a.parameters);
  return newOptimizer(c, "rmsprop", [ps, opts] { return std::make_unique<optim::RMSprop>(ps, opts); });
}

namespace {
struct AdagradArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> lr{this, Param{"lr", Type::Double, "0.01", "learning rate", kLrAliases}.nonNegative()};
  Arg<Type::Double> lr_decay{this, Param{"lr_decay", Type::Double, "0", "learning rate decay"}.nonNegative()};
  Arg<Type::Double> weight_decay{this, kWd};
  Arg<Type::Double> initial_accumulator_value{
      this, Param{"initial_accumulator_value", Type::Double, "0", "starting value of the sums"}.nonNegative()};
  Arg<Type::Double> eps{this, Param{"eps", Type::Double, "1e-10", "added to the denominator", "epsilon"}.nonNegative()};
};
}  // namespace

static Tcl_Obj* cmdAdagrad(Call& c, const AdagradArgs& a) {
  auto opts = optim::AdagradOptions(c.number(a.lr))
                  .lr_decay(c.number(a.lr_decay)).weight_decay(c.number(a.weight_decay))
                  .initial_accumulator_value(c.number(a.initial_accumulator_value)).eps(c.number(a.eps));
  auto ps = parameterList(c, a.parameters);
  return newOptimizer(c, "adagrad", [ps, opts] { return std::make_unique<optim::Adagrad>(ps, opts); });
}

namespace {
struct LbfgsArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> lr{this, Param{"lr", Type::Double, "1", "learning rate", kLrAliases}.nonNegative()};
  Arg<Type::Int> max_iter{this, Param{"max_iter", Type::Int, "20", "iterations per step"}.positive()};
  Arg<Type::Int> max_eval{this, {"max_eval", Type::Int, kOptional, "function evaluations per step (default max_iter * 5 / 4)"}};
  Arg<Type::Double> tolerance_grad{
      this, Param{"tolerance_grad", Type::Double, "1e-7", "first-order optimality tolerance"}.nonNegative()};
  Arg<Type::Double> tolerance_change{
      this, Param{"tolerance_change", Type::Double, "1e-9", "tolerance on function value and parameter changes"}
                .nonNegative()};
  Arg<Type::Int> history_size{this, Param{"history_size", Type::Int, "100", "update history size"}.positive()};
  Arg<Type::Choice> line_search_fn{
      this, {"line_search_fn", Type::Choice, "none", "none or strong_wolfe", nullptr, "none strong_wolfe"}};
};
}  // namespace

static Tcl_Obj* cmdLbfgs(Call& c, const LbfgsArgs& a) {
  auto opts = optim::LBFGSOptions(c.number(a.lr)).max_iter(c.integer(a.max_iter))
                  .tolerance_grad(c.number(a.tolerance_grad)).tolerance_change(c.number(a.tolerance_change))
                  .history_size(c.integer(a.history_size));
  if (c.has(a.max_eval)) opts.max_eval(c.integer(a.max_eval));
  if (c.choice(a.line_search_fn) == 1) opts.line_search_fn("strong_wolfe");
  auto ps = parameterList(c, a.parameters);
  return newOptimizer(c, "lbfgs", [ps, opts] { return std::make_unique<optim::LBFGS>(ps, opts); });
}

namespace {
struct StepArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Script> closure{this, {"closure", Type::Script, kOptional,
                                   "script that zeroes the gradients, computes the loss, calls backward and returns the loss"}};
};
}  // namespace

// With -closure, the script is run (with grad on) whenever the optimizer needs
// the loss: it zeroes the gradients, computes the loss, calls backward and
// returns the loss handle. LBFGS needs it. Returns the loss's value then.
static Tcl_Obj* cmdStep(Call& c, const StepArgs& a) {
  auto o = optArg(c, a.optimizer);
  if (!c.has(a.closure)) {
    if (o->type == "lbfgs") fail("optimizer_step on an lbfgs optimizer needs -closure", {"ARGS", "MISSING", "closure"});
    at::NoGradGuard ng;  // also correct when called inside tensor code that records grad
    o->opt->step();
    return nullptr;
  }
  Tcl_Obj* script = c.obj(a.closure);
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

namespace {
struct ZeroGradArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Bool> set_to_none{this, {"set_to_none", Type::Bool, "0", "drop the gradients instead of zeroing them"}};
};
}  // namespace

static Tcl_Obj* cmdZeroGrad(Call& c, const ZeroGradArgs& a) {
  bool none = c.boolean(a.set_to_none);
  for (auto& g : optArg(c, a.optimizer)->opt->param_groups())
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

namespace {
struct OptArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
};
struct SetLrArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Double> lr{this, Param{"lr", Type::Double, nullptr, "learning rate", kLrAliases}.nonNegative()};
};
}  // namespace

static Tcl_Obj* cmdGetLr(Call& c, const OptArgs& a) {
  return Tcl_NewDoubleObj(optArg(c, a.optimizer)->opt->param_groups().at(0).options().get_lr());
}

static Tcl_Obj* cmdSetLr(Call& c, const SetLrArgs& a) {
  setLr(*optArg(c, a.optimizer)->opt, c.number(a.lr));
  return nullptr;
}

namespace {
struct ClipArgs : Args {
  Arg<Type::TensorsOrModule> parameters{this, kParams};
  Arg<Type::Double> max_norm{this, Param{"max_norm", Type::Double, nullptr, "largest allowed total norm"}.nonNegative()};
  Arg<Type::Double> norm_type{this, {"norm_type", Type::Double, "2", "p of the p-norm (inf for the largest absolute value)"}};
};
}  // namespace

// Scales all gradients together so that their total norm is at most max_norm.
static Tcl_Obj* cmdClipGradNorm(Call& c, const ClipArgs& a) {
  double maxNorm = c.number(a.max_norm);
  return Tcl_NewDoubleObj(clipGradNorm(c.st, parameterList(c, a.parameters), maxNorm, c.number(a.norm_type)));
}

// ---- checkpoints ----

namespace {
struct OptFileArgs : Args {
  Arg<Type::Optimizer> optimizer{this, kOpt};
  Arg<Type::Path> file{this, {"file", Type::Path, nullptr, "file path", "filename"}};
};
}  // namespace

static Tcl_Obj* cmdOptSave(Call& c, const OptFileArgs& a) {
  auto o = optArg(c, a.optimizer);
  saveAtomically(c.str(a.file), [&](const std::string& tmp) { torch::save(*o->opt, tmp); });
  return nullptr;
}

static Tcl_Obj* cmdOptLoad(Call& c, const OptFileArgs& a) {
  auto o = optArg(c, a.optimizer);
  std::string path = c.str(a.file);
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

std::vector<Command> optimCommands() {
  std::vector<Command> out = {
      typedRow<cmdSgd<SgdArgs>>("optimizer_sgd",
                                "Stochastic gradient descent (with momentum, dampening, Nesterov) over parameters."),
      typedRow<cmdSgd<MomentumSgdArgs>>("optimizer_momentum_sgd", "SGD with momentum (0.9 unless given)."),
      typedRow<cmdAdam>("optimizer_adam", "Adam optimizer."),
      typedRow<cmdAdamW>("optimizer_adamw", "AdamW optimizer (decoupled weight decay)."),
      typedRow<cmdRmsprop>("optimizer_rmsprop", "RMSprop optimizer."),
      typedRow<cmdAdagrad>("optimizer_adagrad", "Adagrad: per-element learning rates from the sum of squared gradients."),
      typedRow<cmdLbfgs>("optimizer_lbfgs", "L-BFGS (needs optimizer_step -closure)."),
      typedRow<cmdStep>("optimizer_step", "One optimization step from the parameters' current gradients."),
      typedRow<cmdZeroGrad>("optimizer_zero_grad", "Zero (or drop) the gradients of the optimizer's parameters."),
      typedRow<cmdGetLr>("optimizer_get_lr", "Learning rate (of the first parameter group)."),
      typedRow<cmdSetLr>("optimizer_set_lr", "Set the learning rate of every parameter group."),
      typedRow<cmdClipGradNorm>("clip_grad_norm",
                                "Scale gradients so their total norm is at most max_norm; returns the norm before clipping."),
      typedRow<cmdOptSave>("optimizer_save", "Save an optimizer's state (moments, step counts, options) to a file."),
      typedRow<cmdOptLoad>("optimizer_load", "Load optimizer state saved by optimizer_save for the same parameters."),
  };
  for (auto& c : optimFamilyCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
