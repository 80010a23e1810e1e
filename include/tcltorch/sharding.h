// The sharding layer: tensors split along one dim across the ranks of a group,
// and the distributed matmul / reduction strategies of sharding_strategies.md.
// Written only on top of the Communicator interface (collective.h): every rank
// runs the same code, there is no central process.
#pragma once
#include "tcltorch/autograd_collectives.h"  // evenSizes, splitOffsets
#include "tcltorch/collective.h"
#include <optional>

namespace tcltorch {

// This rank's piece of a global tensor split along `dim`. Rank i holds rows
// [offsets[i], offsets[i] + sizes[i]) of that dim; every other dim is whole.
struct ShardedTensor : Object {
  at::Tensor local;
  std::vector<int64_t> global;   // global shape
  int64_t dim = 0;               // the split dim
  std::vector<int64_t> sizes;    // rows of every rank along dim
  std::vector<int64_t> offsets;  // first row of every rank along dim
  int rank = 0;                  // this rank in the group
  std::string group;             // the group it was made in ("" = default)

  int world() const { return int(sizes.size()); }
  // "split on dim 0 of {8 4} as {3 3 2}", for error messages.
  std::string describe() const;
  // Same split of the same dim: the shardings line up row for row.
  bool sameSplit(const ShardedTensor& o) const {
    return group == o.group && sizes == o.sizes;
  }
};
using ShardPtr = std::shared_ptr<ShardedTensor>;

// A rank argument that is no member of the group. The mechanism knows the rank
// and why; the command layer, which knows the option that gave it, words the
// message (rankOption in src/sharding/commands.cpp).
struct RankNotMember : Error {
  int rank;
  RankNotMember(int r, const std::string& reason) : Error(reason, {"DIST", "RANK"}), rank(r) {}
};

// A matmul / reduction operand: a whole tensor (the same on every rank) or a shard.
struct Operand {
  at::Tensor whole;
  ShardPtr shard;
  bool sharded() const { return bool(shard); }
  std::vector<int64_t> shape() const { return shard ? shard->global : whole.sizes().vec(); }
};

// The communicator of a shard's group, checked against the world it was made in.
CommPtr shardComm(State& st, const ShardedTensor& s);

// Ranks (src, dst) are global ranks, as in the distributed commands.
// Splits rank src's tensor: only src's data (and shape) is read; the other
// ranks may pass any placeholder. Scatter of a padded buffer, then trim.
ShardPtr shardTensor(State& st, const at::Tensor& t, int64_t dim, int src, const std::string& group);
// Every rank already holds its own piece (any sizes along dim); the global
// shape and offsets come from one all_gather of the shapes.
ShardPtr shardLocal(State& st, const at::Tensor& local, int64_t dim, const std::string& group);
// A new shard with `like`'s split (dim, sizes, offsets) around a new local
// tensor whose other dims may differ; fails unless local keeps the split dim.
ShardPtr rewrap(const ShardedTensor& like, at::Tensor local, int64_t dim, const char* what);
// Gathers the whole tensor to dst (-1: every rank). Uneven shards are padded to
// the largest one, gathered, then trimmed. Undefined on ranks other than dst.
at::Tensor unshard(State& st, const ShardedTensor& s, int dst);
// src's tensor on every rank (shape and dtype travel too); src < 0: t itself.
// shapeOnly: only the shape travels (an uninitialised tensor of src's shape).
at::Tensor broadcastWhole(const CommPtr& comm, const at::Tensor& t, int src, bool shapeOnly = false);

enum class Strategy { Auto, Row, Column, Inner, Replicate };
const char* strategyName(Strategy s);

struct MatmulPlan {
  Strategy strategy = Strategy::Replicate;
  int64_t bytes = 0;  // estimated bytes each rank receives
  std::vector<std::pair<Strategy, int64_t>> candidates;  // the feasible ones
};
// A whole b that only rank src holds, made whole on every rank (src < 0 or a
// sharded b: b itself). shapeOnly: just src's shape, for planning.
Operand ownedWhole(State& st, const Operand& a, const Operand& b, int src, bool shapeOnly);
// Picks (Auto) or checks the strategy for a @ b. `src` >= 0: b was broadcast
// from rank src (counted in the bytes). `gather`: a sharded result is
// all-gathered to every rank.
MatmulPlan planMatmul(State& st, const Operand& a, const Operand& b, Strategy want, bool gather, int src);
Operand distributedMatmul(State& st, const Operand& a, const Operand& b, const MatmulPlan& plan, bool gather);

// sum / mean of a sharded tensor: local partial, all_reduce sum. Along the
// split dim (or over everything) the result is whole; along another dim it
// stays sharded and nothing moves.
Operand distributedReduce(State& st, const Operand& x, std::optional<int64_t> dim, bool keepdim, bool mean);

}  // namespace tcltorch
