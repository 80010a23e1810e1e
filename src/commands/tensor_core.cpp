// Tensor creation, byte I/O, info and conversion back to Tcl values.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <cstring>
#include <limits>
#include <sstream>
#include <strings.h>
#include <sys/mman.h>

namespace tcltorch {

static const Param kShape = Param{"shape", Type::IntList, nullptr, "shape (list of sizes)"}.atLeast(0);

// ---- Tcl data -> tensor ----

// Shape of a nested list from the first element at each depth; a number is a leaf.
static std::vector<int64_t> dataShape(Call& c, Tcl_Obj* o) {
  std::vector<int64_t> shape;
  for (;;) {
    double d;
    if (parseNumber(o, &d)) return shape;  // a list of n != 1 is never asked for its string
    Tcl_Size n;
    Tcl_Obj** elems;
    if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) c.badValue("data", "a (nested) list of numbers");
    // A one-element list whose element is itself a non-number word ("x") would
    // nest forever.
    if (n == 1 && !strcmp(Tcl_GetString(elems[0]), Tcl_GetString(o))) c.badValue("data", "a (nested) list of numbers");
    shape.push_back(n);
    if (n == 0) return shape;
    o = elems[0];
  }
}

// Collects the leaves in row-major order; every sublist must match the shape.
static void leaves(Call& c, Tcl_Obj* o, size_t depth, const std::vector<int64_t>& shape,
                   std::vector<Tcl_Obj*>& out) {
  if (depth == shape.size()) {
    out.push_back(o);
    return;
  }
  Tcl_Size n;
  Tcl_Obj** elems;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK || n != shape[depth])
    c.badValue("data", "a rectangular (nested) list of numbers");
  for (int i = 0; i < n; ++i) leaves(c, elems[i], depth + 1, shape, out);
}

// One typed pass over the leaf objects straight into the tensor's memory.
template <class T>
static void convertLeaves(Call& c, Tcl_Obj* const* objs, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_integral_v<T>) {
      Tcl_WideInt w;
      if (Tcl_GetWideIntFromObj(nullptr, objs[i], &w) == TCL_OK) {
        out[i] = T(w);
        continue;
      }
    }
    double d;
    if (!parseNumber(objs[i], &d))
      c.badValue("data", "a rectangular (nested) list of numbers");
    out[i] = T(d);
  }
}

// Nested list (or number) -> tensor of `dtype` (float32, float64 and int64 are
// filled directly; other dtypes convert from float64/int64).
static at::Tensor fromData(Call& c, Tcl_Obj* data, at::ScalarType dtype) {
  std::vector<int64_t> shape = dataShape(c, data);
  Tcl_Obj* const* objs;
  std::vector<Tcl_Obj*> held;
  int64_t n;
  if (shape.empty()) {
    objs = &data;
    n = 1;
  } else {
    Tcl_Size len;
    Tcl_Obj** elems;
    Tcl_ListObjGetElements(nullptr, data, &len, &elems);
    if (shape.size() == 1) {
      objs = elems;  // flat list: no copy of the element pointers
      n = len;
    } else {
      held.reserve(size_t(c10::multiply_integers(shape)));
      leaves(c, data, 0, shape, held);
      objs = held.data();
      n = int64_t(held.size());
    }
  }
  at::ScalarType fill = dtype == at::kFloat    ? at::kFloat
                        : at::isIntegralType(dtype, /*includeBool=*/true) ? at::kLong
                                                                          : at::kDouble;
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(fill));
  if (fill == at::kFloat) convertLeaves(c, objs, n, t.data_ptr<float>());
  else if (fill == at::kLong) convertLeaves(c, objs, n, t.data_ptr<int64_t>());
  else convertLeaves(c, objs, n, t.data_ptr<double>());
  return fill == dtype ? t : t.to(dtype);
}


static at::Tensor finish(Call& c, at::Tensor t) {
  if (c.declares("device") && c.has("device")) {
    c10::Device d = c.device("device");
    if (t.device() != d) t = t.to(d);
  }
  if (c.declares("requires_grad") && c.boolean("requires_grad")) t.requires_grad_(true);
  return t;
}

static Tcl_Obj* cmdTensorCreate(Call& c) {
  at::Tensor t = fromData(c, c.obj("data"), c.dtype("dtype"));
  if (c.has("shape")) {
    auto shape = c.ints("shape");
    if (c10::multiply_integers(shape) != t.numel())
      fail("Data has " + std::to_string(t.numel()) + " elements, which does not match shape {" +
               Tcl_GetString(c.obj("shape")) + "}", {"SHAPE"});
    t = t.reshape(shape);
  }
  return c.result(finish(c, t));
}

// ---- factories ----

static at::TensorOptions opts(Call& c) { return applyOptions(c, at::TensorOptions()); }

static Tcl_Obj* cmdZeros(Call& c) { return c.result(finish(c, at::zeros(c.ints("shape"), opts(c)))); }
static Tcl_Obj* cmdOnes(Call& c) { return c.result(finish(c, at::ones(c.ints("shape"), opts(c)))); }
static Tcl_Obj* cmdEmpty(Call& c) { return c.result(finish(c, at::empty(c.ints("shape"), opts(c)))); }
static Tcl_Obj* cmdRand(Call& c) { return c.result(finish(c, at::rand(c.ints("shape"), opts(c)))); }
static Tcl_Obj* cmdRandn(Call& c) { return c.result(finish(c, at::randn(c.ints("shape"), opts(c)))); }
static Tcl_Obj* cmdFull(Call& c) {
  return c.result(finish(c, at::full(c.ints("shape"), c.scalar("value"), opts(c))));
}
static Tcl_Obj* cmdEye(Call& c) {
  int64_t n = c.integer("n");
  return c.result(finish(c, c.has("m") ? at::eye(n, c.integer("m"), opts(c)) : at::eye(n, opts(c))));
}
static Tcl_Obj* cmdLinspace(Call& c) {
  return c.result(finish(c, at::linspace(c.scalar("start"), c.scalar("end"), c.integer("steps"), opts(c))));
}
static Tcl_Obj* cmdRandint(Call& c) {
  return c.result(finish(c, at::randint(c.integer("low"), c.integer("high"), c.ints("shape"), opts(c))));
}

// arange end | arange start end ?step?: one number means the end, as in Python.
// Without -dtype: int64 when every bound is an integer, else float32.
static Tcl_Obj* cmdArange(Call& c) {
  if (!c.given("start") && !c.given("end")) fail("Required parameter missing: -end", {"ARGS", "MISSING", "end"});
  at::Scalar start = c.given("start") && c.given("end") ? c.scalar("start") : at::Scalar(int64_t(0));
  at::Scalar end = c.given("end") ? c.scalar("end") : c.scalar("start");
  at::Scalar step = c.scalar("step");
  at::TensorOptions o = opts(c);
  if (!c.given("dtype"))
    o = o.dtype(start.isIntegral(false) && end.isIntegral(false) && step.isIntegral(false) ? at::kLong : at::kFloat);
  return c.result(finish(c, at::arange(start, end, step, o)));
}

// *_like: dtype and device default to the input's.
static at::TensorOptions likeOpts(Call& c, const at::Tensor& t) {
  at::TensorOptions o = t.options();
  if (c.has("dtype")) o = o.dtype(c.dtype("dtype"));
  if (c.has("device")) o = o.device(c.device("device"));
  return o.requires_grad(false);
}
static Tcl_Obj* cmdZerosLike(Call& c) { auto t = c.tensor("input"); return c.result(finish(c, at::zeros_like(t, likeOpts(c, t)))); }
static Tcl_Obj* cmdOnesLike(Call& c) { auto t = c.tensor("input"); return c.result(finish(c, at::ones_like(t, likeOpts(c, t)))); }
static Tcl_Obj* cmdRandLike(Call& c) { auto t = c.tensor("input"); return c.result(finish(c, at::rand_like(t, likeOpts(c, t)))); }
static Tcl_Obj* cmdRandnLike(Call& c) { auto t = c.tensor("input"); return c.result(finish(c, at::randn_like(t, likeOpts(c, t)))); }
static Tcl_Obj* cmdFullLike(Call& c) {
  auto t = c.tensor("input");
  return c.result(finish(c, at::full_like(t, c.scalar("value"), likeOpts(c, t))));
}

static Tcl_Obj* cmdManualSeed(Call& c) {
  torch::manual_seed(uint64_t(c.integer("seed")));
  return nullptr;
}

// ---- byte I/O ----

// Destination of a large byte copy: a 2 MiB-aligned anonymous mapping with
// transparent huge pages requested, so filling 64 MiB takes 32 page faults
// instead of 16384 (and later passes over it fewer TLB misses). The storage is
// an ordinary resizable CPU storage; only its first block comes from mmap, and
// munmap may run on any thread. Small tensors use libtorch's allocator.
static at::Tensor emptyForCopy(const std::vector<int64_t>& shape, at::ScalarType dt, size_t nbytes) {
  constexpr size_t kHuge = size_t(2) << 20;
  if (nbytes < 4 * kHuge) return at::empty(shape, at::TensorOptions().dtype(dt));
  size_t span = (nbytes + kHuge - 1) / kHuge * kHuge;
  size_t len = span + kHuge;  // room to align the start
  void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return at::empty(shape, at::TensorOptions().dtype(dt));
  void* data = reinterpret_cast<void*>((uintptr_t(base) + kHuge - 1) & ~(uintptr_t(kHuge) - 1));
  madvise(data, span, MADV_HUGEPAGE);  // advice only: harmless where THP is off
  struct Mapping {
    void* base;
    size_t len;
  };
  auto* m = new Mapping{base, len};
  c10::DataPtr ptr(data, m, [](void* ctx) {
    auto* mp = static_cast<Mapping*>(ctx);
    munmap(mp->base, mp->len);
    delete mp;
  }, c10::Device(c10::kCPU));
  c10::Storage storage(c10::Storage::use_byte_size_t(), nbytes, std::move(ptr), c10::GetAllocator(c10::kCPU),
                       /*resizable=*/true);
  auto t = at::detail::make_tensor<c10::TensorImpl>(std::move(storage), c10::DispatchKeySet(c10::DispatchKey::CPU),
                                                    caffe2::TypeMeta::fromScalarType(dt));
  t.unsafeGetTensorImpl()->set_sizes_contiguous(shape);
  return t;
}

// The bytes are copied once by libtorch's (parallel) copy kernel. A zero-copy
// view is not safe: the tensor could outlive or be freed away from the Tcl value,
// whose byte-array rep may be shimmered away, and Tcl values are immutable while
// tensors are not.
static Tcl_Obj* cmdFromBytes(Call& c) {
  Tcl_Size len;
  unsigned char* p = Tcl_GetByteArrayFromObj(c.obj("bytes"), &len);
  if (!p) c.badValue("bytes", "a byte array (no characters above \\xFF)");  // Tcl 9 refuses those
  at::ScalarType dt = c.dtype("dtype");
  int64_t esize = int64_t(c10::elementSize(dt));
  std::vector<int64_t> shape = c.has("shape") ? c.ints("shape") : std::vector<int64_t>{len / esize};
  int64_t need = esize;
  for (auto s : shape)
    if (__builtin_mul_overflow(need, s, &need)) fail("Shape is too large for any byte array", {"SHAPE"});
  if (need != len)
    fail("Byte array has " + std::to_string(len) + " bytes, but shape {" +
             (c.has("shape") ? std::string(Tcl_GetString(c.obj("shape"))) : std::to_string(shape[0])) + "} of " +
             dtypeName(dt) + " needs " + std::to_string(need), {"SHAPE"});
  at::Tensor t = emptyForCopy(shape, dt, size_t(need));
  if (len) t.copy_(at::from_blob(p, shape, at::TensorOptions().dtype(dt)));
  return c.result(finish(c, t));
}

static Tcl_Obj* cmdToBytes(Call& c) {
  at::Tensor t = c.tensor("input");
  int64_t n = int64_t(t.numel()) * int64_t(t.element_size());
  if (n > INT32_MAX) fail("Tensor has " + std::to_string(n) + " bytes, more than a Tcl byte array holds", {"SIZE"});
  Tcl_Obj* o = Tcl_NewByteArrayObj(nullptr, int(n));
  if (n) {
    unsigned char* p = Tcl_GetByteArrayFromObj(o, nullptr);
    at::from_blob(p, t.sizes(), at::TensorOptions().dtype(t.scalar_type())).copy_(t.detach());
  }
  return o;
}

// ---- info ----

static Tcl_Obj* cmdShape(Call& c) { return newList(c.tensor("input").sizes().vec()); }
static Tcl_Obj* cmdSize(Call& c) {
  at::Tensor t = c.tensor("input");
  if (!c.has("dim")) return newList(t.sizes().vec());
  return Tcl_NewWideIntObj(t.size(c.integer("dim")));
}
static Tcl_Obj* cmdDtype(Call& c) { return Tcl_NewStringObj(dtypeName(c.tensor("input").scalar_type()), -1); }
static Tcl_Obj* cmdDevice(Call& c) { return newString(c.tensor("input").device().str()); }
static Tcl_Obj* cmdNumel(Call& c) { return Tcl_NewWideIntObj(c.tensor("input").numel()); }
static Tcl_Obj* cmdIsContiguous(Call& c) { return Tcl_NewBooleanObj(c.tensor("input").is_contiguous()); }

static Tcl_Obj* scalarObj(const at::Scalar& s) {
  if (s.isFloatingPoint()) return Tcl_NewDoubleObj(s.toDouble());
  if (s.isBoolean()) return Tcl_NewIntObj(s.toBool());
  if (s.isComplex()) fail("complex tensors are not supported", {"DTYPE"});
  return Tcl_NewWideIntObj(s.toLong());
}
static Tcl_Obj* cmdItem(Call& c) { return scalarObj(c.tensor("input").item()); }

// Nested lists by shape from contiguous typed data; elements made by `mk`.
// Rows are filled in cache-sized chunks into a list made with its final
// capacity, so each new element is still in cache when the list takes it.
template <class T, class Mk>
static Tcl_Obj* nested(const T*& p, const int64_t* shape, int ndim, std::vector<Tcl_Obj*>& buf, Mk mk) {
  int64_t n = shape[0];
  if (ndim == 1) {
    constexpr int64_t kChunk = 2048;
    if (n <= kChunk) {
      buf.resize(size_t(n));
      for (int64_t i = 0; i < n; ++i) buf[size_t(i)] = mk(p[i]);
      p += n;
      return Tcl_NewListObj(int(n), buf.data());
    }
    Tcl_Obj* list = Tcl_NewListObj(int(n), nullptr);  // empty, capacity n
    buf.resize(size_t(kChunk));
    for (int64_t i = 0; i < n; i += kChunk) {
      int64_t k = std::min(kChunk, n - i);
      for (int64_t j = 0; j < k; ++j) buf[size_t(j)] = mk(p[j]);
      p += k;
      Tcl_ListObjReplace(nullptr, list, int(i), 0, int(k), buf.data());
    }
    return list;
  }
  std::vector<Tcl_Obj*> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[size_t(i)] = nested(p, shape + 1, ndim - 1, buf, mk);
  return Tcl_NewListObj(int(n), rows.data());
}

template <class T, class Mk>
static Tcl_Obj* toList(const at::Tensor& t, bool flat, Mk mk) {
  const T* p = t.data_ptr<T>();
  std::vector<Tcl_Obj*> buf;
  if (t.dim() == 0) return mk(*p);
  int64_t n = t.numel();
  return flat ? nested(p, &n, 1, buf, mk) : nested(p, t.sizes().data(), int(t.dim()), buf, mk);
}

static Tcl_Obj* cmdToList(Call& c) {
  at::Tensor t = c.tensor("input").detach();
  bool flat = c.boolean("flat");
  if (!t.device().is_cpu()) t = t.cpu();
  t = t.contiguous();
  auto dbl = [](double v) { return Tcl_NewDoubleObj(v); };
  auto wide = [](int64_t v) { return Tcl_NewWideIntObj(v); };
  switch (t.scalar_type()) {
    case at::kFloat: return toList<float>(t, flat, dbl);
    case at::kDouble: return toList<double>(t, flat, dbl);
    case at::kLong: return toList<int64_t>(t, flat, wide);
    case at::kInt: return toList<int32_t>(t, flat, wide);
    case at::kBool: return toList<bool>(t, flat, [](bool v) { return Tcl_NewIntObj(v); });
    default:
      if (at::isFloatingType(t.scalar_type())) return toList<double>(t.to(at::kDouble), flat, dbl);
      if (at::isIntegralType(t.scalar_type(), false)) return toList<int64_t>(t.to(at::kLong), flat, wide);
      fail(std::string("tensor_to_list does not support dtype ") + dtypeName(t.scalar_type()), {"DTYPE"});
  }
}

static Tcl_Obj* cmdPrint(Call& c) {
  std::ostringstream s;
  s << c.tensor("input");
  return newString(s.str());
}

std::vector<Command> tensorShapeCommands();
std::vector<Command> tensorMathCommands();

std::vector<Command> tensorCommands() {
  const Param dtypeOpt{"dtype", Type::Dtype, kOptional, "element type (default: the input's)"};
  const Param deviceOpt{"device", Type::Device, kOptional, "cpu, cuda or cuda:N (default: the input's)"};
  const Param value{"value", Type::Double, nullptr, "fill value"};
  std::vector<Command> out = {
      {"tensor_create", "Create a tensor from a (nested) Tcl list of numbers; shape, dtype and device in any order.",
       {{"data", Type::Data, nullptr, "number or nested list of numbers; nesting gives the shape", "values"},
        Param{"shape", Type::IntList, kOptional, "shape; its product must equal the number of elements"}
            .atLeast(0).byType(),
        kDtypeParam, kDeviceParam, kRequiresGradParam},
       cmdTensorCreate},
      {"zeros", "Tensor filled with zeros.", {kShape, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdZeros},
      {"ones", "Tensor filled with ones.", {kShape, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdOnes},
      {"empty", "Uninitialised tensor.", {kShape, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdEmpty},
      {"full", "Tensor filled with a value.", {kShape, value, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdFull},
      {"eye", "n x m identity matrix (m defaults to n).",
       {{"n", Type::Int, nullptr, "rows"}, {"m", Type::Int, kOptional, "columns"}, kDtypeParam, kDeviceParam,
        kRequiresGradParam},
       cmdEye},
      {"arange", "Values from start (default 0) up to end, exclusive, by step: `arange end` or `arange start end ?step?`.",
       {{"start", Type::Double, kOptional, "first value, or the end when it is the only bound"},
        // end, step, dtype and device by type: `arange 5 float32`, `arange 0 10 2 float64 cpu`
        Param{"end", Type::Double, kOptional, "end, exclusive"}.byType(),
        Param{"step", Type::Double, "1", "step"}.byType(),
        Param{"dtype", Type::Dtype, kOptional, "element type (default int64 for integer bounds, else float32)"}.byType(),
        kDeviceParam, kRequiresGradParam},
       cmdArange},
      {"linspace", "steps values evenly spaced from start to end, inclusive.",
       {{"start", Type::Double, nullptr, "first value"}, {"end", Type::Double, nullptr, "last value"},
        {"steps", Type::Int, nullptr, "number of values"}, kDtypeParam, kDeviceParam, kRequiresGradParam},
       cmdLinspace},
      {"rand", "Uniform random values in [0, 1).", {kShape, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdRand},
      {"randn", "Standard normal random values.", {kShape, kDtypeParam, kDeviceParam, kRequiresGradParam}, cmdRandn},
      {"randint", "Random integers in [low, high).",
       {{"high", Type::Int, nullptr, "upper bound, exclusive"}, kShape, {"low", Type::Int, "0", "lower bound"},
        {"dtype", Type::Dtype, "int64", "element type"}, kDeviceParam},
       cmdRandint},
      {"zeros_like", "Zeros with the input's shape (and dtype/device unless given).",
       {kInput, dtypeOpt, deviceOpt, kRequiresGradParam}, cmdZerosLike},
      {"ones_like", "Ones with the input's shape (and dtype/device unless given).",
       {kInput, dtypeOpt, deviceOpt, kRequiresGradParam}, cmdOnesLike},
      {"full_like", "A value with the input's shape (and dtype/device unless given).",
       {kInput, value, dtypeOpt, deviceOpt, kRequiresGradParam}, cmdFullLike},
      {"rand_like", "Uniform [0, 1) values with the input's shape (and dtype/device unless given).",
       {kInput, dtypeOpt, deviceOpt, kRequiresGradParam}, cmdRandLike},
      {"randn_like", "Normal values with the input's shape (and dtype/device unless given).",
       {kInput, dtypeOpt, deviceOpt, kRequiresGradParam}, cmdRandnLike},
      {"manual_seed", "Seed the random generators (CPU and CUDA).", {{"seed", Type::Int, nullptr, "seed", "s"}},
       cmdManualSeed},
      {"tensor_from_bytes", "Tensor from a Tcl byte array (e.g. `binary format f*`), native byte order, copied once.",
       {{"bytes", Type::Bytes, nullptr, "byte array"},
        Param{"shape", Type::IntList, kOptional, "shape (default: 1-D, all the bytes)"}.atLeast(0), kDtypeParam, kDeviceParam,
        kRequiresGradParam},
       cmdFromBytes},
      {"tensor_to_bytes", "The tensor's elements as a Tcl byte array (row-major, native byte order).", {kInput},
       cmdToBytes},
      {"tensor_shape", "Shape of a tensor as a Tcl list ({} for a scalar).", {kInput}, cmdShape},
      {"tensor_size", "Shape as a list, or the size of one dimension.",
       {kInput, {"dim", Type::Int, kOptional, "dimension (negative counts from the end)"}}, cmdSize},
      {"tensor_dtype", "Element type name (float32, int64, ...).", {kInput}, cmdDtype},
      {"tensor_device", "Device name (cpu, cuda:0, ...).", {kInput}, cmdDevice},
      {"tensor_numel", "Number of elements.", {kInput}, cmdNumel},
      {"tensor_item", "The value of a one-element tensor as a Tcl number.", {kInput}, cmdItem},
      {"tensor_to_list", "Elements as nested Tcl lists by shape (a number for a scalar), or flat.",
       {kInput, {"flat", Type::Bool, "0", "1 for one flat list"}}, cmdToList},
      {"tensor_print", "The tensor printed as text (values, dtype and shape).", {kInput}, cmdPrint},
      {"tensor_is_contiguous", "1 when the tensor is contiguous in memory.", {kInput}, cmdIsContiguous},
  };
  for (auto* area : {&tensorShapeCommands, &tensorMathCommands})
    for (auto& c : (*area)()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
