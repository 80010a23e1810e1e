// Autograd, functional activations that need parameters, and losses.
#include "tcltorch/commands.h"
#include <cstring>
#include "tcltorch/tensor_util.h"
#include <sstream>
#include <utility>

namespace tcltorch {

// ---- autograd ----

static Tcl_Obj* cmdBackward(Call& c) {
  at::Tensor t = c.tensor("input");
  at::Tensor g = c.has("gradient") ? c.tensor("gradient") : at::Tensor();
  t.backward(g, c.boolean("retain_graph"), c.boolean("create_graph"));
  return nullptr;
}

static Tcl_Obj* cmdGrad(Call& c) {
  at::Tensor g = c.tensor("input").grad();
  return g.defined() ? c.result(g) : Tcl_NewObj();
}

static Tcl_Obj* cmdRequiresGrad(Call& c) {
  at::Tensor t = c.tensor("input");
  if (!c.has("requires_grad")) return Tcl_NewBooleanObj(t.requires_grad());
  t.requires_grad_(c.boolean("requires_grad"));
  return c.obj("input");  // the same handle, for chaining
}

static Tcl_Obj* cmdZeroGrad(Call& c) {
  at::Tensor t = c.tensor("input");
  if (t.grad().defined()) {
    // In place, so handles from tensor_grad keep naming the gradient.
    t.mutable_grad().detach_();
    t.mutable_grad().zero_();
  }
  return nullptr;
}

static Tcl_Obj* cmdAutogradGrad(Call& c) {
  std::vector<at::Tensor> outs = c.tensors("outputs"), ins = c.tensors("inputs");
  std::vector<at::Tensor> gouts = c.has("grad_outputs") ? c.tensors("grad_outputs") : std::vector<at::Tensor>();
  if (!gouts.empty() && gouts.size() != outs.size())
    fail("-grad_outputs needs one tensor per output (" + std::to_string(outs.size()) + "), got " +
             std::to_string(gouts.size()), {"ARGS", "COUNT", "grad_outputs"});
  // Like PyTorch, the graph is kept when asked to or when -create_graph is on.
  auto grads = torch::autograd::grad(outs, ins, gouts,
                                     c.boolean("retain_graph") ? c10::optional<bool>(true) : c10::nullopt,
                                     c.boolean("create_graph"), c.boolean("allow_unused"));
  // An input the outputs do not depend on (with -allow_unused 1) gives "".
  Tcl_Obj* list = Tcl_NewListObj(0, nullptr);
  for (auto& g : grads) Tcl_ListObjAppendElement(nullptr, list, g.defined() ? c.result(g) : Tcl_NewObj());
  return list;
}

// ---- functional activations: one table, one handler template ----

namespace {
struct ActSpec {
  const char* name;
  const char* doc;
  std::vector<Param> extra;  // after input
  at::Tensor (*fn)(Call&, const at::Tensor& input);
};
}  // namespace

static double probability(Call& c, const char* name) {
  double p = c.number(name);
  if (!(p >= 0 && p <= 1)) c.badValue(name, "a probability between 0 and 1");
  return p;
}

static at::Tensor actGelu(Call& c, const at::Tensor& x) {
  static const char* kinds[] = {"none", "tanh"};
  return at::gelu(x, kinds[c.choice("approximate")]);
}
static at::Tensor actLeakyRelu(Call& c, const at::Tensor& x) { return at::leaky_relu(x, c.scalar("negative_slope")); }
static at::Tensor actLogSoftmax(Call& c, const at::Tensor& x) { return at::log_softmax(x, c.integer("dim")); }

static const Param kAlpha1{"alpha", Type::Double, "1.0", "scale of the negative part"};
static const Param kSlope{"negative_slope", Type::Double, "0.01", "slope for negative inputs"};
static const Param kActDim{"dim", Type::Int, "-1", "dimension", "dimension"};

static const std::vector<ActSpec>& actSpecs() {
  static const std::vector<ActSpec> specs = {
      {"tensor_gelu", "GELU activation.", {{"approximate", Type::Choice, "none", "none (exact erf) or tanh", nullptr, "none tanh"}},
       actGelu},
      {"tensor_leaky_relu", "Leaky ReLU: x where x > 0, else negative_slope * x.", {kSlope}, actLeakyRelu},
      {"leaky_relu", "Leaky ReLU: x where x > 0, else negative_slope * x.", {kSlope}, actLeakyRelu},
      {"tensor_dropout", "Dropout: zero elements with probability p and scale the rest by 1/(1-p) when training.",
       {{"p", Type::Double, "0.5", "probability of zeroing an element"},
        {"training", Type::Bool, "1", "apply dropout (0: identity)"}},
       [](Call& c, const at::Tensor& x) { return at::dropout(x, probability(c, "p"), c.boolean("training")); }},
      {"logsoftmax", "Log of softmax along dim (numerically stable).", {kActDim}, actLogSoftmax},
      {"elu", "ELU: x where x > 0, else alpha (exp(x) - 1).", {kAlpha1},
       [](Call& c, const at::Tensor& x) { return at::elu(x, c.scalar("alpha")); }},
      {"celu", "CELU: max(0, x) + min(0, alpha (exp(x / alpha) - 1)).", {kAlpha1},
       [](Call& c, const at::Tensor& x) { return at::celu(x, c.scalar("alpha")); }},
      {"selu", "SELU: scale * ELU(x, alpha) with the self-normalising constants.", {},
       [](Call&, const at::Tensor& x) { return at::selu(x); }},
      {"glu", "Gated linear unit: a * sigmoid(b), the halves of the input along dim.", {kActDim},
       [](Call& c, const at::Tensor& x) { return at::glu(x, c.integer("dim")); }},
      {"hardsigmoid", "Hard sigmoid: relu6(x + 3) / 6.", {},
       [](Call&, const at::Tensor& x) { return at::hardsigmoid(x); }},
      {"hardswish", "Hard swish: x * relu6(x + 3) / 6.", {},
       [](Call&, const at::Tensor& x) { return at::hardswish(x); }},
      {"hardtanh", "Clamp to [min_val, max_val].",
       {{"min_val", Type::Double, "-1.0", "lower bound"}, {"max_val", Type::Double, "1.0", "upper bound"}},
       [](Call& c, const at::Tensor& x) {
         if (c.number("min_val") > c.number("max_val")) c.badValue("max_val", "a number >= min_val");
         return at::hardtanh(x, c.scalar("min_val"), c.scalar("max_val"));
       }},
      {"relu6", "min(max(0, x), 6).", {}, [](Call&, const at::Tensor& x) { return at::hardtanh(x, 0, 6); }},
      {"mish", "Mish: x * tanh(softplus(x)).", {}, [](Call&, const at::Tensor& x) { return at::mish(x); }},
      {"silu", "SiLU (swish): x * sigmoid(x).", {}, [](Call&, const at::Tensor& x) { return at::silu(x); }},
      {"prelu", "PReLU: x where x > 0, else weight * x (one weight, or one per channel of dimension 1).",
       {{"weight", Type::Tensor, nullptr, "slopes: 1 element or one per channel"}},
       [](Call& c, const at::Tensor& x) { return at::prelu(x, c.tensor("weight")); }},
      {"rrelu", "Randomized leaky ReLU: a random slope in [lower, upper] when training, their mean otherwise.",
       {{"lower", Type::Double, "0.125", "lowest slope"}, {"upper", Type::Double, "0.3333333333333333", "highest slope"},
        {"training", Type::Bool, "0", "draw random slopes"}},
       [](Call& c, const at::Tensor& x) {
         if (c.number("lower") > c.number("upper")) c.badValue("upper", "a number >= lower");
         return at::rrelu(x, c.scalar("lower"), c.scalar("upper"), c.boolean("training"));
       }},
      {"softmin", "Softmin along dim: softmax(-x).", {kActDim},
       [](Call& c, const at::Tensor& x) { return at::softmax(x.neg(), c.integer("dim")); }},
      {"softmax2d", "Softmax over the channels of each location: dimension -3 of a [C, H, W] or [N, C, H, W] input.", {},
       [](Call& c, const at::Tensor& x) {
         if (x.dim() != 3 && x.dim() != 4) c.badValue("input", "a 3-D or 4-D tensor");
         return at::softmax(x, -3);
       }},
      {"softplus", "Softplus: log(1 + exp(beta x)) / beta, linear above threshold.",
       {{"beta", Type::Double, "1.0", "sharpness"}, {"threshold", Type::Double, "20.0", "linear above beta x > threshold"}},
       [](Call& c, const at::Tensor& x) { return at::softplus(x, c.scalar("beta"), c.scalar("threshold")); }},
      {"softsign", "x / (1 + |x|).", {}, [](Call&, const at::Tensor& x) { return x / (x.abs() + 1); }},
      {"tanhshrink", "x - tanh(x).", {}, [](Call&, const at::Tensor& x) { return x - x.tanh(); }},
      {"threshold", "x where x > threshold, else value.",
       {{"threshold", Type::Double, nullptr, "threshold"}, {"value", Type::Double, nullptr, "replacement value"}},
       [](Call& c, const at::Tensor& x) { return at::threshold(x, c.scalar("threshold"), c.scalar("value")); }},
  };
  return specs;
}

static Tcl_Obj* cmdActivation(Call& c) { return c.result(c.data<ActSpec>().fn(c, c.tensor("input"))); }

// One handler for the family, each row carrying its spec.
static void addActivations(std::vector<Command>& out) {
  for (const ActSpec& s : actSpecs()) {
    std::vector<Param> ps = {kInput};
    ps.insert(ps.end(), s.extra.begin(), s.extra.end());
    out.push_back(Command{s.name, s.doc, ps, cmdActivation}.withData(&s));
  }
}


static double positive(Call& c, const char* name) {
  double v = c.number(name);
  if (!(v > 0)) c.badValue(name, "a number > 0");
  return v;
}

// ---- grad modes ----

// Runs the optional script with grad mode `on` (restored on every exit), or
// without a script sets the mode until it is changed again.
static Tcl_Obj* withGradMode(Call& c, bool on) {
  if (!c.has("script")) {
    at::GradMode::set_enabled(on);
    return nullptr;
  }
  at::AutoGradMode guard(on);
  int code = Tcl_EvalObjEx(c.interp, c.obj("script"), 0);
  if (code != TCL_OK) throw ScriptCode{code};
  return Tcl_GetObjResult(c.interp);
}
static Tcl_Obj* cmdEnableGrad(Call& c) { return withGradMode(c, true); }
static Tcl_Obj* cmdSetGradEnabled(Call& c) { return withGradMode(c, c.boolean("mode")); }

// ---- functional autograd: func is a command prefix called with one tensor handle ----

// {*}func $x -> the tensor it returns (x is a fresh leaf that requires grad).
static at::Tensor callFunc(Call& c, const at::Tensor& x) {
  Tcl_Obj* cmd = Tcl_DuplicateObj(c.obj("func"));
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
static at::Tensor leafInput(Call& c) { return c.tensor("inputs").detach().clone().requires_grad_(true); }

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

static Tcl_Obj* cmdJacobian(Call& c) {
  at::Tensor x = leafInput(c);
  return c.result(jacobianOf(callFunc(c, x), x, false).detach());
}
static Tcl_Obj* cmdHessian(Call& c) {
  at::Tensor x = leafInput(c);
  at::Tensor y = callFunc(c, x);
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
static Tcl_Obj* cmdVjp(Call& c) {
  at::Tensor x = leafInput(c);
  at::Tensor y = callFunc(c, x);
  at::Tensor v = c.has("v") ? c.tensor("v") : at::Tensor();
  if (!v.defined() && y.numel() != 1) fail("vjp needs -v for a func with more than one output element", {"ARGS", "MISSING", "v"});
  if (!v.defined()) v = at::ones_like(y);
  auto g = torch::autograd::grad({y}, {x}, {v.to(y.scalar_type()).expand_as(y)}, false, false, true)[0];
  return c.results({y.detach(), g.defined() ? g : at::zeros_like(x)});
}
// jvp: J v (v shaped like the input), by the double-backward trick.
static Tcl_Obj* cmdJvp(Call& c) {
  at::Tensor x = leafInput(c);
  at::Tensor y = callFunc(c, x);
  at::Tensor v = c.has("v") ? c.tensor("v").to(x.scalar_type()) : at::Tensor();
  if (!v.defined() && x.numel() != 1) fail("jvp needs -v for an input with more than one element", {"ARGS", "MISSING", "v"});
  if (!v.defined()) v = at::ones_like(x);
  at::Tensor u = at::zeros_like(y).requires_grad_(true);
  auto g = torch::autograd::grad({y}, {x}, {u}, true, true, true)[0];
  if (!g.defined() || !g.requires_grad()) return c.results({y.detach(), at::zeros_like(y)});
  auto jv = torch::autograd::grad({g}, {u}, {v.expand_as(x)}, false, false, true)[0];
  return c.results({y.detach(), jv.defined() ? jv : at::zeros_like(y)});
}
// vmap: func over slices of dimension in_dim, results stacked along dimension 0.
static Tcl_Obj* cmdVmap(Call& c) {
  at::Tensor x = c.tensor("inputs");
  int64_t dim = c.integer("in_dims");
  std::vector<at::Tensor> outs;
  for (auto& slice : x.unbind(dim)) {
    Tcl_Obj* cmd = Tcl_DuplicateObj(c.obj("func"));
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
static at::Tensor finiteDiff(Call& c, const at::Tensor& x0, double eps) {
  at::Tensor x = x0.detach().to(at::kDouble).contiguous();
  at::Tensor flat = x.reshape({-1});
  std::vector<at::Tensor> cols;
  at::Tensor shapeOut;
  for (int64_t j = 0; j < flat.numel(); ++j) {
    at::Tensor xp = flat.clone(), xm = flat.clone();
    xp[j] += eps;
    xm[j] -= eps;
    at::Tensor yp = callFunc(c, xp.reshape(x.sizes())).detach().to(at::kDouble);
    at::Tensor ym = callFunc(c, xm.reshape(x.sizes())).detach().to(at::kDouble);
    cols.push_back(((yp - ym) / (2 * eps)).reshape({-1}));
    shapeOut = yp;
  }
  std::vector<int64_t> shape = shapeOut.sizes().vec();
  for (auto s : x.sizes()) shape.push_back(s);
  return at::stack(cols, 1).reshape(shape);
}
static Tcl_Obj* cmdGradCheckFiniteDiff(Call& c) {
  at::Tensor x = c.tensor("inputs");
  return c.result(finiteDiff(c, x, positive(c, "eps")).to(x.scalar_type()));
}
// 1 when the autograd Jacobian (in float64) matches central differences.
static Tcl_Obj* cmdGradCheck(Call& c) {
  at::Tensor x = c.tensor("inputs").detach().to(at::kDouble).requires_grad_(true);
  at::Tensor analytic = jacobianOf(callFunc(c, x), x, false).detach();
  at::Tensor numeric = finiteDiff(c, x, positive(c, "eps"));
  return Tcl_NewBooleanObj(at::allclose(analytic, numeric, c.number("rtol"), c.number("atol")));
}

// ---- losses: one table, one handler template ----

// mean|sum|none, or PyTorch's enum values 0 (none), 1 (mean), 2 (sum) -> at::Reduction
// The word is at::Reduction's own value: the other API also writes 0, 1, 2.
static int64_t reduction(Call& c) { return c.choice("reduction"); }

// An optional tensor (Type::OptTensor: none or "" skip it positionally,
// cross_entropy_loss $x $y none sum).
static at::Tensor optTensor(Call& c, const char* name) {
  return c.declares(name) && c.has(name) ? c.tensor(name) : at::Tensor();
}

// Losses comparing input and target element by element: the shapes must
// match (libtorch would broadcast with only a warning, hiding a bug), and the
// target takes the input's dtype so a float64 target works with float32 models.
static at::Tensor sameShapeTarget(Call& c, const at::Tensor& in) {
  at::Tensor t = c.tensor("target");
  if (!in.sizes().equals(t.sizes())) {
    std::ostringstream m;
    m << "shape mismatch: input " << in.sizes() << " and target " << t.sizes() << " must have the same shape";
    fail(m.str(), {"SHAPE"});
  }
  return t.scalar_type() == in.scalar_type() ? t : t.to(in.scalar_type());
}

// Class-index targets: [N] (or [N, d...]) indices for an [N, C, d...] input.
// Floating targets of that shape are class numbers written as Tcl numbers and
// are converted to int64; a floating target of the input's shape is class
// probabilities (cross_entropy only).
static at::Tensor classTarget(Call& c, const at::Tensor& in, bool probsOk) {
  at::Tensor t = c.tensor("target");
  if (probsOk && t.is_floating_point() && t.sizes().equals(in.sizes()))
    return t.scalar_type() == in.scalar_type() ? t : t.to(in.scalar_type());
  bool shapeOk = in.dim() >= 1 && t.dim() == in.dim() - 1;
  for (int64_t d = 0; shapeOk && d < t.dim(); ++d)
    shapeOk = t.size(d) == in.size(d == 0 ? 0 : d + 1);
  if (in.dim() == 1) shapeOk = t.dim() == 0;
  if (!shapeOk) {
    std::ostringstream m;
    m << "shape mismatch: input " << in.sizes() << " needs a class-index target of shape [N, d...] without the class dimension"
      << (probsOk ? " (or class probabilities of the input's shape)" : "") << ", got " << t.sizes();
    fail(m.str(), {"SHAPE"});
  }
  return t.scalar_type() == at::kLong ? t : t.to(at::kLong);
}

namespace {
struct LossSpec {
  const char* name;
  const char* doc;
  std::vector<Param> extra;  // after the tensors; reduction goes after weight, else last
  at::Tensor (*fn)(Call&, const at::Tensor& input, int64_t reduction);  // input: "" when not declared
  std::vector<Param> tensors = {};  // the leading tensor parameters; empty: input, target
  bool reductionFirst = false;  // reduction right after the tensors (PyTorch's huber, kl_div, smooth_l1)
};
}  // namespace

// Reduction of an elementwise loss computed here (losses libtorch has no kernel for).
static at::Tensor reduce(const at::Tensor& l, int64_t r) {
  return r == at::Reduction::Mean ? l.mean() : r == at::Reduction::Sum ? l.sum() : l;
}
// Dice and Tversky on probabilities: per sample over all but dimension 0.
static at::Tensor overlapLoss(Call& c, const at::Tensor& p, int64_t r, double alpha, double beta) {
  at::Tensor t = sameShapeTarget(c, p);
  double smooth = c.number("smooth");
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < p.dim(); ++d) dims.push_back(d);
  auto sum = [&](const at::Tensor& v) { return p.dim() > 1 ? v.sum(dims) : v.sum(); };
  at::Tensor tp = sum(p * t), fp = sum(p * (1 - t)), fn = sum((1 - p) * t);
  return reduce(1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth), r);
}
static const Param kMargin0{"margin", Type::Double, "0.0", "margin"};
static const Param kMargin1{"margin", Type::Double, "1.0", "margin"};
static const Param kSmooth{"smooth", Type::Double, "1.0", "added to numerator and denominator"};
static const std::vector<Param> kPairTarget = {{"input1", Type::Tensor, nullptr, "first input"},
                                               {"input2", Type::Tensor, nullptr, "second input"},
                                               {"target", Type::Tensor, nullptr, "1 or -1 per pair"}};
static const std::vector<Param> kTriplet = {{"anchor", Type::Tensor, nullptr, "anchor embeddings"},
                                            {"positive", Type::Tensor, nullptr, "positive examples"},
                                            {"negative", Type::Tensor, nullptr, "negative examples"}};
static at::Tensor floatTarget(Call& c, const at::Tensor& like) {
  at::Tensor t = c.tensor("target");
  return t.scalar_type() == like.scalar_type() ? t : t.to(like.scalar_type());
}

static const Param kWeight{"weight", Type::OptTensor, kOptional, "per-class (or per-element) rescaling weights"};

static const std::vector<LossSpec>& lossSpecs() {
  static const std::vector<LossSpec> specs = {
      {"mse_loss", "Mean squared error: mean((input - target)^2).", {},
       [](Call& c, const at::Tensor& x, int64_t r) { return at::mse_loss(x, sameShapeTarget(c, x), r); }},
      {"l1_loss", "Mean absolute error: mean(|input - target|).", {},
       [](Call& c, const at::Tensor& x, int64_t r) { return at::l1_loss(x, sameShapeTarget(c, x), r); }},
      {"smooth_l1_loss", "Huber-like loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.",
       {{"beta", Type::Double, "1.0", "threshold between the quadratic and the linear part"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::smooth_l1_loss(x, sameShapeTarget(c, x), r, c.number("beta"));
       },
       {}, true},
      {"cross_entropy_loss", "Cross entropy of logits [N, C] against class indices [N] (or class probabilities [N, C]).",
       {kWeight,
        {"ignore_index", Type::Int, "-100", "target value that does not contribute"},
        {"label_smoothing", Type::Double, "0.0", "amount of label smoothing in [0, 1]"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::cross_entropy_loss(x, classTarget(c, x, true), optTensor(c, "weight"), r,
                                       c.integer("ignore_index"), c.number("label_smoothing"));
       }},
      {"nll_loss", "Negative log likelihood of log-probabilities [N, C] against class indices [N].",
       {kWeight, {"ignore_index", Type::Int, "-100", "target value that does not contribute"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::nll_loss_nd(x, classTarget(c, x, false), optTensor(c, "weight"), r, c.integer("ignore_index"));
       }},
      {"bce_loss", "Binary cross entropy of probabilities in [0, 1] against targets of the same shape.", {kWeight},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::binary_cross_entropy(x, sameShapeTarget(c, x), optTensor(c, "weight"), r);
       }},
      {"bce_with_logits_loss", "Binary cross entropy on logits (sigmoid folded in, numerically stable).",
       {kWeight, {"pos_weight", Type::OptTensor, kOptional, "weight of positive examples, per class"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::binary_cross_entropy_with_logits(x, sameShapeTarget(c, x), optTensor(c, "weight"),
                                                     optTensor(c, "pos_weight"), r);
       }},
      {"huber_loss", "Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta).",
       {{"delta", Type::Double, "1.0", "threshold between the quadratic and the linear part"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::huber_loss(x, sameShapeTarget(c, x), r, positive(c, "delta"));
       },
       {}, true},
      {"kl_div_loss", "Kullback-Leibler divergence of log-probabilities input from target (mean over elements).",
       {{"log_target", Type::Bool, "0", "the target is given as log-probabilities"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::kl_div(x, sameShapeTarget(c, x), r, c.boolean("log_target"));
       },
       {}, true},
      {"soft_margin_loss", "Two-class logistic loss: log(1 + exp(-y x)), targets 1 or -1.", {},
       [](Call& c, const at::Tensor& x, int64_t r) { return at::soft_margin_loss(x, sameShapeTarget(c, x), r); }},
      {"hinge_embedding_loss", "x where y = 1, max(0, margin - x) where y = -1.", {kMargin1},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::hinge_embedding_loss(x, sameShapeTarget(c, x), c.number("margin"), r);
       }},
      {"poisson_nll_loss", "Poisson negative log likelihood: exp(x) - y x for log input (else x - y log(x + eps)).",
       {{"log_input", Type::Bool, "1", "the input is the log of the rate"},
        {"full", Type::Bool, "0", "add the Stirling term"},
        {"eps", Type::Double, "1e-8", "added inside the log when log_input is 0"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::poisson_nll_loss(x, sameShapeTarget(c, x), c.boolean("log_input"), c.boolean("full"),
                                     c.number("eps"), r);
       }},
      {"gaussian_nll_loss", "Gaussian negative log likelihood: 0.5 (log(var) + (x - y)^2 / var), var clamped to eps.",
       {{"full", Type::Bool, "0", "add the constant 0.5 log(2 pi)"},
        {"eps", Type::Double, "1e-6", "smallest variance"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         at::Tensor y = sameShapeTarget(c, x), var = c.tensor("var").to(x.scalar_type());
         if (var.dim() == x.dim() - 1) var = var.unsqueeze(-1);
         if (at::lt(var, 0).any().item<bool>()) c.badValue("var", "a tensor of non-negative variances");
         at::Tensor v = var.clamp_min(c.number("eps"));
         at::Tensor l = 0.5 * (v.log() + (x - y).pow(2) / v);
         if (c.boolean("full")) l = l + 0.5 * std::log(2 * M_PI);
         return reduce(l, r);
       },
       {{"input", Type::Tensor, nullptr, "predicted means"}, {"target", Type::Tensor, nullptr, "target"},
        {"var", Type::Tensor, nullptr, "variances (input's shape, or one less trailing dimension)"}}},
      {"multi_margin_loss", "Multi-class hinge loss of scores [N, C] against class indices [N].",
       {{"p", Type::Int, "1", "1 or 2"}, kMargin1, kWeight},
       [](Call& c, const at::Tensor& x, int64_t r) {
         int64_t p = c.integer("p");
         if (p != 1 && p != 2) c.badValue("p", "1 or 2");
         return at::multi_margin_loss(x, classTarget(c, x, false), p, c.number("margin"), optTensor(c, "weight"), r);
       }},
      {"multilabel_margin_loss", "Multi-label hinge loss; the target [N, C] lists class indices, ended by -1.", {},
       [](Call& c, const at::Tensor& x, int64_t r) {
         at::Tensor t = c.tensor("target");
         return at::multilabel_margin_loss(x, t.scalar_type() == at::kLong ? t : t.to(at::kLong), r);
       }},
      {"multilabel_soft_margin_loss", "Multi-label one-versus-all logistic loss, targets 0 or 1 of the input's shape.",
       {kWeight},
       [](Call& c, const at::Tensor& x, int64_t r) {
         at::Tensor y = sameShapeTarget(c, x), w = optTensor(c, "weight");
         at::Tensor l = -(y * at::log_sigmoid(x) + (1 - y) * at::log_sigmoid(-x));
         if (w.defined()) l = l * w;
         return reduce(l.mean(-1), r);
       }},
      {"cosine_embedding_loss", "1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.", {kMargin0},
       [](Call& c, const at::Tensor&, int64_t r) {
         at::Tensor a = c.tensor("input1");
         return at::cosine_embedding_loss(a, c.tensor("input2"), floatTarget(c, a), c.number("margin"), r);
       },
       kPairTarget},
      {"margin_ranking_loss", "max(0, -y (x1 - x2) + margin), targets 1 or -1.", {kMargin0},
       [](Call& c, const at::Tensor&, int64_t r) {
         at::Tensor a = c.tensor("input1");
         return at::margin_ranking_loss(a, c.tensor("input2"), floatTarget(c, a), c.number("margin"), r);
       },
       kPairTarget},
      {"triplet_margin_loss", "max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance.",
       {kMargin1, {"p", Type::Double, "2.0", "norm degree"}, {"eps", Type::Double, "1e-6", "added to differences"},
        {"swap", Type::Bool, "0", "use the distance swap"}},
       [](Call& c, const at::Tensor&, int64_t r) {
         return at::triplet_margin_loss(c.tensor("anchor"), c.tensor("positive"), c.tensor("negative"),
                                        c.number("margin"), c.number("p"), c.number("eps"), c.boolean("swap"), r);
       },
       kTriplet},
      {"triplet_margin_with_distance_loss", "Triplet margin loss with a named distance: euclidean (pairwise) or cosine (1 - cos).",
       {{"distance", Type::Choice, "euclidean", "euclidean or cosine", "distance_function", "euclidean cosine"},
        kMargin1, {"swap", Type::Bool, "0", "use the distance swap"}},
       [](Call& c, const at::Tensor&, int64_t r) {
         at::Tensor a = c.tensor("anchor"), p = c.tensor("positive"), n = c.tensor("negative");
         bool cosine = c.choice("distance") == 1;
         auto d = [&](const at::Tensor& u, const at::Tensor& v) {
           return cosine ? 1 - at::cosine_similarity(u, v, -1) : at::pairwise_distance(u, v);
         };
         at::Tensor dp = d(a, p), dn = d(a, n);
         if (c.boolean("swap")) dn = at::min(dn, d(p, n));
         return reduce(at::clamp_min(dp - dn + c.number("margin"), 0), r);
       },
       kTriplet},
      {"focal_loss",
       "Focal loss: class indices [N] for logits [N, C]: -alpha (1 - p_t)^gamma log p_t (softmax; alpha 1 by "
       "default); targets of the input's shape: sigmoid focal loss of torchvision (alpha 0.25 by default).",
       {{"alpha", Type::Double, kOptional, "class balance (softmax: 1.0; sigmoid: 0.25, negative for none)"},
        {"gamma", Type::Double, "2.0", "focusing exponent"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         double gamma = c.number("gamma");
         if (!c.tensor("target").sizes().equals(x.sizes())) {
           at::Tensor logp = at::log_softmax(x, 1).gather(1, classTarget(c, x, false).unsqueeze(1)).squeeze(1);
           double alpha = c.has("alpha") ? c.number("alpha") : 1.0;
           return reduce(-alpha * (1 - logp.exp()).pow(gamma) * logp, r);
         }
         at::Tensor y = sameShapeTarget(c, x), p = x.sigmoid();
         at::Tensor ce = at::binary_cross_entropy_with_logits(x, y, {}, {}, at::Reduction::None);
         at::Tensor pt = p * y + (1 - p) * (1 - y);
         at::Tensor l = ce * (1 - pt).pow(gamma);
         double alpha = c.has("alpha") ? c.number("alpha") : 0.25;
         if (alpha >= 0) l = (alpha * y + (1 - alpha) * (1 - y)) * l;
         return reduce(l, r);
       }},
      {"dice_loss", "1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth) per sample, on probabilities.", {kSmooth},
       [](Call& c, const at::Tensor& x, int64_t r) { return overlapLoss(c, x, r, 0.5, 0.5); }},
      {"tversky_loss", "1 - (TP + smooth) / (TP + alpha FP + beta FN + smooth) per sample, on probabilities.",
       {{"alpha", Type::Double, "0.5", "weight of false positives"}, {"beta", Type::Double, "0.5", "weight of false negatives"},
        kSmooth},
       [](Call& c, const at::Tensor& x, int64_t r) { return overlapLoss(c, x, r, c.number("alpha"), c.number("beta")); }},
  };
  return specs;
}

static Tcl_Obj* cmdLoss(Call& c) {
  at::Tensor x = c.declares("input") ? c.tensor("input") : at::Tensor();
  return c.result(c.data<LossSpec>().fn(c, x, reduction(c)));
}

// One handler for the family, each row carrying its spec.
static void addLosses(std::vector<Command>& out) {
  for (const LossSpec& s : lossSpecs()) {
    std::vector<Param> ps = s.tensors;
    if (ps.empty()) ps = {{"input", Type::Tensor, nullptr, "prediction"}, {"target", Type::Tensor, nullptr, "target"}};
    // PyTorch's order: reduction right after weight, or last.
    size_t at = s.reductionFirst ? ps.size() : 0;
    for (auto& p : s.extra) {
      ps.push_back(p);
      if (std::string(p.name) == "weight") at = ps.size();
    }
    if (!at) at = ps.size();
    Param red{"reduction", Type::Choice, "mean", "mean, sum or none (per element); or 1, 2, 0", nullptr,
              {{"mean", at::Reduction::Mean}, {"sum", at::Reduction::Sum}, {"none", at::Reduction::None},
               {"0", at::Reduction::None}, {"1", at::Reduction::Mean}, {"2", at::Reduction::Sum}}};
    ps.insert(ps.begin() + long(at), red);
    out.push_back(Command{s.name, s.doc, ps, cmdLoss}.withData(&s));
  }
}


static const Param kFunc{"func", Type::CommandWords, nullptr, "command prefix called with a tensor handle, returning a tensor handle",
                         "function"};
static const Param kInputs{"inputs", Type::Tensor, nullptr, "point of evaluation", "input"};
static const Param kV{"v", Type::Tensor, kOptional, "the vector (optional for one element)", "vector"};
static const Param kEps{"eps", Type::Double, "1e-6", "finite-difference step"};

std::vector<Command> autogradCommands() {
  std::vector<Command> out = {
      {"tensor_backward", "Back-propagate from a tensor: accumulate gradients into the leaves that require grad.",
       {{"input", Type::Tensor, nullptr, "tensor to differentiate (a scalar unless -gradient is given)", "tensor"},
        {"gradient", Type::Tensor, kOptional, "gradient of the output, shaped like the tensor"},
        {"retain_graph", Type::Bool, "0", "keep the graph for another backward"},
        {"create_graph", Type::Bool, "0", "record the backward pass (higher-order gradients)"}},
       cmdBackward},
      {"tensor_grad", "Gradient accumulated in a tensor, or the empty string when there is none.",
       {{"input", Type::Tensor, nullptr, "tensor handle", "tensor"}}, cmdGrad},
      {"tensor_requires_grad", "Whether a tensor records autograd history; with a value, set it and return the handle.",
       {{"input", Type::Tensor, nullptr, "tensor handle", "tensor"},
        {"requires_grad", Type::Bool, kOptional, "new value (leaf tensors only)"}},
       cmdRequiresGrad},
      {"tensor_zero_grad", "Set a tensor's accumulated gradient to zero (in place) if it has one.",
       {{"input", Type::Tensor, nullptr, "tensor handle", "tensor"}}, cmdZeroGrad},
      {"grad", "Gradients of outputs with respect to inputs (list of handles), without touching .grad.",
       {{"outputs", Type::TensorList, nullptr, "tensors to differentiate"},
        {"inputs", Type::TensorList, nullptr, "tensors to differentiate against"},
        {"grad_outputs", Type::TensorList, kOptional, "one gradient per output (scalar outputs need none)"},
        {"retain_graph", Type::Bool, "0", "keep the graph for another backward"},
        {"create_graph", Type::Bool, "0", "record the backward pass (higher-order gradients)"},
        {"allow_unused", Type::Bool, "0", "an input not used by the outputs gives \"\" instead of an error"}},
       cmdAutogradGrad},
      {"enable_grad", "Turn gradient recording on: for the script only (restored on every exit), or until changed.",
       {{"script", Type::Script, kOptional, "run with recording on (default: switch it on globally)"}}, cmdEnableGrad},
      {"set_grad_enabled", "Turn gradient recording on or off: for the script only, or until changed.",
       {{"mode", Type::Bool, nullptr, "1 on, 0 off", "enabled"},
        {"script", Type::Script, kOptional, "run in that mode (default: switch globally)"}},
       cmdSetGradEnabled},
      {"jacobian", "Jacobian of func at inputs (shape output + input), by autograd.", {kFunc, kInputs}, cmdJacobian},
      {"hessian", "Hessian of a scalar func at inputs (shape input + input), by double backward.", {kFunc, kInputs},
       cmdHessian},
      {"vjp", "Vector-Jacobian product v^T J of func at inputs; returns {output vjp}.", {kFunc, kInputs, kV}, cmdVjp},
      {"vector_jacobian_product", "Vector-Jacobian product v^T J of func at inputs; returns {output vjp}.",
       {kFunc, kInputs, kV}, cmdVjp},
      {"jvp", "Jacobian-vector product J v of func at inputs; returns {output jvp}.", {kFunc, kInputs, kV}, cmdJvp},
      {"vmap", "func applied to each slice along in_dims, results stacked along dimension 0.",
       {kFunc, kInputs, {"in_dims", Type::Int, "0", "dimension to map over", "in_dim dim"}}, cmdVmap},
      {"vector_map", "func applied to each slice along in_dims, results stacked along dimension 0.",
       {kFunc, kInputs, {"in_dims", Type::Int, "0", "dimension to map over", "in_dim dim"}}, cmdVmap},
      {"grad_check", "1 when func's autograd Jacobian at inputs (float64) matches central finite differences.",
       {kFunc, kInputs, kEps, {"atol", Type::Double, "1e-5", "absolute tolerance"},
        {"rtol", Type::Double, "1e-3", "relative tolerance"}},
       cmdGradCheck},
      {"grad_check_finite_diff", "Jacobian of func at inputs by central finite differences (shape output + input).",
       {kFunc, kInputs, kEps}, cmdGradCheckFiniteDiff},
  };
  addActivations(out);
  addLosses(out);
  return out;
}

}  // namespace tcltorch
