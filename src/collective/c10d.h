// The c10d communicator (private to src/collective/): a Communicator on a
// c10d process group (Gloo for CPU tensors, NCCL for CUDA tensors in CUDA
// builds). Its collectives are in c10d_communicator.cpp, its desync check in
// desync.cpp; process_groups.cpp makes the groups, network.cpp picks the
// interface they bind to.
#pragma once
#include "desync.h"
#include "errors.h"
#include "flight_recorder.h"
#include "tcltorch/collective.h"
#include "tcltorch/shm_exchange.h"
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <memory>
#include <string>
#include <vector>

namespace tcltorch {

using ms = std::chrono::milliseconds;

// A process group plus what the communicator needs next to it.
struct Group {
  compat::PgPtr pg;
  // The desync check's exchange: shared memory when every rank is on this
  // host; otherwise all-gathers on the group itself (Gloo) or on a helper
  // Gloo group next to NCCL. Both null when the check is off or the group
  // has one rank.
  std::shared_ptr<ShmExchange> shm;
  compat::PgPtr fingerprints;
  c10::intrusive_ptr<c10d::Store> store;  // the group's store (mismatch details)
  bool callSites = false;                 // record every call site (-debug 1)
};

// Where Gloo binds for the group of `size` ranks that o describes (network.cpp).
std::shared_ptr<::gloo::transport::Device> glooDevice(const DistOptions& o, int size);

class C10dWork;

class C10dCommunicator : public Communicator, public std::enable_shared_from_this<C10dCommunicator> {
 public:
  C10dCommunicator(Group g, std::string backend, std::vector<int> globalRanks, ms timeout,
                   RecorderPtr rec = nullptr, std::string name = "default");
  ~C10dCommunicator() override;

  int rank() const override { return pg_->getRank(); }
  int size() const override { return pg_->getSize(); }
  std::string backend() const override { return backend_; }
  int groupRank(int g) const override;
  std::vector<int> globalRanks() const override { return ranks_; }
  Capabilities capabilities() const override;

#define TCLTORCH_C10D(e, name, method, params, replay, local, localHow) WorkPtr method params override;
  TCLTORCH_COLLECTIVES(TCLTORCH_C10D)
#undef TCLTORCH_C10D

  const RecorderPtr& recorder() const { return rec_; }

 private:
  bool nccl() const { return backend_ == "nccl"; }

  // ---- desync.cpp: the start of every call, and the desync check ----
  // Starts the flight-recorder entry of a collective and, unless off, runs
  // the desync check on its fingerprint; returns the op's name.
  const char* begin(CollectiveOp op, const at::Tensor* t, int root, int reduce, bool check = true);
  // After the data of `call` moved: whether a rank recorded it as differing.
  void verify(const char* op, uint64_t call, const Fingerprint& f, const std::string& site);
  // Throws the mismatch, if any (its call site: the command running now).
  void compare(const char* op, uint64_t call, const Fingerprint& f, std::string site,
               const std::vector<int64_t>& all);
  // Completes a call as the fingerprint `row` describes it, on a scratch tensor.
  void replay(const int64_t* row);
  // Names every distinct side of a mismatch.
  Error mismatch(const char* op, uint64_t seq, const std::string& site, const std::vector<int64_t>& all);

  // ---- c10d_communicator.cpp ----
  // Issues a c10d call (or a step of the desync check); a failure is
  // recorded and points to the dump.
  template <class F>
  auto issue(const char* op, F&& f, const std::string& context = "") -> decltype(f()) {
    try {
      return guarded(op, f, context);
    } catch (const Error& e) {
      throw recordFailure(rec_, pending_, e);
    }
  }
  WorkPtr p2p(std::shared_ptr<C10dWork> w);
  WorkPtr work(compat::C10dWorkPtr w, const char* op, std::function<at::Tensor()> then);
  template <class F>
  WorkPtr inPlace(const char* op, at::Tensor t, F&& start, bool mean);
  std::vector<int64_t> stackedShape(const at::Tensor& t) const;
  std::vector<int64_t> chunkShape(const at::Tensor& t) const;
  void checkSplit(const char* op, const at::Tensor& t) const;

  struct Pending {  // begin()'s checked call, verified when its work completes
    uint64_t call = 0;
    Fingerprint row{};
  };

  compat::PgPtr pg_;
  std::string backend_;
  std::vector<int> ranks_;
  ms timeout_;
  std::vector<std::weak_ptr<C10dWork>> p2p_;
  std::shared_ptr<ShmExchange> shm_;
  compat::PgPtr fp_;
  c10::intrusive_ptr<c10d::Store> store_;
  RecorderPtr rec_;
  std::string name_;
  uint64_t seq_ = 0;       // every call (the flight recorder's numbers)
  uint64_t checkSeq_ = 0;  // checked calls only: point-to-point calls involve only some ranks
  std::shared_ptr<FlightEntry> pending_;
  bool callSites_ = false;  // every entry's call site (-debug 1)
  bool replaying_ = false;  // completing a call that differed (see begin())
  Pending toVerify_;        // begin()'s call, checked when its work completes
};

}  // namespace tcltorch
