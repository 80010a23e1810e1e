// Shape, view, join/split and conversion commands.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"

namespace tcltorch {

static const Param kTensors{"tensors", Type::TensorList, nullptr, "list of tensor handles"};
static Param dimParam(const char* def, const char* doc = "dimension (negative counts from the end)") {
  return {"dim", Type::Int, def, doc};
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

// split: one size means equal chunks of that size, a list means those sizes.
static Tcl_Obj* cmdSplit(Call& c) {
  at::Tensor t = c.tensor("input");
  auto sizes = c.ints("split_size");
  int64_t dim = c.integer("dim");
  if (sizes.size() == 1) return c.results(t.split(sizes[0], dim));
  return c.results(t.split_with_sizes(sizes, dim));
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

static Tcl_Obj* cmdTo(Call& c) {
  at::Tensor t = c.tensor("input");
  if (!c.has("dtype") && !c.has("device"))
    fail("tensor_to needs -dtype, -device or both", {"ARGS", "MISSING", "dtype"});
  at::ScalarType dt = c.has("dtype") ? c.dtype("dtype") : t.scalar_type();
  c10::Device dev = c.has("device") ? c.device("device") : t.device();
  return c.result(t.to(dev, dt, /*non_blocking=*/false, c.boolean("copy")));
}

std::vector<Command> tensorShapeCommands() {
  const Param shape{"shape", Type::IntList, nullptr, "new shape (one -1 is inferred)"};
  return {
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
       {kInput, {"shape", Type::IntList, nullptr, "target shape"}}, cmdExpand},
      {"tensor_repeat", "Tile the tensor repeats[i] times along each dimension.",
       {kInput, {"repeats", Type::IntList, nullptr, "repetitions per dimension"}}, cmdRepeat},
      {"tensor_cat", "Concatenate tensors along an existing dimension.", {kTensors, dimParam("0")}, cmdCat},
      {"tensor_stack", "Stack tensors along a new dimension.", {kTensors, dimParam("0")}, cmdStack},
      {"tensor_split", "Split into chunks of split_size (one integer) or of the listed sizes; returns a list of handles.",
       {kInput, {"split_size", Type::IntList, nullptr, "chunk size, or a list of sizes", "split_size_or_sections sections"},
        dimParam("0")},
       cmdSplit},
      {"tensor_chunk", "Split into a number of (nearly) equal chunks; returns a list of handles.",
       {kInput, {"chunks", Type::Int, nullptr, "number of chunks"}, dimParam("0")}, cmdChunk},
      {"tensor_slice", "Elements start..end (exclusive) by step along dim, as a view.",
       {kInput, dimParam("0"), {"start", Type::Int, "0", "first index"},
        {"end", Type::Int, kOptional, "end index, exclusive (default: the size)"}, {"step", Type::Int, "1", "step (> 0)"}},
       cmdSlice},
      {"tensor_narrow", "length elements from start along dim, as a view.",
       {kInput, dimParam(nullptr), {"start", Type::Int, nullptr, "first index"},
        {"length", Type::Int, nullptr, "number of elements"}},
       cmdNarrow},
      {"tensor_index_select", "Elements at the given indices along dim (a copy).",
       {kInput, dimParam(nullptr), {"index", Type::Tensor, nullptr, "1-D int64 tensor of indices"}}, cmdIndexSelect},
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
}

}  // namespace tcltorch
