// The data-parallel mechanism below the commands (src/dp/): collectives over
// all of a module's tensors, in buckets. Tensors are packed into flat buffers
// of one dtype and device, at most `cap` bytes each (a larger tensor gets a
// bucket of its own): one collective per bucket instead of one per tensor,
// all started before any is waited on.
#pragma once
#include "tcltorch/collective.h"

namespace torch::nn { class Module; }

namespace tcltorch {

// Every rank takes root's (a rank of comm) parameters and buffers; a no-op in
// a world of one.
void broadcastModule(Communicator& comm, torch::nn::Module& m, int root, size_t cap);

// The gradients of m's trainable parameters summed across the ranks (mean:
// averaged). Every rank must build the same buckets, so a parameter without a
// gradient on this rank (unused in its forward) gets zeros and contributes
// them. A no-op in a world of one.
void syncGradients(Communicator& comm, torch::nn::Module& m, bool mean, size_t cap);

}  // namespace tcltorch
