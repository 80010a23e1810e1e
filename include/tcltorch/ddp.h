// Overlapped and sharded data parallelism (src/dp/): the rows are appended to
// dataParallelCommands().
#pragma once
#include "tcltorch/args.h"

namespace tcltorch {

// distributed_data_parallel, no_sync, distributed_data_parallel_info
std::vector<Command> ddpCommands();
// zero_redundancy_optimizer, optimizer_state_bytes
std::vector<Command> zeroCommands();

}  // namespace tcltorch

namespace torch::nn { class Module; }
namespace tcltorch {
class Communicator;
// Every rank takes root's parameters and buffers (bucketed broadcasts of at
// most `cap` bytes); a no-op in a world of one.
void broadcastModule(Communicator& comm, torch::nn::Module& m, int root, size_t cap);
}  // namespace tcltorch
