// Parser, camelCase derivation and registry, driven through a real interpreter.
#include <algorithm>
#include <gtest/gtest.h>
#include <tcl.h>
#include "tcltorch/args.h"

extern "C" int Torch_Init(Tcl_Interp*);

namespace {

struct Interp : ::testing::Test {
  Tcl_Interp* interp = nullptr;
  void SetUp() override {
    interp = Tcl_CreateInterp();
    ASSERT_EQ(Torch_Init(interp), TCL_OK) << Tcl_GetStringResult(interp);
  }
  void TearDown() override { Tcl_DeleteInterp(interp); }
  std::string eval(const std::string& s, int expect = TCL_OK) {
    int code = Tcl_Eval(interp, s.c_str());
    EXPECT_EQ(code, expect) << s << " -> " << Tcl_GetStringResult(interp);
    return Tcl_GetStringResult(interp);
  }
  std::string errorCode() { return eval("set ::errorCode"); }
};

TEST(CamelCase, Derivation) {
  EXPECT_EQ(tcltorch::camelCase("distributed_reduce_scatter"), "distributedReduceScatter");
  EXPECT_EQ(tcltorch::camelCase("tensor_to_list"), "tensorToList");
  EXPECT_EQ(tcltorch::camelCase("ones"), "ones");
  EXPECT_EQ(tcltorch::camelCase("world_size"), "worldSize");
  EXPECT_EQ(tcltorch::camelCase("_x"), "x");
}

TEST(Ranges, OpenBoundsAreWorded) {
  using tcltorch::Param;
  using tcltorch::Type;
  Param x{"x", Type::Double, nullptr, "x"};
  EXPECT_EQ(tcltorch::describe(x.above(1)), "a number > 1");
  EXPECT_EQ(tcltorch::describe(x.strictlyWithin(0, 1)), "a number in (0, 1)");
  EXPECT_EQ(tcltorch::describe(x.within(0, 1)), "a number in [0, 1]");
  EXPECT_EQ(tcltorch::rangeText(Param{"n", Type::Int, nullptr, "n"}.within(1, 2)), " in [1, 2]");
}

TEST(Table, EveryCommandHasUniqueNamesAndDocs) {
  // The table's defaults are converted with Tcl's API: the stubs must be set up first.
  Tcl_Interp* interp = Tcl_CreateInterp();
  ASSERT_EQ(Torch_Init(interp), TCL_OK);
  std::set<std::string> seen;
  for (auto& i : tcltorch::allCommandInfos()) {
    EXPECT_GT(std::strlen(i.cmd->doc), 0u) << i.cmd->name;
    for (auto& p : i.cmd->params) EXPECT_GT(std::strlen(p.doc), 0u) << i.cmd->name << " " << p.name;
    if (i.cmd->tensor_form) {  // shares its command's name; that command links to it
      EXPECT_TRUE(std::any_of(tcltorch::allCommandInfos().begin(), tcltorch::allCommandInfos().end(),
                              [&](const tcltorch::CommandInfo& c) { return c.tensorForm == &i; }))
          << i.cmd->name;
      continue;
    }
    EXPECT_TRUE(seen.insert(i.cmd->name).second) << i.cmd->name;
    if (i.camel != i.cmd->name) EXPECT_TRUE(seen.insert(i.camel).second) << i.camel;
    for (auto& a : i.aliases) EXPECT_TRUE(seen.insert(a).second) << a;
  }
  Tcl_DeleteInterp(interp);
}

TEST_F(Interp, PositionalNamedMixed) {
  eval("set a [torch::ones {2 2}]");
  EXPECT_EQ(eval("torch::tensor_shape [torch::tensor_add $a $a 2]"), "2 2");
  EXPECT_EQ(eval("torch::tensor_shape [torch::tensorAdd -input $a -other 1.5 -alpha 2]"), "2 2");
  EXPECT_EQ(eval("torch::tensor_shape [torch::tensor_add $a -other $a]"), "2 2");
}

TEST_F(Interp, NegativeNumberIsPositional) {
  eval("set a [torch::ones {3}]");
  // "-1" is a value (other), not an option.
  eval("set b [torch::tensor_add $a -1]");
  EXPECT_EQ(eval("torch::tensor_shape $b"), "3");
}

TEST_F(Interp, ErrorPhrasesAndCodes) {
  eval("set a [torch::ones {2}]");
  EXPECT_EQ(eval("torch::tensor_add -other 1", TCL_ERROR), "Required parameter missing: -input");
  EXPECT_EQ(errorCode(), "TORCH ARGS MISSING input");
  EXPECT_EQ(eval("torch::tensor_add $a 1 -foo 2", TCL_ERROR).rfind("Unknown parameter: -foo", 0), 0u);
  EXPECT_EQ(errorCode(), "TORCH ARGS UNKNOWN foo");
  EXPECT_EQ(eval("torch::tensor_add $a 1 -alpha", TCL_ERROR), "Missing value for parameter -alpha");
  EXPECT_EQ(eval("torch::tensor_add $a 1 2 3", TCL_ERROR).rfind("Wrong number of arguments for positional syntax", 0), 0u);
  EXPECT_EQ(eval("torch::tensor_add $a 1 -alpha x", TCL_ERROR), "bad alpha \"x\": must be a number");
  EXPECT_EQ(errorCode(), "TORCH ARGS VALUE alpha x");
  EXPECT_EQ(eval("torch::tensor_add foo 1", TCL_ERROR), "Invalid tensor handle \"foo\"");
  EXPECT_EQ(errorCode(), "TORCH HANDLE foo");
}

TEST_F(Interp, RegistryFreeAndScope) {
  eval("set a [torch::ones {2}]");
  EXPECT_EQ(eval("dict get [torch::memory] tensors"), "1");
  eval("torch::free $a");
  EXPECT_EQ(eval("dict get [torch::memory] tensors"), "0");
  EXPECT_EQ(eval("torch::tensor_shape $a", TCL_ERROR), "Invalid tensor handle \"" + eval("set a") + "\"");
  eval("set k [torch::scope { set x [torch::ones {4}]; set y [torch::tensor_add $x $x]; set y }]");
  EXPECT_EQ(eval("dict get [torch::memory] tensors"), "1");
  EXPECT_EQ(eval("torch::tensor_shape $k"), "4");
}

}  // namespace
