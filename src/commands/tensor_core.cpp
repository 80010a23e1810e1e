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
static const Param kDtypeOpt{"dtype", Type::Dtype, kOptional, "element type (default: the input's)"};
static const Param kDeviceOpt{"device", Type::Device, kOptional, "cpu, cuda or cuda:N (default: the input's)"};
static const Param kValue{"value", Type::Double, nullptr, "fill value"};

// ---- Tcl data -> tensor ----

// Shape of a nested list from the first element at each depth; a number is a leaf.
static std::vector<int64_t> dataShape(Call& c, const Arg<Type::Data>& data, Tcl_Obj* o) {
  std::vector<int64_t> shape;
  for (;;) {
    double d;
    if (parseNumber(o, &d)) return shape;  // a list of n != 1 is never asked for its string
    Tcl_Size n;
    Tcl_Obj** elems;
    if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) c.badValue(data, "a (nested) list of numbers");
    // A one-element list whose element is itself a non-number word ("x") would
    // nest forever.
    if (n == 1 && !strcmp(Tcl_GetString(elems[0]), Tcl_GetString(o))) c.badValue(data, "a (nested) list of numbers");
    shape.push_back(n);
    if (n == 0) return shape;
    o = elems[0];
  }
}

// Collects the leaves in row-major order; every sublist must match the shape.
static void leaves(Call& c, const Arg<Type::Data>& data, Tcl_Obj* o, size_t depth, const std::vector<int64_t>& shape,
                   std::vector<Tcl_Obj*>& out) {
  if (depth == shape.size()) {
    out.push_back(o);
    return;
  }
  Tcl_Size n;
  Tcl_Obj** elems;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK || n != shape[depth])
    c.badValue(data, "a rectangular (nested) list of numbers");
  for (int i = 0; i < n; ++i) leaves(c, data, elems[i], depth + 1, shape, out);
}

// One typed pass over the leaf objects straight into the tensor's memory.
template <class T>
static void convertLeaves(Call& c, const Arg<Type::Data>& data, Tcl_Obj* const* objs, int64_t n, T* out) {
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
      c.badValue(data, "a rectangular (nested) list of numbers");
    out[i] = T(d);
  }
}

// Nested list (or number) -> tensor of `dtype` (float32, float64 and int64 are
// filled directly; other dtypes convert from float64/int64).
static at::Tensor fromData(Call& c, const Arg<Type::Data>& key, at::ScalarType dtype) {
  Tcl_Obj* data = c.obj(key);
  std::vector<int64_t> shape = dataShape(c, key, data);
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
      leaves(c, key, data, 0, shape, held);
      objs = held.data();
      n = int64_t(held.size());
    }
  }
  at::ScalarType fill = dtype == at::kFloat    ? at::kFloat
                        : at::isIntegralType(dtype, /*includeBool=*/true) ? at::kLong
                                                                          : at::kDouble;
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(fill));
  if (fill == at::kFloat) convertLeaves(c, key, objs, n, t.data_ptr<float>());
  else if (fill == at::kLong) convertLeaves(c, key, objs, n, t.data_ptr<int64_t>());
  else convertLeaves(c, key, objs, n, t.data_ptr<double>());
  return fill == dtype ? t : t.to(dtype);
}


// The tensor on -device, where that has a value (a no-op where the options already put it there).
static at::Tensor toDevice(Call& c, const Arg<Type::Device>& device, at::Tensor t) {
  if (c.has(device)) {
    c10::Device d = c.device(device);
    if (t.device() != d) t = t.to(d);
  }
  return t;
}
// toDevice, then requires_grad: for rows with both (a struct with those members).
template <class A>
static at::Tensor finish(Call& c, const A& a, at::Tensor t) {
  t = toDevice(c, a.device, t);
  if (c.boolean(a.requires_grad)) t.requires_grad_(true);
  return t;
}

namespace {
struct TensorCreateArgs : Args {
  Arg<Type::Data> data{this, {"data", Type::Data, nullptr, "number or nested list of numbers; nesting gives the shape", "values"}};
  Arg<Type::IntList> shape{
      this, Param{"shape", Type::IntList, kOptional, "shape; its product must equal the number of elements"}.atLeast(0).byType()};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
static Tcl_Obj* cmdTensorCreate(Call& c, const TensorCreateArgs& a) {
  at::Tensor t = fromData(c, a.data, c.dtype(a.dtype));
  if (c.has(a.shape)) {
    auto shape = c.ints(a.shape);
    if (c10::multiply_integers(shape) != t.numel())
      fail("Data has " + std::to_string(t.numel()) + " elements, which does not match shape {" +
               Tcl_GetString(c.obj(a.shape)) + "}", {"SHAPE"});
    t = t.reshape(shape);
  }
  return c.result(finish(c, a, t));
}

// ---- factories ----

namespace {
// zeros, ones, empty, rand, randn (and full, with a value)
struct ShapeArgs : Args {
  Arg<Type::IntList> shape{this, kShape};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
struct FullArgs : Args {
  Arg<Type::IntList> shape{this, kShape};
  Arg<Type::Double> value{this, kValue};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
struct EyeArgs : Args {
  Arg<Type::Int> n{this, {"n", Type::Int, nullptr, "rows"}};
  Arg<Type::Int> m{this, {"m", Type::Int, kOptional, "columns"}};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
struct LinspaceArgs : Args {
  Arg<Type::Double> start{this, {"start", Type::Double, nullptr, "first value"}};
  Arg<Type::Double> end{this, {"end", Type::Double, nullptr, "last value"}};
  Arg<Type::Int> steps{this, {"steps", Type::Int, nullptr, "number of values"}};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
struct RandintArgs : Args {
  Arg<Type::Int> high{this, {"high", Type::Int, nullptr, "upper bound, exclusive"}};
  Arg<Type::IntList> shape{this, kShape};
  Arg<Type::Int> low{this, {"low", Type::Int, "0", "lower bound"}};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, "int64", "element type"}};
  Arg<Type::Device> device{this, kDeviceParam};
};
}  // namespace

// The row's dtype and device (a struct with those members).
template <class A>
static at::TensorOptions opts(Call& c, const A& a) { return applyOptions(c, at::TensorOptions(), a.dtype, a.device); }

static Tcl_Obj* cmdZeros(Call& c, const ShapeArgs& a) { return c.result(finish(c, a, at::zeros(c.ints(a.shape), opts(c, a)))); }
static Tcl_Obj* cmdOnes(Call& c, const ShapeArgs& a) { return c.result(finish(c, a, at::ones(c.ints(a.shape), opts(c, a)))); }
static Tcl_Obj* cmdEmpty(Call& c, const ShapeArgs& a) { return c.result(finish(c, a, at::empty(c.ints(a.shape), opts(c, a)))); }
static Tcl_Obj* cmdRand(Call& c, const ShapeArgs& a) { return c.result(finish(c, a, at::rand(c.ints(a.shape), opts(c, a)))); }
static Tcl_Obj* cmdRandn(Call& c, const ShapeArgs& a) { return c.result(finish(c, a, at::randn(c.ints(a.shape), opts(c, a)))); }
static Tcl_Obj* cmdFull(Call& c, const FullArgs& a) {
  return c.result(finish(c, a, at::full(c.ints(a.shape), c.scalar(a.value), opts(c, a))));
}
static Tcl_Obj* cmdEye(Call& c, const EyeArgs& a) {
  int64_t n = c.integer(a.n);
  return c.result(finish(c, a, c.has(a.m) ? at::eye(n, c.integer(a.m), opts(c, a)) : at::eye(n, opts(c, a))));
}
static Tcl_Obj* cmdLinspace(Call& c, const LinspaceArgs& a) {
  return c.result(finish(c, a, at::linspace(c.scalar(a.start), c.scalar(a.end), c.integer(a.steps), opts(c, a))));
}
static Tcl_Obj* cmdRandint(Call& c, const RandintArgs& a) {
  return c.result(toDevice(c, a.device, at::randint(c.integer(a.low), c.integer(a.high), c.ints(a.shape), opts(c, a))));
}

namespace {
struct ArangeArgs : Args {
  Arg<Type::Double> start{this, {"start", Type::Double, kOptional, "first value, or the end when it is the only bound"}};
  // end, step, dtype and device by type: `arange 5 float32`, `arange 0 10 2 float64 cpu`
  Arg<Type::Double> end{this, Param{"end", Type::Double, kOptional, "end, exclusive"}.byType()};
  Arg<Type::Double> step{this, Param{"step", Type::Double, "1", "step"}.byType()};
  Arg<Type::Dtype> dtype{
      this, Param{"dtype", Type::Dtype, kOptional, "element type (default int64 for integer bounds, else float32)"}.byType()};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
// arange end | arange start end ?step?: one number means the end, as in Python.
// Without -dtype: int64 when every bound is an integer, else float32.
static Tcl_Obj* cmdArange(Call& c, const ArangeArgs& a) {
  if (!c.given(a.start) && !c.given(a.end)) fail("Required parameter missing: -end", {"ARGS", "MISSING", "end"});
  at::Scalar start = c.given(a.start) && c.given(a.end) ? c.scalar(a.start) : at::Scalar(int64_t(0));
  at::Scalar end = c.given(a.end) ? c.scalar(a.end) : c.scalar(a.start);
  at::Scalar step = c.scalar(a.step);
  at::TensorOptions o = opts(c, a);
  if (!c.given(a.dtype))
    o = o.dtype(start.isIntegral(false) && end.isIntegral(false) && step.isIntegral(false) ? at::kLong : at::kFloat);
  return c.result(finish(c, a, at::arange(start, end, step, o)));
}

namespace {
// zeros_like, ones_like, rand_like, randn_like
struct LikeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Dtype> dtype{this, kDtypeOpt};
  Arg<Type::Device> device{this, kDeviceOpt};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
struct FullLikeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> value{this, kValue};
  Arg<Type::Dtype> dtype{this, kDtypeOpt};
  Arg<Type::Device> device{this, kDeviceOpt};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
// *_like: dtype and device default to the input's.
template <class A>
static at::TensorOptions likeOpts(Call& c, const A& a, const at::Tensor& t) {
  return applyOptions(c, t.options(), a.dtype, a.device).requires_grad(false);
}
static Tcl_Obj* cmdZerosLike(Call& c, const LikeArgs& a) {
  auto t = c.tensor(a.input);
  return c.result(finish(c, a, at::zeros_like(t, likeOpts(c, a, t))));
}
static Tcl_Obj* cmdOnesLike(Call& c, const LikeArgs& a) {
  auto t = c.tensor(a.input);
  return c.result(finish(c, a, at::ones_like(t, likeOpts(c, a, t))));
}
static Tcl_Obj* cmdRandLike(Call& c, const LikeArgs& a) {
  auto t = c.tensor(a.input);
  return c.result(finish(c, a, at::rand_like(t, likeOpts(c, a, t))));
}
static Tcl_Obj* cmdRandnLike(Call& c, const LikeArgs& a) {
  auto t = c.tensor(a.input);
  return c.result(finish(c, a, at::randn_like(t, likeOpts(c, a, t))));
}
static Tcl_Obj* cmdFullLike(Call& c, const FullLikeArgs& a) {
  auto t = c.tensor(a.input);
  return c.result(finish(c, a, at::full_like(t, c.scalar(a.value), likeOpts(c, a, t))));
}

namespace {
struct ManualSeedArgs : Args {
  Arg<Type::Int> seed{this, {"seed", Type::Int, nullptr, "seed", "s"}};
};
}  // namespace
static Tcl_Obj* cmdManualSeed(Call& c, const ManualSeedArgs& a) {
  torch::manual_seed(uint64_t(c.integer(a.seed)));
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
namespace {
struct FromBytesArgs : Args {
  Arg<Type::Bytes> bytes{this, {"bytes", Type::Bytes, nullptr, "byte array"}};
  Arg<Type::IntList> shape{this, Param{"shape", Type::IntList, kOptional, "shape (default: 1-D, all the bytes)"}.atLeast(0)};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
static Tcl_Obj* cmdFromBytes(Call& c, const FromBytesArgs& a) {
  Tcl_Size len;
  unsigned char* p = Tcl_GetByteArrayFromObj(c.obj(a.bytes), &len);
  if (!p) c.badValue(a.bytes, "a byte array (no characters above \\xFF)");  // Tcl 9 refuses those
  at::ScalarType dt = c.dtype(a.dtype);
  int64_t esize = int64_t(c10::elementSize(dt));
  std::vector<int64_t> shape = c.has(a.shape) ? c.ints(a.shape) : std::vector<int64_t>{len / esize};
  int64_t need = esize;
  for (auto s : shape)
    if (__builtin_mul_overflow(need, s, &need)) fail("Shape is too large for any byte array", {"SHAPE"});
  if (need != len)
    fail("Byte array has " + std::to_string(len) + " bytes, but shape {" +
             (c.has(a.shape) ? std::string(Tcl_GetString(c.obj(a.shape))) : std::to_string(shape[0])) + "} of " +
             dtypeName(dt) + " needs " + std::to_string(need), {"SHAPE"});
  at::Tensor t = emptyForCopy(shape, dt, size_t(need));
  if (len) t.copy_(at::from_blob(p, shape, at::TensorOptions().dtype(dt)));
  return c.result(finish(c, a, t));
}

static Tcl_Obj* cmdToBytes(Call& c, const InputArgs& a) {
  at::Tensor t = c.tensor(a.input);
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

static Tcl_Obj* cmdShape(Call& c, const InputArgs& a) { return newList(c.tensor(a.input).sizes().vec()); }
namespace {
struct SizeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, {"dim", Type::Int, kOptional, "dimension (negative counts from the end)"}};
};
}  // namespace
static Tcl_Obj* cmdSize(Call& c, const SizeArgs& a) {
  at::Tensor t = c.tensor(a.input);
  if (!c.has(a.dim)) return newList(t.sizes().vec());
  return Tcl_NewWideIntObj(t.size(c.integer(a.dim)));
}
static Tcl_Obj* cmdDtype(Call& c, const InputArgs& a) {
  return Tcl_NewStringObj(dtypeName(c.tensor(a.input).scalar_type()), -1);
}
static Tcl_Obj* cmdDevice(Call& c, const InputArgs& a) { return newString(c.tensor(a.input).device().str()); }
static Tcl_Obj* cmdNumel(Call& c, const InputArgs& a) { return Tcl_NewWideIntObj(c.tensor(a.input).numel()); }
static Tcl_Obj* cmdIsContiguous(Call& c, const InputArgs& a) {
  return Tcl_NewBooleanObj(c.tensor(a.input).is_contiguous());
}

static Tcl_Obj* scalarObj(const at::Scalar& s) {
  if (s.isFloatingPoint()) return Tcl_NewDoubleObj(s.toDouble());
  if (s.isBoolean()) return Tcl_NewIntObj(s.toBool());
  if (s.isComplex()) fail("complex tensors are not supported", {"DTYPE"});
  return Tcl_NewWideIntObj(s.toLong());
}
static Tcl_Obj* cmdItem(Call& c, const InputArgs& a) { return scalarObj(c.tensor(a.input).item()); }

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

namespace {
struct ToListArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Bool> flat{this, {"flat", Type::Bool, "0", "1 for one flat list"}};
};
}  // namespace
static Tcl_Obj* cmdToList(Call& c, const ToListArgs& a) {
  at::Tensor t = c.tensor(a.input).detach();
  bool flat = c.boolean(a.flat);
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

static Tcl_Obj* cmdPrint(Call& c, const InputArgs& a) {
  std::ostringstream s;
  s << c.tensor(a.input);
  return newString(s.str());
}

std::vector<Command> tensorShapeCommands();
std::vector<Command> tensorMathCommands();
std::vector<Command> tensorReduceCommands();

std::vector<Command> tensorCommands() {
  auto shape = std::make_shared<const ShapeArgs>();
  auto like = std::make_shared<const LikeArgs>();
  auto input = std::make_shared<const InputArgs>();
  std::vector<Command> out = {
      typedRow<cmdTensorCreate>("tensor_create",
                                "Create a tensor from a (nested) Tcl list of numbers; shape, dtype and device in any order."),
      typedRow<cmdZeros>("zeros", "Tensor filled with zeros.", shape),
      typedRow<cmdOnes>("ones", "Tensor filled with ones.", shape),
      typedRow<cmdEmpty>("empty", "Uninitialised tensor.", shape),
      typedRow<cmdFull>("full", "Tensor filled with a value."),
      typedRow<cmdEye>("eye", "n x m identity matrix (m defaults to n)."),
      typedRow<cmdArange>("arange",
                          "Values from start (default 0) up to end, exclusive, by step: `arange end` or `arange start end ?step?`."),
      typedRow<cmdLinspace>("linspace", "steps values evenly spaced from start to end, inclusive."),
      typedRow<cmdRand>("rand", "Uniform random values in [0, 1).", shape),
      typedRow<cmdRandn>("randn", "Standard normal random values.", shape),
      typedRow<cmdRandint>("randint", "Random integers in [low, high)."),
      typedRow<cmdZerosLike>("zeros_like", "Zeros with the input's shape (and dtype/device unless given).", like),
      typedRow<cmdOnesLike>("ones_like", "Ones with the input's shape (and dtype/device unless given).", like),
      typedRow<cmdFullLike>("full_like", "A value with the input's shape (and dtype/device unless given)."),
      typedRow<cmdRandLike>("rand_like", "Uniform [0, 1) values with the input's shape (and dtype/device unless given).", like),
      typedRow<cmdRandnLike>("randn_like", "Normal values with the input's shape (and dtype/device unless given).", like),
      typedRow<cmdManualSeed>("manual_seed", "Seed the random generators (CPU and CUDA)."),
      typedRow<cmdFromBytes>("tensor_from_bytes",
                             "Tensor from a Tcl byte array (e.g. `binary format f*`), native byte order, copied once."),
      typedRow<cmdToBytes>("tensor_to_bytes", "The tensor's elements as a Tcl byte array (row-major, native byte order).",
                           input),
      typedRow<cmdShape>("tensor_shape", "Shape of a tensor as a Tcl list ({} for a scalar).", input),
      typedRow<cmdSize>("tensor_size", "Shape as a list, or the size of one dimension."),
      typedRow<cmdDtype>("tensor_dtype", "Element type name (float32, int64, ...).", input),
      typedRow<cmdDevice>("tensor_device", "Device name (cpu, cuda:0, ...).", input),
      typedRow<cmdNumel>("tensor_numel", "Number of elements.", input),
      typedRow<cmdItem>("tensor_item", "The value of a one-element tensor as a Tcl number.", input),
      typedRow<cmdToList>("tensor_to_list", "Elements as nested Tcl lists by shape (a number for a scalar), or flat."),
      typedRow<cmdPrint>("tensor_print", "The tensor printed as text (values, dtype and shape).", input),
      typedRow<cmdIsContiguous>("tensor_is_contiguous", "1 when the tensor is contiguous in memory.", input),
  };
  for (auto* area : {&tensorShapeCommands, &tensorMathCommands, &tensorReduceCommands})
    for (auto& c : (*area)()) out.push_back(c);
  return out;
}

}  // namespace tcltorch
