// The one place for differences between versions: libtorch 1.13 (Debian 12)
// and 2.x (Debian 13: 2.6), Tcl 8.6 and 9.
#pragma once
#include <tcl.h>
#include <torch/version.h>

// ---- Tcl -----------------------------------------------------------------
// Tcl 9 counts lengths and list sizes in Tcl_Size (ptrdiff_t); 8.6 in int
// and has no Tcl_Size. Code says Tcl_Size and builds for either.
#if TCL_MAJOR_VERSION < 9 && !defined(TCL_SIZE_MAX)
typedef int Tcl_Size;
#define TCL_SIZE_MAX INT_MAX
#endif

#define TCLTORCH_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||           \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// ---- c10d ----------------------------------------------------------------
// 1.13 (Debian's headers): ProcessGroupGloo/NCCL/Wrapper derive from
//   c10d::ProcessGroup, options derive from ProcessGroup::Options, pending
//   operations are c10d::Work (Work.hpp; upstream 1.13.0 spelled it
//   ProcessGroup::Work, an alias of the same class in Debian's build).
// 2.x: the same classes derive from c10d::Backend (ProcessGroup became a
//   dispatching front that owns Backends), options derive from
//   Backend::Options, ProcessGroupWrapper takes two Backends, Work stays
//   c10d::Work. The per-op methods (allreduce, alltoall_base, send, ...) keep
//   their signatures, so we call them on the Backend directly in 2.x.
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#if TCLTORCH_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#endif

namespace tcltorch::compat {
#if TCLTORCH_TORCH_AT_LEAST(2, 0)
using Pg = c10d::Backend;  // what ProcessGroupGloo/NCCL/Wrapper are
#else
using Pg = c10d::ProcessGroup;
#endif
using PgPtr = c10::intrusive_ptr<Pg>;
using C10dWork = c10d::Work;
using C10dWorkPtr = c10::intrusive_ptr<C10dWork>;
}  // namespace tcltorch::compat

// ---- optimizer state ---------------------------------------------------------
// torch::optim::Optimizer::state_ is keyed by the parameter's TensorImpl:
// 1.13 as its address printed to a string (c10::guts::to_string, gone in
// 2.x), 2.x as the address itself. The map's own key type picks the form.
#include <sstream>
#include <type_traits>
#include <torch/optim/optimizer.h>
namespace tcltorch::compat {
using OptimStateKey = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
template <class Key = OptimStateKey>  // a template, so only the taken branch compiles
Key optimStateKey(const at::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;  // what c10::guts::to_string printed
    s << static_cast<const void*>(p.unsafeGetTensorImpl());
    return s.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}
}  // namespace tcltorch::compat

// ---- autocast ----------------------------------------------------------------
// 2.4 folded the per-device functions (is_enabled / is_cpu_enabled,
// get_autocast_gpu_dtype / ..._cpu_dtype) into ones that take the device type
// and deprecated the old ones.
#include <ATen/autocast_mode.h>
namespace tcltorch::compat {
inline c10::DeviceType autocastDevice(bool cuda) { return cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU; }
#if TCLTORCH_TORCH_AT_LEAST(2, 4)
inline bool autocastEnabled(bool cuda) { return at::autocast::is_autocast_enabled(autocastDevice(cuda)); }
inline void setAutocastEnabled(bool cuda, bool on) { at::autocast::set_autocast_enabled(autocastDevice(cuda), on); }
inline at::ScalarType autocastDtype(bool cuda) { return at::autocast::get_autocast_dtype(autocastDevice(cuda)); }
inline void setAutocastDtype(bool cuda, at::ScalarType t) { at::autocast::set_autocast_dtype(autocastDevice(cuda), t); }
#else
inline bool autocastEnabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
inline void setAutocastEnabled(bool cuda, bool on) {
  if (cuda) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
}
inline at::ScalarType autocastDtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
inline void setAutocastDtype(bool cuda, at::ScalarType t) {
  if (cuda) at::autocast::set_autocast_gpu_dtype(t);
  else at::autocast::set_autocast_cpu_dtype(t);
}
#endif
}  // namespace tcltorch::compat

// ---- TCPStore ----------------------------------------------------------------
// 2.4 made libuv TCPStore's default server; Debian's 2.6 is built without it and
// then refuses every store ("use_libuv was requested but PyTorch was build
// without libuv support"), and the function that would tell is not exported.
// As torch.distributed: libuv unless USE_LIBUV=0, and the classic server where
// this libtorch has no libuv (the refusal comes before any socket is opened).
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <cstdlib>
namespace tcltorch::compat {
template <class O>
auto setLibuv(O& o, bool on, int) -> decltype(o.useLibUV = on, true) {
  o.useLibUV = on;
  return true;
}
template <class O>
bool setLibuv(O&, bool, long) { return false; }  // before 2.2: one server kind

inline c10::intrusive_ptr<c10d::Store> makeTcpStore(const std::string& host, c10d::TCPStoreOptions o) {
  const char* env = std::getenv("USE_LIBUV");
  bool libuv = !(env && std::string(env) == "0");
  if (!setLibuv(o, libuv, 0) || !libuv) return c10::make_intrusive<c10d::TCPStore>(host, o);
  try {
    return c10::make_intrusive<c10d::TCPStore>(host, o);
  } catch (const c10::Error& e) {
    if (std::string(e.what()).find("without libuv") == std::string::npos) throw;
    setLibuv(o, false, 0);
    return c10::make_intrusive<c10d::TCPStore>(host, o);
  }
}
}  // namespace tcltorch::compat
