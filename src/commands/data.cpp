// Datasets: IDX files (MNIST, Fashion-MNIST) read straight into tensors, normalization,
// and per-rank batches of sample indices (PyTorch's DistributedSampler + DataLoader).
// See docs/data.md.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/sampler.h"
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace tcltorch {

// ---- IDX ------------------------------------------------------------------
// Header: 0 0 TYPE NDIM, then NDIM big-endian uint32 sizes, then the data,
// big-endian, row-major. A gzip file (magic 1f 8b) is inflated first.

static at::ScalarType idxType(unsigned char code, const std::string& path) {
  switch (code) {
    case 0x08: return at::kByte;
    case 0x09: return at::kChar;
    case 0x0B: return at::kShort;
    case 0x0C: return at::kInt;
    case 0x0D: return at::kFloat;
    case 0x0E: return at::kDouble;
  }
  fail("\"" + path + "\" is not an IDX file: unknown type code " + std::to_string(code), {"IO", "FORMAT", path});
}

// The file's bytes (inflated when gzip), held by a Tcl byte array.
static Tcl_Obj* readBytes(Call& c, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read \"" + path + "\": " + std::strerror(errno), {"IO", "READ", path});
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Tcl_Obj* obj = Tcl_NewByteArrayObj(reinterpret_cast<const unsigned char*>(raw.data()), int(raw.size()));
  Tcl_IncrRefCount(obj);
  if (raw.size() >= 2 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b) {
    if (Tcl_ZlibInflate(c.interp, TCL_ZLIB_FORMAT_GZIP, obj, 0, nullptr) != TCL_OK) {
      std::string why = Tcl_GetStringResult(c.interp);
      Tcl_DecrRefCount(obj);
      fail("cannot inflate \"" + path + "\": " + why, {"IO", "FORMAT", path});
    }
    Tcl_Obj* inflated = Tcl_GetObjResult(c.interp);
    Tcl_IncrRefCount(inflated);
    Tcl_DecrRefCount(obj);
    Tcl_ResetResult(c.interp);
    obj = inflated;
  }
  return obj;
}

static at::Tensor parseIdx(const unsigned char* p, size_t size, const std::string& path, int64_t limit) {
  auto bad = [&](const std::string& why) { fail("\"" + path + "\" is not an IDX file: " + why, {"IO", "FORMAT", path}); };
  if (size < 4 || p[0] != 0 || p[1] != 0) bad("bad magic number");
  at::ScalarType type = idxType(p[2], path);
  int ndim = p[3];
  if (ndim < 1 || size < 4 + 4 * size_t(ndim)) bad("truncated header");
  std::vector<int64_t> shape(ndim);
  size_t count = 1;
  for (int d = 0; d < ndim; ++d) {
    const unsigned char* q = p + 4 + 4 * d;
    shape[d] = (int64_t(q[0]) << 24) | (int64_t(q[1]) << 16) | (int64_t(q[2]) << 8) | int64_t(q[3]);
    count *= size_t(shape[d]);
  }
  size_t esize = c10::elementSize(type);
  const unsigned char* data = p + 4 + 4 * ndim;
  if (size - (4 + 4 * ndim) < count * esize)
    bad("holds " + std::to_string(size - (4 + 4 * ndim)) + " data bytes, its header says " +
        std::to_string(count * esize));
  if (limit >= 0 && limit < shape[0]) {
    count = count / size_t(shape[0]) * size_t(limit);
    shape[0] = limit;
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  auto* out = static_cast<unsigned char*>(t.data_ptr());
  if (esize == 1) {
    std::memcpy(out, data, count);
  } else {  // big-endian to host order (little-endian on every platform we build for)
    for (size_t i = 0; i < count; ++i)
      for (size_t b = 0; b < esize; ++b) out[i * esize + b] = data[i * esize + esize - 1 - b];
  }
  return t;
}

namespace {
struct IdxLoadArgs : Args {
  Arg<Type::String> path{this, {"path", Type::String, nullptr, "file name (.gz or not: detected from its bytes)"}};
  Arg<Type::Dtype> dtype{
      this, {"dtype", Type::Dtype, kOptional, "convert to this dtype (default: the file's, uint8 for images)"}};
  Arg<Type::Int> limit{this, Param{"limit", Type::Int, kOptional, "read only the first N items"}.nonNegative().mustBe(
                                 "a non-negative integer")};
};
}  // namespace
static Tcl_Obj* cmdIdxLoad(Call& c, const IdxLoadArgs& a) {
  std::string path = c.str(a.path);
  int64_t limit = -1;
  if (c.has(a.limit)) {
    limit = c.integer(a.limit);
  }
  Tcl_Obj* bytes = readBytes(c, path);
  Tcl_Size size = 0;
  const unsigned char* p = Tcl_GetByteArrayFromObj(bytes, &size);
  at::Tensor t;
  try {
    t = parseIdx(p, size_t(size), path, limit);
  } catch (...) {
    Tcl_DecrRefCount(bytes);
    throw;
  }
  Tcl_DecrRefCount(bytes);
  if (c.has(a.dtype)) t = t.to(c.dtype(a.dtype));
  return c.result(std::move(t));
}

// ---- normalization ----------------------------------------------------------

namespace {
struct NormalizeArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor (e.g. uint8 images)"}};
  Arg<Type::Double> mean{
      this, {"mean", Type::Double, kOptional, "subtracted after scaling (default: the mean of input / scale)"}};
  Arg<Type::Double> std{this, Param{"std", Type::Double, kOptional,
                                    "divisor after that (default: the standard deviation of input / scale)"}
                                  .positive()};
  Arg<Type::Double> scale{this, {"scale", Type::Double, "1", "input is divided by this first (255 for uint8 pixels)"}};
};
}  // namespace
static Tcl_Obj* cmdNormalize(Call& c, const NormalizeArgs& a) {
  double scale = c.number(a.scale);
  if (!(scale != 0)) c.badValue(a.scale, "a non-zero number");
  at::Tensor x = c.tensor(a.input).to(at::kFloat).div(scale);
  at::Tensor mean = c.has(a.mean) ? at::scalar_tensor(c.number(a.mean)) : x.mean();
  at::Tensor std = c.has(a.std) ? at::scalar_tensor(c.number(a.std)) : x.std();
  return c.result(x.sub_(mean).div_(std));
}

// ---- per-rank batches ---------------------------------------------------------

std::vector<at::Tensor> shardBatches(int64_t n, int64_t batchSize, bool shuffle, int64_t seed, int64_t epoch,
                                     bool dropLast, int64_t rank, int64_t world) {
  at::Tensor order;
  auto longs = at::TensorOptions().dtype(at::kLong);
  if (shuffle) {
    // The same permutation on every rank, a new one each epoch (seed + epoch).
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(seed + epoch));
    order = at::randperm(n, gen, longs);
  } else {
    order = at::arange(n, longs);
  }
  // Equal shares on every rank, so every rank takes the same number of steps:
  // drop the tail (drop_last) or wrap around to pad (each sample at least once).
  int64_t per = dropLast ? n / world : (n + world - 1) / world;
  int64_t total = per * world;
  if (total < n) {
    order = order.slice(0, 0, total);
  } else if (total > n && n > 0) {  // (several times over when n < world_size)
    std::vector<at::Tensor> parts{order};
    for (int64_t have = n; have < total; have += n) parts.push_back(order.slice(0, 0, total - have));
    order = at::cat(parts);
  }
  at::Tensor mine = order.slice(0, rank, std::max<int64_t>(total, rank), world);
  std::vector<at::Tensor> batches;
  for (int64_t i = 0; i < per; i += batchSize) {
    int64_t len = std::min(batchSize, per - i);
    if (len < batchSize && dropLast) break;
    batches.push_back(mine.slice(0, i, i + len).clone());
  }
  return batches;
}

static const Param kDropLast{"drop_last", Type::Bool, "0",
                             "drop the samples that do not fill equal shares and a last short batch"};

namespace {
struct BatchesArgs : Args {
  Arg<Type::Int> n{this, Param{"n", Type::Int, nullptr, "number of samples"}.nonNegative().mustBe("a non-negative integer")};
  Arg<Type::Int> batch_size{this, Param{"batch_size", Type::Int, nullptr, "samples per batch on this rank"}.positive()};
  Arg<Type::Bool> shuffle{this, {"shuffle", Type::Bool, "0", "permute before splitting (the same permutation on every rank)"}};
  Arg<Type::Int> seed{this, {"seed", Type::Int, "0", "shuffle seed (the same on every rank)"}};
  Arg<Type::Int> epoch{this, {"epoch", Type::Int, "0", "epoch number, added to the seed so each epoch reshuffles"}};
  Arg<Type::Bool> drop_last{this, kDropLast};
  Arg<Type::Int> rank{this, {"rank", Type::Int, kOptional, "this rank (default: the default group's)"}};
  Arg<Type::Int> world_size{this, Param{"world_size", Type::Int, kOptional, "number of ranks (default: the default group's)"}
                                      .positive()};
};
}  // namespace
static Tcl_Obj* cmdBatches(Call& c, const BatchesArgs& a) {
  int64_t n = c.integer(a.n), bs = c.integer(a.batch_size);
  int64_t rank, world;
  if (c.has(a.rank) && c.has(a.world_size)) {
    rank = c.integer(a.rank);
    world = c.integer(a.world_size);
  } else {
    CommPtr comm = communicator(c.st, "");
    rank = c.has(a.rank) ? c.integer(a.rank) : comm->rank();
    world = c.has(a.world_size) ? c.integer(a.world_size) : comm->size();
  }
  if (rank < 0 || rank >= world)
    fail("Invalid -rank parameter. Must be between 0 and " + std::to_string(world - 1) + ".",
         {"ARGS", "RANGE", "rank"});
  return c.results(shardBatches(n, bs, c.boolean(a.shuffle), c.integer(a.seed), c.integer(a.epoch),
                                 c.boolean(a.drop_last), rank, world));
}

std::vector<Command> dataCommands() {
  return {
      typedRow<cmdIdxLoad>(
          "dataset_idx_load",
          "Read an IDX file (MNIST/Fashion-MNIST format, plain or gzip) into a tensor of its shape and type."),
      typedRow<cmdNormalize>("dataset_normalize",
                             "Float32 (input / scale - mean) / std; mean and std default to the input's own."),
      typedRow<cmdBatches>("dataset_batches",
                           "This rank's batches of sample indices for one epoch: a list of int64 index tensors "
                           "(DistributedSampler + DataLoader: equal shares, disjoint with drop_last)."),
  };
}

}  // namespace tcltorch
