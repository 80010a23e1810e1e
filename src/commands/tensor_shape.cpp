// Shape, view, join/split and conversion commands.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <algorithm>
#include <utility>

namespace tcltorch {

static const Param kTensors{"tensors", Type::TensorList, nullptr, "list of tensor handles"};
static Param dimParam(const char* def, const char* doc = "dimension (negative counts from the end)") {
  return {"dim", Type::Int, def, doc, "dimension"};
}

namespace {
const Param kNewShape{"shape", Type::IntList, nullptr, "new shape (one -1 is inferred)"};
struct ShapeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> shape;
  explicit ShapeArgs(const Param& p = kNewShape) : shape{this, p} {}
};
// input and a list of dimensions
const Param kDims{"dims", Type::IntList, nullptr, "dimensions"};
struct DimsArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> dims;
  explicit DimsArgs(const Param& p = kDims) : dims{this, p} {}
};
// input and one dimension (required or optional)
struct DimArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim;
  explicit DimArgs(const char* def) : dim{this, dimParam(def)} {}
};
struct TransposeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim0{this, {"dim0", Type::Int, nullptr, "first dimension"}};
  Arg<Type::Int> dim1{this, {"dim1", Type::Int, nullptr, "second dimension"}};
};
struct FlattenArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> start_dim{this, {"start_dim", Type::Int, "0", "first dimension"}};
  Arg<Type::Int> end_dim{this, {"end_dim", Type::Int, "-1", "last dimension"}};
};
struct RepeatArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> repeats{this, {"repeats", Type::IntList, nullptr, "repetitions per dimension"}};
};
// tensor_cat, tensor_stack
struct JoinDimArgs : Args {
  Arg<Type::TensorList> tensors{this, kTensors};
  Arg<Type::Int> dim{this, dimParam("0")};
};
struct NarrowArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, dimParam(nullptr)};
  Arg<Type::Int> start{this, {"start", Type::Int, nullptr, "first index"}};
  Arg<Type::Int> length{this, {"length", Type::Int, nullptr, "number of elements"}};
};
}  // namespace

static Tcl_Obj* cmdReshape(Call& c, const ShapeArgs& a) { return c.result(c.tensor(a.input).reshape(c.ints(a.shape))); }
static Tcl_Obj* cmdView(Call& c, const ShapeArgs& a) { return c.result(c.tensor(a.input).view(c.ints(a.shape))); }
static Tcl_Obj* cmdPermute(Call& c, const DimsArgs& a) { return c.result(c.tensor(a.input).permute(c.ints(a.dims))); }
static Tcl_Obj* cmdTranspose(Call& c, const TransposeArgs& a) {
  return c.result(c.tensor(a.input).transpose(c.integer(a.dim0), c.integer(a.dim1)));
}
static Tcl_Obj* cmdSqueeze(Call& c, const DimArgs& a) {
  at::Tensor t = c.tensor(a.input);
  return c.result(c.has(a.dim) ? t.squeeze(c.integer(a.dim)) : t.squeeze());
}
static Tcl_Obj* cmdUnsqueeze(Call& c, const DimArgs& a) {
  return c.result(c.tensor(a.input).unsqueeze(c.integer(a.dim)));
}
static Tcl_Obj* cmdFlatten(Call& c, const FlattenArgs& a) {
  return c.result(c.tensor(a.input).flatten(c.integer(a.start_dim), c.integer(a.end_dim)));
}
static Tcl_Obj* cmdExpand(Call& c, const ShapeArgs& a) { return c.result(c.tensor(a.input).expand(c.ints(a.shape))); }
static Tcl_Obj* cmdRepeat(Call& c, const RepeatArgs& a) {
  return c.result(c.tensor(a.input).repeat(c.ints(a.repeats)));
}
static Tcl_Obj* cmdCat(Call& c, const JoinDimArgs& a) {
  return c.result(at::cat(c.tensors(a.tensors), c.integer(a.dim)));
}
static Tcl_Obj* cmdStack(Call& c, const JoinDimArgs& a) {
  return c.result(at::stack(c.tensors(a.tensors), c.integer(a.dim)));
}

static const char* const kSectionsWords = "a number of sections or a list of indices";

namespace {
struct SplitArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> sections{
      this, Param{"sections", Type::IntList, kOptional, "number of sections, or a list of indices", "indices_or_sections"}
                .nonEmpty()
                .mustBe(kSectionsWords)};
  Arg<Type::Int> dim{this, dimParam("0")};
  Arg<Type::IntList> indices{this, {"indices", Type::IntList, kOptional, "indices to split before", nullptr, nullptr, true}};
};
}  // namespace
// tensor_split as torch.tensor_split: one integer N means N nearly equal
// sections, a list means the indices to split before; -indices is always a list.
static Tcl_Obj* cmdSplit(Call& c, const SplitArgs& a) {
  at::Tensor t = c.tensor(a.input);
  int64_t dim = c.integer(a.dim);
  if (c.given(a.indices) == c.given(a.sections))
    fail("tensor_split needs either sections or -indices", {"ARGS", "MISSING", "sections"});
  if (c.given(a.indices)) return c.results(t.tensor_split(c.ints(a.indices), dim));
  auto s = c.ints(a.sections);
  if (s.size() == 1) return c.results(t.tensor_split(s[0], dim));
  return c.results(t.tensor_split(s, dim));
}
namespace {
struct ChunkArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> chunks{this, {"chunks", Type::Int, nullptr, "number of chunks"}};
  Arg<Type::Int> dim{this, dimParam("0")};
};
}  // namespace
static Tcl_Obj* cmdChunk(Call& c, const ChunkArgs& a) {
  return c.results(c.tensor(a.input).chunk(c.integer(a.chunks), c.integer(a.dim)));
}

namespace {
struct SliceArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, dimParam("0")};
  Arg<Type::Int> start{this, {"start", Type::Int, "0", "first index"}};
  Arg<Type::Int> end{this, {"end", Type::Int, kOptional, "end index, exclusive (default: the size)"}};
  Arg<Type::Int> step{this, {"step", Type::Int, "1", "step (> 0)"}};
};
}  // namespace
static Tcl_Obj* cmdSlice(Call& c, const SliceArgs& a) {
  at::Tensor t = c.tensor(a.input);
  c10::optional<int64_t> end;
  if (c.has(a.end)) end = c.integer(a.end);
  return c.result(t.slice(c.integer(a.dim), c.integer(a.start), end, c.integer(a.step)));
}
static Tcl_Obj* cmdNarrow(Call& c, const NarrowArgs& a) {
  return c.result(c.tensor(a.input).narrow(c.integer(a.dim), c.integer(a.start), c.integer(a.length)));
}
namespace {
struct IndexSelectArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, dimParam(nullptr)};
  Arg<Type::Tensor> index{this, {"index", Type::Tensor, nullptr, "1-D int64 tensor of indices", "indices"}};
};
}  // namespace
static Tcl_Obj* cmdIndexSelect(Call& c, const IndexSelectArgs& a) {
  return c.result(c.tensor(a.input).index_select(c.integer(a.dim), c.tensor(a.index)));
}
static Tcl_Obj* cmdContiguous(Call& c, const InputArgs& a) { return c.result(c.tensor(a.input).contiguous()); }
static Tcl_Obj* cmdClone(Call& c, const InputArgs& a) { return c.result(c.tensor(a.input).clone()); }
static Tcl_Obj* cmdDetach(Call& c, const InputArgs& a) { return c.result(c.tensor(a.input).detach()); }


// ---- manipulation and indexing ----

static Tcl_Obj* cmdSqueezeMultiple(Call& c, const DimsArgs& a) {
  at::Tensor t = c.tensor(a.input);
  if (!c.has(a.dims)) return c.result(t.squeeze());
  // Highest dimension first, so earlier removals do not shift later ones.
  std::vector<int64_t> dims = c.ints(a.dims);
  for (auto& d : dims) d = c10::maybe_wrap_dim(d, t.dim());
  std::sort(dims.rbegin(), dims.rend());
  for (int64_t d : dims) t = t.squeeze(d);
  return c.result(t);
}
static Tcl_Obj* cmdUnsqueezeMultiple(Call& c, const DimsArgs& a) {
  at::Tensor t = c.tensor(a.input);
  std::vector<int64_t> dims = c.ints(a.dims);
  int64_t outDim = t.dim() + int64_t(dims.size());
  for (auto& d : dims) d = c10::maybe_wrap_dim(d, outDim);
  std::sort(dims.begin(), dims.end());
  for (int64_t d : dims) t = t.unsqueeze(d);
  return c.result(t);
}
template <int N>
static Tcl_Obj* cmdAtleast(Call& c, const InputArgs& a) {
  at::Tensor t = c.tensor(a.input);
  return c.result(N == 1 ? at::atleast_1d(t) : N == 2 ? at::atleast_2d(t) : at::atleast_3d(t));
}
namespace {
struct BroadcastShapesArgs : Args {
  Arg<Type::IntLists> shapes{this, Param{"shapes", Type::IntLists, nullptr, "list of shapes (each a list of sizes)"}
                                       .nonNegative()
                                       .nonEmpty()
                                       .mustBe("a list of shapes")};
};
// a list of tensors (variadic in the rows that take them as separate words too)
struct TensorsArgs : Args {
  Arg<Type::TensorList> tensors;
  explicit TensorsArgs(const Param& p = kTensors) : tensors{this, p} {}
};
struct CombinationsArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> r{this, Param{"r", Type::Int, "2", "elements per combination"}.nonNegative().mustBe("a non-negative integer")};
  Arg<Type::Bool> with_replacement{this, {"with_replacement", Type::Bool, "0", "allow repeated elements"}};
};
}  // namespace
static Tcl_Obj* cmdBroadcastShapes(Call& c, const BroadcastShapesArgs& a) {
  std::vector<int64_t> out;
  for (auto& shape : c.intLists(a.shapes)) out = at::infer_size(out, shape);
  return newList(out);
}
static Tcl_Obj* cmdBroadcastTensors(Call& c, const TensorsArgs& a) {
  return c.results(at::broadcast_tensors(c.tensors(a.tensors)));
}
static Tcl_Obj* cmdCartesianProd(Call& c, const TensorsArgs& a) {
  return c.result(at::cartesian_prod(c.tensors(a.tensors)));
}
static Tcl_Obj* cmdCombinations(Call& c, const CombinationsArgs& a) {
  int64_t r = c.integer(a.r);
  return c.result(at::combinations(c.tensor(a.input), r, c.boolean(a.with_replacement)));
}

// Joins of a list of tensors: one row per member.
namespace {
struct JoinOp {
  const char* name;
  const char* doc;
  at::Tensor (*fn)(at::TensorList);
};
}  // namespace
static const JoinOp kJoins[] = {
    {"hstack", "Concatenate along dimension 1 (dimension 0 for 1-D tensors).",
     [](at::TensorList ts) { return at::hstack(ts); }},
    {"vstack", "Concatenate along dimension 0 after making each tensor at least 2-D.",
     [](at::TensorList ts) { return at::vstack(ts); }},
    {"dstack", "Concatenate along dimension 2 after making each tensor at least 3-D.",
     [](at::TensorList ts) { return at::dstack(ts); }},
    {"column_stack", "Stack 1-D tensors as columns (others are concatenated along dimension 1).",
     [](at::TensorList ts) { return at::column_stack(ts); }},
};
static Tcl_Obj* cmdJoin(Call& c, const TensorsArgs& a) { return c.result(c.data<JoinOp>().fn(c.tensors(a.tensors))); }

// hsplit, vsplit, dsplit: one integer is a number of equal sections, a list the
// indices to split before.
namespace {
struct DirSplit {
  const char* name;
  const char* doc;
  std::vector<at::Tensor> (*sections)(const at::Tensor&, int64_t);
  std::vector<at::Tensor> (*indices)(const at::Tensor&, at::IntArrayRef);
};
}  // namespace
static const DirSplit kDirSplits[] = {
    {"hsplit", "Split along dimension 1 (0 for 1-D) into equal sections or before the listed indices.",
     [](const at::Tensor& t, int64_t n) { return at::hsplit(t, n); },
     [](const at::Tensor& t, at::IntArrayRef i) { return at::hsplit(t, i); }},
    {"vsplit", "Split along dimension 0 into equal sections or before the listed indices.",
     [](const at::Tensor& t, int64_t n) { return at::vsplit(t, n); },
     [](const at::Tensor& t, at::IntArrayRef i) { return at::vsplit(t, i); }},
    {"dsplit", "Split along dimension 2 into equal sections or before the listed indices.",
     [](const at::Tensor& t, int64_t n) { return at::dsplit(t, n); },
     [](const at::Tensor& t, at::IntArrayRef i) { return at::dsplit(t, i); }},
};
namespace {
struct DirSplitArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> sections{this, Param{"sections", Type::IntList, nullptr, "number of equal sections, or a list of indices",
                                          "indices_or_sections indices"}
                                        .nonEmpty()
                                        .mustBe(kSectionsWords)};
};
}  // namespace
static Tcl_Obj* cmdDirSplit(Call& c, const DirSplitArgs& a) {
  const DirSplit& op = c.data<DirSplit>();
  at::Tensor t = c.tensor(a.input);
  auto s = c.ints(a.sections);
  if (s.size() == 1) return c.results(op.sections(t, s[0]));
  return c.results(op.indices(t, s));
}

static Tcl_Obj* cmdFlip(Call& c, const DimsArgs& a) { return c.result(c.tensor(a.input).flip(c.ints(a.dims))); }
namespace {
struct RollArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> shifts{this, {"shifts", Type::IntList, nullptr, "shift per dimension"}};
  Arg<Type::IntList> dims{this, {"dims", Type::IntList, kOptional, "dimensions (default: roll the flattened tensor)"}};
};
struct Rot90Args : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> k{this, {"k", Type::Int, "1", "number of quarter turns"}};
  Arg<Type::IntList> dims{this, {"dims", Type::IntList, "0 1", "the plane"}};
};
}  // namespace
static Tcl_Obj* cmdRoll(Call& c, const RollArgs& a) {
  std::vector<int64_t> dims = c.has(a.dims) ? c.ints(a.dims) : std::vector<int64_t>();
  return c.result(c.tensor(a.input).roll(c.ints(a.shifts), dims));
}
static Tcl_Obj* cmdRot90(Call& c, const Rot90Args& a) {
  return c.result(c.tensor(a.input).rot90(c.integer(a.k), c.ints(a.dims)));
}
static Tcl_Obj* cmdNarrowCopy(Call& c, const NarrowArgs& a) {
  return c.result(c.tensor(a.input).narrow_copy(c.integer(a.dim), c.integer(a.start), c.integer(a.length)));
}
namespace {
struct TakeAlongDimArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> indices{this, {"indices", Type::Tensor, nullptr, "integer tensor of indices"}};
  Arg<Type::Int> dim{this, dimParam(kOptional)};
};
}  // namespace
static Tcl_Obj* cmdTakeAlongDim(Call& c, const TakeAlongDimArgs& a) {
  at::Tensor t = c.tensor(a.input), idx = c.tensor(a.indices);
  c10::optional<int64_t> dim;
  if (c.has(a.dim)) dim = c.integer(a.dim);
  return c.result(at::take_along_dim(t, idx.scalar_type() == at::kLong ? idx : idx.to(at::kLong), dim));
}
namespace {
struct MaskedFillArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> mask{this, {"mask", Type::Tensor, nullptr, "boolean mask"}};
  Arg<Type::TensorOrNumber> value{this, {"value", Type::TensorOrNumber, nullptr, "fill value (a number or a 0-d tensor)"}};
};
}  // namespace
static Tcl_Obj* cmdMaskedFill(Call& c, const MaskedFillArgs& a) {
  at::Tensor mask = c.tensor(a.mask);
  if (mask.scalar_type() != at::kBool) mask = mask.ne(0);
  if (c.isNumber(a.value)) return c.result(c.tensor(a.input).masked_fill(mask, c.scalar(a.value)));
  return c.result(c.tensor(a.input).masked_fill(mask, c.tensor(a.value)));
}
namespace {
struct AdvancedIndexArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::TensorList> indices{this, {"indices", Type::TensorList, nullptr, "list of integer (or boolean) index tensors"}};
};
}  // namespace
static Tcl_Obj* cmdAdvancedIndex(Call& c, const AdvancedIndexArgs& a) {
  c10::List<c10::optional<at::Tensor>> idx;
  for (auto& t : c.tensors(a.indices)) idx.push_back(t.is_floating_point() ? t.to(at::kLong) : t);
  return c.result(at::index(c.tensor(a.input), idx));
}

namespace {
const Param kNdIndices{"indices", Type::Tensor, nullptr, "integer tensor [..., k] (1-D: positions along dimension 0)"};
struct GatherNdArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> indices{this, kNdIndices};
};
struct ScatterNdArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Tensor> indices{this, kNdIndices};
  Arg<Type::Tensor> updates{this, {"updates", Type::Tensor, nullptr, "values, shape indices[:-1] + input[k:]"}};
  Arg<Type::Bool> accumulate{this, {"accumulate", Type::Bool, "0", "add to the existing values instead of replacing them"}};
};
}  // namespace

// gather_nd / scatter_nd: indices [..., k] address the first k dimensions (a
// 1-D indices tensor is a list of positions along dimension 0).
static c10::List<c10::optional<at::Tensor>> ndIndex(Call& c, const Arg<Type::Tensor>& indices, const at::Tensor& in,
                                                    std::vector<int64_t>* lead) {
  at::Tensor idx = c.tensor(indices);
  if (idx.dim() == 1) idx = idx.unsqueeze(1);
  if (idx.dim() == 0 || idx.size(-1) > in.dim() || idx.size(-1) == 0)
    c.badValue(indices, "an integer tensor [..., k] with 1 <= k <= the input's dimensions");
  if (idx.is_floating_point()) idx = idx.to(at::kLong);
  *lead = idx.sizes().vec();
  lead->pop_back();
  at::Tensor flat = idx.reshape({-1, idx.size(-1)});
  c10::List<c10::optional<at::Tensor>> cols;
  for (int64_t j = 0; j < flat.size(1); ++j) cols.push_back(flat.select(1, j));
  return cols;
}
static Tcl_Obj* cmdGatherNd(Call& c, const GatherNdArgs& a) {
  at::Tensor in = c.tensor(a.input);
  std::vector<int64_t> lead;
  auto cols = ndIndex(c, a.indices, in, &lead);
  int64_t k = int64_t(cols.size());
  at::Tensor g = at::index(in, cols);  // [M, rest...]
  for (int64_t d = k; d < in.dim(); ++d) lead.push_back(in.size(d));
  return c.result(g.reshape(lead));
}
static Tcl_Obj* cmdScatterNd(Call& c, const ScatterNdArgs& a) {
  at::Tensor in = c.tensor(a.input);
  std::vector<int64_t> lead;
  auto cols = ndIndex(c, a.indices, in, &lead);
  int64_t k = int64_t(cols.size());
  std::vector<int64_t> shape = {cols.get(0).value().size(0)};
  for (int64_t d = k; d < in.dim(); ++d) shape.push_back(in.size(d));
  at::Tensor upd = c.tensor(a.updates).to(in.scalar_type()).reshape(shape);
  return c.result(in.index_put(cols, upd, c.boolean(a.accumulate)));
}

namespace {
struct ToArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  // The other API's order is `tensor device ?dtype?`; ours was dtype first: by type, both work.
  Arg<Type::Dtype> dtype{this, Param{"dtype", Type::Dtype, kOptional, "target element type"}.byType()};
  Arg<Type::Device> device{this, Param{"device", Type::Device, kOptional, "target device"}.byType()};
  Arg<Type::Bool> copy{this, {"copy", Type::Bool, "0", "1 to copy even when nothing changes"}};
};
}  // namespace
static Tcl_Obj* cmdTo(Call& c, const ToArgs& a) {
  at::Tensor t = c.tensor(a.input);
  if (!c.has(a.dtype) && !c.has(a.device))
    fail("tensor_to needs -dtype, -device or both", {"ARGS", "MISSING", "dtype"});
  at::ScalarType dt = c.has(a.dtype) ? c.dtype(a.dtype) : t.scalar_type();
  c10::Device dev = c.has(a.device) ? c.device(a.device) : t.device();
  return c.result(t.to(dev, dt, /*non_blocking=*/false, c.boolean(a.copy)));
}

// Families are rows: one handler per family, each row carrying its member.
static void addJoins(std::vector<Command>& out) {
  // The other API passes the tensors as separate words too: hstack $a $b.
  auto args = std::make_shared<const TensorsArgs>(kTensors.variadicList());
  for (const JoinOp& op : kJoins) out.push_back(typedRow<cmdJoin>(op.name, op.doc, args).withData(&op));
}
static void addDirSplits(std::vector<Command>& out) {
  auto args = std::make_shared<const DirSplitArgs>();
  for (const DirSplit& op : kDirSplits) out.push_back(typedRow<cmdDirSplit>(op.name, op.doc, args).withData(&op));
}

static std::vector<Command> manipulationCommands() {
  auto dims = std::make_shared<const DimsArgs>();
  std::vector<Command> out = {
      typedRow<cmdSqueezeMultiple>("squeeze_multiple",
                                   "Remove the listed size-1 dimensions (all size-1 dimensions without a list).",
                                   std::make_shared<const DimsArgs>(
                                       Param{"dims", Type::IntList, kOptional, "dimensions to remove"})),
      typedRow<cmdUnsqueezeMultiple>("unsqueeze_multiple",
                                     "Insert size-1 dimensions at the listed positions (of the result).", dims),
      typedRow<cmdAtleast<1>>("atleast_1d", "The input viewed with at least 1 dimension."),
      typedRow<cmdAtleast<2>>("atleast_2d", "The input viewed with at least 2 dimensions."),
      typedRow<cmdAtleast<3>>("atleast_3d", "The input viewed with at least 3 dimensions."),
      typedRow<cmdBroadcastShapes>("broadcast_shapes", "The shape that the given shapes broadcast to."),
      typedRow<cmdBroadcastTensors>("broadcast_tensors",
                                    "The tensors expanded to their common broadcast shape; returns a list of handles."),
      typedRow<cmdCartesianProd>("cartesian_prod", "Cartesian product of 1-D tensors: [N1*N2*..., k] (1-D for one tensor).",
                                 std::make_shared<const TensorsArgs>(kTensors.variadicList())),
      typedRow<cmdCombinations>("combinations", "Combinations of r elements of a 1-D tensor, as rows."),
      typedRow<cmdFlip>("flip", "Reverse the order of elements along the listed dimensions.", dims),
      typedRow<cmdRoll>("roll", "Shift elements cyclically along dims (flattened without dims)."),
      typedRow<cmdRot90>("rot90", "Rotate by 90 degrees k times in the plane of two dimensions."),
      typedRow<cmdNarrowCopy>("narrow_copy", "length elements from start along dim, as a new tensor."),
      typedRow<cmdTakeAlongDim>("take_along_dim",
                                "Values at indices along dim (indices broadcast like the input; flattened without dim)."),
      typedRow<cmdMaskedFill>("tensor_masked_fill", "The input with value where mask is true (mask broadcasts)."),
      typedRow<cmdAdvancedIndex>("tensor_advanced_index",
                                 "input[i0, i1, ...] with index tensors for the leading dimensions (advanced indexing)."),
      typedRow<cmdGatherNd>("gather_nd",
                            "Elements (or slices) at indices [..., k] over the first k dimensions: shape indices[:-1] + input[k:]."),
      typedRow<cmdScatterNd>("scatter_nd", "A copy of the input with updates written (or added) at indices [..., k]."),
  };
  addJoins(out);
  addDirSplits(out);
  return out;
}

std::vector<Command> tensorShapeCommands() {
  auto shape = std::make_shared<const ShapeArgs>();
  auto optionalDim = std::make_shared<const DimArgs>(kOptional);
  auto joinDim = std::make_shared<const JoinDimArgs>();
  auto input = std::make_shared<const InputArgs>();
  std::vector<Command> out = {
      typedRow<cmdReshape>("tensor_reshape", "Same data in a new shape (a view when possible, else a copy).", shape),
      typedRow<cmdView>("tensor_view", "A view with a new shape; fails when the memory layout does not allow it.", shape),
      typedRow<cmdPermute>("tensor_permute", "Reorder the dimensions.",
                           std::make_shared<const DimsArgs>(
                               Param{"dims", Type::IntList, nullptr, "new order of the dimensions"})),
      typedRow<cmdTranspose>("tensor_transpose", "Swap two dimensions."),
      typedRow<cmdSqueeze>("tensor_squeeze", "Remove dimensions of size 1 (all, or only dim).", optionalDim),
      typedRow<cmdUnsqueeze>("tensor_unsqueeze", "Insert a dimension of size 1 at dim.",
                             std::make_shared<const DimArgs>(nullptr)),
      typedRow<cmdFlatten>("tensor_flatten", "Flatten dimensions start_dim..end_dim into one."),
      typedRow<cmdExpand>("tensor_expand", "Broadcast size-1 dimensions to a larger shape (-1 keeps a size), without copying.",
                          std::make_shared<const ShapeArgs>(
                              Param{"shape", Type::IntList, nullptr, "target shape", "sizes size"})),
      typedRow<cmdRepeat>("tensor_repeat", "Tile the tensor repeats[i] times along each dimension."),
      typedRow<cmdCat>("tensor_cat", "Concatenate tensors along an existing dimension.", joinDim),
      typedRow<cmdStack>("tensor_stack", "Stack tensors along a new dimension.", joinDim),
      typedRow<cmdSplit>("tensor_split",
                         "torch.tensor_split: N nearly equal sections (one integer) or split before the listed indices; "
                         "returns a list of handles."),
      typedRow<cmdChunk>("tensor_chunk", "Split into a number of (nearly) equal chunks; returns a list of handles."),
      typedRow<cmdSlice>("tensor_slice", "Elements start..end (exclusive) by step along dim, as a view."),
      typedRow<cmdNarrow>("tensor_narrow", "length elements from start along dim, as a view."),
      typedRow<cmdIndexSelect>("tensor_index_select", "Elements at the given indices along dim (a copy)."),
      typedRow<cmdContiguous>("tensor_contiguous",
                              "A contiguous tensor with the same values (the input itself when already contiguous).", input),
      typedRow<cmdClone>("tensor_clone", "A copy with its own memory (keeps autograd history).", input),
      typedRow<cmdDetach>("tensor_detach", "The same data without autograd history.", input),
      typedRow<cmdTo>("tensor_to", "Convert to another dtype and/or device."),
  };
  for (auto& c : manipulationCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
