// Command areas. Each returns its slice of the command table (see table.cpp).
#pragma once
#include "tcltorch/args.h"

namespace tcltorch {
std::vector<Command> runtimeCommands();  // handles, scopes, help, version
std::vector<Command> tensorCommands();   // tensor creation, info, shape, math
std::vector<Command> distributedCommands();  // process groups, collectives, point to point
std::vector<Command> shardingCommands(); // sharded tensors, distributed matmul/reductions
}  // namespace tcltorch
