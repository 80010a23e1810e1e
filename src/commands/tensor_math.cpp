// Arithmetic, unary functions and comparisons. Families are tables:
// one entry per op, one handler template per family.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <ATen/CPUFunctions.h>
#include <ATen/ScalarOps.h>
#include <utility>

namespace tcltorch {

using at::Tensor;
// A number operand as a 0-d "wrapped number" tensor: it takes part in type
// promotion like a Python scalar (int64 tensor + 2.5 is float32).
static Tensor wrapped(const at::Scalar& s) {
  Tensor t = c10::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

// A TensorOrNumber operand: `t` (the registry's own tensor, no reference-count
// traffic) or `s`; the other refers to an empty value.
namespace {
struct Operand {
  const Tensor& t;
  const at::Scalar& s;
  bool isTensor;
};
}  // namespace
static Operand operand(Call& c, const Arg<Type::TensorOrNumber>& k) {
  static const Tensor kNoTensor;
  static const at::Scalar kNoScalar;
  if (c.isNumber(k)) return {kNoTensor, c.scalar(k), false};
  return {c.tensorRef(k), kNoScalar, true};
}

namespace {
const Param kOther{"other", Type::TensorOrNumber, nullptr, "tensor handle or number"};
const Param kTensorOther{"other", Type::Tensor, nullptr, "tensor handle"};
// input and a tensor other
struct PairArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> other;
  explicit PairArgs(const Param& o = kTensorOther) : other{this, o} {}
};
}  // namespace

// Elementwise out-of-place ops on tensors that need no gradient skip the autograd
// dispatch layer, exactly as libtorch's own autograd kernel does right after
// finding that nothing requires grad (the same guard, one call earlier). Views
// and in-place ops never take this path: they need the ADInplaceOrView layer.
static inline bool plain(const Tensor& t) {
  return !t.unsafeGetTensorImpl()->autograd_meta() || (!t.requires_grad() && !t._fw_grad(0).defined());
}
static inline bool plainOperands(const Tensor& a, const Operand* b = nullptr) {
  return plain(a) && (!b || !b->isTensor || plain(b->t));
}
namespace {
struct BelowAutograd {
  c10::optional<at::AutoDispatchBelowADInplaceOrView> guard;
  explicit BelowAutograd(bool noGrad) {
    if (noGrad) guard.emplace();
  }
};
}  // namespace

// A dense CPU tensor with exactly the dispatch keys of a fresh one (no sparse,
// quantized, mkldnn, conjugate or inference tensor), so the CPU kernel is the
// one the dispatcher would pick.
static bool plainCpu(const Tensor& t) {
  static const c10::DispatchKeySet keys = at::empty({0}).key_set();
  return t.key_set() == keys && t.layout() == at::kStrided;
}

// Small same-shape plain CPU operands that need no gradient: the CPU kernel
// writes into a recycled result tensor of the right dtype and shape (out= form)
// instead of allocating, called directly since the dispatcher could only pick it.
// The op's result dtype must be the promoted input dtype (true division of
// integers is not: those take the allocating path).
// The out= kernel is called directly, so no dispatch guard is needed on that path.
static Tensor recycledOut(Call& c, const Tensor& a, const Operand& b, bool noGrad, bool floatOnly = false) {
  if (!noGrad || !b.isTensor || a.sizes() != b.t.sizes() || !plainCpu(a) || !plainCpu(b.t))
    return Tensor();
  // Equal dtypes promote to themselves; only mixed ones need libtorch's rules.
  at::ScalarType rt = a.scalar_type() == b.t.scalar_type() ? a.scalar_type() : at::result_type(a, b.t);
  if (floatOnly && !at::isFloatingType(rt)) return Tensor();
  return c.st.reg.recycled(rt, a.sizes());
}

// ---- add/sub with alpha ----

namespace {
struct AddArgs : Args {
  // -input1/-input2: the other API's spellings.
  Arg<Type::Tensor> input{this, kInput.alias("tensor input1")};
  Arg<Type::TensorOrNumber> other{this, kOther.alias("input2")};
  Arg<Type::Double> alpha{this, {"alpha", Type::Double, "1", "multiplier of other"}};
};
}  // namespace

template <bool Sub>
static Tcl_Obj* cmdAddSub(Call& c, const AddArgs& k) {
  const Tensor& a = c.tensorRef(k.input);
  at::Scalar alpha = c.given(k.alpha) ? c.scalar(k.alpha) : at::Scalar(int64_t(1));
  Operand b = operand(c, k.other);
  bool noGrad = plainOperands(a, &b);
  Tensor out = recycledOut(c, a, b, noGrad);
  if (out.defined()) {
    if (Sub) at::cpu::sub_out(out, a, b.t, alpha);
    else at::cpu::add_out(out, a, b.t, alpha);
    return c.result(std::move(out));
  }
  BelowAutograd g(noGrad);
  if (Sub) return c.result(b.isTensor ? at::sub(a, b.t, alpha) : at::sub(a, b.s, alpha));
  return c.result(b.isTensor ? at::add(a, b.t, alpha) : at::add(a, b.s, alpha));
}

// ---- binary ops: tensor op (tensor | number) ----

namespace {
struct BinaryOp {
  const char* name;
  const char* doc;
  const char* param;  // name of the second operand
  Tensor (*tt)(const Tensor&, const Tensor&);
  Tensor (*ts)(const Tensor&, const at::Scalar&);
  Tensor& (*out)(Tensor&, const Tensor&, const Tensor&) = nullptr;  // out= form, where safe to recycle
  bool floatOnly = false;  // out= only for floating results (true division)
  const char* inAliases = "tensor tensor1 input1";  // the other API's spellings
  const char* otherAliases = "tensor2 input2";
};
}  // namespace

// An op without a Scalar overload: the number becomes a wrapped-number tensor.
#define TCLTORCH_BINARY(name, op, doc)                                          \
  {name, doc, "other", [](const Tensor& a, const Tensor& b) { return at::op(a, b); }, \
   [](const Tensor& a, const at::Scalar& b) { return at::op(a, wrapped(b)); }}

static const BinaryOp kBinary[] = {
    {"tensor_mul", "Elementwise input * other.", "other",
     [](const Tensor& a, const Tensor& b) { return at::mul(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::mul(a, b); },
     [](Tensor& o, const Tensor& a, const Tensor& b) -> Tensor& { return at::cpu::mul_out(o, a, b); }},
    {"tensor_div", "Elementwise true division input / other.", "other",
     [](const Tensor& a, const Tensor& b) { return at::div(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::div(a, b); },
     [](Tensor& o, const Tensor& a, const Tensor& b) -> Tensor& { return at::cpu::div_out(o, a, b); }, true},
    {"tensor_pow", "Elementwise input ** exponent.", "exponent",
     [](const Tensor& a, const Tensor& b) { return at::pow(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::pow(a, b); }},
    {"tensor_remainder", "Elementwise Python-style modulus (sign of the divisor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::remainder(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::remainder(a, b); }},
    {"tensor_maximum", "Elementwise maximum of two tensors (or a tensor and a number).", "other",
     [](const Tensor& a, const Tensor& b) { return at::maximum(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::clamp_min(a, b); },
     [](Tensor& o, const Tensor& a, const Tensor& b) -> Tensor& { return at::cpu::maximum_out(o, a, b); }},
    {"tensor_minimum", "Elementwise minimum of two tensors (or a tensor and a number).", "other",
     [](const Tensor& a, const Tensor& b) { return at::minimum(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::clamp_max(a, b); },
     [](Tensor& o, const Tensor& a, const Tensor& b) -> Tensor& { return at::cpu::minimum_out(o, a, b); }},
    // comparisons: bool tensors
    {"tensor_eq", "Elementwise input == other (bool tensor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::eq(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::eq(a, b); }},
    {"tensor_ne", "Elementwise input != other (bool tensor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::ne(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::ne(a, b); }},
    {"tensor_lt", "Elementwise input < other (bool tensor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::lt(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::lt(a, b); }},
    {"tensor_le", "Elementwise input <= other (bool tensor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::le(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::le(a, b); }},
    {"tensor_gt", "Elementwise input > other (bool tensor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::gt(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::gt(a, b); }},
    {"tensor_ge", "Elementwise input >= other (bool tensor).", "other",
     [](const Tensor& a, const Tensor& b) { return at::ge(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::ge(a, b); }},
    {"atan2", "Elementwise angle of the point (x=other, y=input) in radians, in [-pi, pi].", "other",
     [](const Tensor& a, const Tensor& b) { return at::atan2(a, b); },
     [](const Tensor& a, const at::Scalar& b) { return at::atan2(a, wrapped(b)); }, nullptr, false,
     "tensor tensor1 input1 y", "tensor2 input2 x"},
    TCLTORCH_BINARY("bitwise_and", bitwise_and, "Elementwise bitwise AND of integer or bool tensors."),
    TCLTORCH_BINARY("bitwise_or", bitwise_or, "Elementwise bitwise OR of integer or bool tensors."),
    TCLTORCH_BINARY("bitwise_xor", bitwise_xor, "Elementwise bitwise XOR of integer or bool tensors."),
    TCLTORCH_BINARY("bitwise_left_shift", bitwise_left_shift, "Elementwise input << other (integer tensors)."),
    TCLTORCH_BINARY("bitwise_right_shift", bitwise_right_shift, "Elementwise input >> other (arithmetic shift)."),
    TCLTORCH_BINARY("logical_and", logical_and, "Elementwise logical AND (nonzero is true): bool tensor."),
    TCLTORCH_BINARY("logical_or", logical_or, "Elementwise logical OR (nonzero is true): bool tensor."),
    TCLTORCH_BINARY("logical_xor", logical_xor, "Elementwise logical XOR (nonzero is true): bool tensor."),
};
#undef TCLTORCH_BINARY

namespace {
struct BinaryArgs : Args {
  Arg<Type::Tensor> input;
  Arg<Type::TensorOrNumber> other;  // named op.param
  explicit BinaryArgs(const BinaryOp& op)
      : input{this, kInput.alias(op.inAliases)},
        other{this, {op.param, Type::TensorOrNumber, nullptr, "tensor handle or number", op.otherAliases}} {}
};
}  // namespace

static Tcl_Obj* cmdBinary(Call& c, const BinaryArgs& k) {
  const BinaryOp& op = c.data<BinaryOp>();
  const Tensor& a = c.tensorRef(k.input);
  Operand b = operand(c, k.other);
  bool noGrad = plainOperands(a, &b);
  if (op.out) {
    Tensor out = recycledOut(c, a, b, noGrad, op.floatOnly);
    if (out.defined()) {
      op.out(out, a, b.t);
      return c.result(std::move(out));
    }
  }
  BelowAutograd g(noGrad);
  return c.result(b.isTensor ? op.tt(a, b.t) : op.ts(a, b.s));
}

// ---- unary ops ----

namespace {
struct UnaryOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&);
};
}  // namespace

#define TCLTORCH_UNARY(op, doc) {"tensor_" #op, doc, [](const Tensor& t) { return at::op(t); }}
static const UnaryOp kUnary[] = {
    TCLTORCH_UNARY(neg, "Elementwise -x."),
    TCLTORCH_UNARY(abs, "Elementwise |x|."),
    TCLTORCH_UNARY(exp, "Elementwise e**x."),
    TCLTORCH_UNARY(log, "Elementwise natural logarithm."),
    TCLTORCH_UNARY(log2, "Elementwise base-2 logarithm."),
    TCLTORCH_UNARY(log10, "Elementwise base-10 logarithm."),
    TCLTORCH_UNARY(sqrt, "Elementwise square root."),
    TCLTORCH_UNARY(rsqrt, "Elementwise 1/sqrt(x)."),
    TCLTORCH_UNARY(relu, "Elementwise max(x, 0)."),
    TCLTORCH_UNARY(sigmoid, "Elementwise 1/(1+e**-x)."),
    TCLTORCH_UNARY(tanh, "Elementwise hyperbolic tangent."),
    TCLTORCH_UNARY(sin, "Elementwise sine."),
    TCLTORCH_UNARY(cos, "Elementwise cosine."),
    TCLTORCH_UNARY(floor, "Elementwise floor."),
    TCLTORCH_UNARY(ceil, "Elementwise ceiling."),
    TCLTORCH_UNARY(round, "Elementwise round half to even."),
    TCLTORCH_UNARY(sign, "Elementwise sign (-1, 0, 1)."),
    TCLTORCH_UNARY(reciprocal, "Elementwise 1/x."),
    // the other API's names (no tensor_ prefix)
#define TCLTORCH_UNARY_AS(name, expr, doc) {name, doc, [](const Tensor& t) { return expr; }}
    TCLTORCH_UNARY_AS("tan", at::tan(t), "Elementwise tangent."),
    TCLTORCH_UNARY_AS("asin", at::asin(t), "Elementwise arcsine (radians)."),
    TCLTORCH_UNARY_AS("acos", at::acos(t), "Elementwise arccosine (radians)."),
    TCLTORCH_UNARY_AS("atan", at::atan(t), "Elementwise arctangent (radians)."),
    TCLTORCH_UNARY_AS("sinh", at::sinh(t), "Elementwise hyperbolic sine."),
    TCLTORCH_UNARY_AS("cosh", at::cosh(t), "Elementwise hyperbolic cosine."),
    TCLTORCH_UNARY_AS("asinh", at::asinh(t), "Elementwise inverse hyperbolic sine."),
    TCLTORCH_UNARY_AS("acosh", at::acosh(t), "Elementwise inverse hyperbolic cosine."),
    TCLTORCH_UNARY_AS("atanh", at::atanh(t), "Elementwise inverse hyperbolic tangent."),
    TCLTORCH_UNARY_AS("deg2rad", at::deg2rad(t), "Elementwise degrees to radians."),
    TCLTORCH_UNARY_AS("rad2deg", at::rad2deg(t), "Elementwise radians to degrees."),
    TCLTORCH_UNARY_AS("exp2", at::exp2(t), "Elementwise 2**x."),
    TCLTORCH_UNARY_AS("exp10", at::pow(at::Scalar(10.0), t), "Elementwise 10**x."),
    TCLTORCH_UNARY_AS("expm1", at::expm1(t), "Elementwise e**x - 1 (exact for small x)."),
    TCLTORCH_UNARY_AS("log1p", at::log1p(t), "Elementwise log(1 + x) (exact for small x)."),
    TCLTORCH_UNARY_AS("square", at::square(t), "Elementwise x*x."),
    TCLTORCH_UNARY_AS("trunc", at::trunc(t), "Elementwise rounding toward zero."),
    TCLTORCH_UNARY_AS("frac", at::frac(t), "Elementwise fractional part x - trunc(x)."),
    TCLTORCH_UNARY_AS("bitwise_not", at::bitwise_not(t), "Elementwise bitwise NOT (logical NOT for bool)."),
    TCLTORCH_UNARY_AS("logical_not", at::logical_not(t), "Elementwise logical NOT (zero is false): bool tensor."),
    TCLTORCH_UNARY_AS("isnan", at::isnan(t), "Elementwise: is NaN (bool tensor)."),
    TCLTORCH_UNARY_AS("isinf", at::isinf(t), "Elementwise: is +-Inf (bool tensor)."),
    TCLTORCH_UNARY_AS("isfinite", at::isfinite(t), "Elementwise: neither NaN nor +-Inf (bool tensor)."),
    TCLTORCH_UNARY_AS("tensor_real", at::real(t), "Real part (the input itself when it is real)."),
    TCLTORCH_UNARY_AS("tensor_imag", at::imag(t), "Imaginary part of a complex tensor."),
    TCLTORCH_UNARY_AS("tensor_angle", at::angle(t), "Elementwise argument (phase) in radians."),
#undef TCLTORCH_UNARY_AS
};
#undef TCLTORCH_UNARY

static Tcl_Obj* cmdUnary(Call& c, const InputArgs& k) {
  const Tensor& a = c.tensorRef(k.input);
  BelowAutograd g(plainOperands(a));
  return c.result(c.data<UnaryOp>().fn(a));
}

// ---- the rest ----

namespace {
struct DiffArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> n{this, {"n", Type::Int, "1", "number of times to difference"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "-1", "dimension", "dimension"}};
};
}  // namespace
static Tcl_Obj* cmdDiff(Call& c, const DiffArgs& a) {
  return c.result(at::diff(c.tensorRef(a.input), c.integer(a.n), c.integer(a.dim)));
}

namespace {
struct GradientArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> spacing{this, Param{"spacing", Type::Double, "1", "sample spacing (\"\": the default)"}.emptyIsDefault()};
  Arg<Type::Int> dim{this, {"dim", Type::Int, kOptional, "dimension (default: all)", "dimension"}};
  Arg<Type::Int> edge_order{this, {"edge_order", Type::Int, "1", "1 or 2: order of the edge differences"}};
};
}  // namespace
// torch.gradient: central differences inside, one-sided at the edges; one
// tensor per dimension (a list of handles), or just along dim.
static Tcl_Obj* cmdGradient(Call& c, const GradientArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  at::Scalar spacing = c.number(a.spacing);
  int64_t edge = c.integer(a.edge_order);
  c10::optional<int64_t> dim;
  if (c.has(a.dim)) dim = c.integer(a.dim);
  return c.results(at::gradient(t, c10::optional<at::Scalar>(spacing), dim, edge));
}

namespace {
// allclose and isclose (isclose knows the other API's spellings).
struct CloseArgs : Args {
  Arg<Type::Tensor> input;
  Arg<Type::Tensor> other;
  Arg<Type::Double> rtol;
  Arg<Type::Double> atol;
  Arg<Type::Bool> equal_nan{this, {"equal_nan", Type::Bool, "0", "1: NaN equals NaN"}};
  explicit CloseArgs(bool spellings)
      : input{this, kInput.alias(spellings ? "tensor tensor1" : "tensor")},
        other{this, kTensorOther.alias(spellings ? "tensor2" : nullptr)},
        rtol{this, {"rtol", Type::Double, "1e-05", "relative tolerance", spellings ? "relativeTolerance" : nullptr}},
        atol{this, {"atol", Type::Double, "1e-08", "absolute tolerance", spellings ? "absoluteTolerance" : nullptr}} {}
};
}  // namespace
static Tcl_Obj* cmdIsclose(Call& c, const CloseArgs& a) {
  return c.result(at::isclose(c.tensorRef(a.input), c.tensorRef(a.other), c.number(a.rtol), c.number(a.atol),
                              c.boolean(a.equal_nan)));
}
static Tcl_Obj* cmdAllclose(Call& c, const CloseArgs& a) {
  return Tcl_NewBooleanObj(at::allclose(c.tensorRef(a.input), c.tensorRef(a.other), c.number(a.rtol), c.number(a.atol),
                                        c.boolean(a.equal_nan)));
}

namespace {
struct NormalizeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> p{this, {"p", Type::Double, "2", "order of the norm"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, kOptional, "dimension (default: all)", "dimension"}};
  Arg<Type::Double> eps{this, {"eps", Type::Double, "1e-12", "lower bound of the norm"}};
};
}  // namespace
// input / max(||input||_p, eps), the norm over dim (default: all elements).
static Tcl_Obj* cmdNormalize(Call& c, const NormalizeArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  at::Scalar p = c.number(a.p);
  Tensor n = c.has(a.dim) ? at::norm(t, p, std::vector<int64_t>{c.integer(a.dim)}, true) : at::norm(t, p);
  return c.result(t / n.clamp_min(c.number(a.eps)));
}

static Tcl_Obj* cmdMatmul(Call& c, const PairArgs& a) { return c.result(at::matmul(c.tensor(a.input), c.tensor(a.other))); }
static Tcl_Obj* cmdBmm(Call& c, const PairArgs& a) { return c.result(at::bmm(c.tensor(a.input), c.tensor(a.other))); }

namespace {
struct ClampArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> min{this, {"min", Type::Double, kOptional, "lower bound"}};
  Arg<Type::Double> max{this, {"max", Type::Double, kOptional, "upper bound"}};
};
}  // namespace
static Tcl_Obj* cmdClamp(Call& c, const ClampArgs& a) {
  c10::optional<at::Scalar> lo, hi;
  if (c.has(a.min)) lo = c.scalar(a.min);
  if (c.has(a.max)) hi = c.scalar(a.max);
  return c.result(at::clamp(c.tensor(a.input), lo, hi));
}

namespace {
struct SoftmaxArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "-1", "dimension"}};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, kOptional, "compute in this dtype"}};
};
}  // namespace
template <bool Log>
static Tcl_Obj* cmdSoftmax(Call& c, const SoftmaxArgs& a) {
  const Tensor& t = c.tensor(a.input);
  c10::optional<at::ScalarType> dt;
  if (c.has(a.dtype)) dt = c.dtype(a.dtype);
  return c.result(Log ? at::log_softmax(t, c.integer(a.dim), dt) : at::softmax(t, c.integer(a.dim), dt));
}

namespace {
struct WhereArgs : Args {
  Arg<Type::Tensor> condition{this, {"condition", Type::Tensor, nullptr, "bool tensor"}};
  Arg<Type::TensorOrNumber> input{this, {"input", Type::TensorOrNumber, nullptr, "value where true", "x"}};
  Arg<Type::TensorOrNumber> other{this, {"other", Type::TensorOrNumber, nullptr, "value where false", "y"}};
};
}  // namespace
static Tcl_Obj* cmdWhere(Call& c, const WhereArgs& k) {
  const Tensor& cond = c.tensor(k.condition);
  Operand a = operand(c, k.input), b = operand(c, k.other);
  if (a.isTensor && b.isTensor) return c.result(at::where(cond, a.t, b.t));
  if (a.isTensor) return c.result(at::where(cond, a.t, b.s));
  if (b.isTensor) return c.result(at::where(cond, a.s, b.t));
  return c.result(at::where(cond, a.s, b.s));
}

// Families are rows: one handler per family, each row carrying its member.
static void addBinary(std::vector<Command>& out) {
  for (const BinaryOp& op : kBinary)
    out.push_back(typedRow<cmdBinary>(op.name, op.doc, std::make_shared<const BinaryArgs>(op)).withData(&op));
}
static void addUnary(std::vector<Command>& out) {
  auto args = std::make_shared<const InputArgs>();
  for (const UnaryOp& op : kUnary) out.push_back(typedRow<cmdUnary>(op.name, op.doc, args).withData(&op));
}
std::vector<Command> tensorMathCommands() {
  std::vector<Command> out = {
      typedRow<cmdAddSub<false>>("tensor_add", "input + alpha * other (other: tensor or number)."),
      typedRow<cmdAddSub<true>>("tensor_sub", "input - alpha * other (other: tensor or number)."),
      typedRow<cmdMatmul>("tensor_matmul", "Matrix product with broadcasting (torch.matmul)."),
      typedRow<cmdBmm>("tensor_bmm", "Batched matrix product of [b,n,m] and [b,m,p].",
                       std::make_shared<const PairArgs>(kTensorOther.alias("mat2"))),
      typedRow<cmdClamp>("tensor_clamp", "Clamp values into [min, max] (either bound may be left out)."),
      typedRow<cmdSoftmax<false>>("tensor_softmax", "Softmax along dim."),
      typedRow<cmdSoftmax<true>>("tensor_log_softmax", "Log of softmax along dim (numerically stable)."),
      typedRow<cmdWhere>("tensor_where", "Elementwise condition ? input : other (input/other: tensors or numbers)."),
      typedRow<cmdAllclose>("allclose", "1 when |input - other| <= atol + rtol * |other| everywhere.",
                            std::make_shared<const CloseArgs>(false)),
      typedRow<cmdIsclose>("isclose", "Elementwise |input - other| <= atol + rtol * |other| (bool tensor).",
                           std::make_shared<const CloseArgs>(true)),
      typedRow<cmdNormalize>("tensor_normalize", "input / max(p-norm, eps): the norm over dim, or over all elements."),
      typedRow<cmdDiff>("diff", "n-th forward difference along dim: out[i] = input[i+1] - input[i]."),
      typedRow<cmdGradient>("gradient",
                            "Numerical gradient (central differences, one-sided at the edges): one handle per dimension, or along dim."),
  };
  addBinary(out);
  addUnary(out);
  return out;
}

}  // namespace tcltorch
