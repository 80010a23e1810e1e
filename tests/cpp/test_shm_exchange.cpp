// The desync check's same-host exchange: rows of every rank for each call,
// and a clear error (never a hang) when a peer is late, left or exited.
#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <sys/wait.h>
#include <unistd.h>
#include <thread>
#include "tcltorch/shm_exchange.h"

using namespace tcltorch;
using namespace std::chrono_literals;

namespace {

constexpr int kWidth = 16;

// Runs f(exchange, rank) on n threads, each with its own mapping.
template <class F>
std::vector<std::string> onThreads(int n, F f) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      try {
        auto x = ShmExchange::open(*store, r, n, kWidth);
        if (!x) throw std::runtime_error("no segment");
        f(*x, r);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return errors;
}

std::vector<int64_t> row(int r, uint64_t seq) {
  std::vector<int64_t> v(kWidth);
  for (int i = 0; i < kWidth; ++i) v[size_t(i)] = int64_t(seq) * 1000 + r * 100 + i;
  return v;
}

}  // namespace

TEST(ShmExchange, EveryRankGetsEveryRowOfEachCall) {
  for (int n : {2, 3, 5}) {
    auto errors = onThreads(n, [n](ShmExchange& x, int r) {
      std::vector<int64_t> all(size_t(n * kWidth));
      // More calls than the ring has slots, so slots are reused.
      for (uint64_t seq = 1; seq <= 200; ++seq) {
        x.exchange(seq, row(r, seq).data(), all.data(), 10s);
        for (int q = 0; q < n; ++q) {
          auto want = row(q, seq);
          ASSERT_TRUE(std::equal(want.begin(), want.end(), all.begin() + q * kWidth)) << "seq " << seq;
        }
      }
    });
    for (int r = 0; r < n; ++r) EXPECT_EQ(errors[size_t(r)], "") << n << " ranks, rank " << r;
  }
}

TEST(ShmExchange, ALateRankTimesOutNamingIt) {
  auto errors = onThreads(2, [](ShmExchange& x, int r) {
    std::vector<int64_t> all(2 * kWidth);
    if (r == 1) {
      std::this_thread::sleep_for(600ms);  // never makes call 1 in time
      return;
    }
    auto t0 = std::chrono::steady_clock::now();
    try {
      x.exchange(1, row(0, 1).data(), all.data(), 200ms);
    } catch (...) {
      EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
      throw;
    }
  });
  EXPECT_EQ(errors[0].rfind("timed out: rank 1 (pid ", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find(") has not reached call 1"), std::string::npos) << errors[0];
}

TEST(ShmExchange, ARankThatLeavesEndsItsPeersWaitAtOnce) {
  auto errors = onThreads(2, [](ShmExchange& x, int r) {
    std::vector<int64_t> all(2 * kWidth);
    if (r == 1) throw std::runtime_error("gone");  // its exchange is destroyed
    auto t0 = std::chrono::steady_clock::now();
    try {
      x.exchange(1, row(0, 1).data(), all.data(), 30s);
    } catch (...) {
      EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
      throw;
    }
  });
  EXPECT_NE(errors[0].find("rank 1 (pid "), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find(") left the group before it reached call 1"), std::string::npos) << errors[0];
}

TEST(ShmExchange, ARankCannotGetARingAheadOfTheOthersResolving) {
  std::chrono::steady_clock::duration waited{};
  auto errors = onThreads(2, [&](ShmExchange& x, int r) {
    std::vector<int64_t> all(2 * kWidth);
    if (r == 0) {
      std::this_thread::sleep_for(300ms);
      x.exchange(1, row(0, 1).data(), all.data(), 10s);
      return;
    }
    // Calls started without waiting (asynchronous works): 64 fit the ring,
    // the 65th reuses call 1's slots and waits until rank 0 has resolved it.
    for (uint64_t seq = 1; seq <= 64; ++seq) {
      x.publish(seq, row(1, seq).data(), 10s);
      x.resolve(seq);
    }
    auto t0 = std::chrono::steady_clock::now();
    x.publish(65, row(1, 65).data(), 10s);
    waited = std::chrono::steady_clock::now() - t0;
  });
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_GT(waited, 200ms);
}

TEST(ShmExchange, TheFirstRowOfACallAndItsMismatchRecord) {
  std::vector<int> firsts(2);
  std::vector<int> differed(2);
  auto errors = onThreads(2, [&](ShmExchange& x, int r) {
    std::vector<int64_t> all(2 * kWidth), lead(kWidth);
    for (uint64_t seq = 1; seq <= 2; ++seq) {
      if (r == 1) std::this_thread::sleep_for(100ms);  // rank 0 is first
      // Call 1: the ranks' rows differ; call 2: they are the same.
      auto mine = row(seq == 1 ? r : 0, seq);
      x.publish(seq, mine.data(), 10s);
      firsts[size_t(r)] += x.first(seq, mine.data(), lead.data(), 10s);
      EXPECT_EQ(lead, row(0, seq));
      if (lead != mine) {
        x.gather(seq, all.data(), 10s);
        x.recordMismatch(seq, all.data());
      }
      x.resolve(seq);
      if (x.mismatch(seq, all.data(), 10s)) {
        ++differed[size_t(r)];
        EXPECT_TRUE(std::equal(all.begin() + kWidth, all.end(), row(1, seq).begin()));
      }
    }
  });
  EXPECT_EQ(errors[0] + errors[1], "");
  EXPECT_EQ(firsts, (std::vector<int>{2, 0}));
  EXPECT_EQ(differed, (std::vector<int>{1, 1}));
}

TEST(ShmExchange, AProcessThatDiesIsSeenBeforeTheTimeout) {
  std::string path = testing::TempDir() + "shm-exchange-store-" + std::to_string(getpid());
  std::remove(path.c_str());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Rank 1 maps the segment, then dies without a word (no destructor runs).
    auto store = c10::make_intrusive<c10d::FileStore>(path, 2);
    auto x = ShmExchange::open(*store, 1, 2, kWidth);
    _exit(x ? 0 : 3);
  }
  auto store = c10::make_intrusive<c10d::FileStore>(path, 2);
  auto x = ShmExchange::open(*store, 0, 2, kWidth);
  ASSERT_TRUE(x);
  std::vector<int64_t> all(2 * kWidth);
  auto t0 = std::chrono::steady_clock::now();
  std::string error;
  try {
    x->exchange(1, row(0, 1).data(), all.data(), 60s);
  } catch (const std::exception& e) {
    error = e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(error, "rank 1 (pid " + std::to_string(child) + ") exited before it reached call 1");
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::remove(path.c_str());
}
