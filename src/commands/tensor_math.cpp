// Arithmetic, unary functions, reductions and comparisons. Families are tables:
// one entry per op, one handler template per family.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <ATen/CPUFunctions.h>
#include <utility>

namespace tcltorch {

using at::Tensor;

// A TensorOrNumber operand: either `t` or `s` is set.
struct Operand {
  Tensor t;
  at::Scalar s;
  bool isTensor;
};
static Operand operand(Call& c, const char* name) {
  if (c.isNumber(name)) return {Tensor(), c.scalar(name), false};
  return {c.tensorRef(name), at::Scalar(), true};
}

// Elementwise out-of-place ops on tensors that need no gradient skip the autograd
// dispatch layer, exactly as libtorch's own autograd kernel does right after
// finding that nothing requires grad (the same guard, one call earlier). Views
// and in-place ops never take this path: they need the ADInplaceOrView layer.
static inline bool plain(const Tensor& t) {
  return !t.unsafeGetTensorImpl()->autograd_meta() || (!t.requires_grad() && !t._fw_grad(0).defined());
}
struct BelowAutograd {
  c10::optional<at::AutoDispatchBelowADInplaceOrView> guard;
  BelowAutograd(const Tensor& a, const Operand* b = nullptr) {
    if (plain(a) && (!b || !b->isTensor || plain(b->t))) guard.emplace();
  }
};

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
static Tensor recycledOut(Call& c, const Tensor& a, const Operand& b, const BelowAutograd& g,
                          bool floatOnly = false) {
  if (!g.guard || !b.isTensor || a.sizes() != b.t.sizes() || !plainCpu(a) || !plainCpu(b.t))
    return Tensor();
  // Equal dtypes promote to themselves; only mixed ones need libtorch's rules.
  at::ScalarType rt = a.scalar_type() == b.t.scalar_type() ? a.scalar_type() : at::result_type(a, b.t);
  if (floatOnly && !at::isFloatingType(rt)) return Tensor();
  return c.st.reg.recycled(rt, a.sizes());
}

// ---- add/sub with alpha ----

template <bool Sub>
static Tcl_Obj* cmdAddSub(Call& c) {
  const Tensor& a = c.tensorRef("input");
  at::Scalar alpha = c.given("alpha") ? c.scalar("alpha") : at::Scalar(int64_t(1));
  Operand b = operand(c, "other");
  BelowAutograd g(a, &b);
  Tensor out = recycledOut(c, a, b, g);
  if (out.defined()) {
    if (Sub) at::cpu::sub_out(out, a, b.t, alpha);
    else at::cpu::add_out(out, a, b.t, alpha);
    return c.result(std::move(out));
  }
  if (Sub) return c.result(b.isTensor ? at::sub(a, b.t, alpha) : at::sub(a, b.s, alpha));
  return c.result(b.isTensor ? at::add(a, b.t, alpha) : at::add(a, b.s, alpha));
}

// ---- binary ops: tensor op (tensor | number) ----

struct BinaryOp {
  const char* name;
  const char* doc;
  const char* param;  // name of the second operand
  Tensor (*tt)(const Tensor&, const Tensor&);
  Tensor (*ts)(const Tensor&, const at::Scalar&);
  Tensor& (*out)(Tensor&, const Tensor&, const Tensor&) = nullptr;  // out= form, where safe to recycle
  bool floatOnly = false;  // out= only for floating results (true division)
};

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
};

template <size_t I>
static Tcl_Obj* cmdBinary(Call& c) {
  const BinaryOp& op = kBinary[I];
  const Tensor& a = c.tensorRef("input");
  Operand b = operand(c, op.param);
  BelowAutograd g(a, &b);
  if (op.out) {
    Tensor out = recycledOut(c, a, b, g, op.floatOnly);
    if (out.defined()) {
      op.out(out, a, b.t);
      return c.result(std::move(out));
    }
  }
  return c.result(b.isTensor ? op.tt(a, b.t) : op.ts(a, b.s));
}

// ---- unary ops ----

struct UnaryOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&);
};

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
};
#undef TCLTORCH_UNARY

template <size_t I>
static Tcl_Obj* cmdUnary(Call& c) {
  const Tensor& a = c.tensorRef("input");
  BelowAutograd g(a);
  return c.result(kUnary[I].fn(a));
}

// ---- reductions: input ?dim? ?keepdim? ----

// dim absent: reduce everything (keepdim keeps every dimension as size 1).
struct Reduce {
  Call& c;
  Tensor t;
  bool hasDim;
  std::vector<int64_t> dims;
  bool keepdim;
  int64_t one() {  // ops that take a single dimension
    if (dims.size() != 1) c.badValue("dim", "an integer");
    return dims[0];
  }
  std::vector<int64_t> allDims() const {
    std::vector<int64_t> d(size_t(t.dim()));
    for (size_t i = 0; i < d.size(); ++i) d[i] = int64_t(i);
    return d;
  }
};

struct ReductionOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(Reduce&);
  std::vector<Param> extra;
};

static const std::vector<ReductionOp>& reductions() {
  static const std::vector<ReductionOp> ops = {
      {"tensor_sum", "Sum of all elements, or along dim (an integer or a list).",
       [](Reduce& r) { return r.hasDim || r.keepdim ? at::sum(r.t, r.hasDim ? r.dims : r.allDims(), r.keepdim) : at::sum(r.t); }},
      {"tensor_mean", "Mean of all elements, or along dim (an integer or a list).",
       [](Reduce& r) { return r.hasDim || r.keepdim ? at::mean(r.t, r.hasDim ? r.dims : r.allDims(), r.keepdim) : at::mean(r.t); }},
      {"tensor_prod", "Product of all elements, or along dim.",
       [](Reduce& r) { return r.hasDim ? at::prod(r.t, r.one(), r.keepdim) : at::prod(r.t); }},
      {"tensor_max", "Maximum of all elements, or the maximum values along dim (see tensor_argmax for indices).",
       [](Reduce& r) {
         if (r.hasDim) return std::get<0>(at::max(r.t, r.one(), r.keepdim));
         return r.keepdim ? at::amax(r.t, r.allDims(), true) : at::max(r.t);
       }},
      {"tensor_min", "Minimum of all elements, or the minimum values along dim (see tensor_argmin for indices).",
       [](Reduce& r) {
         if (r.hasDim) return std::get<0>(at::min(r.t, r.one(), r.keepdim));
         return r.keepdim ? at::amin(r.t, r.allDims(), true) : at::min(r.t);
       }},
      {"tensor_argmax", "Index of the maximum (in the flattened tensor, or along dim).",
       [](Reduce& r) { return at::argmax(r.t, r.hasDim ? c10::optional<int64_t>(r.one()) : c10::nullopt, r.keepdim); }},
      {"tensor_argmin", "Index of the minimum (in the flattened tensor, or along dim).",
       [](Reduce& r) { return at::argmin(r.t, r.hasDim ? c10::optional<int64_t>(r.one()) : c10::nullopt, r.keepdim); }},
      {"tensor_std", "Standard deviation of all elements, or along dim.",
       [](Reduce& r) {
         return at::std(r.t, at::IntArrayRef(r.hasDim ? r.dims : r.allDims()), r.c.boolean("unbiased"), r.keepdim);
       },
       {{"unbiased", Type::Bool, "1", "1 for Bessel's correction (divide by N-1)"}}},
      {"tensor_var", "Variance of all elements, or along dim.",
       [](Reduce& r) {
         return at::var(r.t, at::IntArrayRef(r.hasDim ? r.dims : r.allDims()), r.c.boolean("unbiased"), r.keepdim);
       },
       {{"unbiased", Type::Bool, "1", "1 for Bessel's correction (divide by N-1)"}}},
      {"tensor_norm", "p-norm of all elements, or along dim.",
       [](Reduce& r) { return at::norm(r.t, r.c.scalar("p"), r.hasDim ? r.dims : r.allDims(), r.keepdim); },
       {{"p", Type::Double, "2", "order of the norm"}}},
  };
  return ops;
}

template <size_t I>
static Tcl_Obj* cmdReduce(Call& c) {
  Reduce r{c, c.tensor("input"), c.has("dim"), {}, c.boolean("keepdim")};
  if (r.hasDim) r.dims = c.ints("dim");
  return c.result(reductions()[I].fn(r));
}

// ---- the rest ----

static Tcl_Obj* cmdMatmul(Call& c) { return c.result(at::matmul(c.tensor("input"), c.tensor("other"))); }
static Tcl_Obj* cmdBmm(Call& c) { return c.result(at::bmm(c.tensor("input"), c.tensor("other"))); }

static Tcl_Obj* cmdClamp(Call& c) {
  c10::optional<at::Scalar> lo, hi;
  if (c.has("min")) lo = c.scalar("min");
  if (c.has("max")) hi = c.scalar("max");
  return c.result(at::clamp(c.tensor("input"), lo, hi));
}

template <bool Log>
static Tcl_Obj* cmdSoftmax(Call& c) {
  const Tensor& t = c.tensor("input");
  c10::optional<at::ScalarType> dt;
  if (c.has("dtype")) dt = c.dtype("dtype");
  return c.result(Log ? at::log_softmax(t, c.integer("dim"), dt) : at::softmax(t, c.integer("dim"), dt));
}

static Tcl_Obj* cmdWhere(Call& c) {
  const Tensor& cond = c.tensor("condition");
  Operand a = operand(c, "input"), b = operand(c, "other");
  if (a.isTensor && b.isTensor) return c.result(at::where(cond, a.t, b.t));
  if (a.isTensor) return c.result(at::where(cond, a.t, b.s));
  if (b.isTensor) return c.result(at::where(cond, a.s, b.t));
  return c.result(at::where(cond, a.s, b.s));
}

static Tcl_Obj* cmdAllclose(Call& c) {
  return Tcl_NewBooleanObj(at::allclose(c.tensor("input"), c.tensor("other"), c.number("rtol"), c.number("atol"),
                                        c.boolean("equal_nan")));
}

template <size_t... I>
static void addBinary(std::vector<Command>& out, std::index_sequence<I...>) {
  (out.push_back({kBinary[I].name, kBinary[I].doc,
                  {kInput, {kBinary[I].param, Type::TensorOrNumber, nullptr, "tensor handle or number"}},
                  cmdBinary<I>}),
   ...);
}
template <size_t... I>
static void addUnary(std::vector<Command>& out, std::index_sequence<I...>) {
  (out.push_back({kUnary[I].name, kUnary[I].doc, {kInput}, cmdUnary<I>}), ...);
}
constexpr size_t kReductionCount = 10;
template <size_t... I>
static void addReductions(std::vector<Command>& out, std::index_sequence<I...>) {
  auto params = [](const ReductionOp& op) {
    std::vector<Param> p = {kInput,
                            {"dim", Type::IntList, kOptional, "dimension (or list of dimensions); default: all"},
                            {"keepdim", Type::Bool, "0", "1 keeps reduced dimensions with size 1"}};
    p.insert(p.end(), op.extra.begin(), op.extra.end());
    return p;
  };
  (out.push_back({reductions()[I].name, reductions()[I].doc, params(reductions()[I]), cmdReduce<I>}), ...);
}

std::vector<Command> tensorMathCommands() {
  const Param other{"other", Type::TensorOrNumber, nullptr, "tensor handle or number"};
  const Param alpha{"alpha", Type::Double, "1", "multiplier of other"};
  const Param tensorOther{"other", Type::Tensor, nullptr, "tensor handle"};
  std::vector<Command> out = {
      {"tensor_add", "input + alpha * other (other: tensor or number).", {kInput, other, alpha}, cmdAddSub<false>},
      {"tensor_sub", "input - alpha * other (other: tensor or number).", {kInput, other, alpha}, cmdAddSub<true>},
      {"tensor_matmul", "Matrix product with broadcasting (torch.matmul).", {kInput, tensorOther}, cmdMatmul},
      {"tensor_bmm", "Batched matrix product of [b,n,m] and [b,m,p].",
       {kInput, {"other", Type::Tensor, nullptr, "tensor handle", "mat2"}}, cmdBmm},
      {"tensor_clamp", "Clamp values into [min, max] (either bound may be left out).",
       {kInput, {"min", Type::Double, kOptional, "lower bound"}, {"max", Type::Double, kOptional, "upper bound"}},
       cmdClamp},
      {"tensor_softmax", "Softmax along dim.",
       {kInput, {"dim", Type::Int, "-1", "dimension"}, {"dtype", Type::Dtype, kOptional, "compute in this dtype"}},
       cmdSoftmax<false>},
      {"tensor_log_softmax", "Log of softmax along dim (numerically stable).",
       {kInput, {"dim", Type::Int, "-1", "dimension"}, {"dtype", Type::Dtype, kOptional, "compute in this dtype"}},
       cmdSoftmax<true>},
      {"tensor_where", "Elementwise condition ? input : other (input/other: tensors or numbers).",
       {{"condition", Type::Tensor, nullptr, "bool tensor"}, {"input", Type::TensorOrNumber, nullptr, "value where true"},
        {"other", Type::TensorOrNumber, nullptr, "value where false"}},
       cmdWhere},
      {"allclose", "1 when |input - other| <= atol + rtol * |other| everywhere.",
       {kInput, tensorOther, {"rtol", Type::Double, "1e-05", "relative tolerance"},
        {"atol", Type::Double, "1e-08", "absolute tolerance"}, {"equal_nan", Type::Bool, "0", "1: NaN equals NaN"}},
       cmdAllclose},
  };
  addBinary(out, std::make_index_sequence<std::size(kBinary)>());
  addUnary(out, std::make_index_sequence<std::size(kUnary)>());
  if (reductions().size() != kReductionCount) throw std::logic_error("internal: reduction table size");
  addReductions(out, std::make_index_sequence<kReductionCount>());
  return out;
}

}  // namespace tcltorch
