// The desync check: the fingerprint of a call, C10dCommunicator's check of it
// (begin, verify, compare, replay, mismatch), and the store vote that makes
// every rank of a group agree to check.
#include "c10d.h"
#include <algorithm>
#include <cstring>
#include <iterator>

namespace tcltorch {

// How long a rank that found a mismatch waits for another side's call site.
constexpr ms kCallSiteWait{5000};

Fingerprint fingerprint(CollectiveOp op, const at::Tensor* t, int root, int reduce) {
  Fingerprint f{};
  f[kFpOp] = int64_t(op);
  f[kFpDtype] = t ? int64_t(t->scalar_type()) : -1;
  f[kFpRoot] = root;
  f[kFpReduce] = reduce;
  if (t) {
    f[kFpNdim] = t->dim();
    int64_t& last = f[kFpDim0 + kFpDims - 1];
    for (int64_t i = 0; i < t->dim(); ++i) {
      if (i < kFpDims - 1 || t->dim() == kFpDims) f[size_t(kFpDim0 + i)] = t->size(i);
      else last = last * kFpFold + t->size(i);  // the rest, folded
    }
    f[kFpNumel] = t->numel();
  }
  return f;
}

std::string describeRow(const int64_t* f) {
  std::string s = f[kFpOp] >= 0 && f[kFpOp] < int64_t(std::size(kCollectiveOps))
                      ? opName(static_cast<CollectiveOp>(f[kFpOp]))
                      : "?";
  if (f[kFpDtype] >= 0) {
    s += std::string(" ") + dtypeName(static_cast<at::ScalarType>(f[kFpDtype])) + " [";
    int64_t nd = f[kFpNdim];
    for (int64_t i = 0; i < nd && i < kFpDims; ++i) s += (i ? " " : "") + std::to_string(f[kFpDim0 + i]);
    if (nd > kFpDims) s += " ...";
    s += "]";
  }
  if (f[kFpRoot] >= 0) s += " root " + std::to_string(f[kFpRoot]);
  if (f[kFpReduce] >= 0 && f[kFpReduce] < int64_t(std::size(kReduceOps)))
    s += std::string(" ") + reduceOpName(static_cast<ReduceOp>(f[kFpReduce]));
  return s;
}

std::string storeVote(c10d::Store& store, const std::string& topic, int rank, int size, const std::string& mine,
                      const std::function<std::string(int rank, const std::string& theirs)>& differs) {
  auto key = [&](const char* what, int r) { return "tcltorch/" + topic + "/" + what + std::to_string(r); };
  auto text = [](const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); };
  const std::string agreed = "ok";
  std::string verdict = agreed;
  if (rank == 0) {
    // Rank 0 compares everyone's value with its own and says the verdict.
    for (int r = 1; r < size && verdict == agreed; ++r) {
      std::string theirs = text(store.get(key("", r)));
      if (theirs != mine) verdict = differs(r, theirs);
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
  return verdict == agreed ? "" : verdict;
}

void agreeOnDesyncCheck(c10d::Store& store, int rank, int size, bool check) {
  std::string mine = check ? "1" : "0";
  std::string verdict = storeVote(store, "desync_check", rank, size, mine, [&](int r, const std::string& theirs) {
    return "-desync_check differs between ranks: rank 0 has " + mine + ", rank " + std::to_string(r) + " has " +
           theirs + " (set it alike everywhere, or TCLTORCH_DESYNC_CHECK)";
  });
  if (!verdict.empty()) fail(verdict, {"DIST", "CONFIG", "desync_check"});
}

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
const char* C10dCommunicator::begin(CollectiveOp opCode, const at::Tensor* t, int root, int reduce, bool check) {
  const char* op = opName(opCode);
  if (replaying_) return op;  // a scratch completion is part of the failing call
  toVerify_ = {};             // a call that failed before its work was made
  uint64_t seq = ++seq_;
  Fingerprint f = fingerprint(opCode, t, root, reduce);
  // The call site costs an `info frame` walk (~5-15 us): taken for every
  // collective only under -debug 1, otherwise only when a call fails.
  std::string site = callSites_ ? currentCallSite() : std::string();
  std::string what = describeRow(f.data());
  what = what.size() > std::strlen(op) ? what.substr(std::strlen(op) + 1) : "";
  pending_ = rec_->add(seq, name_, op, what, site);
  if (!check || (!shm_ && !fp_) || size() < 2) return op;
  uint64_t call = ++checkSeq_;
  f[kFpCall] = int64_t(call);
  std::string context = " (waiting for every rank to start call " + std::to_string(call) + ")";
  if (shm_ && !nccl()) {
    // Resolved on every way out: later calls of the others wait for it.
    struct Resolve {
      ShmExchange& x;
      uint64_t call;
      ~Resolve() { x.resolve(call); }
    } resolve{*shm_, call};
    Fingerprint lead{};
    issue(op, [&] {
      shm_->publish(call, f.data(), timeout_);
      shm_->first(call, f.data(), lead.data(), timeout_);
    }, context);
    if (lead == f) {
      toVerify_ = Pending{call, f};
      return op;
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
    return op;
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
  return op;
}

// Shared memory: after the data of `call` moved, whether a rank recorded it
// as differing.
void C10dCommunicator::verify(const char* op, uint64_t call, const Fingerprint& f, const std::string& site) {
  std::vector<int64_t> all(size_t(kFp) * size_t(size()));
  bool differed = guarded(op, [&] { return shm_->mismatch(call, all.data(), timeout_); },
                          " (waiting for every rank to check call " + std::to_string(call) + ")");
  if (differed) compare(op, call, f, site, all);
}

void C10dCommunicator::compare(const char* op, uint64_t call, const Fingerprint& f, std::string site,
                               const std::vector<int64_t>& all) {
  bool same = true;
  for (int r = 0; r < size() && same; ++r) same = std::equal(f.begin(), f.end(), all.begin() + ptrdiff_t(r) * kFp);
  if (same) return;
  if (site.empty()) site = currentCallSite();
  throw mismatch(op, call, site, all);
}

// On a scratch tensor of the row's dtype and size (flat: Gloo sees only
// bytes); the op comes from TCLTORCH_COLLECTIVES, never by position.
void C10dCommunicator::replay(const int64_t* row) {
  replaying_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{replaying_};
  at::Tensor t;
  if (row[kFpDtype] >= 0) t = at::zeros({row[kFpNumel]}, at::TensorOptions(static_cast<at::ScalarType>(row[kFpDtype])));
  int root = int(row[kFpRoot]);
  auto op = static_cast<ReduceOp>(row[kFpReduce] >= 0 ? row[kFpReduce] : 0);
  Communicator& c = *this;
  WorkPtr w;
  switch (static_cast<CollectiveOp>(row[kFpOp])) {
#define TCLTORCH_REPLAY(e, name, method, params, replay, local, localHow) \
  case CollectiveOp::e: w = replay; break;
    TCLTORCH_COLLECTIVES(TCLTORCH_REPLAY)
#undef TCLTORCH_REPLAY
  }
  if (w) w->wait(timeout_);
}

// "rank 0: all_reduce float32 [4] at a.tcl:12; rank 1: ...". Call sites
// travel through the store (only on a mismatch).
Error C10dCommunicator::mismatch(const char* op, uint64_t seq, const std::string& site,
                                 const std::vector<int64_t>& all) {
  auto row = [&](int r) { return all.data() + ptrdiff_t(r) * kFp; };
  std::string key = "desync/" + std::to_string(seq) + "/";
  std::string mine = site.empty() ? "" : " at " + site;
  try {
    store_->set(key + std::to_string(rank()), std::vector<uint8_t>(mine.begin(), mine.end()));
  } catch (...) {}
  bool seqsDiffer = false;
  for (int r = 1; r < size(); ++r) seqsDiffer |= row(r)[kFpCall] != row(0)[kFpCall];
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
        store_->wait({k}, kCallSiteWait);
        auto v = store_->get(k);
        where.assign(v.begin(), v.end());
      } catch (...) {}
    }
    std::string who = same.size() == 1 ? "rank " : "ranks ";
    for (size_t i = 0; i < same.size(); ++i) who += (i ? " " : "") + std::to_string(ranks_[size_t(same[i])]);
    sides += (sides.empty() ? "" : "; ") + who + ": " + describeRow(row(r)) +
             (seqsDiffer ? " (call " + std::to_string(row(r)[kFpCall]) + ")" : "") + where;
  }
  return Error("collective mismatch in group \"" + name_ + "\" at call " + std::to_string(seq) + ": " + sides,
               {"DIST", "DESYNC", op});
}

}  // namespace tcltorch
