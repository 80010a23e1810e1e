// Mixed precision (autocast, gradient scaler), threads, profiling and timing.
#include "tcltorch/commands.h"
#include "tcltorch/optim_family.h"
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>
#include <chrono>
#include <cmath>
#include <map>

namespace tcltorch {

// ---- autocast ----

namespace {
const Param kDeviceType{"device_type", Type::Choice, "cpu", "cpu or cuda", "device", "cpu cuda"};
struct AutocastArgs : Args {
  Arg<Type::Script> script{this, {"script", Type::Script, nullptr, "the script to run"}};
  Arg<Type::Choice> device_type{this, kDeviceType};
  Arg<Type::Dtype> dtype{
      this, {"dtype", Type::Dtype, kOptional, "lower-precision dtype (default cpu bfloat16, cuda float16)"}};
  Arg<Type::Bool> enabled{this, {"enabled", Type::Bool, "1", "0 runs the script with autocast off"}};
};
struct AutocastEnableArgs : Args {
  Arg<Type::Choice> device_type{this, kDeviceType};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, kOptional, "lower-precision dtype"}};
};
// autocast_disable, autocast_is_enabled and autocast_get_dtype
struct DeviceTypeArgs : Args {
  Arg<Type::Choice> device_type{this, kDeviceType};
};
struct AutocastSetDtypeArgs : Args {
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, nullptr, "bfloat16 (cpu); float16 or bfloat16 (cuda)"}};
  Arg<Type::Choice> device_type{this, kDeviceType};
};
}  // namespace

// device_type: 0 cpu, 1 cuda
static bool cudaType(Call& c, const Arg<Type::Choice>& deviceType) {
  bool cuda = c.choice(deviceType) == 1;
  if (cuda && !torch::cuda::is_available())
    fail("autocast for cuda needs a CUDA device, and none is available", {"DEVICE", "cuda"});
  return cuda;
}
static void autocastSetDtype(Call& c, const Arg<Type::Dtype>& dtype, bool cuda) {
  at::ScalarType t = c.dtype(dtype);
  if (!cuda && t != at::kBFloat16) c.badValue(dtype, "bfloat16 (the only lower precision autocast has on cpu)");
  if (cuda && t != at::kHalf && t != at::kBFloat16) c.badValue(dtype, "float16 or bfloat16");
  compat::setAutocastDtype(cuda, t);
}

// The script runs with autocast on (or off with -enabled 0); the previous
// state, dtype and cache are restored on every exit.
static Tcl_Obj* cmdAutocast(Call& c, const AutocastArgs& a) {
  bool cuda = cudaType(c, a.device_type);
  bool prevOn = compat::autocastEnabled(cuda);
  at::ScalarType prevType = compat::autocastDtype(cuda);
  if (c.has(a.dtype)) autocastSetDtype(c, a.dtype, cuda);
  compat::setAutocastEnabled(cuda, c.boolean(a.enabled));
  at::autocast::increment_nesting();
  int code = Tcl_EvalObjEx(c.interp, c.obj(a.script), 0);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::setAutocastEnabled(cuda, prevOn);
  compat::setAutocastDtype(cuda, prevType);
  if (code != TCL_OK) throw ScriptCode{code};
  return Tcl_GetObjResult(c.interp);
}
static Tcl_Obj* cmdAutocastEnable(Call& c, const AutocastEnableArgs& a) {
  bool cuda = cudaType(c, a.device_type);
  if (c.has(a.dtype)) autocastSetDtype(c, a.dtype, cuda);
  compat::setAutocastEnabled(cuda, true);
  return nullptr;
}
static Tcl_Obj* cmdAutocastDisable(Call& c, const DeviceTypeArgs& a) {
  bool cuda = c.choice(a.device_type) == 1;
  if (!cuda || torch::cuda::is_available()) compat::setAutocastEnabled(cuda, false);
  at::autocast::clear_cache();
  return nullptr;
}
static Tcl_Obj* cmdAutocastIsEnabled(Call& c, const DeviceTypeArgs& a) {
  bool cuda = c.choice(a.device_type) == 1;
  return Tcl_NewBooleanObj(compat::autocastEnabled(cuda));
}
static Tcl_Obj* cmdAutocastSetDtype(Call& c, const AutocastSetDtypeArgs& a) {
  autocastSetDtype(c, a.dtype, cudaType(c, a.device_type));
  return nullptr;
}
static Tcl_Obj* cmdAutocastGetDtype(Call& c, const DeviceTypeArgs& a) {
  return Tcl_NewStringObj(dtypeName(compat::autocastDtype(c.choice(a.device_type) == 1)), -1);
}

// ---- gradient scaler (PyTorch's GradScaler) ----

// Scaler handles use the scheduler kind (the runtime has no kind of its own for
// them); every command checks the object's type.
namespace {
struct GradScalerObj : Object {
  std::string handlePrefix() const override { return "scaler"; }
  double scale, growth, backoff;
  int64_t interval, tracker = 0;
  bool enabled;
  bool foundInf = false, unscaled = false;
};
const Param kScaler{"scaler", Type::Scheduler, nullptr, "grad scaler handle"};
struct ScalerNewArgs : Args {
  Arg<Type::Double> init_scale{
      this, Param{"init_scale", Type::Double, "65536.0", "initial scale"}.positive("a number > 0")};
  Arg<Type::Double> growth_factor{
      this, Param{"growth_factor", Type::Double, "2.0", "scale multiplier after growth_interval clean steps"}.above(1)};
  Arg<Type::Double> backoff_factor{
      this, Param{"backoff_factor", Type::Double, "0.5", "scale multiplier after a step with inf or NaN gradients"}
                .strictlyWithin(0, 1)
                .mustBe("a number between 0 and 1 (exclusive)")};
  Arg<Type::Int> growth_interval{
      this, Param{"growth_interval", Type::Int, "2000", "clean steps between growths"}.positive()};
  Arg<Type::Bool> enabled{this, {"enabled", Type::Bool, "1", "0 makes every scaler command a pass-through"}};
};
struct ScalerArgs : Args {
  Arg<Type::Scheduler> scaler{this, kScaler};
};
struct ScalerScaleArgs : Args {
  Arg<Type::Scheduler> scaler{this, kScaler};
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor to scale", "tensor loss outputs"}};
};
struct ScalerStepArgs : Args {
  Arg<Type::Scheduler> scaler{this, kScaler};
  Arg<Type::Optimizer> optimizer{this, {"optimizer", Type::Optimizer, nullptr, "optimizer handle"}};
};
struct ScalerUpdateArgs : Args {
  Arg<Type::Scheduler> scaler{this, kScaler};
  Arg<Type::Double> new_scale{
      this, Param{"new_scale", Type::Double, kOptional, "set this scale instead"}.positive("a number > 0")};
};
}  // namespace
static std::shared_ptr<GradScalerObj> scalerArg(Call& c, const Arg<Type::Scheduler>& scaler) {
  return typedObject<GradScalerObj>(c, scaler, "grad scaler");
}

static Tcl_Obj* cmdScalerNew(Call& c, const ScalerNewArgs& a) {
  auto s = std::make_shared<GradScalerObj>();
  s->scale = c.number(a.init_scale);
  s->growth = c.number(a.growth_factor);
  s->backoff = c.number(a.backoff_factor);
  s->interval = c.integer(a.growth_interval);
  s->enabled = c.boolean(a.enabled);
  return c.result(Kind::Scheduler, s);
}
static Tcl_Obj* cmdScalerScale(Call& c, const ScalerScaleArgs& a) {
  auto s = scalerArg(c, a.scaler);
  at::Tensor t = c.tensor(a.input);
  return c.result(s->enabled ? t * s->scale : t);
}
// Unscales the optimizer's gradients; steps unless one is inf or NaN. 1 when it stepped.
static Tcl_Obj* cmdScalerStep(Call& c, const ScalerStepArgs& a) {
  auto s = scalerArg(c, a.scaler);
  auto o = c.object<OptimizerObj>(a.optimizer);
  at::NoGradGuard ng;
  if (!s->enabled) {
    o->opt->step();
    return Tcl_NewBooleanObj(1);
  }
  bool inf = false;
  for (auto& g : o->opt->param_groups())
    for (auto& p : g.params()) {
      if (!p.grad().defined()) continue;
      at::Tensor gr = p.mutable_grad();
      gr.mul_(1.0 / s->scale);
      if (!at::isfinite(gr).all().item<bool>()) inf = true;
    }
  s->foundInf = inf;
  s->unscaled = true;
  if (!inf) o->opt->step();
  return Tcl_NewBooleanObj(!inf);
}
// After a step: back off on inf/NaN, grow after growth_interval clean steps.
static Tcl_Obj* cmdScalerUpdate(Call& c, const ScalerUpdateArgs& a) {
  auto s = scalerArg(c, a.scaler);
  if (c.has(a.new_scale)) {
    double v = c.number(a.new_scale);
    s->scale = v;
  } else if (s->enabled && s->unscaled) {
    if (s->foundInf) {
      s->scale *= s->backoff;
      s->tracker = 0;
    } else if (++s->tracker == s->interval) {
      s->scale *= s->growth;
      s->tracker = 0;
    }
  }
  s->unscaled = false;
  s->foundInf = false;
  return Tcl_NewDoubleObj(s->scale);
}
static Tcl_Obj* cmdScalerGetScale(Call& c, const ScalerArgs& a) {
  auto s = scalerArg(c, a.scaler);
  return Tcl_NewDoubleObj(s->enabled ? s->scale : 1.0);
}

// ---- threads, denormals ----

namespace {
struct NumThreadsArgs : Args {
  Arg<Type::Int> num_threads{
      this, Param{"num_threads", Type::Int, nullptr, "number of threads", "threads n"}.positive()};
};
struct FlushDenormalArgs : Args {
  Arg<Type::Bool> mode{this, {"mode", Type::Bool, nullptr, "1 to flush, 0 to keep denormals", "enabled"}};
};
struct SynchronizeArgs : Args {
  Arg<Type::Device> device{this, {"device", Type::Device, kOptional, "cpu, cuda or cuda:N"}};
};
struct IsCudaArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor handle", "tensor"}};
};
}  // namespace

static Tcl_Obj* cmdGetNumThreads(Call&) { return Tcl_NewIntObj(at::get_num_threads()); }
static Tcl_Obj* cmdSetNumThreads(Call& c, const NumThreadsArgs& a) {
  int64_t n = c.integer(a.num_threads);
  at::set_num_threads(int(n));
  return nullptr;
}
static Tcl_Obj* cmdSetFlushDenormal(Call& c, const FlushDenormalArgs& a) {
  return Tcl_NewBooleanObj(at::globalContext().setFlushDenormal(c.boolean(a.mode)));
}
// Waits for the device's queued work: CUDA kernels run asynchronously, CPU ops
// have finished when their command returns.
static Tcl_Obj* cmdSynchronize(Call& c, const SynchronizeArgs& a) {
  if (!c.has(a.device)) {
    if (torch::cuda::is_available()) torch::cuda::synchronize();
    return nullptr;
  }
  c10::Device d = c.device(a.device);
  if (d.is_cuda()) {
    if (!torch::cuda::is_available()) fail("CUDA is not available", {"DEVICE", "cuda"});
    torch::cuda::synchronize(d.has_index() ? d.index() : -1);
  }
  return nullptr;
}

static Tcl_Obj* cmdIsCuda(Call& c, const IsCudaArgs& a) { return Tcl_NewBooleanObj(c.tensor(a.input).is_cuda()); }

// ---- profiler (libtorch's autograd profiler, CPU) ----

namespace prof = torch::autograd::profiler;

static bool& profiling() {
  static thread_local bool on = false;
  return on;
}
namespace {
struct ProfilerStartArgs : Args {
  Arg<Type::Bool> record_shapes{this, {"record_shapes", Type::Bool, "0", "record input shapes"}};
};
}  // namespace
static Tcl_Obj* cmdProfilerStart(Call& c, const ProfilerStartArgs& a) {
  if (profiling()) fail("the profiler is already running", {"PROFILER", "RUNNING"});
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(
      torch::profiler::impl::ProfilerState::CPU, c.boolean(a.record_shapes)));
  profiling() = true;
  return nullptr;
}
// Stops the profiler: a dict op name -> {count N total_us T}, largest total first.
static Tcl_Obj* cmdProfilerStop(Call&) {
  if (!profiling()) fail("the profiler is not running", {"PROFILER", "STOPPED"});
  profiling() = false;
  auto lists = prof::disableProfilerLegacy();
  std::map<std::string, std::pair<int64_t, double>> byName;
  for (auto& list : lists) {
    std::vector<const prof::LegacyEvent*> stack;
    for (auto& e : list) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back(&e);
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const prof::LegacyEvent* start = stack.back();
        stack.pop_back();
        auto& acc = byName[start->name()];
        acc.first += 1;
        acc.second += start->cpuElapsedUs(e);
      }
    }
  }
  std::vector<std::pair<std::string, std::pair<int64_t, double>>> rows(byName.begin(), byName.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.second > b.second.second; });
  Tcl_Obj* d = Tcl_NewDictObj();
  for (auto& r : rows) {
    Tcl_Obj* v = Tcl_NewDictObj();
    Tcl_DictObjPut(nullptr, v, Tcl_NewStringObj("count", -1), Tcl_NewWideIntObj(r.second.first));
    Tcl_DictObjPut(nullptr, v, Tcl_NewStringObj("total_us", -1), Tcl_NewDoubleObj(r.second.second));
    Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj(r.first.c_str(), -1), v);
  }
  return d;
}

// ---- benchmark: mean microseconds of one op on random operands ----

namespace {
struct BenchmarkArgs : Args {
  Arg<Type::Choice> operation{
      this, {"operation", Type::Choice, nullptr, "matmul (or mm), add or conv2d", "op", "matmul add conv2d mm"}};
  Arg<Type::Int> iterations{
      this, Param{"iterations", Type::Int, "1", "timed runs (after one warm-up)", "iter"}.positive()};
  Arg<Type::String> size{this, {"size", Type::String, "1000x1000", "NxM"}};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, "float32", "element type"}};
  Arg<Type::Device> device{this, {"device", Type::Device, "cpu", "cpu, cuda or cuda:N"}};
  Arg<Type::Bool> verbose{this, {"verbose", Type::Bool, "0",
                                 "1: a dict of operation, iterations, size, dtype, device, microseconds (mean), "
                                 "total_microseconds"}};
};
}  // namespace

static Tcl_Obj* cmdBenchmark(Call& c, const BenchmarkArgs& k) {
  int64_t iters = c.integer(k.iterations);
  std::string size = c.str(k.size);
  int64_t n = 0, m = 0;
  if (sscanf(size.c_str(), "%ldx%ld", &n, &m) != 2 || n <= 0 || m <= 0) c.badValue(k.size, "NxM, e.g. 1000x1000");
  auto o = at::TensorOptions().dtype(c.dtype(k.dtype)).device(c.device(k.device));
  int op = c.choice(k.operation) % 3;  // mm is matmul
  at::Tensor a, b, w;
  if (op == 2) {
    a = at::randn({1, 3, n, m}, o);
    w = at::randn({16, 3, 3, 3}, o);
  } else {
    a = at::randn({n, m}, o);
    b = at::randn(op == 0 ? std::vector<int64_t>{m, n} : std::vector<int64_t>{n, m}, o);
  }
  at::NoGradGuard ng;
  auto run = [&] {
    at::Tensor r = op == 0 ? at::matmul(a, b) : op == 1 ? at::add(a, b) : at::conv2d(a, w);
    if (r.is_cuda()) torch::cuda::synchronize();
  };
  run();  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iters; ++i) run();
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  Tcl_WideInt mean = Tcl_WideInt(std::llround(us / double(iters)));
  if (!c.boolean(k.verbose)) return Tcl_NewWideIntObj(mean);
  Tcl_Obj* d = Tcl_NewDictObj();
  auto put = [&](const char* name, Tcl_Obj* v) { Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj(name, -1), v); };
  static const char* const kOps[] = {"matmul", "add", "conv2d"};
  put("operation", Tcl_NewStringObj(kOps[op], -1));
  put("iterations", Tcl_NewWideIntObj(iters));
  put("size", newString(size));
  put("dtype", Tcl_NewStringObj(dtypeName(c.dtype(k.dtype)), -1));
  put("device", newString(c.device(k.device).str()));
  put("microseconds", Tcl_NewWideIntObj(mean));
  put("total_microseconds", Tcl_NewDoubleObj(us));
  return d;
}

std::vector<Command> ampRuntimeCommands() {
  auto deviceType = std::make_shared<const DeviceTypeArgs>();
  auto scaler = std::make_shared<const ScalerArgs>();
  return {
      typedRow<cmdAutocast>("autocast",
                            "Run a script with automatic mixed precision (cpu: bfloat16, cuda: float16); "
                            "restored on every exit."),
      typedRow<cmdAutocastEnable>("autocast_enable", "Turn autocast on for a device type until autocast_disable."),
      typedRow<cmdAutocastDisable>("autocast_disable", "Turn autocast off for a device type.", deviceType),
      typedRow<cmdAutocastIsEnabled>("autocast_is_enabled", "1 when autocast is on for the device type.", deviceType),
      typedRow<cmdAutocastSetDtype>("autocast_set_dtype", "Set autocast's lower-precision dtype for a device type."),
      typedRow<cmdAutocastGetDtype>("autocast_get_dtype", "Autocast's lower-precision dtype for a device type.",
                                    deviceType),
      typedRow<cmdScalerNew>("grad_scaler_new", "A gradient scaler for float16 training (PyTorch's GradScaler)."),
      typedRow<cmdScalerScale>("grad_scaler_scale", "The tensor (a loss) multiplied by the current scale."),
      typedRow<cmdScalerStep>("grad_scaler_step",
                              "Unscale the optimizer's gradients and step unless one is inf or NaN; 1 when it stepped."),
      typedRow<cmdScalerUpdate>("grad_scaler_update", "Update the scale after a step (or set it); returns the new scale."),
      typedRow<cmdScalerGetScale>("grad_scaler_get_scale", "The current scale (1.0 when disabled).", scaler),
      {"get_num_threads", "Threads libtorch uses for intra-op parallelism.", {}, cmdGetNumThreads},
      typedRow<cmdSetNumThreads>("set_num_threads", "Set the threads libtorch uses for intra-op parallelism."),
      typedRow<cmdSetFlushDenormal>("set_flush_denormal",
                                    "Flush denormal floats to zero on the CPU; 1 when the CPU supports it."),
      typedRow<cmdSynchronize>(
          "synchronize",
          "Wait for the work queued on a CUDA device (all of them without -device; cpu: nothing to wait for)."),
      typedRow<cmdIsCuda>("tensor_is_cuda", "1 when the tensor is on a CUDA device."),
      typedRow<cmdProfilerStart>("profiler_start", "Start libtorch's profiler (CPU ops of this thread)."),
      {"profiler_stop", "Stop the profiler; a dict op name -> {count N total_us T}.", {}, cmdProfilerStop},
      typedRow<cmdBenchmark>("benchmark",
                             "Mean whole microseconds of one matmul, add or conv2d (16 3x3 filters) on random operands of "
                             "size NxM; with -verbose 1 a dict of the settings and the times."),
  };
}

}  // namespace tcltorch
