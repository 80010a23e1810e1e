// What the flight recorder needs to know about the call site provider
// (private to src/collective/; the provider itself is in collective.h).
#pragma once
#include <cstdint>

namespace tcltorch {

// Counts commands that opened a CallSiteScope: a flight entry made in the
// command still running can have its call site filled in late (on a failure).
uint64_t callSiteSerial();
// A provider is installed: a command is running.
bool callSiteKnown();

}  // namespace tcltorch
