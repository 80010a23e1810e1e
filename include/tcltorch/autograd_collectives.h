// Collectives that autograd sees (src/collective/autograd_collectives.cpp):
// the building blocks of tensor parallelism and of differentiable sharding.
#pragma once
#include "tcltorch/collective.h"
#include <functional>

namespace tcltorch {

// How one dim of n elements is split over `world` ranks, as torch::shard
// splits it: the first n % world ranks get one more.
std::vector<int64_t> evenSizes(int64_t n, int world);
// Where each rank's piece starts (the sizes before it, summed), and one rank's.
std::vector<int64_t> splitOffsets(const std::vector<int64_t>& sizes);
int64_t splitOffset(const std::vector<int64_t>& sizes, int rank);

// Each one's backward is its adjoint, as Megatron's f/g operators and
// DTensor's redistributions. Without a gradient to track they are the plain
// collective. `sizes`: every rank's extent along `dim` (uneven allowed).

// Forward: x. Backward: the sum of the gradients over the group.
at::Tensor copyToGroup(const CommPtr& c, const at::Tensor& x);
// Forward: the sum of x over the group. Backward: the gradient, unchanged.
at::Tensor reduceFromGroup(const CommPtr& c, const at::Tensor& x);
// Forward: every rank's x joined along dim. Backward: this rank's slice.
at::Tensor gatherFromGroup(const CommPtr& c, const at::Tensor& x, int64_t dim, const std::vector<int64_t>& sizes);
// Forward: this rank's slice (along dim) of the sum over the group.
// Backward: every rank's gradient joined along dim.
at::Tensor reduceScatterToGroup(const CommPtr& c, const at::Tensor& x, int64_t dim,
                                const std::vector<int64_t>& sizes);

// Not differentiable: every rank's `local` joined along dim (padded to the
// largest piece for the collective, trimmed after).
at::Tensor joinAlong(Communicator& c, const at::Tensor& local, int64_t dim, const std::vector<int64_t>& sizes);

// The gradient of `outputs` (computed without autograd) flows to `inputs`
// through `backward`, which gets one gradient per output (zeros where none
// came) and returns one per input. Outputs need a floating dtype.
using BackwardFn = std::function<std::vector<at::Tensor>(std::vector<at::Tensor>&&)>;
void attachBackward(const char* name, std::vector<at::Tensor>& outputs, const std::vector<at::Tensor>& inputs,
                    BackwardFn backward);

}  // namespace tcltorch
