// Command areas. Each returns its slice of the command table (see table.cpp).
#pragma once
#include "tcltorch/args.h"

namespace tcltorch {
std::vector<Command> runtimeCommands();  // handles, scopes, help, version
std::vector<Command> tensorCommands();   // tensor creation, info, shape, math
std::vector<Command> distributedCommands();  // process groups, collectives, point to point
std::vector<Command> autogradCommands();  // backward, grad, functional activations, losses
std::vector<Command> nnCommands();        // layers (module handles), state dicts, tensor files
std::vector<Command> optimCommands();     // optimizers, lr schedulers, optimizer files
std::vector<Command> dataParallelCommands();  // broadcast parameters, sync gradients, shards
std::vector<Command> shardingCommands(); // sharded tensors, distributed matmul/reductions
std::vector<Command> dataCommands();     // IDX datasets, normalization, per-rank batches
}  // namespace tcltorch
