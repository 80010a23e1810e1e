// The sharding layer over the Communicator interface: split / declare / gather
// shards, the matmul strategies with their byte model, sharded reductions.
#include "tcltorch/sharding.h"
#include "tcltorch/autograd_collectives.h"
#include <numeric>

namespace tcltorch {

// Waits (the group's timeout applies) and hands back the operation's output.
static at::Tensor done(const WorkPtr& w) {
  w->wait();
  return w->result();
}

static std::string shapeText(at::IntArrayRef s) {
  std::string out = "{";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? " " : "") + std::to_string(s[i]);
  return out + "}";
}

std::string ShardedTensor::describe() const {
  return "split on dim " + std::to_string(dim) + " of " + shapeText(global) + " as " + shapeText(sizes);
}

static int64_t normDim(int64_t dim, int64_t ndim, const char* cmd) {
  if (ndim == 0) fail(std::string(cmd) + ": cannot split a 0-dim tensor", {"SHARD", "DIM"});
  if (dim < -ndim || dim >= ndim)
    fail(std::string(cmd) + ": dim " + std::to_string(dim) + " is out of range for a tensor of " +
             std::to_string(ndim) + " dims", {"SHARD", "DIM"});
  return dim < 0 ? dim + ndim : dim;
}

CommPtr shardComm(State& st, const ShardedTensor& s) {
  CommPtr c = communicator(st, s.group);
  if (c->size() != s.world() || c->rank() != s.rank)
    fail("the shard was made in a world of " + std::to_string(s.world()) + " rank(s) but its group now has " +
             std::to_string(c->size()) + " (shards do not survive torch::distributed_init)",
         {"SHARD", "WORLD"});
  return c;
}

// Ranks given are global, as in the distributed commands; the group's own
// numbering is what the communicator takes.
// Strict even in a world of one (where the seeds' collectives accept any rank).
static int groupRank(const Communicator& c, int r) {
  int g = memberRank(c, r);
  if (g < 0) throw RankNotMember(r, notMemberReason(c, r));
  return g;
}

// Shape and dtype as a fixed-size int64 tensor, so ranks can exchange them
// with equal-sized collectives before any data moves.
constexpr int kMaxDims = 16;
constexpr int kMeta = 2 + kMaxDims;

static at::Tensor metaOf(const at::Tensor& t) {
  if (t.dim() > kMaxDims) fail("sharding supports at most 16 dims", {"SHARD", "DIM"});
  at::Tensor m = at::zeros({kMeta}, at::kLong);
  auto a = m.accessor<int64_t, 1>();
  a[0] = t.dim();
  a[1] = int64_t(t.scalar_type());
  for (int64_t i = 0; i < t.dim(); ++i) a[2 + i] = t.size(i);
  return m.to(t.device());
}

namespace {
struct Meta {
  at::ScalarType dtype;
  std::vector<int64_t> shape;
};
}  // namespace
static Meta readMeta(const at::Tensor& row) {
  at::Tensor m = row.cpu();
  auto a = m.accessor<int64_t, 1>();
  return {at::ScalarType(a[1]), std::vector<int64_t>(&a[2], &a[2] + a[0])};
}

at::Tensor broadcastWhole(const CommPtr& comm, const at::Tensor& t, int src, bool shapeOnly) {
  if (src < 0) return t;
  src = groupRank(*comm, src);
  if (comm->size() == 1) return t;
  at::Tensor m = metaOf(t);
  comm->broadcast(m, src)->wait();
  Meta meta = readMeta(m);
  if (shapeOnly) return at::empty(meta.shape, t.options().dtype(meta.dtype));
  // A copy on src too: the caller's tensor is never written in place.
  at::Tensor out = comm->rank() == src ? t.contiguous().clone()
                                       : at::empty(meta.shape, t.options().dtype(meta.dtype));
  comm->broadcast(out, src)->wait();
  return out;
}

static CommPtr matmulComm(State& st, const Operand& a, const Operand& b) {
  const ShardPtr& s = a.sharded() ? a.shard : b.shard;
  return s ? shardComm(st, *s) : communicator(st, "");
}

Operand ownedWhole(State& st, const Operand& a, const Operand& b, int src, bool shapeOnly) {
  if (b.sharded() || src < 0) return b;
  return {broadcastWhole(matmulComm(st, a, b), b.whole, src, shapeOnly), nullptr};
}

// Rows [offsets[i], +sizes[i]) of x (split dim first) laid out in N equal
// blocks of the largest shard's size: the equal-sized buffer Gloo needs.
static at::Tensor padBlocks(const at::Tensor& x, const std::vector<int64_t>& sizes, const std::vector<int64_t>& offsets) {
  int64_t maxRows = *std::max_element(sizes.begin(), sizes.end());
  if (std::all_of(sizes.begin(), sizes.end(), [&](int64_t s) { return s == maxRows; })) return x.contiguous();
  std::vector<int64_t> shape = x.sizes().vec();
  shape[0] = maxRows * int64_t(sizes.size());
  at::Tensor buf = at::zeros(shape, x.options());
  for (size_t i = 0; i < sizes.size(); ++i)
    buf.narrow(0, int64_t(i) * maxRows, sizes[i]).copy_(x.narrow(0, offsets[i], sizes[i]));
  return buf;
}

static ShardPtr make(at::Tensor local, std::vector<int64_t> global, int64_t dim, std::vector<int64_t> sizes,
                     int rank, const std::string& group) {
  auto s = std::make_shared<ShardedTensor>();
  s->local = std::move(local);
  s->global = std::move(global);
  s->dim = dim;
  s->offsets = splitOffsets(sizes);
  s->sizes = std::move(sizes);
  s->rank = rank;
  s->group = group;
  return s;
}

ShardPtr shardTensor(State& st, const at::Tensor& t, int64_t dim, int src, const std::string& group) {
  CommPtr comm = communicator(st, group);
  const int n = comm->size(), r = comm->rank();
  src = groupRank(*comm, src);
  // Only src's shape counts: the others learn it first.
  at::Tensor m = metaOf(t);
  if (n > 1) comm->broadcast(m, src)->wait();
  Meta meta = readMeta(m);
  dim = normDim(dim, int64_t(meta.shape.size()), "shard");
  if (meta.shape[size_t(dim)] == 0) fail("shard: dim " + std::to_string(dim) + " is empty", {"SHARD", "EMPTY"});
  std::vector<int64_t> sizes = evenSizes(meta.shape[size_t(dim)], n);
  // The scatter buffer: N blocks of the largest shard, split dim first.
  std::vector<int64_t> blockShape;
  blockShape.push_back(sizes[0] * n);
  for (size_t i = 0; i < meta.shape.size(); ++i)
    if (int64_t(i) != dim) blockShape.push_back(meta.shape[i]);
  at::Tensor send = r == src ? padBlocks(t.movedim(dim, 0), sizes, splitOffsets(sizes))
                             : at::empty(blockShape, t.options().dtype(meta.dtype));
  at::Tensor got = done(comm->scatter(send, src));
  at::Tensor local = got.narrow(0, 0, sizes[size_t(r)]).movedim(0, dim).contiguous();
  return make(local, meta.shape, dim, sizes, r, group);
}

ShardPtr shardLocal(State& st, const at::Tensor& local, int64_t dim, const std::string& group) {
  CommPtr comm = communicator(st, group);
  const int n = comm->size();
  // Everyone's shape first; every rank then sees the same table and decides alike.
  at::Tensor all = done(comm->allGather(metaOf(local))).cpu();
  std::vector<Meta> metas;
  for (int i = 0; i < n; ++i) metas.push_back(readMeta(all[i]));
  dim = normDim(dim, int64_t(metas[0].shape.size()), "shard_local");
  std::vector<int64_t> sizes;
  for (int i = 0; i < n; ++i) {
    std::vector<int64_t> a = metas[0].shape, b = metas[size_t(i)].shape;
    bool same = a.size() == b.size() && metas[0].dtype == metas[size_t(i)].dtype;
    if (same) {
      a[size_t(dim)] = b[size_t(dim)] = 0;
      same = a == b;
    }
    if (!same)
      fail("shard_local: the ranks' pieces do not fit together along dim " + std::to_string(dim) + ": rank 0 has " +
               shapeText(metas[0].shape) + " " + dtypeName(metas[0].dtype) + ", rank " + std::to_string(i) +
               " has " + shapeText(metas[size_t(i)].shape) + " " + dtypeName(metas[size_t(i)].dtype),
           {"SHARD", "MISMATCH"});
    sizes.push_back(metas[size_t(i)].shape[size_t(dim)]);
  }
  std::vector<int64_t> global = metas[0].shape;
  global[size_t(dim)] = std::accumulate(sizes.begin(), sizes.end(), int64_t(0));
  return make(local, global, dim, sizes, comm->rank(), group);
}

ShardPtr rewrap(const ShardedTensor& like, at::Tensor local, int64_t dim, const char* what) {
  if (local.dim() <= dim || local.size(dim) != like.sizes[size_t(like.rank)])
    fail(std::string(what) + ": the local result has shape " + shapeText(local.sizes()) +
             ", which does not keep the split dim " + std::to_string(dim) + " of size " +
             std::to_string(like.sizes[size_t(like.rank)]),
         {"SHARD", "SHAPE"});
  std::vector<int64_t> global = local.sizes().vec();
  global[size_t(dim)] = std::accumulate(like.sizes.begin(), like.sizes.end(), int64_t(0));
  return make(std::move(local), global, dim, like.sizes, like.rank, like.group);
}

at::Tensor unshard(State& st, const ShardedTensor& s, int dst) {
  CommPtr comm = shardComm(st, s);
  if (dst >= 0) dst = groupRank(*comm, dst);
  // To every rank: differentiable (the gradient of the whole goes back as
  // this rank's slice).
  if (dst < 0) return gatherFromGroup(comm, s.local.contiguous(), s.dim, s.sizes).contiguous();
  const int64_t maxRows = *std::max_element(s.sizes.begin(), s.sizes.end());
  at::Tensor x = s.local.movedim(s.dim, 0);
  if (x.size(0) < maxRows) {
    std::vector<int64_t> pad = x.sizes().vec();
    pad[0] = maxRows - x.size(0);
    x = at::cat({x, at::zeros(pad, x.options())}, 0);
  }
  x = x.contiguous();
  at::Tensor g = done(dst < 0 ? comm->allGather(x) : comm->gather(x, dst));
  if (dst >= 0 && comm->rank() != dst) return at::Tensor();
  std::vector<at::Tensor> parts;
  for (int i = 0; i < s.world(); ++i) parts.push_back(g[i].narrow(0, 0, s.sizes[size_t(i)]));
  return at::cat(parts, 0).movedim(0, s.dim).contiguous();
}

// ---- matmul strategies ----

const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::Auto: return "auto";
    case Strategy::Row: return "row";
    case Strategy::Column: return "column";
    case Strategy::Inner: return "inner";
    case Strategy::Replicate: return "replicate";
  }
  return "?";
}

// Byte model (bytes one rank receives), matching what the code below sends:
// all_gather of padded blocks; broadcast: the whole tensor; all_reduce: ring,
// 2 (N-1)/N of the tensor.
static int64_t gatherBytes(const std::vector<int64_t>& global, int64_t dim, const std::vector<int64_t>& sizes,
                           int64_t elem) {
  int64_t rowElems = 1;
  for (size_t i = 0; i < global.size(); ++i)
    if (int64_t(i) != dim) rowElems *= global[i];
  int64_t maxRows = *std::max_element(sizes.begin(), sizes.end());
  return int64_t(sizes.size() - 1) * maxRows * rowElems * elem;
}
static int64_t allReduceBytes(int64_t elems, int n, int64_t elem) { return 2 * (n - 1) * elems * elem / n; }

namespace {
struct Layout {  // what planMatmul and distributedMatmul both need to know
  const Operand& a;
  const Operand& b;
  std::vector<int64_t> sa, sb, out;
  int n = 1;
  int64_t elem = 4;
  bool rowA = false, innerA = false, innerB = false, colB = false;
  std::string innerWhy;  // why inner is impossible, if it is
};
}  // namespace

static Layout layout(State& st, const Operand& a, const Operand& b) {
  Layout L{a, b, a.shape(), b.shape(), {}};
  for (auto* s : {&L.sa, &L.sb})
    if (s->empty() || s->size() > 2)
      fail("distributed_matmul: operands must be 1-D or 2-D, got shapes " + shapeText(L.sa) + " and " +
               shapeText(L.sb), {"SHARD", "SHAPE"});
  if (L.sa.back() != L.sb.front())
    fail("distributed_matmul: shapes " + shapeText(L.sa) + " and " + shapeText(L.sb) + " cannot be multiplied",
         {"SHARD", "SHAPE"});
  if (L.sa.size() == 2) L.out.push_back(L.sa[0]);
  if (L.sb.size() == 2) L.out.push_back(L.sb[1]);
  if (a.sharded() && b.sharded() && (a.shard->group != b.shard->group || a.shard->world() != b.shard->world()))
    fail("distributed_matmul: a and b are sharded over different groups (worlds of " +
             std::to_string(a.shard->world()) + " and " + std::to_string(b.shard->world()) + ")",
         {"SHARD", "MISMATCH", "group"});
  const ShardPtr& s = a.sharded() ? a.shard : b.shard;
  if (s) L.n = shardComm(st, *s)->size();
  if (b.sharded()) shardComm(st, *b.shard);
  L.elem = int64_t(c10::elementSize((a.sharded() ? a.shard->local : a.whole).scalar_type()));
  const int64_t ka = int64_t(L.sa.size()) - 1;
  L.rowA = a.sharded() && L.sa.size() == 2 && a.shard->dim == 0;
  L.innerA = a.sharded() && a.shard->dim == ka;
  L.innerB = b.sharded() && b.shard->dim == 0;
  L.colB = b.sharded() && L.sb.size() == 2 && b.shard->dim == 1;
  const bool sameK = L.innerA && L.innerB && a.shard->sameSplit(*b.shard);
  if (!(sameK || (L.innerA && !b.sharded()) || (!a.sharded() && L.innerB)))
    L.innerWhy = (L.innerA && L.innerB)
                     ? "a's columns are split as " + shapeText(a.shard->sizes) + " but b's rows as " +
                           shapeText(b.shard->sizes) + "; the offsets must match"
                     : "it needs a split on its last dim and/or b split on dim 0, the other one whole";
  return L;
}

static std::string how(const Operand& x) { return x.sharded() ? x.shard->describe() : "whole"; }

MatmulPlan planMatmul(State& st, const Operand& a, const Operand& b, Strategy want, bool gather, int src) {
  Layout L = layout(st, a, b);
  int64_t outElems = 1;
  for (int64_t d : L.out) outElems *= d;
  auto gathered = [&](const Operand& x) {
    return x.sharded() ? gatherBytes(x.shard->global, x.shard->dim, x.shard->sizes, L.elem) : 0;
  };
  // Broadcasting a whole b from its owner: the same for every strategy that uses it whole.
  int64_t bcastB = (!b.sharded() && src >= 0 && L.n > 1) ? b.whole.numel() * L.elem : 0;
  // Gathering a sharded result: rows of the output split like the operand.
  auto outGather = [&](const ShardedTensor& like, int64_t outDim) {
    if (!gather) return int64_t(0);
    return gatherBytes(L.out, outDim, like.sizes, L.elem);
  };

  MatmulPlan plan;
  std::string why;
  auto consider = [&](Strategy s, bool ok, int64_t bytes, const std::string& reason) {
    if (ok) plan.candidates.emplace_back(s, bytes);
    else if (s == want) why = reason;
  };
  consider(Strategy::Row, L.rowA, bcastB + gathered(b) + (L.rowA ? outGather(*a.shard, 0) : 0),
           "it needs a split on dim 0 of a 2-D tensor (a is " + how(a) + ")");
  consider(Strategy::Column, !a.sharded() && L.colB,
           L.colB ? outGather(*b.shard, int64_t(L.out.size()) - 1) : 0,
           "it needs a whole and b split on dim 1 of a 2-D tensor (a is " + how(a) + ", b is " + how(b) + ")");
  consider(Strategy::Inner, L.innerWhy.empty(), bcastB + allReduceBytes(outElems, L.n, L.elem),
           L.innerWhy + " (a is " + how(a) + ", b is " + how(b) + ")");
  consider(Strategy::Replicate, true, bcastB + gathered(a) + gathered(b), "");
  if (want == Strategy::Auto) {
    // Fewest bytes; ties go to the earlier entry (sharded compute before replicated).
    auto best = plan.candidates.begin();
    for (auto it = plan.candidates.begin(); it != plan.candidates.end(); ++it)
      if (it->second < best->second) best = it;
    plan.strategy = best->first;
    plan.bytes = best->second;
    return plan;
  }
  for (auto& c : plan.candidates)
    if (c.first == want) {
      plan.strategy = want;
      plan.bytes = c.second;
      return plan;
    }
  fail(std::string("distributed_matmul: the ") + strategyName(want) + " strategy does not fit: " + why,
       {"SHARD", "MISMATCH", strategyName(want)});
}

Operand distributedMatmul(State& st, const Operand& a, const Operand& b, const MatmulPlan& plan, bool gather) {
  Layout L = layout(st, a, b);
  CommPtr comm = matmulComm(st, a, b);
  const at::Tensor& bWhole = b.whole;
  auto whole = [&](const Operand& x, const at::Tensor& w) { return x.sharded() ? unshard(st, *x.shard, -1) : w; };
  auto finish = [&](ShardPtr s) -> Operand {
    if (!gather) return {at::Tensor(), s};
    return {unshard(st, *s, -1), nullptr};
  };
  switch (plan.strategy) {
    // A whole operand meets this rank's own rows or columns: its gradient
    // here is this rank's part, summed over the ranks in backward (copyToGroup).
    case Strategy::Row: {  // my rows of a times all of b: my rows of the result
      at::Tensor c = at::matmul(a.shard->local, copyToGroup(comm, whole(b, bWhole)));
      return finish(rewrap(*a.shard, c, 0, "distributed_matmul"));
    }
    case Strategy::Column: {  // all of a times my columns of b: my columns of the result
      at::Tensor c = at::matmul(copyToGroup(comm, a.whole), b.shard->local);
      return finish(rewrap(*b.shard, c, c.dim() - 1, "distributed_matmul"));
    }
    case Strategy::Inner: {  // my slice of k on both sides: a partial sum of the result
      const ShardedTensor& s = L.innerA ? *a.shard : *b.shard;
      const int64_t off = s.offsets[size_t(s.rank)], len = s.sizes[size_t(s.rank)];
      at::Tensor la = L.innerA ? a.shard->local : copyToGroup(comm, a.whole).narrow(-1, off, len);
      at::Tensor lb = L.innerB ? b.shard->local : copyToGroup(comm, bWhole).narrow(0, off, len);
      return {reduceFromGroup(comm, at::matmul(la, lb).contiguous()), nullptr};
    }
    case Strategy::Replicate:
    case Strategy::Auto:
      break;
  }
  return {at::matmul(whole(a, a.whole), whole(b, bWhole)), nullptr};
}

// ---- reductions ----

Operand distributedReduce(State& st, const Operand& x, std::optional<int64_t> dim, bool keepdim, bool mean) {
  auto reduce = [&](const at::Tensor& t, std::optional<int64_t> d) {
    if (!d) return mean ? at::mean(t) : at::sum(t);
    return mean ? at::mean(t, {*d}, keepdim) : at::sum(t, {*d}, keepdim);
  };
  const char* what = mean ? "distributed_mean" : "distributed_sum";
  at::ScalarType dt = (x.sharded() ? x.shard->local : x.whole).scalar_type();
  if (mean && !at::isFloatingType(dt) && !at::isComplexType(dt))
    fail(std::string(what) + ": needs a floating-point tensor, got " + dtypeName(dt), {"SHARD", "DTYPE"});
  if (dim) {
    int64_t nd = int64_t(x.shape().size());
    if (nd == 0 || *dim < -nd || *dim >= nd)
      fail(std::string(what) + ": dim " + std::to_string(*dim) + " is out of range for a tensor of " +
               std::to_string(nd) + " dims", {"SHARD", "DIM"});
    if (*dim < 0) *dim += nd;
  }
  if (!x.sharded()) return {reduce(x.whole, dim), nullptr};
  const ShardedTensor& s = *x.shard;
  CommPtr comm = shardComm(st, s);
  if (dim && *dim != s.dim) {  // along a whole dim: purely local, stays split
    int64_t nd = (!keepdim && *dim < s.dim) ? s.dim - 1 : s.dim;
    return {at::Tensor(), rewrap(s, reduce(s.local, dim), nd, what)};
  }
  // Over the split dim: local partial, all_reduce sum. A mean is weighted by
  // this shard's share of the count (1.0 in a world of one: the plain mean).
  int64_t mine = dim ? s.sizes[size_t(s.rank)] : s.local.numel();
  int64_t total = 1;
  if (dim) total = s.global[size_t(*dim)];
  else for (int64_t g : s.global) total *= g;
  at::Tensor p;
  if (!mean || mine == 0) p = dim ? at::sum(s.local, {*dim}, keepdim) : at::sum(s.local);
  else p = reduce(s.local, dim) * (double(mine) / double(total));
  return {reduceFromGroup(comm, p.contiguous()), nullptr};
}

}  // namespace tcltorch
