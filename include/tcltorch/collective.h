// The collective module: commands and the sharding layer talk only to this
// interface. C10dCommunicator (ProcessGroupGloo / ProcessGroupNCCL) serves a
// real process group; LocalCommunicator is the world of one process.
#pragma once
#include "tcltorch/compat.h"
#include "tcltorch/runtime.h"
#include "tcltorch/vocab.h"  // ReduceOp, dtype names
#include <chrono>
#include <functional>
#include <optional>

namespace tcltorch {

// Every collective, once. A row gives: its enum value; its name (messages,
// flight recorder, capabilities, desync fingerprints); the Communicator
// method and its parameters; how the desync check re-issues it on
// communicator `c` from a fingerprint (a scratch tensor `t`, `root`,
// reduction `op`; WorkPtr(): never re-issued, as point to point is never
// checked); the world of one's body (LocalCommunicator); and what the world
// of one says of it in distributed_capabilities ("": native, nullptr: not
// offered). The enum, the names, the replay, the interface, both
// communicators' declarations and the world of one are made from this list,
// so a new collective is this row, its c10d body and its command.
// In place (the result is written into t, and Work::result() is t):
// all_reduce, broadcast, reduce. New tensors: all_gather ([N, ...]), gather
// (dst: [N, ...]), scatter (chunk `rank` of src's t along dim 0),
// reduce_scatter (chunk `rank` of the reduction), all_to_all (chunk `rank` of
// every t, in rank order). recv fills t.
#define TCLTORCH_COLLECTIVES(X)                                                                          \
  X(AllReduce, "all_reduce", allReduce, (at::Tensor t, ReduceOp op), c.allReduce(t, op),                \
    done(t), "copy (world of one)")                                                                     \
  X(Broadcast, "broadcast", broadcast, (at::Tensor t, int root), c.broadcast(t, root),                  \
    done(t), "copy (world of one)")                                                                     \
  X(Reduce, "reduce", reduce, (at::Tensor t, int dst, ReduceOp op), c.reduce(t, root, op),              \
    done(t), "copy (world of one)")                                                                     \
  X(AllGather, "all_gather", allGather, (const at::Tensor& t), c.allGather(t),                          \
    done(t.unsqueeze(0).clone()), "stack to [1, ...]")                                                  \
  X(Gather, "gather", gather, (const at::Tensor& t, int dst), c.gather(t, root),                        \
    done(t.unsqueeze(0).clone()), "stack to [1, ...]")                                                  \
  X(Scatter, "scatter", scatter, (const at::Tensor& t, int src), c.scatter(t, root),                    \
    done(t.clone()), "copy (world of one)")                                                             \
  X(ReduceScatter, "reduce_scatter", reduceScatter, (const at::Tensor& t, ReduceOp op),                 \
    c.reduceScatter(t, op), done(t.clone()), "copy (world of one)")                                     \
  X(AllToAll, "all_to_all", allToAll, (const at::Tensor& t), c.allToAll(t),                             \
    done(t.clone()), "copy (world of one)")                                                             \
  X(Send, "send", send, (const at::Tensor& t, int dst, int tag), WorkPtr(), noPeer(), nullptr)          \
  X(Recv, "recv", recv, (at::Tensor t, int src, int tag), WorkPtr(), noPeer(), nullptr)                 \
  X(Barrier, "barrier", barrier, (), c.barrier(), done(at::Tensor()), "")

enum class CollectiveOp : int8_t {
#define TCLTORCH_ENUM(e, name, method, params, replay, local, localHow) e,
  TCLTORCH_COLLECTIVES(TCLTORCH_ENUM)
#undef TCLTORCH_ENUM
};
inline constexpr CollectiveOp kCollectiveOps[] = {
#define TCLTORCH_ALL(e, name, method, params, replay, local, localHow) CollectiveOp::e,
    TCLTORCH_COLLECTIVES(TCLTORCH_ALL)
#undef TCLTORCH_ALL
};
inline const char* opName(CollectiveOp op) {
  switch (op) {
#define TCLTORCH_NAME(e, name, method, params, replay, local, localHow) \
  case CollectiveOp::e: return name;
    TCLTORCH_COLLECTIVES(TCLTORCH_NAME)
#undef TCLTORCH_NAME
  }
  return "?";
}

// A pending operation. Every collective is asynchronous underneath; the
// synchronous commands simply wait at once.
class Work : public Object {  // an Object so that a workN handle can own it
 public:
  virtual bool test() = 0;  // finished? throws a TORCH DIST error if it failed
  // Blocks until done; zero means the group's timeout. Throws Error
  // {DIST TIMEOUT op} / {DIST ERROR op} naming the operation.
  virtual void wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) = 0;
  // The output: a new tensor, or the input itself for in-place operations;
  // undefined for send, barrier and a gather on a rank that is not dst.
  virtual at::Tensor result() = 0;
};
using WorkPtr = std::shared_ptr<Work>;

// A work whose result is transformed once it is done (in-place copies,
// local steps of composed operations). Errors pass through unchanged.
class ThenWork : public Work {
 public:
  ThenWork(WorkPtr inner, std::function<at::Tensor(at::Tensor)> then)
      : inner_(std::move(inner)), then_(std::move(then)) {}
  bool test() override {
    if (!done_ && inner_->test()) finish();
    return done_;
  }
  void wait(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) override {
    if (done_) return;
    inner_->wait(timeout);
    finish();
  }
  at::Tensor result() override { return r_; }

 private:
  void finish() {
    r_ = then_(inner_->result());
    done_ = true;
  }
  WorkPtr inner_;
  std::function<at::Tensor(at::Tensor)> then_;
  at::Tensor r_;
  bool done_ = false;
};

// What a backend does natively and what we compose (distributed_capabilities).
struct Capabilities {
  std::vector<std::string> native;
  std::vector<std::pair<std::string, std::string>> composed;  // op -> how
};

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
  // Rank in this group of a global rank; -1 when it is not a member.
  virtual int groupRank(int globalRank) const { return globalRank < size() ? globalRank : -1; }
  virtual std::vector<int> globalRanks() const {
    std::vector<int> r(static_cast<size_t>(size()));
    for (int i = 0; i < size(); ++i) r[size_t(i)] = i;
    return r;
  }
  virtual Capabilities capabilities() const = 0;

  // One method per TCLTORCH_COLLECTIVES row.
#define TCLTORCH_METHOD(e, name, method, params, replay, local, localHow) virtual WorkPtr method params = 0;
  TCLTORCH_COLLECTIVES(TCLTORCH_METHOD)
#undef TCLTORCH_METHOD
};
using CommPtr = std::shared_ptr<Communicator>;

// The world of one process: the seeds' single-process semantics.
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  // The world of one accepts any non-negative rank, as the seeds show.
  int groupRank(int globalRank) const override { return 0; }
  Capabilities capabilities() const override {
    Capabilities c;
#define TCLTORCH_LOCAL_HOW(e, name, method, params, replay, local, localHow) \
  if (const char* how = localHow) {                                      \
    if (*how) c.composed.emplace_back(name, how);                        \
    else c.native.push_back(name);                                       \
  }
    TCLTORCH_COLLECTIVES(TCLTORCH_LOCAL_HOW)
#undef TCLTORCH_LOCAL_HOW
    return c;
  }
#define TCLTORCH_LOCAL(e, name, method, params, replay, local, localHow) \
  WorkPtr method params override { return local; }
  TCLTORCH_COLLECTIVES(TCLTORCH_LOCAL)
#undef TCLTORCH_LOCAL

 private:
  static WorkPtr done(at::Tensor t) { return std::make_shared<DoneWork>(std::move(t)); }
  [[noreturn]] static WorkPtr noPeer() {
    fail("point-to-point needs a process group of more than one rank (call torch::distributed_init)",
         {"DIST", "NOPEER"});
  }
};

// The communicator for `group`: "" is the default group; without
// torch::distributed_init it is the world of one, where any name works (the
// seeds). Once a process group exists, a name never created is an error
// {TORCH DIST GROUP name} and a group this rank is not a member of is
// {TORCH DIST NOTMEMBER group}.
CommPtr communicator(State& st, const std::string& group = "");

// The rank in group `c` of global rank `r`; -1 when r is not a member. The
// caller words the refusal (it knows which argument gave the rank), with
// notMemberReason(). `anyInWorldOfOne`: the world of one without a process
// group accepts any non-negative rank, as the seeds' collectives do.
int memberRank(const Communicator& c, int64_t r, bool anyInWorldOfOne = false);
// "rank 3 is not in the group (ranks 0 1)".
std::string notMemberReason(const Communicator& c, int64_t r);

// The Tcl call site of the collective being started ("train.tcl:12"), for the
// desync check and the flight recorder. The command layer installs a provider
// for the duration of one command (it knows the interpreter and how to ask
// it); elsewhere (C++ tests) there is none and the call site is empty. The
// provider is called only when a call site is wanted (-debug 1, a failure).
using CallSiteProvider = std::string (*)(void* context);
class CallSiteScope {
 public:
  CallSiteScope(CallSiteProvider provider, void* context);
  ~CallSiteScope();
  CallSiteScope(const CallSiteScope&) = delete;
  CallSiteScope& operator=(const CallSiteScope&) = delete;

 private:
  CallSiteProvider prevProvider_;
  void* prevContext_;
};
std::string currentCallSite();

// Writes this rank's flight recorder (its last collectives: op, group, shapes,
// state, start and end time, call site) to a file and returns the path; empty
// when no process group exists. `path` "" picks
// $TCLTORCH_DEBUG_DIR (else the temp folder)/tcltorch-flight-rank<R>-<pid>.txt.
std::string distDebugDump(State& st, const std::string& path = "");

// ---- process group lifetime (per interpreter, in st.ext["dist"]) ----------

// Default timeout of rendezvous and collectives when neither -timeout nor
// TCLTORCH_DIST_TIMEOUT (seconds) says otherwise.
constexpr std::chrono::seconds kDefaultDistTimeout{300};
// Collectives the flight recorder keeps per rank, unless told otherwise.
constexpr size_t kFlightRecorderSize = 64;

struct DistOptions {
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  std::string backend = "gloo";  // gloo, nccl, auto
  std::string initMethod = "env://";  // env://, tcp://host:port, file://path
  std::chrono::milliseconds timeout = kDefaultDistTimeout;
  bool debug = false;  // wrap in c10d::ProcessGroupWrapper (checks collectives match)
  // Before every collective, ranks exchange a fingerprint (sequence number,
  // op, dtype, shape, root) and fail together on a mismatch, naming both sides.
  bool desyncCheck = true;
  // The check goes through shared memory when every rank of a group is on
  // this host (TCLTORCH_DESYNC_SHM=0: always over the network).
  bool desyncShm = true;
  size_t flightRecorder = kFlightRecorderSize;  // collectives kept per rank for distributed_debug_dump
};

// Creates the default process group (TCPStore rendezvous; an in-process
// HashStore for a world of one) and returns the backend it chose.
std::string distInit(State& st, const DistOptions& o);
void distDestroy(State& st);  // shuts the groups down; no-op when not initialised
bool distInitialized(State& st);
const DistOptions* distOptions(State& st);  // nullptr when not initialised
// Why `ranks` cannot form a group of a world of `worldSize` ("rank 5 is
// outside the world of 4", "rank 1 appears twice"); "" when they can. An
// empty list is the caller's to refuse.
std::string groupRanksProblem(const std::vector<int>& ranks, int worldSize);
// Called by every rank in the same order, as torch.distributed.new_group;
// returns the group's name ("" picks one). The desync check defaults to the
// default group's setting. `ranks`: non-empty, no groupRanksProblem().
std::string distNewGroup(State& st, const std::vector<int>& ranks, std::string name,
                         std::optional<bool> desyncCheck = std::nullopt);

// The name of the local network interface whose address routes to `host`
// ("lo" for a loopback host); "" when there is none. NCCL groups bind to it.
std::string interfaceTowards(const std::string& host, int port);

// A communicator on a new Gloo group over `store` (the C++ tests run N ranks
// as threads on one HashStore this way).
CommPtr makeGlooCommunicator(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                             std::chrono::milliseconds timeout);

// The NCCL process group (src/collective/nccl.cpp, TCLTORCH_WITH_NCCL only).
#ifdef TCLTORCH_WITH_NCCL
compat::PgPtr makeNcclGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                            std::chrono::milliseconds timeout, int localRank);
#endif

}  // namespace tcltorch
