// A data loader (PyTorch's DataLoader + DistributedSampler): batches of rows of
// some tensors, made ahead by C++ worker threads, in dataset_batches' order
// (sampler.h), with per-sample transforms. No Tcl here: workers never touch the
// interpreter; the commands (src/commands/dataloader.cpp) turn batches into handles
// on the main thread.
#pragma once
#include "tcltorch/runtime.h"
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace tcltorch {

struct Transform {
  enum Kind { RandomCrop, HFlip, Normalize } kind;
  int64_t height = 0, width = 0, padding = 0;  // RandomCrop
  double p = 0.5;                               // HFlip
  std::vector<double> mean, std;                // Normalize: one, or one per channel
};

struct LoaderOptions {
  int64_t batch = 1, seed = 0, epoch = 0, rank = 0, world = 1;
  bool shuffle = false, dropLast = false;
  int workers = 2;   // 0: made on demand by next() in the caller's thread
  int prefetch = 4;  // batches made ahead of the one next() returns
  std::vector<Transform> transforms;  // applied to the first tensor, sample by sample
};

class DataLoader : public Object {
 public:
  // Throws std::invalid_argument for bad tensors, std::domain_error for transforms
  // that do not fit them.
  DataLoader(std::vector<at::Tensor> tensors, LoaderOptions o);
  ~DataLoader() override;  // stops and joins the workers
  // The next batch (one tensor per input), or empty at the end of the epoch, after
  // which the next epoch begins. Rethrows a worker's error.
  std::vector<at::Tensor> next();
  void setEpoch(int64_t epoch);  // restarts at that epoch's first batch
  int64_t epoch();
  int64_t length();  // batches per epoch

 private:
  struct Ready {
    std::vector<at::Tensor> batch;
    std::exception_ptr error;
  };
  void startEpochLocked(int64_t epoch);
  std::vector<at::Tensor> build(const at::Tensor& idx, int64_t epoch) const;
  void work();

  std::vector<at::Tensor> data_;
  LoaderOptions o_;
  std::mutex mu_;
  std::condition_variable cvWork_, cvReady_;
  int64_t epoch_ = 0;
  uint64_t generation_ = 0;       // bumped by every epoch start: older results are dropped
  std::vector<at::Tensor> order_;  // this epoch's index batches
  size_t nextTake_ = 0, nextGive_ = 0;
  std::map<size_t, Ready> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tcltorch
