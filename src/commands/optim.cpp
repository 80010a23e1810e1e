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

static Tcl_Obj* cmdSgd(Call& c) {
  auto opts = optim::SGDOptions(c.number("lr"))
                  .momentum(c.number("momentum")).dampening(c.number("dampening"))
                  .weight_decay(c.number("weight_decay")).nesterov(c.boolean("nesterov"));
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "sgd", [ps, opts] { return std::make_unique<optim::SGD>(ps, opts); });
}

template <class Options>
static Options adamOptions(Call& c) {
  return Options(c.number("lr"))
      .betas({c.number("beta1"), c.number("beta2")})
      .eps(c.number("eps")).weight_decay(c.number("weight_decay")).amsgrad(c.boolean("amsgrad"));
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
  auto opts = optim::RMSpropOptions(c.number("lr"))
                  .alpha(c.number("alpha")).eps(c.number("eps"))
                  .weight_decay(c.number("weight_decay")).momentum(c.number("momentum"))
                  .centered(c.boolean("centered"));
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "rmsprop", [ps, opts] { return std::make_unique<optim::RMSprop>(ps, opts); });
}

static Tcl_Obj* cmdAdagrad(Call& c) {
  auto opts = optim::AdagradOptions(c.number("lr"))
                  .lr_decay(c.number("lr_decay")).weight_decay(c.number("weight_decay"))
                  .initial_accumulator_value(c.number("initial_accumulator_value")).eps(c.number("eps"));
  auto ps = parameterList(c, "params");
  return newOptimizer(c, "adagrad", [ps, opts] { return std::make_unique<optim::Adagrad>(ps, opts); });
}

static Tcl_Obj* cmdLbfgs(Call& c) {
  auto opts = optim::LBFGSOptions(c.number("lr")).max_iter(c.integer("max_iter"))
                  .tolerance_grad(c.number("tolerance_grad")).tolerance_change(c.number("tolerance_change"))
                  .history_size(c.integer("history_size"));
  if (c.has("max_eval")) opts.max_eval(c.integer("max_eval"));
  if (c.choice("line_search_fn") == 1) opts.line_search_fn("strong_wolfe");
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

static Tcl_Obj* cmdSetLr(Call& c) {
  setLr(*optArg(c)->opt, c.number("lr"));
  return nullptr;
}

// Scales all gradients together so that their total norm is at most max_norm.
static Tcl_Obj* cmdClipGradNorm(Call& c) {
  double maxNorm = c.number("max_norm");
  return Tcl_NewDoubleObj(clipGradNorm(c.st, parameterList(c, "params"), maxNorm, c.number("norm_type")));
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

static const Param& kParams = kOptParams;
static const Param kWd = Param{"weight_decay", Type::Double, "0", "L2 penalty"}.nonNegative();
// Adam and AdamW share everything but the weight decay's meaning, default and position.
static const Param kAdamLr = Param{"lr", Type::Double, "0.001", "learning rate", kLrAliases}.nonNegative();
static const Param kBeta1 = Param{"beta1", Type::Double, "0.9", "decay of the first moment"}.nonNegative();
static const Param kBeta2 = Param{"beta2", Type::Double, "0.999", "decay of the second moment"}.nonNegative();
static const Param kAdamEps = Param{"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"}.nonNegative();
static const Param kAmsgrad{"amsgrad", Type::Bool, "0", "AMSGrad variant"};
std::vector<Command> optimCommands() {
  const Param sgdLr = Param{"lr", Type::Double, nullptr, "learning rate", kLrAliases}.nonNegative();
  const Param sgdRest[] = {{"dampening", Type::Double, "0", "dampening for momentum"}, kWd,
                           {"nesterov", Type::Bool, "0", "Nesterov momentum"}};
  std::vector<Command> out = {
      {"optimizer_sgd", "Stochastic gradient descent (with momentum, dampening, Nesterov) over parameters.",
       {kParams, sgdLr, Param{"momentum", Type::Double, "0", "momentum factor"}.nonNegative(), sgdRest[0], sgdRest[1], sgdRest[2]},
       cmdSgd},
      {"optimizer_momentum_sgd", "SGD with momentum (0.9 unless given).",
       {kParams, sgdLr, Param{"momentum", Type::Double, "0.9", "momentum factor"}.nonNegative(), sgdRest[1], sgdRest[0], sgdRest[2]},
       cmdSgd},
      {"optimizer_adam", "Adam optimizer.", {kParams, kAdamLr, kBeta1, kBeta2, kWd, kAdamEps, kAmsgrad}, cmdAdam},
      {"optimizer_adamw", "AdamW optimizer (decoupled weight decay).",
       {kParams, kAdamLr, Param{"weight_decay", Type::Double, "0.01", "decoupled weight decay"}.nonNegative(), kBeta1, kBeta2, kAdamEps,
        kAmsgrad},
       cmdAdamW},
      {"optimizer_rmsprop", "RMSprop optimizer.",
       {kParams, Param{"lr", Type::Double, "0.01", "learning rate", kLrAliases}.nonNegative(),
        Param{"alpha", Type::Double, "0.99", "smoothing constant"}.nonNegative(),
        Param{"eps", Type::Double, "1e-8", "added to the denominator", "epsilon"}.nonNegative(), kWd,
        Param{"momentum", Type::Double, "0", "momentum factor"}.nonNegative(),
        {"centered", Type::Bool, "0", "normalise by the estimated variance of the gradient"}},
       cmdRmsprop},
      {"optimizer_adagrad", "Adagrad: per-element learning rates from the sum of squared gradients.",
       {kParams, Param{"lr", Type::Double, "0.01", "learning rate", kLrAliases}.nonNegative(),
        Param{"lr_decay", Type::Double, "0", "learning rate decay"}.nonNegative(), kWd,
        Param{"initial_accumulator_value", Type::Double, "0", "starting value of the sums"}.nonNegative(),
        Param{"eps", Type::Double, "1e-10", "added to the denominator", "epsilon"}.nonNegative()},
       cmdAdagrad},
      {"optimizer_lbfgs", "L-BFGS (needs optimizer_step -closure).",
       {kParams, Param{"lr", Type::Double, "1", "learning rate", kLrAliases}.nonNegative(),
        Param{"max_iter", Type::Int, "20", "iterations per step"}.positive(),
        {"max_eval", Type::Int, kOptional, "function evaluations per step (default max_iter * 5 / 4)"},
        Param{"tolerance_grad", Type::Double, "1e-7", "first-order optimality tolerance"}.nonNegative(),
        Param{"tolerance_change", Type::Double, "1e-9", "tolerance on function value and parameter changes"}
            .nonNegative(),
        Param{"history_size", Type::Int, "100", "update history size"}.positive(),
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
       {kOpt, Param{"lr", Type::Double, nullptr, "learning rate", kLrAliases}.nonNegative()}, cmdSetLr},
      {"clip_grad_norm", "Scale gradients so their total norm is at most max_norm; returns the norm before clipping.",
       {kParams, Param{"max_norm", Type::Double, nullptr, "largest allowed total norm"}.nonNegative(),
        {"norm_type", Type::Double, "2", "p of the p-norm (inf for the largest absolute value)"}},
       cmdClipGradNorm},
      {"optimizer_save", "Save an optimizer's state (moments, step counts, options) to a file.",
       {kOpt, {"file", Type::Path, nullptr, "file path", "filename"}}, cmdOptSave},
      {"optimizer_load", "Load optimizer state saved by optimizer_save for the same parameters.",
       {kOpt, {"file", Type::Path, nullptr, "file path", "filename"}}, cmdOptLoad},

  };
  for (auto& c : optimFamilyCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
