// The NCCL backend: built only with a CUDA libtorch (TCLTORCH_WITH_NCCL, the
// one switch). Everything else about a group (rendezvous, the communicator,
// composed operations) is shared with Gloo (process_groups.cpp, c10d_communicator.cpp).
#include "tcltorch/collective.h"
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace tcltorch {

compat::PgPtr makeNcclGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                            std::chrono::milliseconds timeout, int localRank) {
  int devices = c10::cuda::device_count();
  if (devices == 0)
    fail("backend nccl needs a visible CUDA device (use -backend gloo)", {"DIST", "BACKEND", "nccl"});
  // As torchrun: the rank's device is LOCAL_RANK (modulo the visible devices),
  // so "cuda" tensors land on the right GPU and NCCL uses it.
  c10::cuda::set_device(c10::DeviceIndex(localRank % devices));
  // Options differ between 1.13 (ProcessGroup::Options) and 2.x
  // (Backend::Options), but create() and the timeout member are the same.
  auto opts = c10d::ProcessGroupNCCL::Options::create(/*is_high_priority_stream=*/false);
  opts->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts);
}

}  // namespace tcltorch
