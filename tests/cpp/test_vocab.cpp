// The vocabulary shared by the parser and the collective layer.
#include <gtest/gtest.h>
#include "tcltorch/vocab.h"

using namespace tcltorch;

TEST(Vocab, ReduceOpWordsInEnumOrder) {
  EXPECT_STREQ(reduceOpName(ReduceOp::Sum), "sum");
  EXPECT_STREQ(reduceOpName(ReduceOp::Mean), "mean");
  EXPECT_STREQ(reduceOpName(ReduceOp::Product), "product");
}

TEST(Vocab, DtypeNamesBothWays) {
  c10::ScalarType t = c10::kFloat;
  EXPECT_TRUE(dtypeFromName("torch.Int64", &t));
  EXPECT_EQ(t, c10::kLong);
  EXPECT_TRUE(dtypeFromName("half", &t));
  EXPECT_EQ(t, c10::kHalf);
  EXPECT_FALSE(dtypeFromName("float31", &t));
  EXPECT_STREQ(dtypeName(c10::kLong), "int64");   // the printed name, not "long"
  EXPECT_STREQ(dtypeName(c10::kHalf), "float16");
  EXPECT_STREQ(dtypeName(c10::kComplexFloat), "ComplexFloat");  // c10's own name
}
