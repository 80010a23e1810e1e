// The collective module: commands and the sharding layer talk only to this
// interface. C10dCommunicator (ProcessGroupGloo / ProcessGroupNCCL) serves a
// real process group; LocalCommunicator is the world of one process.
#pragma once
#include "tcltorch/args.h"
#include <chrono>

namespace tcltorch {

// A pending operation. Every collective is asynchronous underneath; the
// synchronous commands simply wait at once.
class Work {
 public:
  virtual ~Work() = default;
  virtual bool test() = 0;  // finished? throws a TORCH DIST error if it failed
  // Blocks until done; zero means the group's timeout. Throws Error
  // {DIST TIMEOUT op} / {DIST ERROR op} naming the operation.
  virtual void wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) = 0;
  // The output: a new tensor, or the input itself for in-place operations;
  // undefined for send, barrier and a gather on a rank that is not dst.
  virtual at::Tensor result() = 0;
};
using WorkPtr = std::shared_ptr<Work>;

// A finished operation with a known result (world of one, or composed ops).
class DoneWork : public Work {
 public:
  explicit DoneWork(at::Tensor r = at::Tensor()) : r_(std::move(r)) {}
  bool test() override { return true; }
  void wait(std::chrono::milliseconds) override {}
  at::Tensor result() override { return r_; }

 private:
  at::Tensor r_;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "local", "gloo", "nccl"

  // In place: the result is written into t (and Work::result() is t).
  virtual WorkPtr allReduce(at::Tensor t, ReduceOp op) = 0;
  virtual WorkPtr broadcast(at::Tensor t, int root) = 0;
  virtual WorkPtr reduce(at::Tensor t, int dst, ReduceOp op) = 0;
  // New tensors.
  virtual WorkPtr allGather(const at::Tensor& t) = 0;           // [N, ...]
  virtual WorkPtr gather(const at::Tensor& t, int dst) = 0;      // dst: [N, ...]
  virtual WorkPtr scatter(const at::Tensor& t, int src) = 0;     // chunk `rank` of src's t (dim 0)
  virtual WorkPtr reduceScatter(const at::Tensor& t, ReduceOp op) = 0;  // chunk `rank` of the reduction
  virtual WorkPtr allToAll(const at::Tensor& t) = 0;             // chunk `rank` of every t, in rank order
  // Point to point.
  virtual WorkPtr send(const at::Tensor& t, int dst, int tag) = 0;
  virtual WorkPtr recv(at::Tensor t, int src, int tag) = 0;      // fills t
  virtual WorkPtr barrier() = 0;
};
using CommPtr = std::shared_ptr<Communicator>;

// The world of one process: the seeds' single-process semantics.
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  WorkPtr allReduce(at::Tensor t, ReduceOp) override { return std::make_shared<DoneWork>(t); }
  WorkPtr broadcast(at::Tensor t, int) override { return std::make_shared<DoneWork>(t); }
  WorkPtr reduce(at::Tensor t, int, ReduceOp) override { return std::make_shared<DoneWork>(t); }
  WorkPtr allGather(const at::Tensor& t) override { return done(t.unsqueeze(0).clone()); }
  WorkPtr gather(const at::Tensor& t, int) override { return done(t.unsqueeze(0).clone()); }
  WorkPtr scatter(const at::Tensor& t, int) override { return done(t.clone()); }
  WorkPtr reduceScatter(const at::Tensor& t, ReduceOp) override { return done(t.clone()); }
  WorkPtr allToAll(const at::Tensor& t) override { return done(t.clone()); }
  WorkPtr send(const at::Tensor&, int, int) override { noPeer(); }
  WorkPtr recv(at::Tensor, int, int) override { noPeer(); }
  WorkPtr barrier() override { return std::make_shared<DoneWork>(); }

 private:
  static WorkPtr done(at::Tensor t) { return std::make_shared<DoneWork>(std::move(t)); }
  [[noreturn]] static void noPeer() {
    fail("point-to-point needs a process group of more than one rank (call torch::distributed_init)",
         {"DIST", "NOPEER"});
  }
};

// The communicator for `group`: "" (or a name never created) is the default
// group; without torch::distributed_init it is the world of one.
CommPtr communicator(State& st, const std::string& group = "");

}  // namespace tcltorch
