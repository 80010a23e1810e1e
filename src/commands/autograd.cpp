// Autograd, functional activations that need parameters, and losses.
#include "tcltorch/commands.h"
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

// ---- functional activations ----

static Tcl_Obj* cmdGelu(Call& c) {
  static const char* kinds[] = {"none", "tanh"};
  return c.result(at::gelu(c.tensor("input"), kinds[c.choice("approximate")]));
}
static Tcl_Obj* cmdLeakyRelu(Call& c) {
  return c.result(at::leaky_relu(c.tensor("input"), c.scalar("negative_slope")));
}
static Tcl_Obj* cmdDropout(Call& c) {
  double p = c.number("p");
  if (p < 0 || p > 1) c.badValue("p", "a probability between 0 and 1");
  return c.result(at::dropout(c.tensor("input"), p, c.boolean("training")));
}

// ---- losses: one table, one handler template ----

// mean|sum|none -> at::Reduction
static int64_t reduction(Call& c) {
  static const int64_t r[] = {at::Reduction::Mean, at::Reduction::Sum, at::Reduction::None};
  return r[c.choice("reduction")];
}

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

struct LossSpec {
  const char* name;
  const char* doc;
  std::vector<Param> extra;  // after input, target; reduction is appended
  at::Tensor (*fn)(Call&, const at::Tensor& input, int64_t reduction);
};

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
       }},
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
  };
  return specs;
}

template <size_t I>
static Tcl_Obj* cmdLoss(Call& c) {
  at::Tensor x = c.tensor("input");
  return c.result(lossSpecs()[I].fn(c, x, reduction(c)));
}

template <size_t... I>
static void addLosses(std::vector<Command>& out, std::index_sequence<I...>) {
  (void)std::initializer_list<int>{([&] {
    const LossSpec& s = lossSpecs()[I];
    std::vector<Param> ps = {{"input", Type::Tensor, nullptr, "prediction"},
                             {"target", Type::Tensor, nullptr, "target"}};
    // PyTorch's order: reduction right after weight, or after target.
    size_t at = 2;
    for (auto& p : s.extra) {
      ps.push_back(p);
      if (std::string(p.name) == "weight") at = ps.size();
    }
    Param red{"reduction", Type::Choice, "mean", "mean, sum or none (per element)", nullptr, "mean sum none"};
    ps.insert(ps.begin() + long(at), red);
    out.push_back({s.name, s.doc, ps, &cmdLoss<I>});
  }(), 0)...};
}


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
      {"tensor_gelu", "GELU activation.",
       {kInput, {"approximate", Type::Choice, "none", "none (exact erf) or tanh", nullptr, "none tanh"}}, cmdGelu},
      {"tensor_leaky_relu", "Leaky ReLU: x where x > 0, else negative_slope * x.",
       {kInput, {"negative_slope", Type::Double, "0.01", "slope for negative inputs"}}, cmdLeakyRelu},
      {"tensor_dropout", "Dropout: zero elements with probability p and scale the rest by 1/(1-p) when training.",
       {kInput, {"p", Type::Double, "0.5", "probability of zeroing an element"},
        {"training", Type::Bool, "1", "apply dropout (0: identity)"}},
       cmdDropout},
  };
  constexpr size_t kLosses = 7;  // entries of lossSpecs()
  if (lossSpecs().size() != kLosses) throw std::logic_error("internal: loss table size");
  addLosses(out, std::make_index_sequence<kLosses>());
  return out;
}

}  // namespace tcltorch
