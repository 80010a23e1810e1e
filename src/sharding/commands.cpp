// Sharding commands: thin handlers over the sharding layer (sharding.h).
#include "tcltorch/commands.h"
#include "tcltorch/sharding.h"

namespace tcltorch {

// A tensor handle (whole, the same on every rank) or a shard handle.
static Operand operand(Call& c, const Arg<Type::TensorOrShard>& k) {
  if (auto& o = c.objectRaw(k)) return {at::Tensor(), std::static_pointer_cast<ShardedTensor>(o)};
  return {c.tensor(k), nullptr};
}

static Tcl_Obj* result(Call& c, const Operand& r) {
  return r.sharded() ? c.result(Kind::Shard, r.shard) : c.result(r.whole);
}

// Runs a command's work; a rank that is no member of the group (the mechanism
// says which, by number) is reported against the command's one rank option.
template <class K, class F>
static Tcl_Obj* rankOption(Call& c, const K& option, F&& work) {
  try {
    return work();
  } catch (const RankNotMember& e) {
    const char* name = c.nameOf(option);
    fail(std::string("Invalid -") + name + " parameter: " + e.what(), {"DIST", "RANK", name});
  }
}

static const Param kGroupParam{"group", Type::String, "", "process group name (\"\" = default group)"};
static const Param kShardParam{"shard", Type::Shard, nullptr, "shard handle"};

namespace {
struct ShardArgs : Args {
  Arg<Type::Tensor> tensor{this, {"tensor", Type::Tensor, nullptr, "tensor handle; only src's data and shape are used"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "0", "dim to split"}};
  Arg<Type::Int> src{this, {"src", Type::Int, "0", "rank that holds the tensor"}};
  Arg<Type::String> group{this, kGroupParam};
};
}  // namespace
static Tcl_Obj* cmdShard(Call& c, const ShardArgs& a) {
  return rankOption(c, a.src, [&] {
    return c.result(Kind::Shard, shardTensor(c.st, c.tensor(a.tensor), c.integer(a.dim), int(c.integer(a.src)),
                                             c.str(a.group)));
  });
}

namespace {
struct ShardLocalArgs : Args {
  Arg<Type::Tensor> tensor{this, {"tensor", Type::Tensor, nullptr, "this rank's piece"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "0", "dim the pieces are stacked along"}};
  Arg<Type::String> group{this, kGroupParam};
};
}  // namespace
static Tcl_Obj* cmdShardLocal(Call& c, const ShardLocalArgs& a) {
  return c.result(Kind::Shard, shardLocal(c.st, c.tensor(a.tensor), c.integer(a.dim), c.str(a.group)));
}

namespace {
struct ShardHandleArgs : Args {  // shard_info, shard_local_tensor
  Arg<Type::Shard> shard{this, kShardParam};
};
}  // namespace
static Tcl_Obj* cmdShardInfo(Call& c, const ShardHandleArgs& a) {
  auto s = c.object<ShardedTensor>(a.shard);
  Tcl_Obj* d = Tcl_NewDictObj();
  auto put = [&](const char* k, Tcl_Obj* v) { Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj(k, -1), v); };
  put("global_shape", newList(s->global));
  put("dim", Tcl_NewWideIntObj(s->dim));
  put("local_shape", newList(s->local.sizes().vec()));
  put("offset", Tcl_NewWideIntObj(s->offsets[size_t(s->rank)]));
  put("world_size", Tcl_NewIntObj(s->world()));
  put("rank", Tcl_NewIntObj(s->rank));
  put("sizes", newList(s->sizes));
  put("offsets", newList(s->offsets));
  put("dtype", Tcl_NewStringObj(dtypeName(s->local.scalar_type()), -1));
  put("group", newString(s->group));
  return d;
}

static Tcl_Obj* cmdShardLocalTensor(Call& c, const ShardHandleArgs& a) {
  return c.result(c.object<ShardedTensor>(a.shard)->local);
}

namespace {
struct UnshardArgs : Args {
  Arg<Type::Shard> shard{this, kShardParam};
  Arg<Type::RankOrAll> dst{this, {"dst", Type::RankOrAll, "all", "rank that gets the tensor, or all"}};
};
}  // namespace
static Tcl_Obj* cmdUnshard(Call& c, const UnshardArgs& a) {
  return rankOption(c, a.dst, [&]() -> Tcl_Obj* {
    auto s = c.object<ShardedTensor>(a.shard);
    at::Tensor t = unshard(c.st, *s, int(c.integer(a.dst)));  // -1: all
    return t.defined() ? c.result(t) : nullptr;
  });
}

namespace {
struct MatmulArgs : Args {
  Arg<Type::TensorOrShard> a{this, {"a", Type::TensorOrShard, nullptr, "tensor or shard handle (1-D or 2-D)"}};
  Arg<Type::TensorOrShard> b{this, {"b", Type::TensorOrShard, nullptr, "tensor or shard handle (1-D or 2-D)"}};
  Arg<Type::Choice> strategy{this, {"strategy", Type::Choice, "auto", "auto picks the feasible strategy moving the fewest bytes", nullptr,
                                    {{"auto", int(Strategy::Auto)}, {"row", int(Strategy::Row)}, {"column", int(Strategy::Column)},
                                     {"inner", int(Strategy::Inner)}, {"replicate", int(Strategy::Replicate)}}}};
  Arg<Type::Bool> gather{this, {"gather", Type::Bool, "0", "all-gather a sharded result into a whole tensor"}};
  Arg<Type::Bool> explain{this, {"explain", Type::Bool, "0", "return {strategy s bytes n candidates {s n ...}} instead of computing"}};
  Arg<Type::Int> src{this, {"src", Type::Int, "-1", "rank owning a whole b, broadcast first; -1: every rank holds b"}};
};
}  // namespace
static Tcl_Obj* matmul(Call& c, const MatmulArgs& k) {
  Operand a = operand(c, k.a);
  const bool gather = c.boolean(k.gather), explain = c.boolean(k.explain);
  const int src = int(c.integer(k.src));
  // b owned by one rank: broadcast first (only its shape when just explaining).
  Operand b = ownedWhole(c.st, a, operand(c, k.b), src, explain);
  MatmulPlan plan = planMatmul(c.st, a, b, Strategy(c.choice(k.strategy)), gather, src);
  if (!explain) return result(c, distributedMatmul(c.st, a, b, plan, gather));
  Tcl_Obj* cand = Tcl_NewDictObj();
  for (auto& k : plan.candidates)
    Tcl_DictObjPut(nullptr, cand, Tcl_NewStringObj(strategyName(k.first), -1), Tcl_NewWideIntObj(k.second));
  Tcl_Obj* d = Tcl_NewDictObj();
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("strategy", -1), Tcl_NewStringObj(strategyName(plan.strategy), -1));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("bytes", -1), Tcl_NewWideIntObj(plan.bytes));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("candidates", -1), cand);
  return d;
}
static Tcl_Obj* cmdMatmul(Call& c, const MatmulArgs& k) { return rankOption(c, k.src, [&] { return matmul(c, k); }); }

namespace {
struct ReduceArgs : Args {  // distributed_sum, distributed_mean
  Arg<Type::TensorOrShard> input{this, {"input", Type::TensorOrShard, nullptr, "shard or tensor handle"}};
  Arg<Type::Int> dim{this, {"dim", Type::Int, kOptional, "dim to reduce; all elements if left off"}};
  Arg<Type::Bool> keepdim{this, {"keepdim", Type::Bool, "0", "keep the reduced dim with size 1"}};
};
}  // namespace
template <bool Mean>
static Tcl_Obj* cmdReduce(Call& c, const ReduceArgs& a) {
  return result(c, distributedReduce(c.st, operand(c, a.input), c.optInteger(a.dim), c.boolean(a.keepdim), Mean));
}

// shard_map {cmd arg ...}: runs cmd once on this rank with every shard handle
// among the args replaced by a (temporary) handle of its local tensor; a
// tensor result is wrapped again with the shards' split. All shard args must
// be split alike, so elementwise ops line up row for row.
namespace {
struct ShardMapArgs : Args {
  Arg<Type::CommandWords> command{this, {"command", Type::CommandWords, nullptr, "command list; a bare name means torch::name"}};
};
}  // namespace
static Tcl_Obj* cmdShardMap(Call& c, const ShardMapArgs& a) {
  Tcl_Obj* cmd = c.obj(a.command);
  Tcl_Size n;
  Tcl_Obj** words;
  Tcl_ListObjGetElements(nullptr, cmd, &n, &words);  // a list: checked by the parser
  if (n == 0) c.badValue(a.command, "a non-empty list {command arg ...}");
  std::vector<Tcl_Obj*> objv(words, words + n), orig = objv;
  // Bare names mean torch commands: {tensor_add $a $b}.
  std::string head = Tcl_GetString(objv[0]);
  Tcl_CmdInfo info;
  if (head.find("::") == std::string::npos && Tcl_GetCommandInfo(c.interp, ("::torch::" + head).c_str(), &info))
    objv[0] = newString("::torch::" + head);

  // Temporary local handles, freed on every exit.
  struct Temps {
    State& st;
    std::vector<std::string> names;
    std::vector<Tcl_Obj*> held;
    ~Temps() {
      for (auto& nm : names) st.reg.free(nm);
      for (auto* o : held) Tcl_DecrRefCount(o);
    }
  } temps{c.st, {}, {}};
  for (auto* o : objv) {
    Tcl_IncrRefCount(o);
    temps.held.push_back(o);
  }
  ShardPtr like;
  std::string likeName;
  for (int i = 1; i < n; ++i) {
    Entry* e = c.st.reg.find(objv[size_t(i)]);
    if (!e || e->kind != Kind::Shard) continue;
    auto s = std::static_pointer_cast<ShardedTensor>(e->object);
    if (!like) {
      like = s;
      likeName = Tcl_GetString(objv[size_t(i)]);
    } else if (!(s->sameSplit(*like) && s->dim == like->dim && s->global == like->global)) {
      fail("shard_map: " + std::string(Tcl_GetString(objv[size_t(i)])) + " is " + s->describe() + " but " +
               likeName + " is " + like->describe() + "; elementwise operands must be split alike",
           {"SHARD", "MISMATCH"});
    }
    shardComm(c.st, *s);
    temps.names.push_back(c.st.reg.add(s->local));
    objv[size_t(i)] = newString(temps.names.back());
    Tcl_IncrRefCount(objv[size_t(i)]);
    temps.held.push_back(objv[size_t(i)]);
  }
  if (!like) fail("shard_map: no shard handle among the arguments of " + head, {"SHARD", "NOSHARD"});

  int code = Tcl_EvalObjv(c.interp, int(n), objv.data(), 0);
  if (code != TCL_OK) throw ScriptCode{code};
  Tcl_Obj* res = Tcl_GetObjResult(c.interp);
  Entry* e = c.st.reg.find(res);
  if (!e || e->kind != Kind::Tensor) return res;  // not a tensor: handed back as is
  std::string resName = Tcl_GetString(res);
  at::Tensor local = e->tensor;
  // The command's own result handle is replaced by the shard handle.
  // (Never a handle the caller passed in: that one stays theirs.)
  bool passedIn = false;
  for (int i = 0; i < n; ++i) passedIn |= resName == Tcl_GetString(orig[size_t(i)]);
  if (!passedIn && std::find(temps.names.begin(), temps.names.end(), resName) == temps.names.end())
    temps.names.push_back(resName);
  return c.result(Kind::Shard, rewrap(*like, local, like->dim, "shard_map"));
}

std::vector<Command> shardingCommands() {
  auto shard = std::make_shared<const ShardHandleArgs>();
  auto reduce = std::make_shared<const ReduceArgs>();
  return {
      typedRow<cmdShard>("shard", "Split rank src's tensor along dim; returns this rank's shard (first size%N ranks get one more row)."),
      typedRow<cmdShardLocal>("shard_local", "Declare the tensor every rank holds as its own shard along dim (sizes may differ)."),
      typedRow<cmdShardInfo>("shard_info",
                             "Dict of a shard: global_shape, dim, local_shape, offset, world_size, rank, sizes, offsets, dtype, group.",
                             shard),
      typedRow<cmdShardLocalTensor>("shard_local_tensor", "This rank's local piece of a shard as a tensor handle (shares memory).",
                                    shard),
      typedRow<cmdUnshard>("unshard", "Gather a shard back into the whole tensor on dst (or on every rank); empty on other ranks."),
      typedRow<cmdMatmul>("distributed_matmul",
                          "a @ b over sharded and/or whole operands with the row, column, inner or replicate strategy."),
      typedRow<cmdReduce<false>>("distributed_sum",
                                 "Sum of a sharded tensor: local partial + all_reduce; along a non-split dim it stays sharded.", reduce),
      typedRow<cmdReduce<true>>("distributed_mean",
                                "Mean of a sharded tensor, uneven shards weighted by size; along a non-split dim it stays sharded.",
                                reduce),
      typedRow<cmdShardMap>("shard_map",
                            "Run {cmd arg ...} on the local pieces of the shard handles among the args; a tensor result is sharded alike."),
  };
}

}  // namespace tcltorch
