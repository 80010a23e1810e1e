// Reductions (sum, mean, ..., over all elements or along dims), scans (cumsum,
// ...), k-th values and unique values. Families are tables: one entry per op,
// one handler per parameter shape.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <optional>

namespace tcltorch {

using at::Tensor;

// ---- reductions: input ?dim? ?keepdim? ----

// dim absent: reduce everything (keepdim keeps every dimension as size 1).
namespace {
struct Reduce {
  Call& c;
  const Arg<Type::IntList>& dimKey;
  Tensor t;
  bool hasDim;
  std::vector<int64_t> dims;
  bool keepdim;
  at::Scalar extra;  // unbiased, or the leading p or q
  int64_t one() {  // ops that take a single dimension
    if (dims.size() != 1) c.badValue(dimKey, "an integer");
    return dims[0];
  }
  std::vector<int64_t> allDims() const {
    std::vector<int64_t> d(size_t(t.dim()));
    for (size_t i = 0; i < d.size(); ++i) d[i] = int64_t(i);
    return d;
  }
};
}  // namespace

namespace {
// The three shapes of reduction rows (the other API's orders).
enum class ReduceShape {
  Plain,     // input ?dim? ?keepdim?
  Variance,  // input ?dim? ?unbiased? ?keepdim?
  Lead,      // input ?lead? ?dim? ?keepdim? (tensor_norm's p, tensor_quantile's q)
};
struct ReductionOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(Reduce&);
  ReduceShape shape = ReduceShape::Plain;
  std::optional<Param> lead = std::nullopt;  // ReduceShape::Lead
};
const Param kReduceDim{"dim", Type::IntList, kOptional, "dimension (or list of dimensions); default: all", "dimension"};
const Param kKeepdim{"keepdim", Type::Bool, "0", "1 keeps reduced dimensions with size 1", "keepDim"};
struct ReduceArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> dim{this, kReduceDim};
  Arg<Type::Bool> keepdim{this, kKeepdim};
};
struct VarianceArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> dim{this, kReduceDim};
  Arg<Type::Bool> unbiased{this, {"unbiased", Type::Bool, "1", "1 for Bessel's correction (divide by N-1)"}};
  Arg<Type::Bool> keepdim{this, kKeepdim};
};
struct LeadArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> lead;
  Arg<Type::IntList> dim{this, kReduceDim};
  Arg<Type::Bool> keepdim{this, kKeepdim};
  explicit LeadArgs(const ReductionOp& op) : lead{this, *op.lead} {}
};
}  // namespace

// (values, indices) results: the values, or both with -with_indices 1.
static Tcl_Obj* valuesIndices(Call& c, const Arg<Type::Bool>& withIndices, const std::tuple<Tensor, Tensor>& r) {
  if (c.boolean(withIndices)) return c.results({std::get<0>(r), std::get<1>(r)});
  return c.result(std::get<0>(r));
}

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
         return at::std(r.t, at::IntArrayRef(r.hasDim ? r.dims : r.allDims()), r.extra.toBool(), r.keepdim);
       },
       ReduceShape::Variance},
      {"tensor_var", "Variance of all elements, or along dim.",
       [](Reduce& r) {
         return at::var(r.t, at::IntArrayRef(r.hasDim ? r.dims : r.allDims()), r.extra.toBool(), r.keepdim);
       },
       ReduceShape::Variance},
      {"tensor_norm", "p-norm of all elements, or along dim.",
       [](Reduce& r) { return at::norm(r.t, r.extra, r.hasDim ? r.dims : r.allDims(), r.keepdim); },
       ReduceShape::Lead, Param{"p", Type::Double, "2", "order of the norm"}},
      {"tensor_median", "Median of all elements (the lower of the two middle values), or along dim.",
       [](Reduce& r) { return r.hasDim ? std::get<0>(at::median(r.t, r.one(), r.keepdim)) : at::median(r.t); }},
      {"tensor_mode", "Most frequent value along dim (default: the last).",
       [](Reduce& r) { return std::get<0>(at::mode(r.t, r.hasDim ? r.one() : -1, r.keepdim)); }},
      {"tensor_quantile", "q-th quantile (linear interpolation) of all elements, or along dim.",
       [](Reduce& r) {
         c10::optional<int64_t> d;
         if (r.hasDim) d = r.one();
         return at::quantile(r.t, r.extra.toDouble(), d, r.keepdim);
       },
       ReduceShape::Lead, Param{"q", Type::Double, nullptr, "quantile in [0, 1]", "quantile"}},
  };
  return ops;
}

static at::Scalar extraOf(Call&, const ReduceArgs&) { return {}; }
static at::Scalar extraOf(Call& c, const VarianceArgs& k) { return c.boolean(k.unbiased); }
static at::Scalar extraOf(Call& c, const LeadArgs& k) { return c.scalar(k.lead); }

template <class A>
static Tcl_Obj* cmdReduce(Call& c, const A& k) {
  Reduce r{c, k.dim, c.tensor(k.input), c.has(k.dim), {}, c.boolean(k.keepdim), extraOf(c, k)};
  if (r.hasDim) r.dims = c.ints(k.dim);
  return c.result(c.data<ReductionOp>().fn(r));
}

// ---- scans: input dim (cumulative along dim) ----

namespace {
struct ScanOp {
  const char* name;
  const char* doc;
  std::tuple<Tensor, Tensor> (*fn)(const Tensor&, int64_t, c10::optional<at::ScalarType>);
};
}  // namespace
static const ScanOp kScan[] = {
    {"cumsum", "Cumulative sum along dim.",
     [](const Tensor& t, int64_t d, c10::optional<at::ScalarType> dt) { return std::make_tuple(at::cumsum(t, d, dt), Tensor()); }},
    {"cumprod", "Cumulative product along dim.",
     [](const Tensor& t, int64_t d, c10::optional<at::ScalarType> dt) { return std::make_tuple(at::cumprod(t, d, dt), Tensor()); }},
    {"cummax", "Cumulative maximum along dim (-with_indices 1: {values indices}).",
     [](const Tensor& t, int64_t d, c10::optional<at::ScalarType>) { return at::cummax(t, d); }},
    {"cummin", "Cumulative minimum along dim (-with_indices 1: {values indices}).",
     [](const Tensor& t, int64_t d, c10::optional<at::ScalarType>) { return at::cummin(t, d); }},
};

namespace {
struct ScanArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "0", "dimension", "dimension"}};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, kOptional, "accumulate in this dtype (cumsum, cumprod)"}};
  Arg<Type::Bool> with_indices{this, kWithIndicesParam};
};
}  // namespace

static Tcl_Obj* cmdScan(Call& c, const ScanArgs& k) {
  c10::optional<at::ScalarType> dt;
  if (c.has(k.dtype)) dt = c.dtype(k.dtype);
  auto r = c.data<ScanOp>().fn(c.tensorRef(k.input), c.integer(k.dim), dt);
  if (!std::get<1>(r).defined()) return c.result(std::move(std::get<0>(r)));
  return valuesIndices(c, k.with_indices, r);
}


// ---- selections ----

namespace {
struct KthvalueArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> k{this, {"k", Type::Int, nullptr, "rank, from 1"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "-1", "dimension", "dimension"}};
  Arg<Type::Bool> keepdim{this, {"keepdim", Type::Bool, "0", "1 keeps the dimension with size 1"}};
  Arg<Type::Bool> with_indices{this, kWithIndicesParam};
};
}  // namespace
static Tcl_Obj* cmdKthvalue(Call& c, const KthvalueArgs& a) {
  return valuesIndices(c, a.with_indices,
                       at::kthvalue(c.tensorRef(a.input), c.integer(a.k), c.integer(a.dim), c.boolean(a.keepdim)));
}

namespace {
struct UniqueArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Bool> sorted{this, {"sorted", Type::Bool, "1", "1: sorted ascending"}};
  Arg<Type::Bool> return_inverse{this, {"return_inverse", Type::Bool, "0", "1: also the index of each input element in unique"}};
  Arg<Type::Bool> return_counts{this, {"return_counts", Type::Bool, "0", "1: also how often each unique value occurs"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, kOptional, "unique slices along this dimension"}};
};
}  // namespace
static Tcl_Obj* cmdUnique(Call& c, const UniqueArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  bool inverse = c.boolean(a.return_inverse), counts = c.boolean(a.return_counts);
  Tensor u, inv, cnt;
  if (c.has(a.dim)) std::tie(u, inv, cnt) = at::unique_dim(t, c.integer(a.dim), c.boolean(a.sorted), inverse, counts);
  else std::tie(u, inv, cnt) = at::_unique2(t, c.boolean(a.sorted), inverse, counts);
  if (!inverse && !counts) return c.result(std::move(u));
  std::vector<Tensor> r{u};
  if (inverse) r.push_back(inv);
  if (counts) r.push_back(cnt);
  return c.results(r);
}

static void addReductions(std::vector<Command>& out) {
  auto plain = std::make_shared<const ReduceArgs>();
  auto variance = std::make_shared<const VarianceArgs>();
  for (const ReductionOp& op : reductions()) {
    Command row = op.shape == ReduceShape::Plain ? typedRow<cmdReduce<ReduceArgs>>(op.name, op.doc, plain)
                  : op.shape == ReduceShape::Variance
                      ? typedRow<cmdReduce<VarianceArgs>>(op.name, op.doc, variance)
                      : typedRow<cmdReduce<LeadArgs>>(op.name, op.doc, std::make_shared<const LeadArgs>(op));
    out.push_back(row.withData(&op));
  }
}
static void addScans(std::vector<Command>& out) {
  auto args = std::make_shared<const ScanArgs>();
  for (const ScanOp& op : kScan) out.push_back(typedRow<cmdScan>(op.name, op.doc, args).withData(&op));
}

std::vector<Command> tensorReduceCommands() {
  std::vector<Command> out = {
      typedRow<cmdKthvalue>("kthvalue", "k-th smallest value along dim (k from 1; -with_indices 1: {values indices})."),
      typedRow<cmdUnique>("tensor_unique",
                          "Unique values (sorted); with return_inverse/return_counts a list {unique ?inverse? ?counts?}."),
  };
  addScans(out);
  addReductions(out);
  return out;
}

}  // namespace tcltorch
