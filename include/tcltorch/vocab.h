// The vocabulary shared by the parser (args) and the layers below the
// commands (collective, sharding, io): the reduction operations and the dtype
// names. Each word is written once, here; nothing here knows Tcl or options.
#pragma once
#include <c10/core/ScalarType.h>

namespace tcltorch {

enum class ReduceOp { Sum, Mean, Max, Min, Product };

// The words of ReduceOp, in enum order (checked in vocab.cpp).
struct ReduceOpWord {
  const char* name;
  ReduceOp op;
};
inline constexpr ReduceOpWord kReduceOps[] = {{"sum", ReduceOp::Sum}, {"mean", ReduceOp::Mean},
                                              {"max", ReduceOp::Max}, {"min", ReduceOp::Min},
                                              {"product", ReduceOp::Product}};
inline const char* reduceOpName(ReduceOp op) { return kReduceOps[int(op)].name; }

// "float32", "int64", ...: the printed name of a dtype (c10's own name for one
// without a word of ours).
const char* dtypeName(c10::ScalarType t);
// A dtype word, case-insensitive, with or without "torch.", including the
// other spellings accepted on input ("float", "long", ...).
bool dtypeFromName(const char* s, c10::ScalarType* out);
// The printed words, for messages: "float32, float64, ..., or bool".
extern const char* const kDtypeWords;

}  // namespace tcltorch
