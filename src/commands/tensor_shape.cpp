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

static std::vector<Param> narrowParams() {
  return {kInput, dimParam(nullptr), {"start", Type::Int, nullptr, "first index"},
          {"length", Type::Int, nullptr, "number of elements"}};
}

static Tcl_Obj* cmdReshape(Call& c) { return c.result(c.tensor("input").reshape(c.ints("shape"))); }
static Tcl_Obj* cmdView(Call& c) { return c.result(c.tensor("input").view(c.ints("shape"))); }
static Tcl_Obj* cmdPermute(Call& c) { return c.result(c.tensor("input").permute(c.ints("dims"))); }
static Tcl_Obj* cmdTranspose(Call& c) {
  return c.result(c.tensor("input").transpose(c.integer("dim0"), c.integer("dim1")));
}
static Tcl_Obj* cmdSqueeze(Call& c) {
  at::Tensor t = c.tensor("input");
  return c.result(c.has("dim") ? t.squeeze(c.integer("dim")) : t.squeeze());
}
static Tcl_Obj* cmdUnsqueeze(Call& c) { return c.result(c.tensor("input").unsqueeze(c.integer("dim"))); }
static Tcl_Obj* cmdFlatten(Call& c) {
  return c.result(c.tensor("input").flatten(c.integer("start_dim"), c.integer("end_dim")));
}
static Tcl_Obj* cmdExpand(Call& c) { return c.result(c.tensor("input").expand(c.ints("shape"))); }
static Tcl_Obj* cmdRepeat(Call& c) { return c.result(c.tensor("input").repeat(c.ints("repeats"))); }
static Tcl_Obj* cmdCat(Call& c) { return c.result(at::cat(c.tensors("tensors"), c.integer("dim"))); }
static Tcl_Obj* cmdStack(Call& c) { return c.result(at::stack(c.tensors("tensors"), c.integer("dim"))); }

static const char* const kSectionsWords = "a number of sections or a list of indices";

// tensor_split as torch.tensor_split: one integer N means N nearly equal
// sections, a list means the indices to split before; -indices is always a list.
static Tcl_Obj* cmdSplit(Call& c) {
  at::Tensor t = c.tensor("input");
  int64_t dim = c.integer("dim");
  if (c.given("indices") == c.given("sections"))
    fail("tensor_split needs either sections or -indices", {"ARGS", "MISSING", "sections"});
  if (c.given("indices")) return c.results(t.tensor_split(c.ints("indices"), dim));
  auto s = c.ints("sections");
  if (s.size() == 1) return c.results(t.tensor_split(s[0], dim));
  return c.results(t.tensor_split(s, dim));
}
static Tcl_Obj* cmdChunk(Call& c) { return c.results(c.tensor("input").chunk(c.integer("chunks"), c.integer("dim"))); }

static Tcl_Obj* cmdSlice(Call& c) {
  at::Tensor t = c.tensor("input");
  c10::optional<int64_t> end;
  if (c.has("end")) end = c.integer("end");
  return c.result(t.slice(c.integer("dim"), c.integer("start"), end, c.integer("step")));
}
static Tcl_Obj* cmdNarrow(Call& c) {
  return c.result(c.tensor("input").narrow(c.integer("dim"), c.integer("start"), c.integer("length")));
}
static Tcl_Obj* cmdIndexSelect(Call& c) {
  return c.result(c.tensor("input").index_select(c.integer("dim"), c.tensor("index")));
}
static Tcl_Obj* cmdContiguous(Call& c) { return c.result(c.tensor("input").contiguous()); }
static Tcl_Obj* cmdClone(Call& c) { return c.result(c.tensor("input").clone()); }
static Tcl_Obj* cmdDetach(Call& c) { return c.result(c.tensor("input").detach()); }


// ---- manipulation and indexing ----

static Tcl_Obj* cmdSqueezeMultiple(Call& c) {
  at::Tensor t = c.tensor("input");
  if (!c.has("dims")) return c.result(t.squeeze());
  // Highest dimension first, so earlier removals do not shift later ones.
  std::vector<int64_t> dims = c.ints("dims");
  for (auto& d : dims) d = c10::maybe_wrap_dim(d, t.dim());
  std::sort(dims.rbegin(), dims.rend());
  for (int64_t d : dims) t = t.squeeze(d);
  return c.result(t);
}
static Tcl_Obj* cmdUnsqueezeMultiple(Call& c) {
  at::Tensor t = c.tensor("input");
  std::vector<int64_t> dims = c.ints("dims");
  int64_t outDim = t.dim() + int64_t(dims.size());
  for (auto& d : dims) d = c10::maybe_wrap_dim(d, outDim);
  std::sort(dims.begin(), dims.end());
  for (int64_t d : dims) t = t.unsqueeze(d);
  return c.result(t);
}
template <int N>
static Tcl_Obj* cmdAtleast(Call& c) {
  at::Tensor t = c.tensor("input");
  return c.result(N == 1 ? at::atleast_1d(t) : N == 2 ? at::atleast_2d(t) : at::atleast_3d(t));
}
static Tcl_Obj* cmdBroadcastShapes(Call& c) {
  std::vector<int64_t> out;
  for (auto& shape : c.intLists("shapes")) out = at::infer_size(out, shape);
  return newList(out);
}
static Tcl_Obj* cmdBroadcastTensors(Call& c) { return c.results(at::broadcast_tensors(c.tensors("tensors"))); }
static Tcl_Obj* cmdCartesianProd(Call& c) { return c.result(at::cartesian_prod(c.tensors("tensors"))); }
static Tcl_Obj* cmdCombinations(Call& c) {
  int64_t r = c.integer("r");
  return c.result(at::combinations(c.tensor("input"), r, c.boolean("with_replacement")));
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
static Tcl_Obj* cmdJoin(Call& c) { return c.result(c.data<JoinOp>().fn(c.tensors("tensors"))); }

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
static Tcl_Obj* cmdDirSplit(Call& c) {
  const DirSplit& op = c.data<DirSplit>();
  at::Tensor t = c.tensor("input");
  auto s = c.ints("sections");
  if (s.size() == 1) return c.results(op.sections(t, s[0]));
  return c.results(op.indices(t, s));
}

static Tcl_Obj* cmdFlip(Call& c) { return c.result(c.tensor("input").flip(c.ints("dims"))); }
static Tcl_Obj* cmdRoll(Call& c) {
  std::vector<int64_t> dims = c.has("dims") ? c.ints("dims") : std::vector<int64_t>();
  return c.result(c.tensor("input").roll(c.ints("shifts"), dims));
}
static Tcl_Obj* cmdRot90(Call& c) { return c.result(c.tensor("input").rot90(c.integer("k"), c.ints("dims"))); }
static Tcl_Obj* cmdNarrowCopy(Call& c) {
  return c.result(c.tensor("input").narrow_copy(c.integer("dim"), c.integer("start"), c.integer("length")));
}
static Tcl_Obj* cmdTakeAlongDim(Call& c) {
  at::Tensor t = c.tensor("input"), idx = c.tensor("indices");
  c10::optional<int64_t> dim;
  if (c.has("dim")) dim = c.integer("dim");
  return c.result(at::take_along_dim(t, idx.scalar_type() == at::kLong ? idx : idx.to(at::kLong), dim));
}
static Tcl_Obj* cmdMaskedFill(Call& c) {
  at::Tensor mask = c.tensor("mask");
  if (mask.scalar_type() != at::kBool) mask = mask.ne(0);
  if (c.isNumber("value")) return c.result(c.tensor("input").masked_fill(mask, c.scalar("value")));
  return c.result(c.tensor("input").masked_fill(mask, c.tensor("value")));
}
static Tcl_Obj* cmdAdvancedIndex(Call& c) {
  c10::List<c10::optional<at::Tensor>> idx;
  for (auto& t : c.tensors("indices")) idx.push_back(t.is_floating_point() ? t.to(at::kLong) : t);
  return c.result(at::index(c.tensor("input"), idx));
}

// gather_nd / scatter_nd: indices [..., k] address the first k dimensions (a
// 1-D indices tensor is a list of positions along dimension 0).
static c10::List<c10::optional<at::Tensor>> ndIndex(Call& c, const at::Tensor& in, at::Tensor idx,
                                                    std::vector<int64_t>* lead) {
  if (idx.dim() == 1) idx = idx.unsqueeze(1);
  if (idx.dim() == 0 || idx.size(-1) > in.dim() || idx.size(-1) == 0)
    c.badValue("indices", "an integer tensor [..., k] with 1 <= k <= the input's dimensions");
  if (idx.is_floating_point()) idx = idx.to(at::kLong);
  *lead = idx.sizes().vec();
  lead->pop_back();
  at::Tensor flat = idx.reshape({-1, idx.size(-1)});
  c10::List<c10::optional<at::Tensor>> cols;
  for (int64_t j = 0; j < flat.size(1); ++j) cols.push_back(flat.select(1, j));
  return cols;
}
static Tcl_Obj* cmdGatherNd(Call& c) {
  at::Tensor in = c.tensor("input");
  std::vector<int64_t> lead;
  auto cols = ndIndex(c, in, c.tensor("indices"), &lead);
  int64_t k = int64_t(cols.size());
  at::Tensor g = at::index(in, cols);  // [M, rest...]
  for (int64_t d = k; d < in.dim(); ++d) lead.push_back(in.size(d));
  return c.result(g.reshape(lead));
}
static Tcl_Obj* cmdScatterNd(Call& c) {
  at::Tensor in = c.tensor("input");
  std::vector<int64_t> lead;
  auto cols = ndIndex(c, in, c.tensor("indices"), &lead);
  int64_t k = int64_t(cols.size());
  std::vector<int64_t> shape = {cols.get(0).value().size(0)};
  for (int64_t d = k; d < in.dim(); ++d) shape.push_back(in.size(d));
  at::Tensor upd = c.tensor("updates").to(in.scalar_type()).reshape(shape);
  return c.result(in.index_put(cols, upd, c.boolean("accumulate")));
}

static Tcl_Obj* cmdTo(Call& c) {
  at::Tensor t = c.tensor("input");
  if (!c.has("dtype") && !c.has("device"))
    fail("tensor_to needs -dtype, -device or both", {"ARGS", "MISSING", "dtype"});
  at::ScalarType dt = c.has("dtype") ? c.dtype("dtype") : t.scalar_type();
  c10::Device dev = c.has("device") ? c.device("device") : t.device();
  return c.result(t.to(dev, dt, /*non_blocking=*/false, c.boolean("copy")));
}

// Families are rows: one handler per family, each row carrying its member.
static void addJoins(std::vector<Command>& out) {
  // The other API passes the tensors as separate words too: hstack $a $b.
  for (const JoinOp& op : kJoins)
    out.push_back(Command{op.name, op.doc, {kTensors.variadicList()}, cmdJoin}.withData(&op));
}
static void addDirSplits(std::vector<Command>& out) {
  static const Param kDirSections =
      Param{"sections", Type::IntList, nullptr, "number of equal sections, or a list of indices",
            "indices_or_sections indices"}
          .nonEmpty()
          .mustBe(kSectionsWords);
  for (const DirSplit& op : kDirSplits)
    out.push_back(Command{op.name, op.doc,
                          {kInput, kDirSections},
                          cmdDirSplit}
                      .withData(&op));
}

static std::vector<Command> manipulationCommands() {
  const Param dims{"dims", Type::IntList, nullptr, "dimensions"};
  std::vector<Command> out = {
      {"squeeze_multiple", "Remove the listed size-1 dimensions (all size-1 dimensions without a list).",
       {kInput, {"dims", Type::IntList, kOptional, "dimensions to remove"}}, cmdSqueezeMultiple},
      {"unsqueeze_multiple", "Insert size-1 dimensions at the listed positions (of the result).", {kInput, dims},
       cmdUnsqueezeMultiple},
      {"atleast_1d", "The input viewed with at least 1 dimension.", {kInput}, cmdAtleast<1>},
      {"atleast_2d", "The input viewed with at least 2 dimensions.", {kInput}, cmdAtleast<2>},
      {"atleast_3d", "The input viewed with at least 3 dimensions.", {kInput}, cmdAtleast<3>},
      {"broadcast_shapes", "The shape that the given shapes broadcast to.",
       {Param{"shapes", Type::IntLists, nullptr, "list of shapes (each a list of sizes)"}
            .nonNegative()
            .nonEmpty()
            .mustBe("a list of shapes")}, cmdBroadcastShapes},
      {"broadcast_tensors", "The tensors expanded to their common broadcast shape; returns a list of handles.",
       {kTensors}, cmdBroadcastTensors},
      {"cartesian_prod", "Cartesian product of 1-D tensors: [N1*N2*..., k] (1-D for one tensor).",
       {kTensors.variadicList()},
       cmdCartesianProd},
      {"combinations", "Combinations of r elements of a 1-D tensor, as rows.",
       {kInput, Param{"r", Type::Int, "2", "elements per combination"}.nonNegative().mustBe("a non-negative integer"),
        {"with_replacement", Type::Bool, "0", "allow repeated elements"}},
       cmdCombinations},
      {"flip", "Reverse the order of elements along the listed dimensions.", {kInput, dims}, cmdFlip},
      {"roll", "Shift elements cyclically along dims (flattened without dims).",
       {kInput, {"shifts", Type::IntList, nullptr, "shift per dimension"},
        {"dims", Type::IntList, kOptional, "dimensions (default: roll the flattened tensor)"}},
       cmdRoll},
      {"rot90", "Rotate by 90 degrees k times in the plane of two dimensions.",
       {kInput, {"k", Type::Int, "1", "number of quarter turns"}, {"dims", Type::IntList, "0 1", "the plane"}},
       cmdRot90},
      {"narrow_copy", "length elements from start along dim, as a new tensor.", narrowParams(), cmdNarrowCopy},
      {"take_along_dim", "Values at indices along dim (indices broadcast like the input; flattened without dim).",
       {kInput, {"indices", Type::Tensor, nullptr, "integer tensor of indices"}, dimParam(kOptional)},
       cmdTakeAlongDim},
      {"tensor_masked_fill", "The input with value where mask is true (mask broadcasts).",
       {kInput, {"mask", Type::Tensor, nullptr, "boolean mask"},
        {"value", Type::TensorOrNumber, nullptr, "fill value (a number or a 0-d tensor)"}},
       cmdMaskedFill},
      {"tensor_advanced_index", "input[i0, i1, ...] with index tensors for the leading dimensions (advanced indexing).",
       {kInput, {"indices", Type::TensorList, nullptr, "list of integer (or boolean) index tensors"}},
       cmdAdvancedIndex},
      {"gather_nd", "Elements (or slices) at indices [..., k] over the first k dimensions: shape indices[:-1] + input[k:].",
       {kInput, {"indices", Type::Tensor, nullptr, "integer tensor [..., k] (1-D: positions along dimension 0)"}},
       cmdGatherNd},
      {"scatter_nd", "A copy of the input with updates written (or added) at indices [..., k].",
       {kInput, {"indices", Type::Tensor, nullptr, "integer tensor [..., k] (1-D: positions along dimension 0)"},
        {"updates", Type::Tensor, nullptr, "values, shape indices[:-1] + input[k:]"},
        {"accumulate", Type::Bool, "0", "add to the existing values instead of replacing them"}},
       cmdScatterNd},
  };
  addJoins(out);
  addDirSplits(out);
  return out;
}

std::vector<Command> tensorShapeCommands() {
  const Param shape{"shape", Type::IntList, nullptr, "new shape (one -1 is inferred)"};
  std::vector<Command> out = {
      {"tensor_reshape", "Same data in a new shape (a view when possible, else a copy).", {kInput, shape}, cmdReshape},
      {"tensor_view", "A view with a new shape; fails when the memory layout does not allow it.", {kInput, shape},
       cmdView},
      {"tensor_permute", "Reorder the dimensions.", {kInput, {"dims", Type::IntList, nullptr, "new order of the dimensions"}},
       cmdPermute},
      {"tensor_transpose", "Swap two dimensions.",
       {kInput, {"dim0", Type::Int, nullptr, "first dimension"}, {"dim1", Type::Int, nullptr, "second dimension"}},
       cmdTranspose},
      {"tensor_squeeze", "Remove dimensions of size 1 (all, or only dim).", {kInput, dimParam(kOptional)}, cmdSqueeze},
      {"tensor_unsqueeze", "Insert a dimension of size 1 at dim.", {kInput, dimParam(nullptr)}, cmdUnsqueeze},
      {"tensor_flatten", "Flatten dimensions start_dim..end_dim into one.",
       {kInput, {"start_dim", Type::Int, "0", "first dimension"}, {"end_dim", Type::Int, "-1", "last dimension"}},
       cmdFlatten},
      {"tensor_expand", "Broadcast size-1 dimensions to a larger shape (-1 keeps a size), without copying.",
       {kInput, {"shape", Type::IntList, nullptr, "target shape", "sizes size"}}, cmdExpand},
      {"tensor_repeat", "Tile the tensor repeats[i] times along each dimension.",
       {kInput, {"repeats", Type::IntList, nullptr, "repetitions per dimension"}}, cmdRepeat},
      {"tensor_cat", "Concatenate tensors along an existing dimension.", {kTensors, dimParam("0")}, cmdCat},
      {"tensor_stack", "Stack tensors along a new dimension.", {kTensors, dimParam("0")}, cmdStack},
      {"tensor_split", "torch.tensor_split: N nearly equal sections (one integer) or split before the listed indices; "
       "returns a list of handles.",
       {kInput, Param{"sections", Type::IntList, kOptional, "number of sections, or a list of indices", "indices_or_sections"}
            .nonEmpty()
            .mustBe(kSectionsWords),
        dimParam("0"), {"indices", Type::IntList, kOptional, "indices to split before", nullptr, nullptr, true}},
       cmdSplit},
      {"tensor_chunk", "Split into a number of (nearly) equal chunks; returns a list of handles.",
       {kInput, {"chunks", Type::Int, nullptr, "number of chunks"}, dimParam("0")}, cmdChunk},
      {"tensor_slice", "Elements start..end (exclusive) by step along dim, as a view.",
       {kInput, dimParam("0"), {"start", Type::Int, "0", "first index"},
        {"end", Type::Int, kOptional, "end index, exclusive (default: the size)"}, {"step", Type::Int, "1", "step (> 0)"}},
       cmdSlice},
      {"tensor_narrow", "length elements from start along dim, as a view.", narrowParams(), cmdNarrow},
      {"tensor_index_select", "Elements at the given indices along dim (a copy).",
       {kInput, dimParam(nullptr), {"index", Type::Tensor, nullptr, "1-D int64 tensor of indices", "indices"}}, cmdIndexSelect},
      {"tensor_contiguous", "A contiguous tensor with the same values (the input itself when already contiguous).",
       {kInput}, cmdContiguous},
      {"tensor_clone", "A copy with its own memory (keeps autograd history).", {kInput}, cmdClone},
      {"tensor_detach", "The same data without autograd history.", {kInput}, cmdDetach},
      {"tensor_to", "Convert to another dtype and/or device.",
       // The other API's order is `tensor device ?dtype?`; ours was dtype first: by type, both work.
       {kInput, Param{"dtype", Type::Dtype, kOptional, "target element type"}.byType(),
        Param{"device", Type::Device, kOptional, "target device"}.byType(),
        {"copy", Type::Bool, "0", "1 to copy even when nothing changes"}},
       cmdTo},
  };
  for (auto& c : manipulationCommands()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
