// The desync check's fingerprint (private to src/collective/): before a
// collective, ranks compare a fixed-size row describing it and fail together
// on a mismatch. The check itself is C10dCommunicator's (desync.cpp).
#pragma once
#include "tcltorch/collective.h"
#include <array>
#include <string>

namespace tcltorch {

// The row: call number, op, dtype, root, reduction, ndim, kFpDims dims, numel.
// Dtype, root and reduction are -1 where the op has none.
constexpr int kFpDims = 10;
enum FpField : int { kFpCall, kFpOp, kFpDtype, kFpRoot, kFpReduce, kFpNdim, kFpDim0 };
constexpr int kFp = kFpDim0 + kFpDims + 1;
constexpr int kFpNumel = kFp - 1;
// Dims beyond the row's room are folded into its last dim slot with this
// prime, so different shapes still (almost always) differ.
constexpr int64_t kFpFold = 1000003;
using Fingerprint = std::array<int64_t, kFp>;

// The row of `op` on tensor t (nullptr: none, as barrier); call number 0.
Fingerprint fingerprint(CollectiveOp op, const at::Tensor* t, int root, int reduce);
// "all_reduce float32 [4] sum", from a row.
std::string describeRow(const int64_t* f);

// Every rank's value of `topic` compared with rank 0's, once, through the
// store; rank 0 serves the store, so it leaves only once everyone has read the
// verdict. Returns "" when all agree, else rank 0's verdict text made by
// `differs(rank, theirs)` for the first rank that differs.
std::string storeVote(c10d::Store& store, const std::string& topic, int rank, int size, const std::string& mine,
                      const std::function<std::string(int rank, const std::string& theirs)>& differs);

// The desync check set alike on every rank of a group being made, else a
// {DIST CONFIG desync_check} error: a rank with the check and one without
// would pair a fingerprint with data (and Gloo would kill one of them).
void agreeOnDesyncCheck(c10d::Store& store, int rank, int size, bool check);

}  // namespace tcltorch
