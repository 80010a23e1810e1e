// Tensor creation from Tcl data, info and conversion back to Tcl.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"

namespace tcltorch {

// Nested Tcl lists -> flat doubles + shape. Shape comes from the first element
// at each depth; every other element must agree (rectangular).
static void fillData(Call& c, Tcl_Obj* o, size_t depth, const std::vector<int64_t>& shape,
                     std::vector<double>& out) {
  if (depth == shape.size()) {
    double d;
    if (Tcl_GetDoubleFromObj(nullptr, o, &d) != TCL_OK) c.badValue("data", "a (nested) list of numbers");
    out.push_back(d);
    return;
  }
  int n;
  Tcl_Obj** elems;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK || n != shape[depth])
    c.badValue("data", "a rectangular (nested) list of numbers");
  for (int i = 0; i < n; ++i) fillData(c, elems[i], depth + 1, shape, out);
}

at::Tensor tensorFromData(Call& c, Tcl_Obj* data) {
  std::vector<int64_t> shape;
  std::vector<double> flat;
  int n;
  Tcl_Obj** elems;
  double d;
  if (Tcl_GetDoubleFromObj(nullptr, data, &d) == TCL_OK) {
    flat.push_back(d);  // a plain number: 0-dim tensor
  } else {
    if (Tcl_ListObjGetElements(nullptr, data, &n, &elems) != TCL_OK)
      c.badValue("data", "a (nested) list of numbers");
    // Flat list of numbers: the common, fast case.
    flat.resize(size_t(n));
    int i = 0;
    for (; i < n && Tcl_GetDoubleFromObj(nullptr, elems[i], &flat[size_t(i)]) == TCL_OK; ++i) {}
    if (i == n) {
      shape.push_back(n);
    } else {
      if (i > 0) c.badValue("data", "a rectangular (nested) list of numbers");
      flat.clear();
      for (Tcl_Obj* o = data;;) {
        if (Tcl_GetDoubleFromObj(nullptr, o, &d) == TCL_OK) break;
        if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) c.badValue("data", "a (nested) list of numbers");
        shape.push_back(n);
        if (n == 0) break;
        o = elems[0];
      }
      flat.reserve(size_t(c10::multiply_integers(shape)));
      fillData(c, data, 0, shape, flat);
    }
  }
  at::Tensor t = at::from_blob(flat.data(), {int64_t(flat.size())}, at::kDouble).clone();
  return shape.empty() ? t.reshape({}) : t.reshape(shape);
}

static Tcl_Obj* cmdTensorCreate(Call& c) {
  at::Tensor t = tensorFromData(c, c.obj("data"));
  if (c.has("shape")) {
    auto shape = c.ints("shape");
    if (c10::multiply_integers(shape) != t.numel())
      fail("Data has " + std::to_string(t.numel()) + " elements, which does not match shape " +
               Tcl_GetString(c.obj("shape")), {"SHAPE"});
    t = t.reshape(shape);
  }
  t = t.to(applyOptions(c, at::TensorOptions()));
  if (c.boolean("requires_grad")) t.requires_grad_(true);
  return c.result(t);
}

static Tcl_Obj* cmdOnes(Call& c) {
  return c.result(at::ones(c.ints("shape"), applyOptions(c, at::TensorOptions())).set_requires_grad(c.boolean("requires_grad")));
}

static Tcl_Obj* cmdShape(Call& c) { return newList(c.tensor("tensor").sizes().vec()); }

static Tcl_Obj* cmdAdd(Call& c) {
  at::Tensor a = c.tensor("input");
  if (c.isNumber("other")) return c.result(at::add(a, c.scalar("other"), c.scalar("alpha")));
  return c.result(at::add(a, c.tensor("other"), c.scalar("alpha")));
}

std::vector<Command> tensorCommands() {
  return {
      {"tensor_create", "Create a tensor from a (nested) Tcl list of numbers.",
       {{"data", Type::Any, nullptr, "number or nested list of numbers; nesting gives the shape"},
        {"shape", Type::IntList, kOptional, "shape; its product must equal the number of elements"},
        kDtypeParam, kDeviceParam, kRequiresGradParam},
       cmdTensorCreate},
      {"ones", "Tensor filled with ones.",
       {{"shape", Type::IntList, nullptr, "shape"}, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdOnes},
      {"tensor_shape", "Shape of a tensor as a Tcl list ({} for a scalar).",
       {{"tensor", Type::Tensor, nullptr, "tensor handle"}}, cmdShape},
      {"tensor_add", "input + alpha * other.",
       {{"input", Type::Tensor, nullptr, "tensor handle"},
        {"other", Type::TensorOrNumber, nullptr, "tensor handle or number"},
        {"alpha", Type::Double, "1", "multiplier of other"}},
       cmdAdd},
  };
}

}  // namespace tcltorch
