// Functional activations (relu, gelu, softmax, ...): one argument struct per
// parameter shape, one small handler per row.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <sstream>

namespace tcltorch {

// ---- functional activations: the input, then each row's own parameters ----

namespace {
const Param kAlpha1{"alpha", Type::Double, "1.0", "scale of the negative part"};
const Param kSlope{"negative_slope", Type::Double, "0.01", "slope for negative inputs"};
const Param kActDim{"dim", Type::Int, "-1", "dimension", "dimension"};

struct DimArgs : Args {  // logsoftmax, glu, softmin
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, kActDim};
};
struct AlphaArgs : Args {  // elu, celu
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> alpha{this, kAlpha1};
};
struct SlopeArgs : Args {  // leaky_relu and tensor_leaky_relu
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> negative_slope{this, kSlope};
};
struct GeluArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Choice> approximate{this, {"approximate", Type::Choice, "none", "none (exact erf) or tanh", nullptr, "none tanh"}};
};
struct DropoutArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> p{this, Param{"p", Type::Double, "0.5", "probability of zeroing an element"}.probability()};
  Arg<Type::Bool> training{this, {"training", Type::Bool, "1", "apply dropout (0: identity)"}};
};
struct HardtanhArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> min_val{this, {"min_val", Type::Double, "-1.0", "lower bound"}};
  Arg<Type::Double> max_val{this, {"max_val", Type::Double, "1.0", "upper bound"}};
};
struct PreluArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> weight{this, {"weight", Type::Tensor, nullptr, "slopes: 1 element or one per channel"}};
};
struct RreluArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> lower{this, {"lower", Type::Double, "0.125", "lowest slope"}};
  Arg<Type::Double> upper{this, {"upper", Type::Double, "0.3333333333333333", "highest slope"}};
  Arg<Type::Bool> training{this, {"training", Type::Bool, "0", "draw random slopes"}};
};
struct Softmax2dArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, {"dim", Type::Int, kOptional, "dimension (default: -3, and the input must be 3-D or 4-D)", "dimension"}};
};
struct SoftplusArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> beta{this, {"beta", Type::Double, "1.0", "sharpness"}};
  Arg<Type::Double> threshold{this, {"threshold", Type::Double, "20.0", "linear above beta x > threshold"}};
};
struct ThresholdArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> threshold{this, {"threshold", Type::Double, nullptr, "threshold"}};
  Arg<Type::Double> value{this, {"value", Type::Double, nullptr, "replacement value"}};
};
}  // namespace

static Tcl_Obj* cmdGelu(Call& c, const GeluArgs& a) {
  static const char* kinds[] = {"none", "tanh"};
  return c.result(at::gelu(c.tensor(a.input), kinds[c.choice(a.approximate)]));
}
static Tcl_Obj* cmdLeakyRelu(Call& c, const SlopeArgs& a) {
  return c.result(at::leaky_relu(c.tensor(a.input), c.scalar(a.negative_slope)));
}
static Tcl_Obj* cmdDropout(Call& c, const DropoutArgs& a) {
  return c.result(at::dropout(c.tensor(a.input), c.number(a.p), c.boolean(a.training)));
}
static Tcl_Obj* cmdLogSoftmax(Call& c, const DimArgs& a) { return c.result(at::log_softmax(c.tensor(a.input), c.integer(a.dim))); }
static Tcl_Obj* cmdElu(Call& c, const AlphaArgs& a) { return c.result(at::elu(c.tensor(a.input), c.scalar(a.alpha))); }
static Tcl_Obj* cmdCelu(Call& c, const AlphaArgs& a) { return c.result(at::celu(c.tensor(a.input), c.scalar(a.alpha))); }
static Tcl_Obj* cmdSelu(Call& c, const InputArgs& a) { return c.result(at::selu(c.tensor(a.input))); }
static Tcl_Obj* cmdGlu(Call& c, const DimArgs& a) { return c.result(at::glu(c.tensor(a.input), c.integer(a.dim))); }
static Tcl_Obj* cmdHardsigmoid(Call& c, const InputArgs& a) { return c.result(at::hardsigmoid(c.tensor(a.input))); }
static Tcl_Obj* cmdHardswish(Call& c, const InputArgs& a) { return c.result(at::hardswish(c.tensor(a.input))); }
static Tcl_Obj* cmdHardtanh(Call& c, const HardtanhArgs& a) {
  if (c.number(a.min_val) > c.number(a.max_val)) c.badValue(a.max_val, "a number >= min_val");
  return c.result(at::hardtanh(c.tensor(a.input), c.scalar(a.min_val), c.scalar(a.max_val)));
}
static Tcl_Obj* cmdRelu6(Call& c, const InputArgs& a) { return c.result(at::hardtanh(c.tensor(a.input), 0, 6)); }
static Tcl_Obj* cmdMish(Call& c, const InputArgs& a) { return c.result(at::mish(c.tensor(a.input))); }
static Tcl_Obj* cmdSilu(Call& c, const InputArgs& a) { return c.result(at::silu(c.tensor(a.input))); }
static Tcl_Obj* cmdPrelu(Call& c, const PreluArgs& a) { return c.result(at::prelu(c.tensor(a.input), c.tensor(a.weight))); }
static Tcl_Obj* cmdRrelu(Call& c, const RreluArgs& a) {
  if (c.number(a.lower) > c.number(a.upper)) c.badValue(a.upper, "a number >= lower");
  return c.result(at::rrelu(c.tensor(a.input), c.scalar(a.lower), c.scalar(a.upper), c.boolean(a.training)));
}
static Tcl_Obj* cmdSoftmin(Call& c, const DimArgs& a) { return c.result(at::softmax(c.tensor(a.input).neg(), c.integer(a.dim))); }
static Tcl_Obj* cmdSoftmax2d(Call& c, const Softmax2dArgs& a) {
  at::Tensor x = c.tensor(a.input);
  if (c.has(a.dim)) return c.result(at::softmax(x, c.integer(a.dim)));
  if (x.dim() != 3 && x.dim() != 4) c.badValue(a.input, "a 3-D or 4-D tensor (or give -dim)");
  return c.result(at::softmax(x, -3));
}
static Tcl_Obj* cmdSoftplus(Call& c, const SoftplusArgs& a) {
  return c.result(at::softplus(c.tensor(a.input), c.scalar(a.beta), c.scalar(a.threshold)));
}
static Tcl_Obj* cmdSoftsign(Call& c, const InputArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(x / (x.abs() + 1));
}
static Tcl_Obj* cmdTanhshrink(Call& c, const InputArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(x - x.tanh());
}
static Tcl_Obj* cmdThreshold(Call& c, const ThresholdArgs& a) {
  return c.result(at::threshold(c.tensor(a.input), c.scalar(a.threshold), c.scalar(a.value)));
}

// Rows of one shape share its struct.
std::vector<Command> activationCommands() {
  auto input = std::make_shared<const InputArgs>();
  auto dim = std::make_shared<const DimArgs>();
  auto alpha = std::make_shared<const AlphaArgs>();
  auto slope = std::make_shared<const SlopeArgs>();
  const char* leakyDoc = "Leaky ReLU: x where x > 0, else negative_slope * x.";
  return {
      typedRow<cmdGelu>("tensor_gelu", "GELU activation."),
      typedRow<cmdLeakyRelu>("tensor_leaky_relu", leakyDoc, slope),
      typedRow<cmdLeakyRelu>("leaky_relu", leakyDoc, slope),
      typedRow<cmdDropout>("tensor_dropout",
                           "Dropout: zero elements with probability p and scale the rest by 1/(1-p) when training."),
      typedRow<cmdLogSoftmax>("logsoftmax", "Log of softmax along dim (numerically stable).", dim),
      typedRow<cmdElu>("elu", "ELU: x where x > 0, else alpha (exp(x) - 1).", alpha),
      typedRow<cmdCelu>("celu", "CELU: max(0, x) + min(0, alpha (exp(x / alpha) - 1)).", alpha),
      typedRow<cmdSelu>("selu", "SELU: scale * ELU(x, alpha) with the self-normalising constants.", input),
      typedRow<cmdGlu>("glu", "Gated linear unit: a * sigmoid(b), the halves of the input along dim.", dim),
      typedRow<cmdHardsigmoid>("hardsigmoid", "Hard sigmoid: relu6(x + 3) / 6.", input),
      typedRow<cmdHardswish>("hardswish", "Hard swish: x * relu6(x + 3) / 6.", input),
      typedRow<cmdHardtanh>("hardtanh", "Clamp to [min_val, max_val]."),
      typedRow<cmdRelu6>("relu6", "min(max(0, x), 6).", input),
      typedRow<cmdMish>("mish", "Mish: x * tanh(softplus(x)).", input),
      typedRow<cmdSilu>("silu", "SiLU (swish): x * sigmoid(x).", input),
      typedRow<cmdPrelu>("prelu", "PReLU: x where x > 0, else weight * x (one weight, or one per channel of dimension 1)."),
      typedRow<cmdRrelu>("rrelu", "Randomized leaky ReLU: a random slope in [lower, upper] when training, their mean otherwise."),
      typedRow<cmdSoftmin>("softmin", "Softmin along dim: softmax(-x).", dim),
      typedRow<cmdSoftmax2d>("softmax2d",
                             "Softmax over the channels of each location: dimension -3 of a [C, H, W] or [N, C, H, W] input "
                             "(PyTorch's Softmax2d), or along -dim of any input."),
      typedRow<cmdSoftplus>("softplus", "Softplus: log(1 + exp(beta x)) / beta, linear above threshold."),
      typedRow<cmdSoftsign>("softsign", "x / (1 + |x|).", input),
      typedRow<cmdTanhshrink>("tanhshrink", "x - tanh(x).", input),
      typedRow<cmdThreshold>("threshold", "x where x > threshold, else value."),
  };
}

}  // namespace tcltorch
