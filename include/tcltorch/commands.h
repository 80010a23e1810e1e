// Command areas. Each returns its slice of the command table (see table.cpp).
#pragma once
#include "tcltorch/args.h"
// The commands use libtorch's C++ frontend (nn, optim, autograd) throughout.
#include <torch/torch.h>

namespace tcltorch {
std::vector<Command> runtimeCommands();  // handles, scopes, help, version
std::vector<Command> tensorCommands();   // tensor creation, info, shape, math
std::vector<Command> distributedCommands();  // process groups, collectives, point to point
std::vector<Command> autogradCommands();  // backward, grad, grad modes, functional autograd
std::vector<Command> activationCommands();  // functional activations
std::vector<Command> lossCommands();  // loss functions
std::vector<Command> poolingCommands();  // pooling layers and functional pooling
std::vector<Command> nnCommands();        // layers (module handles), state dicts, tensor files
std::vector<Command> nnLayersCommands();  // more layers: recurrent, attention, transformer, norms, pools, convs
std::vector<Command> optimCommands();     // optimizers, optimizer files
std::vector<Command> schedulerCommands();  // lr schedulers
std::vector<Command> dataParallelCommands();  // broadcast parameters, sync gradients, shards
std::vector<Command> shardingCommands(); // sharded tensors, distributed matmul/reductions
std::vector<Command> parallelCommands();  // device meshes, tensor parallel, fully sharded, distributed checkpoints
std::vector<Command> tensorLinalgCommands();  // products, decompositions, solvers, norms
std::vector<Command> tensorRandomCommands();  // samplers, generator state, logspace, meshgrid
std::vector<Command> tensorFftCommands();     // Fourier transforms, windows, spectrograms
// Attaches the other API's names (aliases.cpp) to their target rows.
void applyAliases(std::vector<Command>& all);
std::vector<Command> ampRuntimeCommands();  // autocast, grad scaler, threads, profiler, benchmark
std::vector<Command> modelManagementCommands();  // checkpoints, freezing, summaries, other API's names
std::vector<Command> dataCommands();     // IDX datasets, normalization, per-rank batches
std::vector<Command> jitCommands();      // TorchScript modules: load, call, save
std::vector<Command> safetensorsCommands();  // safetensors files
std::vector<Command> summaryCommands();  // TensorBoard event files: scalars, histograms, images, text
std::vector<Command> tkPhotoCommands();  // tensors to and from Tk photo images
std::vector<Command> dataloaderCommands();  // batches made by worker threads, with transforms

class Communicator;
// A rank argument of a distributed command (distributed.cpp): the global rank
// of key `rank`, as a rank of group `m`. Not a member: "Invalid -dst
// parameter: rank 3 is not in the group (ranks 0 1)" with {TORCH DIST RANK
// dst}. See memberRank() for `anyInWorldOfOne`.
int groupRankArg(Call& c, const Communicator& m, const Arg<Type::Int>& rank, bool anyInWorldOfOne = false);
}  // namespace tcltorch
