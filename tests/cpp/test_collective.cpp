// The C10dCommunicator on real Gloo groups, N ranks as threads over one
// HashStore: every collective and op against a single-process reference.
#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <thread>
#include "tcltorch/autograd_collectives.h"
#include "tcltorch/collective.h"

using namespace tcltorch;
using namespace std::chrono_literals;

namespace {

// Rank r's contribution: known, distinct values, dim 0 divisible by n.
at::Tensor input(int r, int n) {
  return (at::arange(2 * n * 3, at::kFloat).reshape({2 * n, 3}) + 1) * (r + 1) - r;
}

at::Tensor stackAll(int n) {
  std::vector<at::Tensor> v;
  for (int k = 0; k < n; ++k) v.push_back(input(k, n));
  return at::stack(v);
}

at::Tensor reference(int n, ReduceOp op) {
  at::Tensor s = stackAll(n);
  switch (op) {
    case ReduceOp::Sum: return s.sum(0);
    case ReduceOp::Mean: return s.sum(0) / n;
    case ReduceOp::Max: return std::get<0>(s.max(0));
    case ReduceOp::Min: return std::get<0>(s.min(0));
    case ReduceOp::Product: return s.prod(0);
  }
  return {};
}

template <class F>
void onRanks(int n, F f) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      try {
        CommPtr c = makeGlooCommunicator(store, r, n, 30s);
        if constexpr (std::is_invocable_v<F, const CommPtr&, int>)
          f(c, r);
        else
          f(*c, r);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < n; ++r) EXPECT_EQ(errors[size_t(r)], "") << "rank " << r;
}

at::Tensor run(WorkPtr w) {
  w->wait();
  return w->result();
}

const ReduceOp kOps[] = {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::Product};

class Ranks : public ::testing::TestWithParam<int> {};

TEST_P(Ranks, AllReduceEveryOp) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int r) {
    for (ReduceOp op : kOps) {
      at::Tensor t = input(r, n);
      at::Tensor out = run(c.allReduce(t, op));
      EXPECT_TRUE(out.is_same(t));  // in place
      EXPECT_TRUE(at::allclose(out, reference(n, op))) << int(op);
    }
  });
}

TEST_P(Ranks, AllReduceNonContiguousAndIntegerMean) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int r) {
    at::Tensor t = input(r, n).t();  // not contiguous: written back in place
    run(c.allReduce(t, ReduceOp::Sum));
    EXPECT_TRUE(at::allclose(t, reference(n, ReduceOp::Sum).t()));
    at::Tensor i = at::full({3}, 2 * r + 1, at::kLong);  // sum of 2r+1 = n^2; mean n (exact)
    run(c.allReduce(i, ReduceOp::Mean));
    EXPECT_TRUE(at::equal(i, at::full({3}, n, at::kLong)));
  });
}

TEST_P(Ranks, BroadcastAndReduce) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int r) {
    at::Tensor b = run(c.broadcast(input(r, n), n - 1));
    EXPECT_TRUE(at::equal(b, input(n - 1, n)));
    for (ReduceOp op : kOps) {
      at::Tensor t = input(r, n);
      at::Tensor out = run(c.reduce(t, 1, op));
      EXPECT_TRUE(at::allclose(out, r == 1 ? reference(n, op) : input(r, n))) << int(op);
    }
  });
}

TEST_P(Ranks, GatherFamily) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int r) {
    EXPECT_TRUE(at::equal(run(c.allGather(input(r, n))), stackAll(n)));
    at::Tensor g = run(c.gather(input(r, n), 1));
    if (r == 1)
      EXPECT_TRUE(at::equal(g, stackAll(n)));
    else
      EXPECT_FALSE(g.defined());
    EXPECT_TRUE(at::equal(run(c.scatter(input(r, n), n - 1)), input(n - 1, n).chunk(n, 0)[size_t(r)]));
  });
}

TEST_P(Ranks, ReduceScatterEveryOpAndAllToAll) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int r) {
    for (ReduceOp op : kOps)
      EXPECT_TRUE(at::allclose(run(c.reduceScatter(input(r, n), op)),
                               reference(n, op).chunk(n, 0)[size_t(r)])) << int(op);
    std::vector<at::Tensor> parts;
    for (int k = 0; k < n; ++k) parts.push_back(input(k, n).chunk(n, 0)[size_t(r)]);
    EXPECT_TRUE(at::equal(run(c.allToAll(input(r, n))), at::cat(parts)));
  });
}

TEST_P(Ranks, SplitNeedsDivisibleDim0) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int) {
    try {
      c.allToAll(at::ones({2 * n + 1}));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code, (std::vector<std::string>{"DIST", "SHAPE", "all_to_all"}));
    }
    // Nobody leaves before every rank has connected.
    run(c.barrier());
  });
}

TEST_P(Ranks, SendRecvWithTagsAndTest) {
  int n = GetParam();
  onRanks(n, [n](Communicator& c, int r) {
    int peer = r ^ 1;
    if (peer >= n) return;
    if (r % 2 == 0) {
      WorkPtr a = c.send(at::full({2}, 7.0 + r), peer, 7);
      WorkPtr b = c.send(at::full({2}, 3.0 + r), peer, 3);
      a->wait();
      b->wait();
      EXPECT_TRUE(a->test());
    } else {
      // Received in the other order: tags pair them.
      at::Tensor t3 = at::empty({2}), t7 = at::empty({2});
      WorkPtr w3 = c.recv(t3, peer, 3);
      WorkPtr w7 = c.recv(t7, peer, 7);
      w7->wait();
      w3->wait();
      EXPECT_TRUE(w3->test());
      EXPECT_TRUE(at::equal(t3, at::full({2}, 3.0 + peer)));
      EXPECT_TRUE(at::equal(t7, at::full({2}, 7.0 + peer)));
    }
    run(c.barrier());
  });
}

// The collectives autograd sees: each forward against the plain math over
// every rank's input, each gradient against its adjoint, on uneven pieces
// (2n + 1 rows: the first rank has one more).
TEST_P(Ranks, AutogradCollectivesHaveTheirAdjoints) {
  int n = GetParam();
  onRanks(n, [n](const CommPtr& c, int r) {
    std::vector<int64_t> sizes = evenSizes(2 * n + 1, n);
    int64_t off = splitOffset(sizes, r), rows = sizes[size_t(r)];
    auto leaf = [](at::Tensor t) { return t.detach().requires_grad_(true); };
    auto weights = at::arange(double((2 * n + 1) * 3)).reshape({2 * n + 1, 3}).to(at::kFloat);
    // Forward x, backward the sum of the gradients: rank k's gradient is k + 1.
    at::Tensor x = leaf(input(r, n));
    at::Tensor y = copyToGroup(c, x);
    EXPECT_TRUE(at::equal(y, x));
    (y * (r + 1)).sum().backward();
    EXPECT_TRUE(at::allclose(x.grad(), at::full_like(x, n * (n + 1) / 2)));
    // Forward the sum, backward the gradient unchanged.
    x = leaf(input(r, n));
    y = reduceFromGroup(c, x);
    EXPECT_TRUE(at::allclose(y, reference(n, ReduceOp::Sum)));
    (y * weights.narrow(0, 0, 2 * n)).sum().backward();
    EXPECT_TRUE(at::allclose(x.grad(), weights.narrow(0, 0, 2 * n)));
    // Forward every rank's rows joined, backward this rank's rows.
    at::Tensor whole = weights * 0.5;
    x = leaf(whole.narrow(0, off, rows).clone());
    y = gatherFromGroup(c, x, 0, sizes);
    EXPECT_TRUE(at::equal(y, whole));
    (y * weights).sum().backward();
    EXPECT_TRUE(at::allclose(x.grad(), weights.narrow(0, off, rows)));
    // Forward this rank's rows of the sum, backward every rank's gradient joined.
    x = leaf(whole * (r + 1));
    y = reduceScatterToGroup(c, x, 0, sizes);
    EXPECT_TRUE(at::allclose(y, (whole * (n * (n + 1) / 2)).narrow(0, off, rows)));
    (y * (r + 1)).sum().backward();
    std::vector<at::Tensor> byRank;
    for (int k = 0; k < n; ++k) byRank.push_back(at::full({sizes[size_t(k)], 3}, double(k + 1)));
    EXPECT_TRUE(at::allclose(x.grad(), at::cat(byRank)));
  });
}

INSTANTIATE_TEST_SUITE_P(Collective, Ranks, ::testing::Values(2, 4));

TEST(Collective, LocalIsTheWorldOfOne) {
  LocalCommunicator c;
  at::Tensor t = at::arange(4, at::kFloat);
  EXPECT_TRUE(at::equal(run(c.allGather(t)), t.unsqueeze(0)));
  EXPECT_TRUE(at::equal(run(c.reduceScatter(t, ReduceOp::Sum)), t));
  EXPECT_EQ(c.groupRank(5), 0);
}

}  // namespace

TEST(InterfaceTowards, TheLoopbackMasterIsReachedThroughLo) {
  EXPECT_EQ(interfaceTowards("127.0.0.1", 29500), "lo");
  EXPECT_EQ(interfaceTowards("localhost", 29500), "lo");
}

// The desync check on one host: whichever collective the first rank starts,
// a rank that calls something else completes it with a scratch tensor, both
// fail with {DIST DESYNC op}, and the next matching collective works.
TEST(DesyncCheck, ARankThatDiffersFromTheFirstCompletesItsCallAndBothFail) {
  using Op = std::function<WorkPtr(Communicator&)>;
  const std::vector<std::pair<std::string, Op>> firsts = {
      {"all_reduce", [](Communicator& c) { return c.allReduce(at::ones({4, 3}), ReduceOp::Max); }},
      {"broadcast", [](Communicator& c) { return c.broadcast(at::ones({4, 3}), 1); }},
      {"reduce", [](Communicator& c) { return c.reduce(at::ones({4, 3}), 1, ReduceOp::Sum); }},
      {"all_gather", [](Communicator& c) { return c.allGather(at::ones({4, 3})); }},
      {"gather", [](Communicator& c) { return c.gather(at::ones({4, 3}), 1); }},
      {"scatter", [](Communicator& c) { return c.scatter(at::ones({4, 3}), 1); }},
      {"reduce_scatter", [](Communicator& c) { return c.reduceScatter(at::ones({4, 3}), ReduceOp::Sum); }},
      {"all_to_all", [](Communicator& c) { return c.allToAll(at::ones({4, 3}, at::kDouble)); }},
      {"barrier", [](Communicator& c) { return c.barrier(); }},
  };
  for (auto& [name, first] : firsts) {
    std::vector<std::string> codes(2);
    onRanks(2, [&, name = name, first = first](Communicator& c, int r) {
      try {
        if (r == 0) {
          run(first(c));
        } else {
          std::this_thread::sleep_for(200ms);  // rank 0 is first
          run(c.allReduce(at::ones({7}), ReduceOp::Sum));
        }
      } catch (const Error& e) {
        codes[size_t(r)] = c10::Join(" ", e.code);
        EXPECT_NE(std::string(e.what()).find("collective mismatch in group"), std::string::npos) << e.what();
      }
      EXPECT_TRUE(at::equal(run(c.allReduce(at::ones({2}), ReduceOp::Sum)), at::full({2}, 2.0f))) << name;
    });
    EXPECT_EQ(codes[0], "DIST DESYNC " + name);
    EXPECT_EQ(codes[1], "DIST DESYNC all_reduce");
  }
}

// The collective layer answers in ranks; the command layer words the refusal.
TEST(Collective, MemberRanksAreNumbers) {
  LocalCommunicator local;
  EXPECT_EQ(memberRank(local, 0), 0);
  EXPECT_EQ(memberRank(local, 3), -1);
  EXPECT_EQ(memberRank(local, 3, /*anyInWorldOfOne=*/true), 0);
  EXPECT_EQ(memberRank(local, -1, true), -1);
  EXPECT_EQ(notMemberReason(local, 3), "rank 3 is not in the group (ranks 0)");
  EXPECT_EQ(groupRanksProblem({0, 2}, 2), "rank 2 is outside the world of 2");
  EXPECT_EQ(groupRanksProblem({1, 0, 1}, 2), "rank 1 appears twice");
  EXPECT_EQ(groupRanksProblem({1, 0}, 2), "");
}

// One list names every collective; the c10d communicator's native list is
// every op and reduction it does not compose.
TEST(Collective, OneListNamesTheCollectives) {
  EXPECT_STREQ(opName(CollectiveOp::AllReduce), "all_reduce");
  EXPECT_STREQ(opName(CollectiveOp::ReduceScatter), "reduce_scatter");
  EXPECT_STREQ(opName(CollectiveOp::Barrier), "barrier");
  auto store = c10::make_intrusive<c10d::HashStore>();
  Capabilities caps = makeGlooCommunicator(store, 0, 1, 30s)->capabilities();
  EXPECT_EQ(caps.native, (std::vector<std::string>{"all_reduce", "broadcast", "reduce", "all_gather", "gather",
                                                   "scatter", "all_to_all", "send", "recv", "barrier", "sum",
                                                   "max", "min", "product"}));
  ASSERT_EQ(caps.composed.size(), 2u);
  EXPECT_EQ(caps.composed[0].first, "mean");
  EXPECT_EQ(caps.composed[1].first, "reduce_scatter");
}
