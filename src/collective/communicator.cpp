// The collective module: C10dCommunicator on a c10d process group (Gloo for
// CPU tensors, NCCL for CUDA tensors in CUDA builds), the per-interpreter
// distributed state (default group + named subgroups) and communicator().
// Nothing here moves bytes itself: TCPStore does the rendezvous, the process
// group does every transfer.
#include "tcltorch/collective.h"
#include "tcltorch/shm_exchange.h"
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupWrapper.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <array>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>

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

// ---- call site -------------------------------------------------------------

static thread_local Tcl_Interp* callSiteInterp = nullptr;
// Counts commands that opened a scope: a flight entry made in the command
// still running can have its call site filled in late (on a failure).
static thread_local uint64_t callSiteSerial = 0;

CallSiteScope::CallSiteScope(Tcl_Interp* interp) : prev_(callSiteInterp) {
  callSiteInterp = interp;
  ++callSiteSerial;
}
CallSiteScope::~CallSiteScope() { callSiteInterp = prev_; }

std::string currentCallSite() {
  Tcl_Interp* interp = callSiteInterp;
  if (!interp) return "";
  // The frame of the command being run (the one below this script's own
  // frame): "file.tcl:LINE" when it comes from a file (procs defined in a
  // file keep their file and line, TIP 280); otherwise its line in the
  // evaluated script and the nearest enclosing file location.
  static thread_local Tcl_Obj* script = [] {
    Tcl_Obj* o = Tcl_NewStringObj(
        "::apply {{} {#tcltorch-callsite\n"
        "for {set i [info frame]} {$i > 1} {incr i -1} {\n"
        "  if {[string first #tcltorch-[set m callsite] [dict get [info frame $i] cmd]] >= 0} break}\n"
        "set f [info frame [incr i -1]]\n"
        "if {[dict exists $f file]} {return [file tail [dict get $f file]]:[dict get $f line]}\n"
        "set here \"line [dict get $f line] of a script\"\n"
        "for {incr i -1} {$i > 0} {incr i -1} {set f [info frame $i]\n"
        "  if {[dict exists $f file]} {return \"$here run at [file tail [dict get $f file]]:[dict get $f line]\"}}\n"
        "return $here}}", -1);
    Tcl_IncrRefCount(o);
    return o;
  }();
  Tcl_InterpState saved = Tcl_SaveInterpState(interp, TCL_OK);
  std::string r;
  if (Tcl_EvalObjEx(interp, script, 0) == TCL_OK) r = Tcl_GetString(Tcl_GetObjResult(interp));
  Tcl_RestoreInterpState(interp, saved);
  return r;
}

// ---- flight recorder -------------------------------------------------------

using SysClock = std::chrono::system_clock;

static std::string clockText(SysClock::time_point t) {
  std::time_t tt = SysClock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  auto msPart = std::chrono::duration_cast<ms>(t.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03d", buf, int(msPart));
  return out;
}

namespace {
struct FlightEntry {
  uint64_t seq = 0;
  uint64_t serial = callSiteSerial;  // the command that started it
  std::string group, op, what, callSite;
  std::string state = "started";  // started, completed, failed
  std::string error;
  SysClock::time_point start, end;
};

// The last N collectives of this rank (all groups), for dumps.
class FlightRecorder {
 public:
  FlightRecorder(int rank, int size, size_t cap) : rank_(rank), size_(size), cap_(cap) {}
  std::shared_ptr<FlightEntry> add(uint64_t seq, std::string group, std::string op, std::string what,
                                   std::string site) {
    auto e = std::make_shared<FlightEntry>();
    e->seq = seq;
    e->group = std::move(group);
    e->op = std::move(op);
    e->what = std::move(what);
    e->callSite = std::move(site);
    e->start = SysClock::now();
    std::lock_guard<std::mutex> lock(m_);
    if (cap_ == 0) return e;
    ring_.push_back(e);
    while (ring_.size() > cap_) ring_.pop_front();
    return e;
  }
  static void finish(const std::shared_ptr<FlightEntry>& e, const char* state, const std::string& error = "") {
    if (!e || e->state != "started") return;
    e->state = state;
    e->error = error;
    e->end = SysClock::now();
  }
  // Writes the dump; returns the path ("" when it could not be written).
  std::string dump(std::string path, const std::string& reason) {
    if (path.empty()) {
      const char* dir = std::getenv("TCLTORCH_DEBUG_DIR");
      if (!dir || !*dir) dir = std::getenv("TMPDIR");
      if (!dir || !*dir) dir = "/tmp";
      path = std::string(dir) + "/tcltorch-flight-rank" + std::to_string(rank_) + "-" +
             std::to_string(::getpid()) + ".txt";
    }
    std::ofstream f(path);
    if (!f) return "";
    std::lock_guard<std::mutex> lock(m_);
    f << "tcltorch flight recorder: rank " << rank_ << " of " << size_ << ", pid " << ::getpid() << ", written "
      << clockText(SysClock::now()) << (reason.empty() ? "" : " (" + reason + ")") << "\n";
    f << "last " << ring_.size() << " collective(s), oldest first:\n";
    f << "seq\tgroup\top\ttensor\tstate\tstart\tms\tcall site\terror\n";
    for (auto& e : ring_) {
      std::string dur = "-";
      if (e->state != "started") {
        char b[32];
        std::snprintf(b, sizeof b, "%.3f",
                      std::chrono::duration<double, std::milli>(e->end - e->start).count());
        dur = b;
      }
      f << e->seq << "\t" << e->group << "\t" << e->op << "\t" << e->what << "\t" << e->state << "\t"
        << clockText(e->start) << "\t" << dur << "\t" << (e->callSite.empty() ? "?" : e->callSite) << "\t"
        << e->error << "\n";
    }
    return f ? path : "";
  }

 private:
  int rank_, size_;
  size_t cap_;
  std::mutex m_;
  std::deque<std::shared_ptr<FlightEntry>> ring_;
};
using RecorderPtr = std::shared_ptr<FlightRecorder>;
}  // namespace

// A DIST TIMEOUT/ERROR/DESYNC of a recorded collective: mark it, write the
// recorder, and point the message to the file.
static Error recordFailure(const RecorderPtr& rec, const std::shared_ptr<FlightEntry>& e, const Error& err) {
  // Still inside the command that started it: its call site is known.
  if (e && e->callSite.empty() && e->serial == callSiteSerial && callSiteInterp) e->callSite = currentCallSite();
  FlightRecorder::finish(e, "failed", err.what());
  if (!rec || err.code.size() < 2 || err.code[0] != "DIST" ||
      (err.code[1] != "TIMEOUT" && err.code[1] != "ERROR" && err.code[1] != "DESYNC"))
    return err;
  std::string path = rec->dump("", std::string(err.what()).substr(0, 200));
  if (path.empty()) return err;
  return Error(std::string(err.what()) + " (flight recorder: " + path + ")", err.code);
}

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
    // A little grace over the group's own timeout, so that c10d's message
    // (which names the cause) normally wins the race.
    ms t = timeout.count() > 0 ? timeout : timeout_ + ms(5000);
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

// ---- desync check ----------------------------------------------------------

// Operation codes of the fingerprint (an index into this table).
static const char* const kOpNames[] = {"all_reduce", "broadcast", "reduce", "all_gather", "gather",
                                       "scatter", "reduce_scatter", "all_to_all", "barrier", "send", "recv"};
static const char* const kReduceNames[] = {"sum", "mean", "max", "min", "product"};
constexpr int kFpDims = 10;
constexpr int kFp = 7 + kFpDims;  // seq, op, dtype, root, reduction, ndim, dims, numel

static int opCode(const char* op) {
  for (int i = 0; i < int(sizeof kOpNames / sizeof *kOpNames); ++i)
    if (std::strcmp(kOpNames[i], op) == 0) return i;
  return -1;
}

// "all_reduce float32 [4] sum", from a fingerprint row.
static std::string describeRow(const int64_t* f) {
  std::string s = f[1] >= 0 && f[1] < int64_t(sizeof kOpNames / sizeof *kOpNames) ? kOpNames[f[1]] : "?";
  if (f[2] >= 0) {
    s += std::string(" ") + dtypeName(static_cast<at::ScalarType>(f[2])) + " [";
    int64_t nd = f[5];
    for (int64_t i = 0; i < nd && i < kFpDims; ++i) s += (i ? " " : "") + std::to_string(f[6 + i]);
    if (nd > kFpDims) s += " ...";
    s += "]";
  }
  if (f[3] >= 0) s += " root " + std::to_string(f[3]);
  if (f[4] >= 0 && f[4] < 5) s += std::string(" ") + kReduceNames[f[4]];
  return s;
}

// Where Gloo binds: GLOO_SOCKET_IFNAME wins; a loopback master (or a world of
// one) means loopback; otherwise the local address the kernel would use to
// reach the master, so that every host needs no configuration.
static bool isLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

static std::string localAddressTowards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) return "";
  std::string r;
  int fd = ::socket(res->ai_family, SOCK_DGRAM, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char buf[NI_MAXHOST];
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 &&
        ::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0)
      r = buf;
  }
  if (fd >= 0) ::close(fd);
  freeaddrinfo(res);
  return r;
}

std::string interfaceTowards(const std::string& host, int port) {
  std::string local = isLoopback(host) ? "127.0.0.1" : localAddressTowards(host, port);
  if (local.empty()) return "";
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return "";
  std::string name;
  for (ifaddrs* i = all; i && name.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
    char buf[NI_MAXHOST];
    socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (::getnameinfo(i->ifa_addr, len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0 && local == buf)
      name = i->ifa_name;
  }
  freeifaddrs(all);
  return name;
}

static std::shared_ptr<::gloo::transport::Device> glooDevice(const DistOptions& o, int size) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    if (*ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (isLoopback(o.masterAddr) || size == 1) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  std::string local = localAddressTowards(o.masterAddr, o.masterPort);
  if (!local.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(local);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// A process group plus what the communicator needs next to it.
namespace {
struct Group {
  compat::PgPtr pg;
  // The desync check's exchange: shared memory when every rank is on this
  // host; otherwise all-gathers on the group itself (Gloo) or on a helper
  // Gloo group next to NCCL. Both null when the check is off or the group
  // has one rank.
  std::shared_ptr<ShmExchange> shm;
  compat::PgPtr fingerprints;
  c10::intrusive_ptr<c10d::Store> store;          // the group's store (mismatch details)
  bool callSites = false;                         // record every call site (-debug 1)
};
}  // namespace

namespace {
class C10dCommunicator : public Communicator, public std::enable_shared_from_this<C10dCommunicator> {
 public:
  C10dCommunicator(Group g, std::string backend, std::vector<int> globalRanks, ms timeout,
                   RecorderPtr rec = nullptr, std::string name = "default")
      : pg_(std::move(g.pg)), backend_(std::move(backend)), ranks_(std::move(globalRanks)),
        timeout_(timeout), shm_(std::move(g.shm)), fp_(std::move(g.fingerprints)), store_(std::move(g.store)), rec_(std::move(rec)),
        name_(std::move(name)), callSites_(g.callSites) {
    if (!rec_) rec_ = std::make_shared<FlightRecorder>(pg_->getRank(), pg_->getSize(), 64);
  }

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
    begin("all_reduce", &t, -1, int(op));
    return inPlace("all_reduce", t, [&](at::Tensor& b) {
      std::vector<at::Tensor> v{b};
      c10d::AllreduceOptions o;
      o.reduceOp = toC10d(op);
      return pg_->allreduce(v, o);
    }, op == ReduceOp::Mean);
  }

  WorkPtr broadcast(at::Tensor t, int root) override {
    begin("broadcast", &t, root, -1);
    return inPlace("broadcast", t, [&](at::Tensor& b) {
      std::vector<at::Tensor> v{b};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      return pg_->broadcast(v, o);
    }, false);
  }

  WorkPtr reduce(at::Tensor t, int dst, ReduceOp op) override {
    begin("reduce", &t, dst, int(op));
    if (rank() != dst) {
      // Others keep their t: the backend may use its buffer as scratch.
      at::Tensor scratch = t.clone(at::MemoryFormat::Contiguous);
      std::vector<at::Tensor> v{scratch};
      c10d::ReduceOptions o;
      o.reduceOp = toC10d(op);
      o.rootRank = dst;
      auto w = issue("reduce", [&] { return pg_->reduce(v, o); });
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
    begin("all_gather", &t, -1, -1);
    at::Tensor in = t.contiguous();
    at::Tensor out = at::empty(stackedShape(in), in.options());
    std::vector<std::vector<at::Tensor>> outs{out.unbind(0)};
    std::vector<at::Tensor> ins{in};
    auto w = issue("all_gather", [&] { return pg_->allgather(outs, ins); });
    return work(w, "all_gather", [out, in, outs] { return out; });
  }

  WorkPtr gather(const at::Tensor& t, int dst) override {
    begin("gather", &t, dst, -1);
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
    auto w = issue("gather", [&] { return pg_->gather(outs, ins, o); });
    return work(w, "gather", [out, in, outs] { return out; });
  }

  WorkPtr scatter(const at::Tensor& t, int src) override {
    at::Tensor in = t.contiguous();
    checkSplit("scatter", in);
    // Every rank's output is a chunk of its own tensor's shape: all must agree.
    begin("scatter", &in, src, -1);
    at::Tensor out = at::empty(chunkShape(in), in.options());
    std::vector<at::Tensor> outs{out};
    std::vector<std::vector<at::Tensor>> ins;
    if (rank() == src) ins.push_back(in.chunk(size(), 0));
    c10d::ScatterOptions o;
    o.rootRank = src;
    auto w = issue("scatter", [&] { return pg_->scatter(outs, ins, o); });
    return work(w, "scatter", [out, in, ins] { return out; });
  }

  WorkPtr reduceScatter(const at::Tensor& t, ReduceOp op) override {
    // Composed: after alltoall_base, block j holds rank j's chunk `rank`; a
    // local reduction over the blocks gives chunk `rank` of the reduction.
    at::Tensor in = t.contiguous();
    checkSplit("reduce_scatter", in);
    begin("reduce_scatter", &in, -1, int(op));
    at::Tensor out = at::empty_like(in);
    std::vector<int64_t> splits;  // empty: equal splits
    auto w = issue("reduce_scatter", [&] { return pg_->alltoall_base(out, in, splits, splits); });
    int n = size();
    std::vector<int64_t> blocks = chunkShape(in);
    blocks.insert(blocks.begin(), n);
    return work(w, "reduce_scatter", [out, in, blocks, op] { return reduceDim0(out.view(blocks), op); });
  }

  WorkPtr allToAll(const at::Tensor& t) override {
    at::Tensor in = t.contiguous();
    checkSplit("all_to_all", in);
    begin("all_to_all", &in, -1, -1);
    at::Tensor out = at::empty_like(in);
    std::vector<int64_t> splits;
    auto w = issue("all_to_all", [&] { return pg_->alltoall_base(out, in, splits, splits); });
    return work(w, "all_to_all", [out, in] { return out; });
  }

  WorkPtr send(const at::Tensor& t, int dst, int tag) override {
    begin("send", &t, dst, -1, false);
    at::Tensor in = t.contiguous();
    std::vector<at::Tensor> v{in};
    auto w = issue("send", [&] { return pg_->send(v, dst, tag); });
    return p2p(std::make_shared<C10dWork>(w, "send", timeout_, nullptr, !nccl(), rec_, pending_));
  }

  WorkPtr recv(at::Tensor t, int src, int tag) override {
    begin("recv", &t, src, -1, false);
    std::vector<at::Tensor> v{t};
    auto w = issue("recv", [&] { return pg_->recv(v, src, tag); });
    return p2p(std::make_shared<C10dWork>(w, "recv", timeout_, [t] { return t; }, !nccl(), rec_, pending_));
  }

  ~C10dCommunicator() override {
    // Pending sends/receives would otherwise hold the group until the timeout.
    for (auto& weak : p2p_)
      if (auto w = weak.lock()) w->abort();
  }

  WorkPtr barrier() override {
    begin("barrier", nullptr, -1, -1);
    c10d::BarrierOptions o;
    auto w = issue("barrier", [&] { return pg_->barrier(o); });
    return work(w, "barrier", nullptr);
  }


 private:
  bool nccl() const { return backend_ == "nccl"; }

  // Starts the flight-recorder entry of a collective and, unless off, runs
  // the desync check on its fingerprint (call number, op, dtype, shape,
  // root, reduction, size).
  //
  // Ranks on one host (shared memory): the first rank to reach a call makes
  // its fingerprint the call's; the others compare theirs with it and go on
  // at once, so the check never holds data back. A rank that differs first
  // completes the call as the first rank made it, with a scratch tensor (no
  // rank then waits for it, nor receives more bytes than it posted, which
  // Gloo punishes by ending the process), then fails naming every side; the
  // ranks that matched compare all fingerprints when their work completes
  // (finish()) and fail the same way. The call's tensors then hold
  // undefined values, and the group goes on.
  //
  // Otherwise (ranks on several hosts, or NCCL) every rank all-gathers the
  // fingerprints before any data moves.
  void begin(const char* op, const at::Tensor* t, int root, int reduce, bool check = true) {
    if (replaying_) return;  // a scratch completion is part of the failing call
    toVerify_ = {};           // a call that failed before its work was made
    uint64_t seq = ++seq_;
    std::array<int64_t, kFp> f{};
    f[1] = opCode(op);
    f[2] = t ? int64_t(t->scalar_type()) : -1;
    f[3] = root;
    f[4] = reduce;
    if (t) {
      f[5] = t->dim();
      for (int64_t i = 0; i < t->dim(); ++i) {
        if (i < kFpDims - 1 || t->dim() == kFpDims) f[6 + i] = t->size(i);
        else f[6 + kFpDims - 1] = f[6 + kFpDims - 1] * 1000003 + t->size(i);  // the rest, folded
      }
      f[kFp - 1] = t->numel();
    }
    // The call site costs an `info frame` walk (~5-15 us): taken for every
    // collective only under -debug 1, otherwise only when a call fails.
    std::string site = callSites_ ? currentCallSite() : std::string();
    std::string what = describeRow(f.data());
    what = what.size() > std::strlen(op) ? what.substr(std::strlen(op) + 1) : "";
    pending_ = rec_->add(seq, name_, op, what, site);
    if (!check || (!shm_ && !fp_) || size() < 2) return;
    uint64_t call = ++checkSeq_;
    f[0] = int64_t(call);
    std::string context = " (waiting for every rank to start call " + std::to_string(call) + ")";
    if (shm_ && !nccl()) {
      // Resolved on every way out: later calls of the others wait for it.
      struct Resolve {
        ShmExchange& x;
        uint64_t call;
        ~Resolve() { x.resolve(call); }
      } resolve{*shm_, call};
      std::array<int64_t, kFp> lead{};
      issue(op, [&] {
        shm_->publish(call, f.data(), timeout_);
        shm_->first(call, f.data(), lead.data(), timeout_);
      }, context);
      if (lead == f) {
        toVerify_ = Fingerprint{call, f};
        return;
      }
      issue(op, [&] {
        replay(lead.data());
        // Every rank published the call before it took part in it.
        std::vector<int64_t> all(size_t(kFp) * size_t(size()));
        shm_->gather(call, all.data(), timeout_);
        shm_->recordMismatch(call, all.data());
        shm_->resolve(call);  // before the call sites are swapped in the store
        compare(op, call, f, site, all);  // throws: this rank differs
      }, context);
      return;
    }
    issue(op, [&] {
      std::vector<int64_t> all(size_t(kFp) * size_t(size()));
      if (shm_) {
        shm_->exchange(call, f.data(), all.data(), timeout_);
      } else {
        at::Tensor in = at::from_blob(f.data(), {kFp}, at::kLong).clone();
        at::Tensor out = at::empty({size(), kFp}, at::kLong);
        std::vector<std::vector<at::Tensor>> outs{out.unbind(0)};
        std::vector<at::Tensor> ins{in};
        fp_->allgather(outs, ins)->wait(timeout_);
        std::memcpy(all.data(), out.data_ptr(), all.size() * sizeof(int64_t));
      }
      compare(op, call, f, site, all);
    }, context);
  }

  struct Fingerprint {
    uint64_t call = 0;
    std::array<int64_t, kFp> row{};
  };


  // After the data of `call` moved: whether a rank recorded it as differing
  // (shared memory).
  void verify(const char* op, uint64_t call, const std::array<int64_t, kFp>& f, const std::string& site) {
    std::vector<int64_t> all(size_t(kFp) * size_t(size()));
    bool differed = guarded(op, [&] { return shm_->mismatch(call, all.data(), timeout_); },
                            " (waiting for every rank to check call " + std::to_string(call) + ")");
    if (differed) compare(op, call, f, site, all);
  }

  // Throws the mismatch, if any (its call site: the command running now).
  void compare(const char* op, uint64_t call, const std::array<int64_t, kFp>& f, std::string site,
               const std::vector<int64_t>& all) {
    bool same = true;
    for (int r = 0; r < size() && same; ++r)
      same = std::equal(f.begin(), f.end(), all.begin() + ptrdiff_t(r) * kFp);
    if (same) return;
    if (site.empty()) site = currentCallSite();
    throw mismatch(op, call, site, all);
  }

  // Completes a call as the fingerprint `row` describes it, on a scratch
  // tensor of its dtype and size (flat: Gloo sees only bytes).
  void replay(const int64_t* row) {
    replaying_ = true;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{replaying_};
    at::Tensor t;
    if (row[2] >= 0) t = at::zeros({row[kFp - 1]}, at::TensorOptions(static_cast<at::ScalarType>(row[2])));
    int root = int(row[3]);
    auto rop = static_cast<ReduceOp>(row[4] >= 0 ? row[4] : 0);
    WorkPtr w;
    switch (row[1]) {
      case 0: w = allReduce(t, rop); break;
      case 1: w = broadcast(t, root); break;
      case 2: w = reduce(t, root, rop); break;
      case 3: w = allGather(t); break;
      case 4: w = gather(t, root); break;
      case 5: w = scatter(t, root); break;
      case 6: w = reduceScatter(t, rop); break;
      case 7: w = allToAll(t); break;
      case 8: w = barrier(); break;
      default: return;
    }
    w->wait(timeout_);
  }

  // Names every distinct side: "rank 0: all_reduce float32 [4] at a.tcl:12;
  // rank 1: ...". Call sites travel through the store (only on a mismatch).
  Error mismatch(const char* op, uint64_t seq, const std::string& site, const std::vector<int64_t>& all) {
    auto row = [&](int r) { return all.data() + ptrdiff_t(r) * kFp; };
    std::string key = "desync/" + std::to_string(seq) + "/";
    std::string mine = site.empty() ? "" : " at " + site;
    try {
      store_->set(key + std::to_string(rank()), std::vector<uint8_t>(mine.begin(), mine.end()));
    } catch (...) {}
    bool seqsDiffer = false;
    for (int r = 1; r < size(); ++r) seqsDiffer |= row(r)[0] != row(0)[0];
    std::vector<bool> said(size_t(size()), false);
    std::string sides;
    for (int r = 0; r < size(); ++r) {
      if (said[size_t(r)]) continue;
      std::vector<int> same;
      for (int q = r; q < size(); ++q)
        if (std::equal(row(r), row(r) + kFp, row(q))) {
          same.push_back(q);
          said[size_t(q)] = true;
        }
      std::string where;
      if (same.front() == rank()) {
        where = mine;
      } else {
        try {
          std::string k = key + std::to_string(same.front());
          store_->wait({k}, ms(5000));
          auto v = store_->get(k);
          where.assign(v.begin(), v.end());
        } catch (...) {}
      }
      std::string who = same.size() == 1 ? "rank " : "ranks ";
      for (size_t i = 0; i < same.size(); ++i)
        who += (i ? " " : "") + std::to_string(ranks_[size_t(same[i])]);
      sides += (sides.empty() ? "" : "; ") + who + ": " + describeRow(row(r)) +
               (seqsDiffer ? " (call " + std::to_string(row(r)[0]) + ")" : "") + where;
    }
    return Error("collective mismatch in group \"" + name_ + "\" at call " + std::to_string(seq) + ": " + sides,
                 {"DIST", "DESYNC", op});
  }

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

  WorkPtr p2p(std::shared_ptr<C10dWork> w) {
    // Remember pending point-to-point works (dropping finished ones).
    p2p_.erase(std::remove_if(p2p_.begin(), p2p_.end(), [](auto& x) { return x.expired(); }), p2p_.end());
    p2p_.push_back(w);
    return w;
  }

  WorkPtr work(compat::C10dWorkPtr w, const char* op, std::function<at::Tensor()> then) {
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

  // Runs an in-place op on t (through a contiguous buffer when t is not),
  // finishing with mean's division and the copy back.
  template <class F>
  WorkPtr inPlace(const char* op, at::Tensor t, F&& start, bool mean) {
    at::Tensor buf = t.is_contiguous() ? t : t.contiguous();
    auto w = issue(op, [&] { return start(buf); });
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
  Fingerprint toVerify_;    // begin()'s call, checked when its work completes

 public:
  const RecorderPtr& recorder() const { return rec_; }
};
}  // namespace

// ---- per-interpreter state -------------------------------------------------

static void exitHandler(ClientData cd);

namespace {
struct DistState {
  State* owner = nullptr;
  DistOptions opts;
  std::string backend;
  c10::intrusive_ptr<c10d::Store> store;
  RecorderPtr recorder;
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
  if (!d) return local;  // the world of one: any name, as the seeds show
  if (group.empty()) return d->world;
  auto it = d->groups.find(group);
  if (it == d->groups.end()) {
    std::string known;
    for (auto& [n, c] : d->groups) known += (known.empty() ? "" : ", ") + n;
    fail("unknown process group \"" + group + "\" (" +
             (known.empty() ? std::string("no group was made with torch::distributed_new_group")
                            : "groups: " + known) + "; \"\" is the default group)",
         {"DIST", "GROUP", group});
  }
  if (!it->second)
    fail("rank " + std::to_string(d->opts.rank) + " is not a member of group \"" + group + "\"",
         {"DIST", "NOTMEMBER", group});
  return it->second;
}

int checkRank(const Communicator& c, int64_t r, const std::string& param, bool anyInWorldOfOne) {
  std::vector<int> members = c.globalRanks();
  bool lenient = anyInWorldOfOne && c.backend() == "local";
  int g = -1;
  if (r >= 0 && r <= INT32_MAX) {
    if (lenient) g = c.groupRank(int(r));
    else if (std::find(members.begin(), members.end(), int(r)) != members.end()) g = c.groupRank(int(r));
  }
  if (g < 0) {
    std::string ranks;
    for (int x : members) ranks += (ranks.empty() ? "" : " ") + std::to_string(x);
    fail("Invalid -" + param + " parameter: rank " + std::to_string(r) + " is not in the group (ranks " + ranks + ")",
         {"DIST", "RANK", param});
  }
  return g;
}

std::string distDebugDump(State& st, const std::string& path) {
  DistState* d = dist(st);
  if (!d) return "";
  std::string p = d->recorder->dump(path, "distributed_debug_dump");
  if (p.empty()) fail("distributed_debug_dump: cannot write \"" + path + "\"", {"DIST", "DUMP"});
  return p;
}

static compat::PgPtr makeGloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                              const DistOptions& o) {
  auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
  opts->devices.push_back(glooDevice(o, size));
  opts->threads = 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
}

// One process group (default or subgroup) on `store`, wrapped for -debug,
// with its desync-check context.
static Group makeGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                       const std::string& backend, const DistOptions& o) {
  Group g;
  g.store = store;
  g.callSites = o.debug;
  if (backend == "nccl") {
#ifdef TCLTORCH_WITH_NCCL
    // NCCL's bootstrap, like Gloo, picks its own interface; the one that
    // routes to the master is the one every host can use ("=" matches it
    // exactly). NCCL_SOCKET_IFNAME still wins.
    if (!std::getenv("NCCL_SOCKET_IFNAME") && size > 1) {
      std::string ifname = interfaceTowards(o.masterAddr, o.masterPort);
      if (!ifname.empty()) setenv("NCCL_SOCKET_IFNAME", ("=" + ifname).c_str(), 0);
    }
    g.pg = makeNcclGroup(c10::make_intrusive<c10d::PrefixStore>("nccl", store), rank, size, o.timeout,
                         o.localRank);
#else
    fail("backend nccl needs a CUDA build of libtorch (this build is CPU only; use -backend gloo)",
         {"DIST", "BACKEND", "nccl"});
#endif
  } else {
    g.pg = makeGloo(c10::make_intrusive<c10d::PrefixStore>("gloo", store), rank, size, o);
  }
  if (o.debug) {
    // c10d's ProcessGroupWrapper checks, on a helper Gloo group, that every
    // rank calls the same collective with the same shapes and dtypes.
    auto helper = c10::static_intrusive_pointer_cast<c10d::ProcessGroupGloo>(
        makeGloo(c10::make_intrusive<c10d::PrefixStore>("wrapper", store), rank, size, o));
    g.pg = c10::make_intrusive<c10d::ProcessGroupWrapper>(g.pg, helper);
  }
  if (o.desyncCheck && size > 1) {
    // Shared memory where every rank is on this host: no network round trip
    // per call. Otherwise on the group itself: the fingerprints take the path
    // the data takes (measured faster than a Gloo context of their own, whose
    // extra threads cost more wake-ups). NCCL needs a CPU group beside it.
    g.shm = ShmExchange::open(*store, rank, size, kFp, o.desyncShm);
    if (!g.shm)
      g.fingerprints = backend == "nccl"
                           ? makeGloo(c10::make_intrusive<c10d::PrefixStore>("desync", store), rank, size, o)
                           : g.pg;
  }
  return g;
}

CommPtr makeGlooCommunicator(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, ms timeout) {
  DistOptions o;
  o.timeout = timeout;
  std::vector<int> all(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) all[size_t(i)] = i;
  return std::make_shared<C10dCommunicator>(makeGroup(store, rank, size, "gloo", o), "gloo", all, timeout);
}

// A rank with the check and a rank without it would pair a fingerprint with
// data (and Gloo would kill one of them): every rank compares its setting
// with rank 0's, rank 0 with everyone's, once, through the store.
static void agreeOnDesyncCheck(c10d::Store& store, int rank, int size, bool check) {
  auto key = [](const char* what, int r) { return std::string("tcltorch/desync_check/") + what + std::to_string(r); };
  auto text = [](const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); };
  std::string mine = check ? "1" : "0";
  std::string verdict = "ok";
  if (rank == 0) {
    // Rank 0 compares everyone's setting with its own and says the verdict;
    // it serves the store, so it leaves only once everyone has read it.
    for (int r = 1; r < size && verdict == "ok"; ++r) {
      std::string theirs = text(store.get(key("", r)));
      if (theirs != mine)
        verdict = "-desync_check differs between ranks: rank 0 has " + mine + ", rank " + std::to_string(r) +
                  " has " + theirs + " (set it alike everywhere, or TCLTORCH_DESYNC_CHECK)";
    }
    store.set(key("verdict", 0), std::vector<uint8_t>(verdict.begin(), verdict.end()));
    std::vector<std::string> all;
    for (int r = 1; r < size; ++r) all.push_back(key("read", r));
    store.wait(all);
  } else {
    store.set(key("", rank), std::vector<uint8_t>(mine.begin(), mine.end()));
    verdict = text(store.get(key("verdict", 0)));
    store.set(key("read", rank), std::vector<uint8_t>{1});
  }
  if (verdict != "ok") fail(verdict, {"DIST", "CONFIG", "desync_check"});
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
  d->recorder = std::make_shared<FlightRecorder>(o.rank, o.worldSize, o.flightRecorder);
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
      store = compat::makeTcpStore(o.masterAddr, so);
    }
    store->setTimeout(o.timeout);
    d->store = store;
    std::vector<int> all(size_t(o.worldSize));
    for (int i = 0; i < o.worldSize; ++i) all[size_t(i)] = i;
    // makeGroup's check set-up relies on the ranks agreeing.
    if (o.worldSize > 1) agreeOnDesyncCheck(*store, o.rank, o.worldSize, o.desyncCheck);
    auto g = makeGroup(c10::make_intrusive<c10d::PrefixStore>("default", store), o.rank, o.worldSize, backend, o);
    d->world = std::make_shared<C10dCommunicator>(g, backend, all, o.timeout, d->recorder, "default");
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

std::string distNewGroup(State& st, const std::vector<int>& ranks, std::string name,
                         std::optional<bool> desyncCheck) {
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
      DistOptions o = d->opts;
      if (desyncCheck) o.desyncCheck = *desyncCheck;
      if (ranks.size() > 1) agreeOnDesyncCheck(*store, grank, int(ranks.size()), o.desyncCheck);
      auto g = makeGroup(store, grank, int(ranks.size()), d->backend, o);
      comm = std::make_shared<C10dCommunicator>(g, d->backend, ranks, d->opts.timeout, d->recorder, name);
    });
  }
  d->groups[name] = comm;
  return name;
}

}  // namespace tcltorch
