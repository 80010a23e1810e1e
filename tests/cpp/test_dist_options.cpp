// resolveDistOptions: given values, the environment, defaults, and its errors.
#include <gtest/gtest.h>
#include <cstdlib>
#include "tcltorch/dist_options.h"

using namespace tcltorch;

namespace {

const char* const kVars[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "TCLTORCH_DIST_TIMEOUT", "TORCH_DISTRIBUTED_DEBUG", "TCLTORCH_DESYNC_CHECK",
                             "TCLTORCH_DESYNC_SHM"};

// Each test starts from an environment without the variables it reads, and
// leaves the process's own values as they were.
struct DistOptionsTest : ::testing::Test {
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  void SetUp() override {
    for (const char* v : kVars) {
      const char* e = std::getenv(v);
      saved.emplace_back(v, e ? std::optional<std::string>(e) : std::nullopt);
      unsetenv(v);
    }
  }
  void TearDown() override {
    for (auto& [k, v] : saved) v ? setenv(k.c_str(), v->c_str(), 1) : unsetenv(k.c_str());
  }
};

// resolveDistOptions(g) must fail with this message (and errorcode).
void expectError(const GivenDistOptions& g, const char* message, std::vector<std::string> code = {}) {
  try {
    resolveDistOptions(g);
    ADD_FAILURE() << "no error, expected: " << message;
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), message);
    if (!code.empty()) EXPECT_EQ(e.code, code);
  }
}

TEST_F(DistOptionsTest, DefaultsWithNothingGiven) {
  DistOptions o = resolveDistOptions({});
  EXPECT_EQ(o.rank, 0);
  EXPECT_EQ(o.worldSize, 1);
  EXPECT_EQ(o.masterAddr, "127.0.0.1");
  EXPECT_EQ(o.masterPort, 29500);
  EXPECT_EQ(o.backend, "auto");
  EXPECT_EQ(o.initMethod, "env://");
  EXPECT_EQ(o.timeout, kDefaultDistTimeout);
  EXPECT_TRUE(o.desyncCheck);
}

TEST_F(DistOptionsTest, EnvironmentWhenNothingGiven) {
  setenv("RANK", "2", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "localhost", 1);
  setenv("MASTER_PORT", "1234", 1);
  setenv("TCLTORCH_DIST_TIMEOUT", "2.5", 1);
  setenv("TORCH_DISTRIBUTED_DEBUG", "DETAIL", 1);
  setenv("TCLTORCH_DESYNC_CHECK", "0", 1);
  DistOptions o = resolveDistOptions({});
  EXPECT_EQ(o.rank, 2);
  EXPECT_EQ(o.worldSize, 4);
  EXPECT_EQ(o.localRank, 1);
  EXPECT_EQ(o.masterAddr, "localhost");
  EXPECT_EQ(o.masterPort, 1234);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(2500));
  EXPECT_TRUE(o.debug);
  EXPECT_FALSE(o.desyncCheck);
  // A given value that agrees with the environment is no conflict.
  GivenDistOptions g;
  g.rank = 2;
  g.desyncCheck = true;
  o = resolveDistOptions(g);
  EXPECT_EQ(o.rank, 2);
  EXPECT_TRUE(o.desyncCheck);
}

TEST_F(DistOptionsTest, ConflictWithTheEnvironment) {
  setenv("RANK", "0", 1);
  GivenDistOptions g;
  g.rank = 1;
  expectError(g, "-rank 1 conflicts with RANK=0 in the environment", {"DIST", "CONFIG", "rank"});
  setenv("MASTER_PORT", "x", 1);
  expectError({}, "MASTER_PORT=x is not an integer");
}

TEST_F(DistOptionsTest, TcpInitMethodNamesTheMaster) {
  GivenDistOptions g;
  g.initMethod = "tcp://localhost:4321";
  DistOptions o = resolveDistOptions(g);
  EXPECT_EQ(o.initMethod, "tcp://localhost:4321");
  EXPECT_EQ(o.masterAddr, "localhost");
  EXPECT_EQ(o.masterPort, 4321);
  g.masterPort = 4322;
  expectError(g, "-init_method tcp://localhost:4321 conflicts with -master_addr/-master_port",
              {"DIST", "CONFIG", "init_method"});
  for (const char* bad : {"tcp://127.0.0.1", "tcp://:80", "tcp://h:0", "tcp://h:65536", "tcp://h:8x", "http://x",
                          "file://"}) {
    GivenDistOptions b;
    b.initMethod = bad;
    try {
      resolveDistOptions(b);
      ADD_FAILURE() << bad << ": no error";
    } catch (const BadSetting& e) {
      EXPECT_EQ(e.param, "init_method") << bad;
      EXPECT_EQ(e.what, "env://, tcp://host:port or file://path") << bad;
    }
  }
}

TEST_F(DistOptionsTest, BadPort) {
  for (const char* port : {"0", "70000", "-1"}) {
    setenv("MASTER_PORT", port, 1);
    try {
      resolveDistOptions({});
      ADD_FAILURE() << port << ": no error";
    } catch (const BadSetting& e) {
      EXPECT_EQ(e.param, "master_port");
      EXPECT_EQ(e.what, "a port between 1 and 65535");
    }
  }
  unsetenv("MASTER_PORT");
  GivenDistOptions g;
  g.masterPort = 70000;
  EXPECT_THROW(resolveDistOptions(g), BadSetting);
  g = {};
  g.timeout = 0;
  EXPECT_THROW(resolveDistOptions(g), BadSetting);
}

}  // namespace
