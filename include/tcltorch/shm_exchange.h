// A same-host exchange of one small row per rank per call, through shared
// memory: the desync check's fingerprints without a network round trip.
#pragma once
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace tcltorch {

class ShmExchange {
 public:
  // Collective over the group's `store`: rank 0 makes a segment and names it
  // there, every rank maps it and says whether it could, and rank 0 unlinks
  // the name once all have answered (nothing stays in /dev/shm, even after a
  // crash). Null on every rank when one cannot map it (another host, another
  // IPC namespace, or a rank with `allowed` false): the caller then
  // exchanges over the network.
  static std::unique_ptr<ShmExchange> open(c10d::Store& store, int rank, int size, int width, bool allowed = true);
  ~ShmExchange();  // tells waiting peers this rank left the group
  ShmExchange(const ShmExchange&) = delete;
  ShmExchange& operator=(const ShmExchange&) = delete;

  // Publishes `row` (width values) as call `seq` (1, 2, ...) and fills `all`
  // (size rows) with every rank's row of that call. Throws
  // std::runtime_error naming the rank it waited for: "timed out" after
  // `timeout`, or at once when that rank exited, left the group or is
  // already past this call.
  void exchange(uint64_t seq, const int64_t* row, int64_t* all, std::chrono::milliseconds timeout);

 private:
  ShmExchange(void* base, size_t bytes, int rank, int size, int width);
  struct Block;
  Block& block(int r) const;
  int64_t* slot(int r, uint64_t seq) const;
  void waitFor(int r, uint64_t seq, int64_t* out, std::chrono::steady_clock::time_point deadline);
  bool exited(int r) const;

  void* base_;
  size_t bytes_;
  int rank_, size_, width_;
  size_t slotBytes_, blockBytes_;
  bool pidsVisible_ = false;  // peers' pids can be checked (same pid namespace)
};

}  // namespace tcltorch
