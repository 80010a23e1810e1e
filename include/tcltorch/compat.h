// The one place for differences between libtorch 1.13 (Debian) and 2.x.
#pragma once
#include <torch/version.h>

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
