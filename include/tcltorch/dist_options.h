// distributed_init's options resolved below the command layer: what the
// caller gave, else the environment (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT, TCLTORCH_DIST_TIMEOUT, TORCH_DISTRIBUTED_DEBUG,
// TCLTORCH_DESYNC_CHECK, TCLTORCH_DESYNC_SHM), else the defaults. No Tcl
// types: any binding, and the GoogleTests, call it alike.
#pragma once
#include "tcltorch/collective.h"  // DistOptions
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace tcltorch {

// What the caller gave; an empty optional was left out.
struct GivenDistOptions {
  std::optional<int64_t> rank, worldSize, masterPort;
  std::optional<std::string> masterAddr;
  std::optional<std::string> initMethod;  // env://, tcp://host:port, file://path
  std::string backend = "auto";           // gloo, nccl, auto
  std::optional<double> timeout;          // seconds
  bool debug = false;
  std::optional<bool> desyncCheck;
};

// A setting of the right type but a wrong value (a port out of range, an
// init_method of no known form). The binding words it in its own syntax (the
// Tcl commands: `bad PARAM "VALUE": must be WHAT`); `param` is the snake_case
// parameter name, `what` what the value must be.
struct BadSetting : std::runtime_error {
  std::string param, what;
  BadSetting(std::string p, std::string w)
      : std::runtime_error(p + " must be " + w), param(std::move(p)), what(std::move(w)) {}
};

// Reads the environment. Throws BadSetting, or Error {DIST CONFIG param} when
// a given value conflicts with the environment or the environment's is no
// number.
DistOptions resolveDistOptions(const GivenDistOptions& given);

}  // namespace tcltorch
