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
