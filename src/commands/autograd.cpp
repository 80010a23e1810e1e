// Autograd: backward and gradients, grad modes, and functional autograd
// (jacobian, hessian, vjp, jvp, vmap, finite-difference checks).
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <cstring>
#include <sstream>
#include <utility>

namespace tcltorch {

// ---- autograd ----

namespace {
const Param kRetainGraph{"retain_graph", Type::Bool, "0", "keep the graph for another backward"};
const Param kCreateGraph{"create_graph", Type::Bool, "0", "record the backward pass (higher-order gradients)"};
struct BackwardArgs : Args {
  Arg<Type::Tensor> input{
      this, {"input", Type::Tensor, nullptr, "tensor to differentiate (a scalar unless -gradient is given)", "tensor"}};
  Arg<Type::Tensor> gradient{
      this, {"gradient", Type::Tensor, kOptional, "gradient of the output, shaped like the tensor"}};
  Arg<Type::Bool> retain_graph{this, kRetainGraph};
  Arg<Type::Bool> create_graph{this, kCreateGraph};
};
// tensor_grad and tensor_zero_grad
struct TensorArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor handle", "tensor"}};
};
struct RequiresGradArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor handle", "tensor"}};
  Arg<Type::Bool> requires_grad{this, {"requires_grad", Type::Bool, kOptional, "new value (leaf tensors only)"}};
};
struct AutogradGradArgs : Args {
  Arg<Type::TensorList> outputs{this, {"outputs", Type::TensorList, nullptr, "tensors to differentiate"}};
  Arg<Type::TensorList> inputs{this, {"inputs", Type::TensorList, nullptr, "tensors to differentiate against"}};
  Arg<Type::TensorList> grad_outputs{
      this, {"grad_outputs", Type::TensorList, kOptional, "one gradient per output (scalar outputs need none)"}};
  Arg<Type::Bool> retain_graph{this, kRetainGraph};
  Arg<Type::Bool> create_graph{this, kCreateGraph};
  Arg<Type::Bool> allow_unused{
      this, {"allow_unused", Type::Bool, "0", "an input not used by the outputs gives \"\" instead of an error"}};
};
}  // namespace

static Tcl_Obj* cmdBackward(Call& c, const BackwardArgs& a) {
  at::Tensor t = c.tensor(a.input);
  at::Tensor g = c.has(a.gradient) ? c.tensor(a.gradient) : at::Tensor();
  t.backward(g, c.boolean(a.retain_graph), c.boolean(a.create_graph));
  return nullptr;
}

static Tcl_Obj* cmdGrad(Call& c, const TensorArgs& a) {
  at::Tensor g = c.tensor(a.input).grad();
  return g.defined() ? c.result(g) : Tcl_NewObj();
}

static Tcl_Obj* cmdRequiresGrad(Call& c, const RequiresGradArgs& a) {
  at::Tensor t = c.tensor(a.input);
  if (!c.has(a.requires_grad)) return Tcl_NewBooleanObj(t.requires_grad());
  t.requires_grad_(c.boolean(a.requires_grad));
  return c.obj(a.input);  // the same handle, for chaining
}

static Tcl_Obj* cmdZeroGrad(Call& c, const TensorArgs& a) {
  at::Tensor t = c.tensor(a.input);
  if (t.grad().defined()) {
    // In place, so handles from tensor_grad keep naming the gradient.
    t.mutable_grad().detach_();
    t.mutable_grad().zero_();
  }
  return nullptr;
}

static Tcl_Obj* cmdAutogradGrad(Call& c, const AutogradGradArgs& a) {
  std::vector<at::Tensor> outs = c.tensors(a.outputs), ins = c.tensors(a.inputs);
  std::vector<at::Tensor> gouts = c.has(a.grad_outputs) ? c.tensors(a.grad_outputs) : std::vector<at::Tensor>();
  if (!gouts.empty() && gouts.size() != outs.size())
    fail("-grad_outputs needs one tensor per output (" + std::to_string(outs.size()) + "), got " +
             std::to_string(gouts.size()), {"ARGS", "COUNT", "grad_outputs"});
  // Like PyTorch, the graph is kept when asked to or when -create_graph is on.
  auto grads = torch::autograd::grad(outs, ins, gouts,
                                     c.boolean(a.retain_graph) ? c10::optional<bool>(true) : c10::nullopt,
                                     c.boolean(a.create_graph), c.boolean(a.allow_unused));
  // An input the outputs do not depend on (with -allow_unused 1) gives "".
  Tcl_Obj* list = Tcl_NewListObj(0, nullptr);
  for (auto& g : grads) Tcl_ListObjAppendElement(nullptr, list, g.defined() ? c.result(g) : Tcl_NewObj());
  return list;
}

// ---- grad modes ----

namespace {
struct EnableGradArgs : Args {
  Arg<Type::Script> script{
      this, {"script", Type::Script, kOptional, "run with recording on (default: switch it on globally)"}};
};
struct SetGradEnabledArgs : Args {
  Arg<Type::Bool> mode{this, {"mode", Type::Bool, nullptr, "1 on, 0 off", "enabled"}};
  Arg<Type::Script> script{this, {"script", Type::Script, kOptional, "run in that mode (default: switch globally)"}};
};
}  // namespace

// Runs the optional script with grad mode `on` (restored on every exit), or
// without a script sets the mode until it is changed again.
static Tcl_Obj* withGradMode(Call& c, const Arg<Type::Script>& script, bool on) {
  if (!c.has(script)) {
    at::GradMode::set_enabled(on);
    return nullptr;
  }
  at::AutoGradMode guard(on);
  int code = Tcl_EvalObjEx(c.interp, c.obj(script), 0);
  if (code != TCL_OK) throw ScriptCode{code};
  return Tcl_GetObjResult(c.interp);
}
static Tcl_Obj* cmdEnableGrad(Call& c, const EnableGradArgs& a) { return withGradMode(c, a.script, true); }
static Tcl_Obj* cmdSetGradEnabled(Call& c, const SetGradEnabledArgs& a) {
  return withGradMode(c, a.script, c.boolean(a.mode));
}

// ---- functional autograd: func is a command prefix called with one tensor handle ----

namespace {
const Param kFunc{"func", Type::CommandWords, nullptr, "command prefix called with a tensor handle, returning a tensor handle",
                  "function"};
const Param kInputs{"inputs", Type::Tensor, nullptr, "point of evaluation", "input"};
const Param kV{"v", Type::Tensor, kOptional, "the vector (optional for one element)", "vector"};
const Param kEps = Param{"eps", Type::Double, "1e-6", "finite-difference step", "epsilon"}.positive();
// jacobian and hessian
struct FuncArgs : Args {
  Arg<Type::CommandWords> func{this, kFunc};
  Arg<Type::Tensor> inputs{this, kInputs};
};
// vjp and jvp
struct VjpArgs : Args {
  Arg<Type::CommandWords> func{this, kFunc};
  Arg<Type::Tensor> inputs{this, kInputs};
  Arg<Type::Tensor> v{this, kV};
};
struct VmapArgs : Args {
  Arg<Type::CommandWords> func{this, kFunc};
  Arg<Type::Tensor> inputs{this, kInputs};
  Arg<Type::Int> in_dims{this, {"in_dims", Type::Int, "0", "dimension to map over", "in_dim dim"}};
};
struct GradCheckArgs : Args {
  Arg<Type::CommandWords> func{this, kFunc};
  Arg<Type::Tensor> inputs{this, kInputs};
  Arg<Type::Double> eps{this, kEps};
  Arg<Type::Double> atol{this, {"atol", Type::Double, "1e-5", "absolute tolerance"}};
  Arg<Type::Double> rtol{this, {"rtol", Type::Double, "1e-3", "relative tolerance"}};
};
struct FiniteDiffArgs : Args {
  Arg<Type::CommandWords> func{this, kFunc};
  Arg<Type::Tensor> inputs{this, kInputs};
  Arg<Type::Double> eps{this, kEps};
};
}  // namespace

// {*}func $x -> the tensor it returns (x is a fresh leaf that requires grad).
static at::Tensor callFunc(Call& c, const Arg<Type::CommandWords>& func, const at::Tensor& x) {
  Tcl_Obj* cmd = Tcl_DuplicateObj(c.obj(func));
  Tcl_IncrRefCount(cmd);
  Tcl_ListObjAppendElement(nullptr, cmd, c.result(x));
  at::AutoGradMode on(true);
  int code = Tcl_EvalObjEx(c.interp, cmd, 0);
  Tcl_DecrRefCount(cmd);
  if (code != TCL_OK) throw ScriptCode{code};
  Entry* e = c.st.reg.find(Tcl_GetObjResult(c.interp));
  if (!e || e->kind != Kind::Tensor)
    fail("func must return a tensor handle, got \"" + std::string(Tcl_GetString(Tcl_GetObjResult(c.interp))) + "\"",
         {"ARGS", "VALUE", "func"});
  return e->tensor;
}
static at::Tensor leafInput(Call& c, const Arg<Type::Tensor>& inputs) {
  return c.tensor(inputs).detach().clone().requires_grad_(true);
}

// d out / d x as out.shape + x.shape, one backward per output element.
static at::Tensor jacobianOf(const at::Tensor& out, const at::Tensor& x, bool createGraph) {
  at::Tensor flat = out.reshape({-1});
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < flat.numel(); ++i) {
    auto g = torch::autograd::grad({flat[i]}, {x}, {}, true, createGraph, true)[0];
    rows.push_back(g.defined() ? g : at::zeros_like(x));
  }
  std::vector<int64_t> shape = out.sizes().vec();
  for (auto s : x.sizes()) shape.push_back(s);
  if (rows.empty()) return at::zeros(shape, x.options());
  return at::stack(rows).reshape(shape);
}

static Tcl_Obj* cmdJacobian(Call& c, const FuncArgs& a) {
  at::Tensor x = leafInput(c, a.inputs);
  return c.result(jacobianOf(callFunc(c, a.func, x), x, false).detach());
}
static Tcl_Obj* cmdHessian(Call& c, const FuncArgs& a) {
  at::Tensor x = leafInput(c, a.inputs);
  at::Tensor y = callFunc(c, a.func, x);
  if (y.numel() != 1) fail("hessian needs a func with a single-element result", {"SHAPE"});
  at::Tensor g = torch::autograd::grad({y.reshape({})}, {x}, {}, true, true, true)[0];
  if (!g.defined() || !g.requires_grad()) {  // func is linear in x
    std::vector<int64_t> shape = x.sizes().vec();
    for (auto s : x.sizes()) shape.push_back(s);
    return c.result(at::zeros(shape, x.options().requires_grad(false)));
  }
  return c.result(jacobianOf(g, x, false).detach());
}
// vjp: v^T J (v shaped like the output; optional for a one-element output).
static Tcl_Obj* cmdVjp(Call& c, const VjpArgs& a) {
  at::Tensor x = leafInput(c, a.inputs);
  at::Tensor y = callFunc(c, a.func, x);
  at::Tensor v = c.has(a.v) ? c.tensor(a.v) : at::Tensor();
  if (!v.defined() && y.numel() != 1) fail("vjp needs -v for a func with more than one output element", {"ARGS", "MISSING", "v"});
  if (!v.defined()) v = at::ones_like(y);
  auto g = torch::autograd::grad({y}, {x}, {v.to(y.scalar_type()).expand_as(y)}, false, false, true)[0];
  return c.results({y.detach(), g.defined() ? g : at::zeros_like(x)});
}
// jvp: J v (v shaped like the input), by the double-backward trick.
static Tcl_Obj* cmdJvp(Call& c, const VjpArgs& a) {
  at::Tensor x = leafInput(c, a.inputs);
  at::Tensor y = callFunc(c, a.func, x);
  at::Tensor v = c.has(a.v) ? c.tensor(a.v).to(x.scalar_type()) : at::Tensor();
  if (!v.defined() && x.numel() != 1) fail("jvp needs -v for an input with more than one element", {"ARGS", "MISSING", "v"});
  if (!v.defined()) v = at::ones_like(x);
  at::Tensor u = at::zeros_like(y).requires_grad_(true);
  auto g = torch::autograd::grad({y}, {x}, {u}, true, true, true)[0];
  if (!g.defined() || !g.requires_grad()) return c.results({y.detach(), at::zeros_like(y)});
  auto jv = torch::autograd::grad({g}, {u}, {v.expand_as(x)}, false, false, true)[0];
  return c.results({y.detach(), jv.defined() ? jv : at::zeros_like(y)});
}
// vmap: func over slices of dimension in_dim, results stacked along dimension 0.
static Tcl_Obj* cmdVmap(Call& c, const VmapArgs& a) {
  at::Tensor x = c.tensor(a.inputs);
  int64_t dim = c.integer(a.in_dims);
  std::vector<at::Tensor> outs;
  for (auto& slice : x.unbind(dim)) {
    Tcl_Obj* cmd = Tcl_DuplicateObj(c.obj(a.func));
    Tcl_IncrRefCount(cmd);
    Tcl_ListObjAppendElement(nullptr, cmd, c.result(slice));
    int code = Tcl_EvalObjEx(c.interp, cmd, 0);
    Tcl_DecrRefCount(cmd);
    if (code != TCL_OK) throw ScriptCode{code};
    outs.push_back(c.st.reg.tensor(Tcl_GetObjResult(c.interp)));
  }
  return c.result(at::stack(outs));
}
// Central differences in float64: d out / d x as out.shape + x.shape.
static at::Tensor finiteDiff(Call& c, const Arg<Type::CommandWords>& func, const at::Tensor& x0, double eps) {
  at::Tensor x = x0.detach().to(at::kDouble).contiguous();
  at::Tensor flat = x.reshape({-1});
  std::vector<at::Tensor> cols;
  at::Tensor shapeOut;
  for (int64_t j = 0; j < flat.numel(); ++j) {
    at::Tensor xp = flat.clone(), xm = flat.clone();
    xp[j] += eps;
    xm[j] -= eps;
    at::Tensor yp = callFunc(c, func, xp.reshape(x.sizes())).detach().to(at::kDouble);
    at::Tensor ym = callFunc(c, func, xm.reshape(x.sizes())).detach().to(at::kDouble);
    cols.push_back(((yp - ym) / (2 * eps)).reshape({-1}));
    shapeOut = yp;
  }
  std::vector<int64_t> shape = shapeOut.sizes().vec();
  for (auto s : x.sizes()) shape.push_back(s);
  return at::stack(cols, 1).reshape(shape);
}
static Tcl_Obj* cmdGradCheckFiniteDiff(Call& c, const FiniteDiffArgs& a) {
  at::Tensor x = c.tensor(a.inputs);
  return c.result(finiteDiff(c, a.func, x, c.number(a.eps)).to(x.scalar_type()));
}
// 1 when the autograd Jacobian (in float64) matches central differences.
static Tcl_Obj* cmdGradCheck(Call& c, const GradCheckArgs& a) {
  at::Tensor x = c.tensor(a.inputs).detach().to(at::kDouble).requires_grad_(true);
  at::Tensor analytic = jacobianOf(callFunc(c, a.func, x), x, false).detach();
  at::Tensor numeric = finiteDiff(c, a.func, x, c.number(a.eps));
  return Tcl_NewBooleanObj(at::allclose(analytic, numeric, c.number(a.rtol), c.number(a.atol)));
}

std::vector<Command> autogradCommands() {
  std::vector<Command> out = {
      typedRow<cmdBackward>("tensor_backward",
                            "Back-propagate from a tensor: accumulate gradients into the leaves that require grad."),
      typedRow<cmdGrad>("tensor_grad", "Gradient accumulated in a tensor, or the empty string when there is none."),
      typedRow<cmdRequiresGrad>("tensor_requires_grad",
                                "Whether a tensor records autograd history; with a value, set it and return the handle."),
      typedRow<cmdZeroGrad>("tensor_zero_grad", "Set a tensor's accumulated gradient to zero (in place) if it has one."),
      typedRow<cmdAutogradGrad>("grad",
                                "Gradients of outputs with respect to inputs (list of handles), without touching .grad."),
      typedRow<cmdEnableGrad>("enable_grad",
                              "Turn gradient recording on: for the script only (restored on every exit), or until changed."),
      typedRow<cmdSetGradEnabled>("set_grad_enabled",
                                  "Turn gradient recording on or off: for the script only, or until changed."),
      typedRow<cmdJacobian>("jacobian", "Jacobian of func at inputs (shape output + input), by autograd."),
      typedRow<cmdHessian>("hessian", "Hessian of a scalar func at inputs (shape input + input), by double backward."),
      typedRow<cmdVjp>("vjp", "Vector-Jacobian product v^T J of func at inputs; returns {output vjp}."),
      typedRow<cmdJvp>("jvp", "Jacobian-vector product J v of func at inputs; returns {output jvp}."),
      typedRow<cmdVmap>("vmap", "func applied to each slice along in_dims, results stacked along dimension 0."),
      typedRow<cmdGradCheck>("grad_check",
                             "1 when func's autograd Jacobian at inputs (float64) matches central finite differences."),
      typedRow<cmdGradCheckFiniteDiff>("grad_check_finite_diff",
                                       "Jacobian of func at inputs by central finite differences (shape output + input)."),
  };
  return out;
}

}  // namespace tcltorch
