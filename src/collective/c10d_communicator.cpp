// The c10d communicator's collectives (c10d.h): each one starts its flight
// entry and desync check (begin(), desync.cpp), issues the c10d call, and
// hands back a C10dWork. Nothing here moves bytes itself: the process group
// does every transfer.
#include "c10d.h"
#include <algorithm>
#include <future>

namespace tcltorch {

// A little grace over the group's own timeout when waiting on a work, so that
// c10d's message (which names the cause) normally wins the race.
constexpr ms kWaitGrace{5000};

// ---- work ------------------------------------------------------------------

// A pending c10d operation. `then` runs once, on completion, and gives the
// result (a composed op's local step, or the output tensor itself).
class C10dWork : public Work {
 public:
  C10dWork(compat::C10dWorkPtr w, std::string op, ms timeout, std::function<at::Tensor()> then,
           bool pollThread, RecorderPtr rec = nullptr, std::shared_ptr<FlightEntry> entry = nullptr,
           std::function<void()> verify = nullptr)
      : w_(std::move(w)), op_(std::move(op)), timeout_(timeout), then_(std::move(then)),
        rec_(std::move(rec)), entry_(std::move(entry)), verify_(std::move(verify)) {
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
    bool complete = recorded([&] {
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
    ms t = timeout.count() > 0 ? timeout : timeout_ + kWaitGrace;
    recorded([&] {
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
  template <class F>
  auto recorded(F&& f) -> decltype(f()) {
    try {
      return guarded(op_, f);
    } catch (const Error& e) {
      throw recordFailure(rec_, entry_, e);
    }
  }
  void finish() {
    if (poll_.valid()) recorded([&] { poll_.get(); });
    if (verify_) recorded(verify_);  // the desync check, after the data moved
    FlightRecorder::finish(entry_, "completed");
    r_ = then_ ? then_() : at::Tensor();
    done_ = true;
  }
  compat::C10dWorkPtr w_;
  std::string op_;
  ms timeout_;
  std::function<at::Tensor()> then_;
  RecorderPtr rec_;
  std::shared_ptr<FlightEntry> entry_;
  std::function<void()> verify_;
  std::future<void> poll_;
  at::Tensor r_;
  bool done_ = false;
};

// ---- reductions --------------------------------------------------------------

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

// ---- the communicator --------------------------------------------------------

// Runs an in-place op on t (through a contiguous buffer when t is not),
// finishing with mean's division and the copy back.
template <class F>
WorkPtr C10dCommunicator::inPlace(const char* op, at::Tensor t, F&& start, bool mean) {
  at::Tensor buf = t.is_contiguous() ? t : t.contiguous();
  auto w = issue(op, [&] { return start(buf); });
  int64_t n = size();
  return work(w, op, [t, buf, mean, n]() mutable {
    if (mean) divideInPlace(buf, n);
    if (!buf.is_same(t)) t.copy_(buf);
    return t;
  });
}

C10dCommunicator::C10dCommunicator(Group g, std::string backend, std::vector<int> globalRanks, ms timeout,
                                   RecorderPtr rec, std::string name)
    : pg_(std::move(g.pg)), backend_(std::move(backend)), ranks_(std::move(globalRanks)), timeout_(timeout),
      shm_(std::move(g.shm)), fp_(std::move(g.fingerprints)), store_(std::move(g.store)), rec_(std::move(rec)),
      name_(std::move(name)), callSites_(g.callSites) {
  if (!rec_) rec_ = std::make_shared<FlightRecorder>(pg_->getRank(), pg_->getSize(), kFlightRecorderSize);
}

C10dCommunicator::~C10dCommunicator() {
  // Pending sends/receives would otherwise hold the group until the timeout.
  for (auto& weak : p2p_)
    if (auto w = weak.lock()) w->abort();
}

int C10dCommunicator::groupRank(int g) const {
  for (size_t i = 0; i < ranks_.size(); ++i)
    if (ranks_[i] == g) return int(i);
  return -1;
}

Capabilities C10dCommunicator::capabilities() const {
  Capabilities c;
  const char* meanWord = reduceOpName(ReduceOp::Mean);
  const char* reduceScatterWord = opName(CollectiveOp::ReduceScatter);
  if (nccl()) {
    c.composed = {{meanWord, "sum, then divide by the group size"},
                  {reduceScatterWord, "alltoall_base, then a local reduction"}};
  } else {
    // Gloo in this libtorch has neither reduce_scatter nor AVG.
    c.composed = {{meanWord, "sum, then divide by the group size"},
                  {reduceScatterWord, "alltoall_base (each rank moves (N-1)/N of the tensor), "
                                      "then a local reduction"}};
  }
  // Native: every op and reduction that is not composed.
  auto composed = [&](const char* n) {
    for (auto& entry : c.composed)
      if (entry.first == n) return true;
    return false;
  };
  for (CollectiveOp op : kCollectiveOps)
    if (!composed(opName(op))) c.native.push_back(opName(op));
  for (auto& w : kReduceOps)
    if (!composed(w.name)) c.native.push_back(w.name);
  return c;
}

WorkPtr C10dCommunicator::allReduce(at::Tensor t, ReduceOp op) {
  const char* name = begin(CollectiveOp::AllReduce, &t, -1, int(op));
  return inPlace(name, t, [&](at::Tensor& b) {
    std::vector<at::Tensor> v{b};
    c10d::AllreduceOptions o;
    o.reduceOp = toC10d(op);
    return pg_->allreduce(v, o);
  }, op == ReduceOp::Mean);
}

WorkPtr C10dCommunicator::broadcast(at::Tensor t, int root) {
  const char* name = begin(CollectiveOp::Broadcast, &t, root, -1);
  return inPlace(name, t, [&](at::Tensor& b) {
    std::vector<at::Tensor> v{b};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    return pg_->broadcast(v, o);
  }, false);
}

WorkPtr C10dCommunicator::reduce(at::Tensor t, int dst, ReduceOp op) {
  const char* name = begin(CollectiveOp::Reduce, &t, dst, int(op));
  if (rank() != dst) {
    // Others keep their t: the backend may use its buffer as scratch.
    at::Tensor scratch = t.clone(at::MemoryFormat::Contiguous);
    std::vector<at::Tensor> v{scratch};
    c10d::ReduceOptions o;
    o.reduceOp = toC10d(op);
    o.rootRank = dst;
    auto w = issue(name, [&] { return pg_->reduce(v, o); });
    return work(w, name, [t, scratch] { return t; });
  }
  return inPlace(name, t, [&](at::Tensor& b) {
    std::vector<at::Tensor> v{b};
    c10d::ReduceOptions o;
    o.reduceOp = toC10d(op);
    o.rootRank = dst;
    return pg_->reduce(v, o);
  }, op == ReduceOp::Mean);
}

WorkPtr C10dCommunicator::allGather(const at::Tensor& t) {
  const char* name = begin(CollectiveOp::AllGather, &t, -1, -1);
  at::Tensor in = t.contiguous();
  at::Tensor out = at::empty(stackedShape(in), in.options());
  std::vector<std::vector<at::Tensor>> outs{out.unbind(0)};
  std::vector<at::Tensor> ins{in};
  auto w = issue(name, [&] { return pg_->allgather(outs, ins); });
  return work(w, name, [out, in, outs] { return out; });
}

WorkPtr C10dCommunicator::gather(const at::Tensor& t, int dst) {
  const char* name = begin(CollectiveOp::Gather, &t, dst, -1);
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
  auto w = issue(name, [&] { return pg_->gather(outs, ins, o); });
  return work(w, name, [out, in, outs] { return out; });
}

WorkPtr C10dCommunicator::scatter(const at::Tensor& t, int src) {
  const char* name = opName(CollectiveOp::Scatter);
  at::Tensor in = t.contiguous();
  checkSplit(name, in);
  // Every rank's output is a chunk of its own tensor's shape: all must agree.
  begin(CollectiveOp::Scatter, &in, src, -1);
  at::Tensor out = at::empty(chunkShape(in), in.options());
  std::vector<at::Tensor> outs{out};
  std::vector<std::vector<at::Tensor>> ins;
  if (rank() == src) ins.push_back(in.chunk(size(), 0));
  c10d::ScatterOptions o;
  o.rootRank = src;
  auto w = issue(name, [&] { return pg_->scatter(outs, ins, o); });
  return work(w, name, [out, in, ins] { return out; });
}

WorkPtr C10dCommunicator::reduceScatter(const at::Tensor& t, ReduceOp op) {
  // Composed: after alltoall_base, block j holds rank j's chunk `rank`; a
  // local reduction over the blocks gives chunk `rank` of the reduction.
  const char* name = opName(CollectiveOp::ReduceScatter);
  at::Tensor in = t.contiguous();
  checkSplit(name, in);
  begin(CollectiveOp::ReduceScatter, &in, -1, int(op));
  at::Tensor out = at::empty_like(in);
  std::vector<int64_t> splits;  // empty: equal splits
  auto w = issue(name, [&] { return pg_->alltoall_base(out, in, splits, splits); });
  int n = size();
  std::vector<int64_t> blocks = chunkShape(in);
  blocks.insert(blocks.begin(), n);
  return work(w, name, [out, in, blocks, op] { return reduceDim0(out.view(blocks), op); });
}

WorkPtr C10dCommunicator::allToAll(const at::Tensor& t) {
  const char* name = opName(CollectiveOp::AllToAll);
  at::Tensor in = t.contiguous();
  checkSplit(name, in);
  begin(CollectiveOp::AllToAll, &in, -1, -1);
  at::Tensor out = at::empty_like(in);
  std::vector<int64_t> splits;
  auto w = issue(name, [&] { return pg_->alltoall_base(out, in, splits, splits); });
  return work(w, name, [out, in] { return out; });
}

WorkPtr C10dCommunicator::send(const at::Tensor& t, int dst, int tag) {
  const char* name = begin(CollectiveOp::Send, &t, dst, -1, false);
  at::Tensor in = t.contiguous();
  std::vector<at::Tensor> v{in};
  auto w = issue(name, [&] { return pg_->send(v, dst, tag); });
  return p2p(std::make_shared<C10dWork>(w, name, timeout_, nullptr, !nccl(), rec_, pending_));
}

WorkPtr C10dCommunicator::recv(at::Tensor t, int src, int tag) {
  const char* name = begin(CollectiveOp::Recv, &t, src, -1, false);
  std::vector<at::Tensor> v{t};
  auto w = issue(name, [&] { return pg_->recv(v, src, tag); });
  return p2p(std::make_shared<C10dWork>(w, name, timeout_, [t] { return t; }, !nccl(), rec_, pending_));
}

WorkPtr C10dCommunicator::barrier() {
  const char* name = begin(CollectiveOp::Barrier, nullptr, -1, -1);
  c10d::BarrierOptions o;
  auto w = issue(name, [&] { return pg_->barrier(o); });
  return work(w, name, nullptr);
}

WorkPtr C10dCommunicator::p2p(std::shared_ptr<C10dWork> w) {
  // Remember pending point-to-point works (dropping finished ones).
  p2p_.erase(std::remove_if(p2p_.begin(), p2p_.end(), [](auto& x) { return x.expired(); }), p2p_.end());
  p2p_.push_back(w);
  return w;
}

WorkPtr C10dCommunicator::work(compat::C10dWorkPtr w, const char* op, std::function<at::Tensor()> then) {
  std::function<void()> check;
  if (toVerify_.call) {
    std::weak_ptr<C10dCommunicator> self = weak_from_this();
    check = [self, op, fp = toVerify_, site = std::string()] {
      if (auto c = self.lock()) c->verify(op, fp.call, fp.row, site);
    };
    toVerify_ = {};
  }
  return std::make_shared<C10dWork>(std::move(w), op, timeout_, std::move(then), false, rec_, pending_,
                                    std::move(check));
}

std::vector<int64_t> C10dCommunicator::stackedShape(const at::Tensor& t) const {
  std::vector<int64_t> s = t.sizes().vec();
  s.insert(s.begin(), size());
  return s;
}
std::vector<int64_t> C10dCommunicator::chunkShape(const at::Tensor& t) const {
  std::vector<int64_t> s = t.sizes().vec();
  s[0] /= size();
  return s;
}
void C10dCommunicator::checkSplit(const char* op, const at::Tensor& t) const {
  if (t.dim() == 0 || t.size(0) % size() != 0)
    fail(std::string(op) + " needs dim 0 divisible by the group size " + std::to_string(size()) +
             ", got shape [" + c10::Join(" ", t.sizes()) + "]",
         {"DIST", "SHAPE", op});
}

}  // namespace tcltorch
