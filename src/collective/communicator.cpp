// The collective module: C10dCommunicator on a c10d process group (Gloo for
// CPU tensors, NCCL for CUDA tensors in CUDA builds), the per-interpreter
// distributed state (default group + named subgroups) and communicator().
// Nothing here moves bytes itself: TCPStore does the rendezvous, the process
// group does every transfer.
#include "tcltorch/collective.h"
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupWrapper.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>
#include <cctype>
#include <future>
#include <map>

namespace tcltorch {

using ms = std::chrono::milliseconds;

// ---- errors ----------------------------------------------------------------

static bool looksLikeTimeout(const std::string& m) {
  std::string l;
  for (char ch : m) l += char(std::tolower(static_cast<unsigned char>(ch)));
  return l.find("timed out") != std::string::npos || l.find("timeout") != std::string::npos;
}

// Every failure of c10d becomes {TORCH DIST TIMEOUT|ERROR op}, naming the op.
[[noreturn]] static void distFailure(const std::string& op, const std::exception& e,
                                     const std::string& context) {
  if (auto* err = dynamic_cast<const Error*>(&e)) throw *err;
  std::string m = torchMessage(e);
  bool timeout = looksLikeTimeout(m);
  fail(op + (timeout ? " timed out" : " failed") + context + ": " + m,
       {"DIST", timeout ? "TIMEOUT" : "ERROR", op});
}

template <class F>
static auto guarded(const std::string& op, F&& f, const std::string& context = "") -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    distFailure(op, e, context);
  }
}

// ---- work ------------------------------------------------------------------

// A pending c10d operation. `then` runs once, on completion, and gives the
// result (a composed op's local step, or the output tensor itself).
class C10dWork : public Work {
 public:
  C10dWork(compat::C10dWorkPtr w, std::string op, ms timeout, std::function<at::Tensor()> then,
           bool pollThread)
      : w_(std::move(w)), op_(std::move(op)), timeout_(timeout), then_(std::move(then)) {
    // Gloo's send/recv works only complete inside wait(), and a short wait
    // poisons the whole Gloo context; so point-to-point works are waited on by
    // a helper thread, and test() asks that thread.
    if (pollThread) {
      auto w2 = w_;
      poll_ = std::async(std::launch::async, [w2, timeout] { w2->wait(timeout); });
    }
  }
  ~C10dWork() override { abort(); }

  // Ends a pending point-to-point wait at once (freed handle, destroyed group).
  void abort() {
    if (!poll_.valid()) return;
    if (poll_.wait_for(ms(0)) != std::future_status::ready) try { w_->abort(); } catch (...) {}
    try { poll_.get(); } catch (...) {}
  }

  bool test() override {
    if (done_) return true;
    bool complete = guarded(op_, [&] {
      if (poll_.valid()) return poll_.wait_for(ms(0)) == std::future_status::ready;
      if (!w_->isCompleted()) return false;
      if (!w_->isSuccess()) std::rethrow_exception(w_->exception());
      return true;
    });
    if (complete) finish();
    return done_;
  }

  void wait(ms timeout) override {
    if (done_) return;
    // A little grace over the group's own timeout, so that c10d's message
    // (which names the cause) normally wins the race.
    ms t = timeout.count() > 0 ? timeout : timeout_ + ms(5000);
    guarded(op_, [&] {
      if (poll_.valid()) {
        if (poll_.wait_for(t) != std::future_status::ready)
          throw std::runtime_error("timed out after " + std::to_string(t.count()) + " ms");
      } else {
        w_->wait(t);
      }
    });
    finish();
  }

  at::Tensor result() override { return r_; }

 private:
  void finish() {
    if (poll_.valid()) guarded(op_, [&] { poll_.get(); });
    r_ = then_ ? then_() : at::Tensor();
    done_ = true;
  }
  compat::C10dWorkPtr w_;
  std::string op_;
  ms timeout_;
  std::function<at::Tensor()> then_;
  std::future<void> poll_;
  at::Tensor r_;
  bool done_ = false;
};

// ---- the communicator ------------------------------------------------------

static c10d::ReduceOp toC10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: case ReduceOp::Mean: return c10d::ReduceOp::SUM;
    case ReduceOp::Max: return c10d::ReduceOp::MAX;
    case ReduceOp::Min: return c10d::ReduceOp::MIN;
    case ReduceOp::Product: return c10d::ReduceOp::PRODUCT;
  }
  return c10d::ReduceOp::SUM;
}

static void divideInPlace(at::Tensor& t, int64_t n) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true))
    t.div_(n, "trunc");
  else
    t.div_(n);
}

// Local reduction over dim 0 of [N, ...] (the composed reduce_scatter).
static at::Tensor reduceDim0(const at::Tensor& stacked, ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return stacked.sum(0, false, stacked.scalar_type());
    case ReduceOp::Mean: {
      at::Tensor s = stacked.sum(0, false, stacked.scalar_type());
      divideInPlace(s, stacked.size(0));
      return s;
    }
    case ReduceOp::Max: return std::get<0>(stacked.max(0));
    case ReduceOp::Min: return std::get<0>(stacked.min(0));
    case ReduceOp::Product: return stacked.prod(0, false, stacked.scalar_type());
  }
  return stacked.sum(0);
}

class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(compat::PgPtr pg, std::string backend, std::vector<int> globalRanks, ms timeout)
      : pg_(std::move(pg)), backend_(std::move(backend)), ranks_(std::move(globalRanks)),
        timeout_(timeout) {}

  int rank() const override { return pg_->getRank(); }
  int size() const override { return pg_->getSize(); }
  std::string backend() const override { return backend_; }
  int groupRank(int g) const override {
    for (size_t i = 0; i < ranks_.size(); ++i)
      if (ranks_[i] == g) return int(i);
    return -1;
  }
  std::vector<int> globalRanks() const override { return ranks_; }
  Capabilities capabilities() const override {
    Capabilities c;
    c.native = {"all_reduce", "broadcast", "reduce", "all_gather", "gather", "scatter",
                "all_to_all", "send", "recv", "barrier", "sum", "max", "min", "product"};
    if (nccl()) {
      c.composed = {{"mean", "sum, then divide by the group size"},
                    {"reduce_scatter", "alltoall_base, then a local reduction"}};
    } else {
      // Gloo in this libtorch has neither reduce_scatter nor AVG.
      c.composed = {{"mean", "sum, then divide by the group size"},
                    {"reduce_scatter", "alltoall_base (each rank moves (N-1)/N of the tensor), "
                                       "then a local reduction"}};
    }
    return c;
  }

  WorkPtr allReduce(at::Tensor t, ReduceOp op) override {
    return inPlace("all_reduce", t, [&](at::Tensor& b) {
      std::vector<at::Tensor> v{b};
      c10d::AllreduceOptions o;
      o.reduceOp = toC10d(op);
      return pg_->allreduce(v, o);
    }, op == ReduceOp::Mean);
  }

  WorkPtr broadcast(at::Tensor t, int root) override {
    return inPlace("broadcast", t, [&](at::Tensor& b) {
      std::vector<at::Tensor> v{b};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      return pg_->broadcast(v, o);
    }, false);
  }

  WorkPtr reduce(at::Tensor t, int dst, ReduceOp op) override {
    if (rank() != dst) {
      // Others keep their t: the backend may use its buffer as scratch.
      at::Tensor scratch = t.clone(at::MemoryFormat::Contiguous);
      std::vector<at::Tensor> v{scratch};
      c10d::ReduceOptions o;
      o.reduceOp = toC10d(op);
      o.rootRank = dst;
      auto w = guarded("reduce", [&] { return pg_->reduce(v, o); });
      return work(w, "reduce", [t, scratch] { return t; });
    }
    return inPlace("reduce", t, [&](at::Tensor& b) {
      std::vector<at::Tensor> v{b};
      c10d::ReduceOptions o;
      o.reduceOp = toC10d(op);
      o.rootRank = dst;
      return pg_->reduce(v, o);
    }, op == ReduceOp::Mean);
  }

  WorkPtr allGather(const at::Tensor& t) override {
    at::Tensor in = t.contiguous();
    at::Tensor out = at::empty(stackedShape(in), in.options());
    std::vector<std::vector<at::Tensor>> outs{out.unbind(0)};
    std::vector<at::Tensor> ins{in};
    auto w = guarded("all_gather", [&] { return pg_->allgather(outs, ins); });
    return work(w, "all_gather", [out, in, outs] { return out; });
  }

  WorkPtr gather(const at::Tensor& t, int dst) override {
    at::Tensor in = t.contiguous();
    std::vector<at::Tensor> ins{in};
    std::vector<std::vector<at::Tensor>> outs;
    at::Tensor out;
    if (rank() == dst) {
      out = at::empty(stackedShape(in), in.options());
      outs.push_back(out.unbind(0));
    }
    c10d::GatherOptions o;
    o.rootRank = dst;
    auto w = guarded("gather", [&] { return pg_->gather(outs, ins, o); });
    return work(w, "gather", [out, in, outs] { return out; });
  }

  WorkPtr scatter(const at::Tensor& t, int src) override {
    at::Tensor in = t.contiguous();
    checkSplit("scatter", in);
    at::Tensor out = at::empty(chunkShape(in), in.options());
    std::vector<at::Tensor> outs{out};
    std::vector<std::vector<at::Tensor>> ins;
    if (rank() == src) ins.push_back(in.chunk(size(), 0));
    c10d::ScatterOptions o;
    o.rootRank = src;
    auto w = guarded("scatter", [&] { return pg_->scatter(outs, ins, o); });
    return work(w, "scatter", [out, in, ins] { return out; });
  }

  WorkPtr reduceScatter(const at::Tensor& t, ReduceOp op) override {
    // Composed: after alltoall_base, block j holds rank j's chunk `rank`; a
    // local reduction over the blocks gives chunk `rank` of the reduction.
    at::Tensor in = t.contiguous();
    checkSplit("reduce_scatter", in);
    at::Tensor out = at::empty_like(in);
    std::vector<int64_t> splits;  // empty: equal splits
    auto w = guarded("reduce_scatter", [&] { return pg_->alltoall_base(out, in, splits, splits); });
    int n = size();
    std::vector<int64_t> blocks = chunkShape(in);
    blocks.insert(blocks.begin(), n);
    return work(w, "reduce_scatter", [out, in, blocks, op] { return reduceDim0(out.view(blocks), op); });
  }

  WorkPtr allToAll(const at::Tensor& t) override {
    at::Tensor in = t.contiguous();
    checkSplit("all_to_all", in);
    at::Tensor out = at::empty_like(in);
    std::vector<int64_t> splits;
    auto w = guarded("all_to_all", [&] { return pg_->alltoall_base(out, in, splits, splits); });
    return work(w, "all_to_all", [out, in] { return out; });
  }

  WorkPtr send(const at::Tensor& t, int dst, int tag) override {
    at::Tensor in = t.contiguous();
    std::vector<at::Tensor> v{in};
    auto w = guarded("send", [&] { return pg_->send(v, dst, tag); });
    return p2p(std::make_shared<C10dWork>(w, "send", timeout_, nullptr, !nccl()));
  }

  WorkPtr recv(at::Tensor t, int src, int tag) override {
    std::vector<at::Tensor> v{t};
    auto w = guarded("recv", [&] { return pg_->recv(v, src, tag); });
    return p2p(std::make_shared<C10dWork>(w, "recv", timeout_, [t] { return t; }, !nccl()));
  }

  ~C10dCommunicator() override {
    // Pending sends/receives would otherwise hold the group until the timeout.
    for (auto& weak : p2p_)
      if (auto w = weak.lock()) w->abort();
  }

  WorkPtr barrier() override {
    c10d::BarrierOptions o;
    auto w = guarded("barrier", [&] { return pg_->barrier(o); });
    return work(w, "barrier", nullptr);
  }


 private:
  bool nccl() const { return backend_ == "nccl"; }

  WorkPtr p2p(std::shared_ptr<C10dWork> w) {
    // Remember pending point-to-point works (dropping finished ones).
    p2p_.erase(std::remove_if(p2p_.begin(), p2p_.end(), [](auto& x) { return x.expired(); }), p2p_.end());
    p2p_.push_back(w);
    return w;
  }

  WorkPtr work(compat::C10dWorkPtr w, const char* op, std::function<at::Tensor()> then) {
    return std::make_shared<C10dWork>(std::move(w), op, timeout_, std::move(then), false);
  }

  // Runs an in-place op on t (through a contiguous buffer when t is not),
  // finishing with mean's division and the copy back.
  template <class F>
  WorkPtr inPlace(const char* op, at::Tensor t, F&& start, bool mean) {
    at::Tensor buf = t.is_contiguous() ? t : t.contiguous();
    auto w = guarded(op, [&] { return start(buf); });
    int64_t n = size();
    return work(w, op, [t, buf, mean, n]() mutable {
      if (mean) divideInPlace(buf, n);
      if (!buf.is_same(t)) t.copy_(buf);
      return t;
    });
  }

  std::vector<int64_t> stackedShape(const at::Tensor& t) const {
    std::vector<int64_t> s = t.sizes().vec();
    s.insert(s.begin(), size());
    return s;
  }
  std::vector<int64_t> chunkShape(const at::Tensor& t) const {
    std::vector<int64_t> s = t.sizes().vec();
    s[0] /= size();
    return s;
  }
  void checkSplit(const char* op, const at::Tensor& t) const {
    if (t.dim() == 0 || t.size(0) % size() != 0)
      fail(std::string(op) + " needs dim 0 divisible by the group size " + std::to_string(size()) +
               ", got shape [" + c10::Join(" ", t.sizes()) + "]",
           {"DIST", "SHAPE", op});
  }

  compat::PgPtr pg_;
  std::string backend_;
  std::vector<int> ranks_;
  ms timeout_;
  std::vector<std::weak_ptr<C10dWork>> p2p_;
};

// ---- per-interpreter state -------------------------------------------------

static void exitHandler(ClientData cd);

namespace {
struct DistState {
  State* owner = nullptr;
  DistOptions opts;
  std::string backend;
  c10::intrusive_ptr<c10d::Store> store;
  std::shared_ptr<C10dCommunicator> world;
  // Named subgroups; nullptr where this rank is not a member.
  std::map<std::string, std::shared_ptr<C10dCommunicator>> groups;
  int groupCounter = 0;
  ~DistState() {
    if (owner) Tcl_DeleteExitHandler(exitHandler, owner);
    // Subgroups first: they share the store with the default group.
    groups.clear();
    world.reset();
    store.reset();
  }
};
}  // namespace

static DistState* dist(State& st) {
  auto it = st.ext.find("dist");
  return it == st.ext.end() ? nullptr : static_cast<DistState*>(it->second.get());
}

bool distInitialized(State& st) { return dist(st) != nullptr; }
const DistOptions* distOptions(State& st) {
  DistState* d = dist(st);
  return d ? &d->opts : nullptr;
}

CommPtr communicator(State& st, const std::string& group) {
  static const CommPtr local = std::make_shared<LocalCommunicator>();
  DistState* d = dist(st);
  if (!d) return local;
  if (!group.empty()) {
    auto it = d->groups.find(group);
    if (it != d->groups.end()) {
      if (!it->second)
        fail("rank " + std::to_string(d->opts.rank) + " is not a member of group \"" + group + "\"",
             {"DIST", "NOTMEMBER", group});
      return it->second;
    }
  }
  return d->world;
}

static bool isLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

static compat::PgPtr makeGloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                              const DistOptions& o) {
  auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
  // GLOO_SOCKET_IFNAME picks the interface, as in torch.distributed; on one
  // machine the loopback device avoids depending on the hostname resolving.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else if (isLoopback(o.masterAddr) || size == 1)
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  opts->threads = 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
}

// One process group (default or subgroup) on `store`, wrapped for -debug.
static compat::PgPtr makeGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                               const std::string& backend, const DistOptions& o) {
  compat::PgPtr pg;
  if (backend == "nccl") {
#ifdef TCLTORCH_WITH_NCCL
    pg = makeNcclGroup(c10::make_intrusive<c10d::PrefixStore>("nccl", store), rank, size, o.timeout,
                       o.localRank);
#else
    fail("backend nccl needs a CUDA build of libtorch (this build is CPU only; use -backend gloo)",
         {"DIST", "BACKEND", "nccl"});
#endif
  } else {
    pg = makeGloo(c10::make_intrusive<c10d::PrefixStore>("gloo", store), rank, size, o);
  }
  if (o.debug) {
    // c10d's ProcessGroupWrapper checks, on a helper Gloo group, that every
    // rank calls the same collective with the same shapes and dtypes.
    auto helper = c10::static_intrusive_pointer_cast<c10d::ProcessGroupGloo>(
        makeGloo(c10::make_intrusive<c10d::PrefixStore>("wrapper", store), rank, size, o));
    pg = c10::make_intrusive<c10d::ProcessGroupWrapper>(pg, helper);
  }
  return pg;
}

CommPtr makeGlooCommunicator(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, ms timeout) {
  DistOptions o;
  o.timeout = timeout;
  std::vector<int> all(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) all[size_t(i)] = i;
  return std::make_shared<C10dCommunicator>(makeGroup(store, rank, size, "gloo", o), "gloo", all, timeout);
}

static void exitHandler(ClientData cd) {
  // Tcl's exit does not delete interpreters: shut the groups down here so
  // that no c10d thread outlives the process's static destructors.
  distDestroy(*static_cast<State*>(cd));
}

std::string distInit(State& st, const DistOptions& o) {
  if (dist(st))
    fail("distributed already initialized (call torch::distributed_destroy first)",
         {"DIST", "INITIALIZED"});
  if (o.worldSize < 1) fail("world_size must be at least 1", {"DIST", "CONFIG", "world_size"});
  if (o.rank < 0 || o.rank >= o.worldSize)
    fail("rank " + std::to_string(o.rank) + " is outside the world of " + std::to_string(o.worldSize),
         {"DIST", "CONFIG", "rank"});
  std::string backend = o.backend;
  if (backend == "auto") {
#ifdef TCLTORCH_WITH_NCCL
    backend = torch::cuda::is_available() ? "nccl" : "gloo";
#else
    backend = "gloo";
#endif
  }
  auto d = std::make_shared<DistState>();
  d->opts = o;
  d->opts.backend = backend;
  d->backend = backend;
  guarded("distributed_init", [&] {
    c10::intrusive_ptr<c10d::Store> store;
    if (o.initMethod.rfind("file://", 0) == 0) {
      store = c10::make_intrusive<c10d::FileStore>(o.initMethod.substr(7), o.worldSize);
    } else if (o.worldSize == 1) {
      store = c10::make_intrusive<c10d::HashStore>();  // no network for a world of one
    } else {
      c10d::TCPStoreOptions so;
      so.port = uint16_t(o.masterPort);
      so.isServer = o.rank == 0;
      so.numWorkers = size_t(o.worldSize);
      so.waitWorkers = true;
      so.timeout = o.timeout;
      store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
    }
    store->setTimeout(o.timeout);
    d->store = store;
    std::vector<int> all(size_t(o.worldSize));
    for (int i = 0; i < o.worldSize; ++i) all[size_t(i)] = i;
    auto pg = makeGroup(c10::make_intrusive<c10d::PrefixStore>("default", store), o.rank,
                        o.worldSize, backend, o);
    d->world = std::make_shared<C10dCommunicator>(pg, backend, all, o.timeout);
  }, o.worldSize == 1 || o.initMethod.rfind("file://", 0) == 0
         ? std::string()
         : " (rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) + ", rendezvous at " +
               o.masterAddr + ":" + std::to_string(o.masterPort) + ", timeout " +
               std::to_string(o.timeout.count() / 1000.0).substr(0, 5) + " s)");
  st.ext["dist"] = d;
  d->owner = &st;
  Tcl_CreateExitHandler(exitHandler, &st);
  return backend;
}

void distDestroy(State& st) {
  auto it = st.ext.find("dist");
  if (it == st.ext.end()) return;
  auto keep = it->second;  // destroyed after it left the map
  st.ext.erase(it);
}

std::string distNewGroup(State& st, const std::vector<int>& ranks, std::string name) {
  DistState* d = dist(st);
  if (!d) fail("distributed_new_group needs torch::distributed_init first", {"DIST", "NOTINIT"});
  if (ranks.empty()) fail("Invalid -ranks parameter. Must be a non-empty list of ranks.", {"ARGS", "TYPE", "ranks"});
  std::vector<int> seen;
  for (int r : ranks) {
    if (r < 0 || r >= d->opts.worldSize)
      fail("Invalid -ranks parameter: rank " + std::to_string(r) + " is outside the world of " +
               std::to_string(d->opts.worldSize), {"DIST", "RANK", "ranks"});
    if (std::find(seen.begin(), seen.end(), r) != seen.end())
      fail("Invalid -ranks parameter: rank " + std::to_string(r) + " appears twice", {"DIST", "RANK", "ranks"});
    seen.push_back(r);
  }
  // Every rank calls this in the same order, so the counter names the same
  // rendezvous prefix everywhere, whatever the user's name.
  int id = ++d->groupCounter;
  if (name.empty()) name = "group" + std::to_string(id);
  if (d->groups.count(name)) fail("group \"" + name + "\" already exists", {"DIST", "GROUP", name});
  auto pos = std::find(ranks.begin(), ranks.end(), d->opts.rank);
  std::shared_ptr<C10dCommunicator> comm;
  if (pos != ranks.end()) {
    int grank = int(pos - ranks.begin());
    guarded("distributed_new_group", [&] {
      auto store = c10::make_intrusive<c10d::PrefixStore>("group" + std::to_string(id), d->store);
      auto pg = makeGroup(store, grank, int(ranks.size()), d->backend, d->opts);
      comm = std::make_shared<C10dCommunicator>(pg, d->backend, ranks, d->opts.timeout);
    });
  }
  d->groups[name] = comm;
  return name;
}

}  // namespace tcltorch
