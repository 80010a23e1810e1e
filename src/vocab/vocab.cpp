// The vocabulary's tables (include/tcltorch/vocab.h).
#include "tcltorch/vocab.h"
#include <strings.h>
#include <iterator>

namespace tcltorch {

static_assert([] {
  for (int i = 0; i < int(std::size(kReduceOps)); ++i)
    if (int(kReduceOps[i].op) != i) return false;
  return true;
}(), "kReduceOps must list ReduceOp in enum order");

namespace {
struct DtypeWord {
  const char* name;
  c10::ScalarType type;
};
// The printed name of each dtype first; dtypeName() takes the first match.
constexpr DtypeWord kDtypes[] = {
    {"float32", c10::kFloat},  {"float64", c10::kDouble},  {"float16", c10::kHalf},
    {"bfloat16", c10::kBFloat16}, {"int8", c10::kChar},    {"int16", c10::kShort},
    {"int32", c10::kInt},      {"int64", c10::kLong},      {"uint8", c10::kByte},
    {"bool", c10::kBool},
    // other spellings (the other Tcl API's and PyTorch's), accepted but never printed
    {"float", c10::kFloat},    {"double", c10::kDouble},   {"half", c10::kHalf},
    {"int", c10::kInt},        {"long", c10::kLong},       {"short", c10::kShort},
    {"byte", c10::kByte},      {"char", c10::kChar},
};
}  // namespace

const char* const kDtypeWords = "float32, float64, float16, bfloat16, int8, int16, int32, int64, uint8, or bool";

const char* dtypeName(c10::ScalarType t) {
  for (auto& d : kDtypes)
    if (d.type == t) return d.name;
  return c10::toString(t);
}

bool dtypeFromName(const char* s, c10::ScalarType* out) {
  if (strncasecmp(s, "torch.", 6) == 0) s += 6;
  for (auto& d : kDtypes)
    if (strcasecmp(s, d.name) == 0) {
      *out = d.type;
      return true;
    }
  return false;
}

}  // namespace tcltorch
