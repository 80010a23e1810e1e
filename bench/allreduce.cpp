// The C++ peer of the all_reduce benchmark: plain c10d (TCPStore +
// ProcessGroupGloo), configured like tcltorch's Gloo group, run by
// tcl/torchrun.tcl. Prints "size_bytes seconds_per_call" on rank 0.
#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include "tcltorch/compat.h"  // the TCPStore server this libtorch has
#include <chrono>
#include <cstdio>
#include <cstdlib>

int main() {
  int rank = std::atoi(std::getenv("RANK"));
  int world = std::atoi(std::getenv("WORLD_SIZE"));
  c10d::TCPStoreOptions so;
  so.port = uint16_t(std::atoi(std::getenv("MASTER_PORT")));
  so.isServer = rank == 0;
  so.numWorkers = size_t(world);
  so.timeout = std::chrono::seconds(120);
  auto store = tcltorch::compat::makeTcpStore(std::getenv("MASTER_ADDR"), so);
  auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(120));
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  opts->devices.push_back(ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                 : c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  opts->threads = 2;
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(
      c10::make_intrusive<c10d::PrefixStore>("bench", store), rank, world, opts);
  for (int64_t numel : {int64_t(1), int64_t(1024), int64_t(262144), int64_t(16777216)}) {
    // Best of 5 blocks: the machine is shared, bursts of other work are noise.
    int iters = numel >= 16777216 ? 4 : numel >= 262144 ? 40 : 400;
    std::vector<at::Tensor> v{at::ones({numel}, at::kFloat)};
    for (int i = 0; i < 3; ++i) pg->allreduce(v)->wait();
    double s = 1e9;
    for (int block = 0; block < 5; ++block) {
      pg->barrier()->wait();
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) pg->allreduce(v)->wait();
      s = std::min(s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters);
    }
    if (rank == 0) std::printf("%lld %.9f\n", (long long)(numel * 4), s);
  }
  pg->barrier()->wait();
  return 0;
}
