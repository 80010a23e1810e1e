// The data loader's workers and transforms (include/tcltorch/dataloader.h).
#include "tcltorch/dataloader.h"
#include "tcltorch/sampler.h"
#include <stdexcept>

namespace tcltorch {

DataLoader::DataLoader(std::vector<at::Tensor> tensors, LoaderOptions o) : data_(std::move(tensors)), o_(std::move(o)) {
  if (data_.empty()) throw std::invalid_argument("no tensors");
  for (auto& t : data_) {
    if (t.dim() < 1) throw std::invalid_argument("a tensor has no first dimension (a scalar)");
    if (t.size(0) != data_[0].size(0))
      throw std::invalid_argument("the tensors' first dimensions differ (" + std::to_string(data_[0].size(0)) +
                                  " and " + std::to_string(t.size(0)) + ")");
  }
  const at::Tensor& x = data_[0];
  for (auto& tr : o_.transforms) {
    if (tr.kind == Transform::Normalize) {
      int64_t c = x.dim() >= 4 ? x.size(1) : 1;  // samples C x H x W: one value per channel
      for (auto* v : {&tr.mean, &tr.std})
        if (v->size() != 1 && int64_t(v->size()) != c)
          throw std::domain_error("normalize needs 1 or " + std::to_string(c) + " values for mean and std");
      for (double s : tr.std)
        if (!(s > 0)) throw std::domain_error("normalize needs std > 0");
      continue;
    }
    if (x.dim() < 3) throw std::domain_error("random_crop and hflip need samples of at least 2 dimensions (H x W)");
    if (tr.kind == Transform::RandomCrop &&
        (tr.height > x.size(-2) + 2 * tr.padding || tr.width > x.size(-1) + 2 * tr.padding))
      throw std::domain_error("random_crop " + std::to_string(tr.height) + " x " + std::to_string(tr.width) +
                                  " is larger than the padded samples (" + std::to_string(x.size(-2)) + " x " +
                                  std::to_string(x.size(-1)) + " padded by " + std::to_string(tr.padding) + ")");
  }
  std::lock_guard<std::mutex> lock(mu_);
  startEpochLocked(o_.epoch);
  for (int i = 0; i < o_.workers; ++i) threads_.emplace_back([this] { work(); });
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cvWork_.notify_all();
  for (auto& t : threads_) t.join();  // a worker finishes at most its current batch
}

void DataLoader::startEpochLocked(int64_t epoch) {
  epoch_ = epoch;
  ++generation_;
  order_ = shardBatches(data_[0].size(0), o_.batch, o_.shuffle, o_.seed, epoch, o_.dropLast, o_.rank, o_.world);
  nextTake_ = nextGive_ = 0;
  ready_.clear();
  cvWork_.notify_all();
}

void DataLoader::work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cvWork_.wait(lock, [&] {
      return stop_ || (nextTake_ < order_.size() && nextTake_ < nextGive_ + size_t(o_.prefetch));
    });
    if (stop_) return;
    size_t k = nextTake_++;
    uint64_t gen = generation_;
    at::Tensor idx = order_[k];
    int64_t epoch = epoch_;
    lock.unlock();
    Ready r;
    try {
      r.batch = build(idx, epoch);
    } catch (...) {
      r.error = std::current_exception();
    }
    lock.lock();
    if (gen == generation_) {
      ready_[k] = std::move(r);
      cvReady_.notify_all();
    }
  }
}

std::vector<at::Tensor> DataLoader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (nextGive_ >= order_.size()) {
    startEpochLocked(epoch_ + 1);
    return {};
  }
  size_t k = nextGive_;
  Ready r;
  if (o_.workers == 0) {
    at::Tensor idx = order_[k];
    int64_t epoch = epoch_;
    lock.unlock();
    r.batch = build(idx, epoch);
    lock.lock();
  } else {
    cvReady_.wait(lock, [&] { return ready_.count(k) > 0; });
    r = std::move(ready_[k]);
    ready_.erase(k);
  }
  ++nextGive_;
  cvWork_.notify_all();
  if (r.error) std::rethrow_exception(r.error);
  return std::move(r.batch);
}

void DataLoader::setEpoch(int64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch == epoch_ && nextGive_ == 0) return;  // keep what is made ahead
  startEpochLocked(epoch);
}

int64_t DataLoader::epoch() {
  std::lock_guard<std::mutex> lock(mu_);
  return epoch_;
}

int64_t DataLoader::length() {
  std::lock_guard<std::mutex> lock(mu_);
  return int64_t(order_.size());
}

// ---- transforms --------------------------------------------------------------
// Random choices come from a hash of (seed, epoch, sample index, transform, draw),
// so they depend on neither the worker that makes the batch nor the batching.

static uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
static double uniform(int64_t seed, int64_t epoch, int64_t sample, size_t transform, int draw) {
  uint64_t h = mix(uint64_t(seed));
  h = mix(h ^ uint64_t(epoch));
  h = mix(h ^ uint64_t(sample));
  h = mix(h ^ (uint64_t(transform) << 8 | uint64_t(draw)));
  return double(h >> 11) * 0x1.0p-53;  // [0, 1)
}

std::vector<at::Tensor> DataLoader::build(const at::Tensor& idx, int64_t epoch) const {
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> out;
  for (auto& t : data_) out.push_back(t.index_select(0, idx.to(t.device())));
  if (o_.transforms.empty()) return out;
  at::Tensor x = out[0];
  int64_t n = x.size(0);
  auto samples = idx.accessor<int64_t, 1>();
  for (size_t ti = 0; ti < o_.transforms.size(); ++ti) {
    const Transform& tr = o_.transforms[ti];
    if (tr.kind == Transform::RandomCrop) {
      int64_t p = tr.padding;
      at::Tensor padded = p ? at::constant_pad_nd(x, {p, p, p, p}, 0) : x;
      auto sizes = x.sizes().vec();
      sizes[sizes.size() - 2] = tr.height;
      sizes[sizes.size() - 1] = tr.width;
      at::Tensor y = at::empty(sizes, x.options());
      int64_t rows = padded.size(-2) - tr.height + 1, cols = padded.size(-1) - tr.width + 1;
      for (int64_t j = 0; j < n; ++j) {
        int64_t top = int64_t(uniform(o_.seed, epoch, samples[j], ti, 0) * double(rows));
        int64_t left = int64_t(uniform(o_.seed, epoch, samples[j], ti, 1) * double(cols));
        y[j].copy_(padded[j].narrow(-2, top, tr.height).narrow(-1, left, tr.width));
      }
      x = y;
    } else if (tr.kind == Transform::HFlip) {
      std::vector<int64_t> flip;
      for (int64_t j = 0; j < n; ++j)
        if (uniform(o_.seed, epoch, samples[j], ti, 0) < tr.p) flip.push_back(j);
      if (!flip.empty()) {
        x = x.clone();
        at::Tensor rows = at::tensor(flip, at::TensorOptions().dtype(at::kLong)).to(x.device());
        x.index_copy_(0, rows, x.index_select(0, rows).flip(-1));
      }
    } else {  // Normalize, per channel when there are several values
      auto shape = [&](const std::vector<double>& v) {
        at::Tensor t = at::tensor(v, at::TensorOptions().dtype(at::kFloat)).to(x.device());
        std::vector<int64_t> s(size_t(x.dim()), 1);
        if (v.size() > 1) s[1] = int64_t(v.size());
        return t.view(s);
      };
      x = x.to(at::kFloat).sub(shape(tr.mean)).div(shape(tr.std));
    }
  }
  out[0] = x;
  return out;
}

}  // namespace tcltorch
