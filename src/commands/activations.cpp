// Functional activations (relu, gelu, softmax, ...): one table of specs, one handler.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <sstream>

namespace tcltorch {

// ---- functional activations: one table, one handler template ----

namespace {
struct ActSpec {
  const char* name;
  const char* doc;
  std::vector<Param> extra;  // after input
  at::Tensor (*fn)(Call&, const at::Tensor& input);
};
}  // namespace

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
       {Param{"p", Type::Double, "0.5", "probability of zeroing an element"}.probability(),
        {"training", Type::Bool, "1", "apply dropout (0: identity)"}},
       [](Call& c, const at::Tensor& x) { return at::dropout(x, c.number("p"), c.boolean("training")); }},
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
      {"softmax2d",
       "Softmax over the channels of each location: dimension -3 of a [C, H, W] or [N, C, H, W] input "
       "(PyTorch's Softmax2d), or along -dim of any input.",
       {{"dim", Type::Int, kOptional, "dimension (default: -3, and the input must be 3-D or 4-D)", "dimension"}},
       [](Call& c, const at::Tensor& x) {
         if (c.has("dim")) return at::softmax(x, c.integer("dim"));
         if (x.dim() != 3 && x.dim() != 4) c.badValue("input", "a 3-D or 4-D tensor (or give -dim)");
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
std::vector<Command> activationCommands() {
  std::vector<Command> out;
  for (const ActSpec& s : actSpecs()) {
    std::vector<Param> ps = {kInput};
    ps.insert(ps.end(), s.extra.begin(), s.extra.end());
    out.push_back(Command{s.name, s.doc, ps, cmdActivation}.withData(&s));
  }
  return out;
}

}  // namespace tcltorch
