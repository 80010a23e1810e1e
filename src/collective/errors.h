// The collective layer's errors (private to src/collective/): every failure
// of c10d becomes {TORCH DIST TIMEOUT|ERROR op}, naming the op.
#pragma once
#include "tcltorch/runtime.h"
#include <exception>
#include <string>

namespace tcltorch {

// Rethrows an Error unchanged; anything else becomes "OP timed out|failed
// CONTEXT: message" with {DIST TIMEOUT|ERROR op}.
[[noreturn]] void distFailure(const std::string& op, const std::exception& e, const std::string& context);

// Runs f, turning its failure into distFailure's.
template <class F>
auto guarded(const std::string& op, F&& f, const std::string& context = "") -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    distFailure(op, e, context);
  }
}

}  // namespace tcltorch
