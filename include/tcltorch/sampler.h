// The sample order of one epoch on one rank (PyTorch's DistributedSampler +
// DataLoader batching), shared by torch::dataset_batches and torch::dataloader.
#pragma once
#include <ATen/ATen.h>
#include <vector>

namespace tcltorch {
// This rank's batches of sample indices (int64): the same permutation on every rank
// (seed + epoch) when shuffling, equal shares (tail dropped with dropLast, else padded
// by wrapping around), then batches of batchSize (a short last one unless dropLast).
std::vector<at::Tensor> shardBatches(int64_t n, int64_t batchSize, bool shuffle, int64_t seed, int64_t epoch,
                                     bool dropLast, int64_t rank, int64_t world);
}  // namespace tcltorch
