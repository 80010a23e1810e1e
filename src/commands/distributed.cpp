// Distributed commands: process group lifetime, collectives, point to point,
// work handles, groups. Every collective goes through one helper
// (collective()): check the tensor, pick the group, validate ranks, call the
// Communicator, then wait or hand back a work handle.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/dist_options.h"
#include "tcltorch/tensor_util.h"
#include <list>

namespace tcltorch {

using ms = std::chrono::milliseconds;

// ---- work handles ----------------------------------------------------------

// What a workN handle owns: the operation plus how to name its result.
namespace {
struct PendingWork : Work {
  WorkPtr w;
  std::string inputHandle;  // in-place: the result is this handle
  std::string resultName;   // set by the first wait, so waits agree
  PendingWork(WorkPtr w_, std::string h) : w(std::move(w_)), inputHandle(std::move(h)) {}
  bool test() override { return w->test(); }
  void wait(ms t) override { w->wait(t); }
  at::Tensor result() override { return w->result(); }
};
}  // namespace

// The result of a finished work as a Tcl value: the input handle (in place),
// a new handle, or empty (send, barrier, gather off dst).
static Tcl_Obj* resultObj(State& st, PendingWork& p) {
  if (!p.resultName.empty() && st.reg.find(p.resultName.data(), p.resultName.size()))
    return newString(p.resultName);
  at::Tensor r = p.result();
  if (!r.defined()) return nullptr;
  // In place: the input's handle, unless it was freed meanwhile.
  bool inputLive = !p.inputHandle.empty() && st.reg.find(p.inputHandle.data(), p.inputHandle.size());
  p.resultName = inputLive ? p.inputHandle : st.reg.add(r);
  return newString(p.resultName);
}
static Tcl_Obj* resultObj(Call& c, PendingWork& p) { return resultObj(c.st, p); }

// ---- -command: completion from the event loop --------------------------------

// Works started with -command, polled by a timer handler only while some are
// pending. Owned by the interpreter's State: deleting the interpreter deletes
// the timer, so no callback runs afterwards.
namespace {
class Completions {
 public:
  explicit Completions(State& st) : st_(st) {}
  ~Completions() {
    if (timer_) Tcl_DeleteTimerHandler(timer_);
    for (auto& e : pending_) {
      Tcl_DecrRefCount(e.script);
      Tcl_DecrRefCount(e.handle);
    }
  }
  void add(std::shared_ptr<PendingWork> w, Tcl_Obj* script, Tcl_Obj* handle) {
    Tcl_IncrRefCount(script);
    Tcl_IncrRefCount(handle);
    pending_.push_back({std::move(w), script, handle});
    arm();
  }

 private:
  struct Entry {
    std::shared_ptr<PendingWork> work;
    Tcl_Obj* script;
    Tcl_Obj* handle;
  };
  void arm() {
    if (!timer_ && !pending_.empty()) timer_ = Tcl_CreateTimerHandler(1, tick, this);
  }
  static void tick(ClientData cd) {
    auto* self = static_cast<Completions*>(cd);
    self->timer_ = nullptr;
    self->poll();
  }
  void poll() {
    // Finished works leave the list before any script runs (a script may
    // start new works, or delete the interpreter).
    std::vector<std::pair<Entry, Tcl_Obj*>> ready;  // entry, "ok"/"error" + value
    for (auto it = pending_.begin(); it != pending_.end();) {
      Tcl_Obj* outcome = nullptr;
      try {
        if (it->work->test()) {
          Tcl_Obj* r = resultObj(st_, *it->work);
          outcome = Tcl_NewListObj(0, nullptr);
          Tcl_ListObjAppendElement(nullptr, outcome, newString("ok"));
          Tcl_ListObjAppendElement(nullptr, outcome, r ? r : Tcl_NewObj());
        }
      } catch (const std::exception& e) {
        outcome = Tcl_NewListObj(0, nullptr);
        Tcl_ListObjAppendElement(nullptr, outcome, newString("error"));
        Tcl_ListObjAppendElement(nullptr, outcome, newString(e.what()));
      }
      if (outcome) {
        ready.push_back({*it, outcome});
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    Tcl_Interp* interp = st_.interp;
    Tcl_Preserve(interp);
    arm();  // before the scripts: `this` may be gone once one of them ran
    for (auto& [e, outcome] : ready) {
      Tcl_Obj* cmd = Tcl_DuplicateObj(e.script);
      Tcl_IncrRefCount(cmd);
      Tcl_ListObjAppendElement(nullptr, cmd, e.handle);
      Tcl_ListObjAppendList(nullptr, cmd, outcome);
      Tcl_DecrRefCount(e.script);
      Tcl_DecrRefCount(e.handle);
      if (!Tcl_InterpDeleted(interp)) {
        int code = Tcl_EvalObjEx(interp, cmd, TCL_EVAL_GLOBAL);
        if (code != TCL_OK) Tcl_BackgroundException(interp, code);
      }
      Tcl_DecrRefCount(cmd);
    }
    Tcl_Release(interp);
  }
  State& st_;
  std::list<Entry> pending_;
  Tcl_TimerToken timer_ = nullptr;
};
}  // namespace

static Completions& completions(State& st) {
  auto& slot = st.ext["dist_completions"];
  if (!slot) slot = std::make_shared<Completions>(st);
  return *static_cast<Completions*>(slot.get());
}

// How the caller takes a work's result: -async 1 or a -command script (rows
// that have them) return a work handle; otherwise the command waits.
namespace {
struct Deferral {
  bool async = false;
  Tcl_Obj* command = nullptr;  // the -command script
  bool deferred() const { return async || command; }
};
}  // namespace
template <class A>
static Deferral deferral(Call& c, const A& a) {
  return {c.boolean(a.async), c.obj(a.command)};
}

// `input`: the input tensor's word, when the result is written into it.
static Tcl_Obj* finishWork(Call& c, WorkPtr w, const Deferral& how, Tcl_Obj* input = nullptr) {
  auto p = std::make_shared<PendingWork>(std::move(w), input ? Tcl_GetString(input) : "");
  if (how.deferred()) {
    Tcl_Obj* handle = c.result(Kind::Work, p);
    if (how.command) completions(c.st).add(p, how.command, handle);
    return handle;
  }
  p->wait(ms::zero());
  return resultObj(c, *p);
}

// ---- the parameters ----------------------------------------------------------

static const Param kTensor{"tensor", Type::Tensor, nullptr, "input tensor handle"};
static const Param kGroup{"group", Type::String, "", "group from distributed_new_group (\"\": the default group)"};
static const Param kOp{"op", Type::ReduceOp, "sum", "reduction", "operation"};
static const Param kAsync{"async", Type::Bool, "0", "return a work handle instead of waiting", nullptr, nullptr, true};
static const Param kInplace{"inplace", Type::Bool, "0", "write the result into the input tensor and return its handle",
                            nullptr, nullptr, true};
static const Param kCommand{"command", Type::Script, kOptional,
                            "run this script from the event loop when the work ends, with the work handle, "
                            "ok or error, and the result or message appended (implies -async 1)",
                            nullptr, nullptr, true};
static Param rankParam(const char* name, const char* def, const char* doc, const char* aliases = nullptr) {
  return Param{name, Type::Int, def, doc, aliases}.nonNegative().mustBe("a non-negative rank");
}
static Param secondsParam(const char* doc) {
  return Param{"timeout", Type::Double, kOptional, doc, nullptr, nullptr, true}.positive("a positive number of seconds");
}
static const Param kTag{"tag", Type::Int, "0", "message tag; send and recv pair by (peer, tag)"};

// ---- the one collective pattern --------------------------------------------

int groupRankArg(Call& c, const Communicator& m, const Arg<Type::Int>& rank, bool anyInWorldOfOne) {
  int64_t r = c.integer(rank);
  int g = memberRank(m, r, anyInWorldOfOne);
  const char* name = c.nameOf(rank);
  if (g < 0) fail(std::string("Invalid -") + name + " parameter: " + notMemberReason(m, r), {"DIST", "RANK", name});
  return g;
}

// A rank argument (non-negative: see rankParam): once a process group exists,
// a member of the group (translated to the group's own numbering). A world of
// one without a process group accepts any non-negative rank, as the seeds show.
static int rankArg(Call& c, const Communicator& m, const Arg<Type::Int>& rank) {
  return groupRankArg(c, m, rank, /*anyInWorldOfOne=*/true);
}

// The call site of the command running in `interp` (CallSiteScope's
// provider): the frame of the command being run (the one below this script's
// own frame), "file.tcl:LINE" when it comes from a file (procs defined in a
// file keep their file and line, TIP 280); otherwise its line in the
// evaluated script and the nearest enclosing file location.
static std::string tclCallSite(void* context) {
  auto* interp = static_cast<Tcl_Interp*>(context);
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

enum class Out { InPlace, New };  // does the Communicator op write into its input?

// A work that failed while it was being started (the desync check found a
// mismatch, a peer was gone): with -async or -command the failure belongs to
// the work, so it comes from distributed_wait/test or the -command script.
namespace {
class FailedWork : public Work {
 public:
  explicit FailedWork(Error e) : e_(std::move(e)) {}
  bool test() override { throw e_; }
  void wait(ms) override { throw e_; }
  at::Tensor result() override { return at::Tensor(); }

 private:
  Error e_;
};
}  // namespace

// Starts the op; a failure of the transfer itself (not of the arguments) is
// the work's own when the caller does not wait.
template <class F>
static WorkPtr start(const Deferral& how, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    bool transfer = e.code.size() >= 2 && e.code[0] == "DIST" &&
                    (e.code[1] == "TIMEOUT" || e.code[1] == "ERROR" || e.code[1] == "DESYNC");
    if (!transfer || !how.deferred()) throw;
    return std::make_shared<FailedWork>(e);
  }
}

// One struct per shape of collective row: the tensor, the op's own
// parameters, then group, async, inplace and command.
namespace {
struct CollectiveArgs : Args {  // all_gather, all_to_all
  Arg<Type::Tensor> tensor{this, kTensor};
  Arg<Type::String> group{this, kGroup};
  Arg<Type::Bool> async{this, kAsync};
  Arg<Type::Bool> inplace{this, kInplace};
  Arg<Type::Script> command{this, kCommand};
};
struct OpCollectiveArgs : Args {  // all_reduce, reduce_scatter
  Arg<Type::Tensor> tensor{this, kTensor};
  Arg<Type::ReduceOp> op{this, kOp};
  Arg<Type::String> group{this, kGroup};
  Arg<Type::Bool> async{this, kAsync};
  Arg<Type::Bool> inplace{this, kInplace};
  Arg<Type::Script> command{this, kCommand};
};
struct RankCollectiveArgs : Args {  // broadcast (root), gather (dst), scatter (src)
  Arg<Type::Tensor> tensor{this, kTensor};
  Arg<Type::Int> rank;
  Arg<Type::String> group{this, kGroup};
  Arg<Type::Bool> async{this, kAsync};
  Arg<Type::Bool> inplace{this, kInplace};
  Arg<Type::Script> command{this, kCommand};
  explicit RankCollectiveArgs(const Param& r) : rank{this, r} {}
};
struct ReduceArgs : Args {
  Arg<Type::Tensor> tensor{this, kTensor};
  Arg<Type::Int> dst{this, rankParam("dst", "0", "rank that receives the reduction")};
  Arg<Type::ReduceOp> op{this, kOp};
  Arg<Type::String> group{this, kGroup};
  Arg<Type::Bool> async{this, kAsync};
  Arg<Type::Bool> inplace{this, kInplace};
  Arg<Type::Script> command{this, kCommand};
};
struct BarrierArgs : Args {
  Arg<Type::String> group{this, kGroup};
  Arg<Type::Bool> async{this, kAsync};
  Arg<Type::Script> command{this, kCommand};
};
}  // namespace

template <class A, class F>
static Tcl_Obj* collective(Call& c, const A& a, CollectiveOp k, Out out, F&& run) {
  const char* op = opName(k);
  CallSiteScope site(tclCallSite, c.interp);
  at::Tensor t = c.tensor(a.tensor);
  CommPtr comm = communicator(c.st, c.str(a.group));
  bool inplace = c.boolean(a.inplace);
  Deferral how = deferral(c, a);
  WorkPtr w;
  if (out == Out::InPlace) {
    // By default the input stays unchanged: the op runs on a copy.
    w = start(how, [&] { return run(*comm, inplace ? t : t.clone()); });
  } else {
    w = start(how, [&] { return run(*comm, t); });
    if (inplace)
      w = std::make_shared<ThenWork>(w, [t, op](at::Tensor r) mutable {
        if (!r.defined() || r.sizes() != t.sizes())
          fail(std::string("-inplace 1: the result of ") + op + " does not have the input's shape [" +
                   c10::Join(" ", t.sizes()) + "]",
               {"DIST", "INPLACE", op});
        t.copy_(r);
        return t;
      });
  }
  return finishWork(c, w, how, inplace ? c.obj(a.tensor) : nullptr);
}

static Tcl_Obj* cmdAllReduce(Call& c, const OpCollectiveArgs& a) {
  return collective(c, a, CollectiveOp::AllReduce, Out::InPlace,
                    [&](Communicator& m, at::Tensor t) { return m.allReduce(t, c.op(a.op)); });
}
static Tcl_Obj* cmdBroadcast(Call& c, const RankCollectiveArgs& a) {
  return collective(c, a, CollectiveOp::Broadcast, Out::InPlace,
                    [&](Communicator& m, at::Tensor t) { return m.broadcast(t, rankArg(c, m, a.rank)); });
}
static Tcl_Obj* cmdReduce(Call& c, const ReduceArgs& a) {
  return collective(c, a, CollectiveOp::Reduce, Out::InPlace, [&](Communicator& m, at::Tensor t) {
    return m.reduce(t, rankArg(c, m, a.dst), c.op(a.op));
  });
}
static Tcl_Obj* cmdAllGather(Call& c, const CollectiveArgs& a) {
  return collective(c, a, CollectiveOp::AllGather, Out::New,
                    [&](Communicator& m, at::Tensor t) { return m.allGather(t); });
}
static Tcl_Obj* cmdGather(Call& c, const RankCollectiveArgs& a) {
  return collective(c, a, CollectiveOp::Gather, Out::New,
                    [&](Communicator& m, at::Tensor t) { return m.gather(t, rankArg(c, m, a.rank)); });
}
static Tcl_Obj* cmdScatter(Call& c, const RankCollectiveArgs& a) {
  return collective(c, a, CollectiveOp::Scatter, Out::New,
                    [&](Communicator& m, at::Tensor t) { return m.scatter(t, rankArg(c, m, a.rank)); });
}
static Tcl_Obj* cmdReduceScatter(Call& c, const OpCollectiveArgs& a) {
  return collective(c, a, CollectiveOp::ReduceScatter, Out::New,
                    [&](Communicator& m, at::Tensor t) { return m.reduceScatter(t, c.op(a.op)); });
}
static Tcl_Obj* cmdAllToAll(Call& c, const CollectiveArgs& a) {
  return collective(c, a, CollectiveOp::AllToAll, Out::New,
                    [&](Communicator& m, at::Tensor t) { return m.allToAll(t); });
}
static Tcl_Obj* cmdBarrier(Call& c, const BarrierArgs& a) {
  CallSiteScope site(tclCallSite, c.interp);
  CommPtr comm = communicator(c.st, c.str(a.group));
  Deferral how = deferral(c, a);
  return finishWork(c, start(how, [&] { return comm->barrier(); }), how);
}

// ---- point to point (default group, global ranks) ---------------------------

static int peerArg(Call& c, const Communicator& m, const Arg<Type::Int>& peer) {
  int r = rankArg(c, m, peer);
  const char* name = c.nameOf(peer);
  if (m.size() > 1 && r == m.rank())
    fail(std::string("Invalid -") + name + " parameter: rank " + std::to_string(r) +
             " is this process's own rank", {"DIST", "RANK", name});
  return r;
}

// send and recv wait; isend and irecv are the same rows plus -async (always
// 1) and -command.
namespace {
struct SendArgs : Args {
  Arg<Type::Tensor> tensor{this, kTensor};
  Arg<Type::Int> dst{this, rankParam("dst", nullptr, "destination rank")};
  Arg<Type::Int> tag{this, kTag};
};
struct IsendArgs : SendArgs {
  Arg<Type::Bool> async{this, {"async", Type::Bool, "1", "always 1: isend returns a work handle", nullptr, nullptr, true}};
  Arg<Type::Script> command{this, kCommand};
};
struct RecvArgs : Args {
  Arg<Type::IntList> shape{this, {"shape", Type::IntList, nullptr, "shape of the incoming tensor"}};
  Arg<Type::Int> src{this, rankParam("src", nullptr, "source rank")};
  Arg<Type::Int> tag{this, kTag};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
};
struct IrecvArgs : RecvArgs {
  Arg<Type::Bool> async{this, {"async", Type::Bool, "1", "always 1: irecv returns a work handle", nullptr, nullptr, true}};
  Arg<Type::Script> command{this, kCommand};
};
}  // namespace

static Tcl_Obj* sendTo(Call& c, const SendArgs& a, const Deferral& how) {
  CallSiteScope site(tclCallSite, c.interp);
  at::Tensor t = c.tensor(a.tensor);
  CommPtr m = communicator(c.st);
  return finishWork(c, m->send(t, peerArg(c, *m, a.dst), int(c.integer(a.tag))), how);
}
static Tcl_Obj* cmdSend(Call& c, const SendArgs& a) { return sendTo(c, a, {}); }
static Tcl_Obj* cmdIsend(Call& c, const IsendArgs& a) { return sendTo(c, a, deferral(c, a)); }

static Tcl_Obj* recvFrom(Call& c, const RecvArgs& a, const Deferral& how) {
  CallSiteScope site(tclCallSite, c.interp);
  CommPtr m = communicator(c.st);
  int src = peerArg(c, *m, a.src);
  at::Tensor t = at::empty(c.ints(a.shape), applyOptions(c, at::TensorOptions(), a.dtype, a.device));
  return finishWork(c, m->recv(t, src, int(c.integer(a.tag))), how);
}
static Tcl_Obj* cmdRecv(Call& c, const RecvArgs& a) { return recvFrom(c, a, {}); }
static Tcl_Obj* cmdIrecv(Call& c, const IrecvArgs& a) { return recvFrom(c, a, deferral(c, a)); }

namespace {
const Param kWork{"work", Type::Work, nullptr, "work handle", "handle"};
struct WorkArgs : Args {
  Arg<Type::Work> work{this, kWork};
};
struct WaitArgs : Args {
  Arg<Type::Work> work{this, kWork};
  Arg<Type::Double> timeout{this, secondsParam("seconds (default: the group's timeout)")};
};
}  // namespace

static std::shared_ptr<PendingWork> workArg(Call& c, const Arg<Type::Work>& work) {
  auto w = std::dynamic_pointer_cast<PendingWork>(c.objectRaw(work));
  if (!w) fail("Invalid work handle \"" + c.str(work) + "\"", {"HANDLE", c.str(work)});
  return w;
}
static Tcl_Obj* cmdWait(Call& c, const WaitArgs& a) {
  auto w = workArg(c, a.work);
  ms t = ms::zero();
  if (c.has(a.timeout)) t = ms(int64_t(c.number(a.timeout) * 1000));
  w->wait(t);
  return resultObj(c, *w);
}
static Tcl_Obj* cmdTest(Call& c, const WorkArgs& a) { return Tcl_NewBooleanObj(workArg(c, a.work)->test()); }

// ---- lifetime and information ----------------------------------------------

namespace {
struct InitArgs : Args {
  Arg<Type::Int> rank{this, {"rank", Type::Int, kOptional, "this process's rank (RANK)"}};
  Arg<Type::Int> world_size{this, {"world_size", Type::Int, kOptional, "number of processes (WORLD_SIZE)"}};
  Arg<Type::String> master_addr{this, {"master_addr", Type::String, kOptional, "rendezvous host (MASTER_ADDR, default 127.0.0.1)"}};
  Arg<Type::Int> master_port{this, Param{"master_port", Type::Int, kOptional, "rendezvous port (MASTER_PORT, default 29500)"}
                                       .within(1, 65535)
                                       .mustBe("a port between 1 and 65535")};
  Arg<Type::Choice> backend{this, {"backend", Type::Choice, "auto", "gloo, nccl, or auto (nccl with a CUDA build and GPU, else gloo)",
                                   nullptr, "gloo nccl auto"}};
  Arg<Type::Double> timeout{this, secondsParam("seconds for rendezvous and each collective (TCLTORCH_DIST_TIMEOUT, default 300)")};
  Arg<Type::String> init_method{this, {"init_method", Type::String, kOptional, "env:// (default), tcp://host:port or file://path",
                                       nullptr, nullptr, true}};
  Arg<Type::Bool> debug{this, {"debug", Type::Bool, "0",
                               "full checks: c10d ProcessGroupWrapper's collective matching, and every call site in the "
                               "flight recorder (also TORCH_DISTRIBUTED_DEBUG=DETAIL)", nullptr, nullptr, true}};
  Arg<Type::Bool> desync_check{this, {"desync_check", Type::Bool, "1",
                                      "before every collective, ranks compare sequence number, op, dtype and shape and fail "
                                      "together on a mismatch (TCLTORCH_DESYNC_CHECK=0 turns it off)", nullptr, nullptr, true}};
};
}  // namespace

// A BadSetting names its parameter by spelling: `bad NAME ...` against that key.
[[noreturn]] static void badSetting(Call& c, const InitArgs& a, const BadSetting& e) {
  if (e.param == c.nameOf(a.init_method)) c.badValue(a.init_method, e.what);
  if (e.param == c.nameOf(a.master_port)) c.badValue(a.master_port, e.what);
  if (e.param == c.nameOf(a.timeout)) c.badValue(a.timeout, e.what);
  throw std::logic_error("internal: command distributed_init has no parameter " + e.param);
}

// The options as given; resolveDistOptions adds the environment and checks them.
static Tcl_Obj* cmdInit(Call& c, const InitArgs& a) {
  GivenDistOptions g;
  if (c.given(a.rank)) g.rank = c.integer(a.rank);
  if (c.given(a.world_size)) g.worldSize = c.integer(a.world_size);
  if (c.given(a.master_addr)) g.masterAddr = c.str(a.master_addr);
  if (c.given(a.master_port)) g.masterPort = c.integer(a.master_port);
  static const char* const kBackends[] = {"gloo", "nccl", "auto"};
  g.backend = kBackends[c.choice(a.backend)];
  if (c.has(a.init_method)) g.initMethod = c.str(a.init_method);
  if (c.has(a.timeout)) g.timeout = c.number(a.timeout);
  g.debug = c.boolean(a.debug);
  if (c.given(a.desync_check)) g.desyncCheck = c.boolean(a.desync_check);
  DistOptions o;
  try {
    o = resolveDistOptions(g);
  } catch (const BadSetting& e) {
    badSetting(c, a, e);
  }
  std::string backend = distInit(c.st, o);
  return newString("Distributed training initialized: rank=" + std::to_string(o.rank) +
                   ", world_size=" + std::to_string(o.worldSize) + ", backend=" + backend);
}

static Tcl_Obj* cmdDestroy(Call& c) {
  distDestroy(c.st);
  return nullptr;
}
static Tcl_Obj* cmdGetRank(Call& c) { return Tcl_NewIntObj(communicator(c.st)->rank()); }
static Tcl_Obj* cmdGetWorldSize(Call& c) { return Tcl_NewIntObj(communicator(c.st)->size()); }
static Tcl_Obj* cmdIsDistributed(Call& c) { return Tcl_NewBooleanObj(communicator(c.st)->size() > 1); }

namespace {
struct DebugDumpArgs : Args {
  Arg<Type::Path> file{this, {"file", Type::Path, kOptional,
                              "path (default $TCLTORCH_DEBUG_DIR or the temp folder, tcltorch-flight-rank<R>-<pid>.txt)"}};
};
}  // namespace
static Tcl_Obj* cmdDebugDump(Call& c, const DebugDumpArgs& a) {
  if (!distInitialized(c.st))
    fail("distributed_debug_dump needs torch::distributed_init first", {"DIST", "NOTINIT"});
  return newString(distDebugDump(c.st, c.has(a.file) ? c.str(a.file) : ""));
}
static Tcl_Obj* cmdIsInitialized(Call& c) { return Tcl_NewBooleanObj(distInitialized(c.st)); }
static Tcl_Obj* cmdBackend(Call& c) { return newString(communicator(c.st)->backend()); }

static Tcl_Obj* cmdCapabilities(Call& c) {
  CommPtr m = communicator(c.st);
  Capabilities caps = m->capabilities();
  Tcl_Obj* native = Tcl_NewListObj(0, nullptr);
  for (auto& n : caps.native) Tcl_ListObjAppendElement(nullptr, native, newString(n));
  Tcl_Obj* composed = Tcl_NewDictObj();
  for (auto& [op, how] : caps.composed) Tcl_DictObjPut(nullptr, composed, newString(op), newString(how));
  Tcl_Obj* d = Tcl_NewDictObj();
  Tcl_DictObjPut(nullptr, d, newString("backend"), newString(m->backend()));
  Tcl_DictObjPut(nullptr, d, newString("native"), native);
  Tcl_DictObjPut(nullptr, d, newString("composed"), composed);
  return d;
}

namespace {
struct NewGroupArgs : Args {
  Arg<Type::IntList> ranks{this, Param{"ranks", Type::IntList, nullptr, "global ranks of the group, in group order"}
                                     .nonNegative()
                                     .mustBe("a list of non-negative ranks")};
  Arg<Type::String> name{this, {"name", Type::String, kOptional, "group name (default groupN)"}};
  Arg<Type::Bool> desync_check{this, {"desync_check", Type::Bool, kOptional,
                                      "the desync check on this group (default: as distributed_init set it); every member must agree",
                                      nullptr, nullptr, true}};
};
}  // namespace
static Tcl_Obj* cmdNewGroup(Call& c, const NewGroupArgs& a) {
  std::vector<int> ranks;
  for (int64_t r : c.ints(a.ranks)) ranks.push_back(int(r));
  if (const DistOptions* o = distOptions(c.st)) {  // else distNewGroup says it needs distributed_init
    if (ranks.empty()) fail("Invalid -ranks parameter. Must be a non-empty list of ranks.", {"ARGS", "TYPE", "ranks"});
    std::string problem = groupRanksProblem(ranks, o->worldSize);
    if (!problem.empty()) fail("Invalid -ranks parameter: " + problem, {"DIST", "RANK", "ranks"});
  }
  std::optional<bool> check;
  if (c.has(a.desync_check)) check = c.boolean(a.desync_check);
  return newString(distNewGroup(c.st, ranks, c.has(a.name) ? c.str(a.name) : "", check));
}

// ---- the table ---------------------------------------------------------------

std::vector<Command> distributedCommands() {
  return {
      typedRow<cmdInit>("distributed_init",
                        "Create the default process group (c10d TCPStore + Gloo/NCCL); missing values come from "
                        "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK.")
          .markUnsafe(),  // sockets and the environment
      typedRow<cmdDebugDump>("distributed_debug_dump",
                             "Write this rank's flight recorder (its last collectives) to a file; returns the path.")
          .markUnsafe(),  // writes files
      {"distributed_destroy", "Shut the process groups down; commands fall back to the world of one.", {}, cmdDestroy},
      {"get_rank", "This process's rank (0 without a process group).", {}, cmdGetRank},
      {"get_world_size", "Number of processes (1 without a process group).", {}, cmdGetWorldSize},
      {"is_distributed", "1 when a process group of more than one rank exists.", {}, cmdIsDistributed},
      {"distributed_is_initialized", "1 after distributed_init, until distributed_destroy.", {}, cmdIsInitialized},
      {"distributed_backend", "Backend of the default group: gloo, nccl, or local (no process group).", {}, cmdBackend},
      {"distributed_capabilities",
       "Dict: backend, native operations, and composed ones with how they are built.", {}, cmdCapabilities},
      typedRow<cmdBarrier>("distributed_barrier", "Return when every rank of the group has arrived."),
      typedRow<cmdAllReduce>("distributed_all_reduce", "Every rank gets the reduction of all ranks' tensors."),
      typedRow<cmdBroadcast>("distributed_broadcast", "Every rank gets root's tensor.",
                             std::make_shared<const RankCollectiveArgs>(
                                 rankParam("root", "0", "rank whose tensor is sent", "src"))),
      typedRow<cmdReduce>("distributed_reduce", "dst gets the reduction; other ranks get their tensor unchanged."),
      typedRow<cmdAllGather>("distributed_all_gather", "Every rank gets all tensors stacked: shape [N, ...]."),
      typedRow<cmdGather>("distributed_gather", "dst gets all tensors stacked [N, ...]; other ranks get an empty result.",
                          std::make_shared<const RankCollectiveArgs>(rankParam("dst", "0", "rank that receives the stack"))),
      typedRow<cmdScatter>("distributed_scatter", "Each rank gets chunk `rank` (dim 0) of src's tensor.",
                           std::make_shared<const RankCollectiveArgs>(rankParam("src", "0", "rank whose tensor is split"))),
      typedRow<cmdReduceScatter>("distributed_reduce_scatter", "Each rank gets chunk `rank` (dim 0) of the reduction."),
      typedRow<cmdAllToAll>("distributed_all_to_all",
                            "Each rank gets chunk `rank` (dim 0) of every rank's tensor, concatenated in rank order."),
      typedRow<cmdSend>("distributed_send", "Send a tensor to rank dst (blocks until received)."),
      typedRow<cmdRecv>("distributed_recv", "Receive a tensor of the given shape and dtype from rank src."),
      typedRow<cmdIsend>("distributed_isend", "Start sending; returns a work handle."),
      typedRow<cmdIrecv>("distributed_irecv", "Start receiving; returns a work handle whose wait gives the tensor."),
      typedRow<cmdWait>("distributed_wait",
                        "Wait for a work handle; returns its result tensor handle (empty for send, barrier)."),
      typedRow<cmdTest>("distributed_test", "1 when the work has finished (an error if it failed), else 0."),
      typedRow<cmdNewGroup>("distributed_new_group",
                            "Make a subgroup; every rank calls it in the same order. Returns the group name."),
  };
}

}  // namespace tcltorch
