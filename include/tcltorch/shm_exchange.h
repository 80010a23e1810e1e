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

  // Calls are numbered 1, 2, ... Every wait below throws std::runtime_error
  // naming the rank it waited for: "timed out" after `timeout`, or at once
  // when that rank exited or left the group.

  // Publishes `row` (width values) as this rank's row of call `seq` (first
  // waiting, rarely, until every rank has resolved call seq - ring size).
  void publish(uint64_t seq, const int64_t* row, std::chrono::milliseconds timeout);
  // The first rank to reach call `seq` makes its row the call's; every rank
  // gets that row in `out` without waiting for the others; true for the first.
  bool first(uint64_t seq, const int64_t* row, int64_t* out, std::chrono::milliseconds timeout);
  // This rank is done comparing call `seq` (and recording it, if it differed).
  void resolve(uint64_t seq);
  // Every rank's row of call `seq` (size rows) into `all`.
  void gather(uint64_t seq, int64_t* all, std::chrono::milliseconds timeout);
  // Keeps `all` as the rows of call `seq`, which differed.
  void recordMismatch(uint64_t seq, const int64_t* all);
  // Once every rank has resolved call `seq`: true, with its rows in `all`,
  // when a rank recorded it as differing.
  bool mismatch(uint64_t seq, int64_t* all, std::chrono::milliseconds timeout);
  // publish, then gather: every rank waits for all (the check of groups
  // where data cannot wait, NCCL).
  void exchange(uint64_t seq, const int64_t* row, int64_t* all, std::chrono::milliseconds timeout) {
    publish(seq, row, timeout);
    gather(seq, all, timeout);
    resolve(seq);
  }

 private:
  // Byte sizes of the segment's parts (shm_exchange.cpp says what each holds).
  struct Layout {
    size_t slot, block, call, record, total;
  };
  static Layout layoutFor(int size, int width);
  ShmExchange(void* base, int rank, int size, int width);
  struct Block;
  Block& block(int r) const;
  int64_t* slot(int r, uint64_t seq) const;
  int64_t* callSlot(uint64_t seq) const;
  int64_t* record(uint64_t seq) const;
  void changed(Block& b);
  void awaitResolved(uint64_t seq, std::chrono::steady_clock::time_point deadline);
  // Waits until ready(); `verb` and `seq` name what the rank has not done
  // yet in errors ("reached", 3: "... has not reached call 3").
  template <class Ready>
  void awaitRank(int r, std::chrono::steady_clock::time_point deadline, const char* verb, uint64_t seq, Ready ready);
  bool exited(int r) const;

  void* base_;
  int rank_, size_, width_;
  Layout layout_;
  bool pidsVisible_ = false;  // peers' pids can be checked (same pid namespace)
};

}  // namespace tcltorch
