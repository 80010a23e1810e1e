// The command table: every area's commands, listed in one place. Registration,
// torch::help and docs/commands.md are all derived from it.
#include "tcltorch/args.h"
#include "tcltorch/commands.h"

namespace tcltorch {

const std::vector<Command>& allCommands() {
  static const std::vector<Command> all = [] {
    std::vector<Command> out;
    for (auto* area : {&runtimeCommands, &tensorCommands, &distributedCommands, &autogradCommands, &activationCommands, &lossCommands,
                       &nnCommands, &nnLayersCommands, &poolingCommands, &optimCommands, &schedulerCommands, &dataParallelCommands, &shardingCommands, &parallelCommands,
                       &tensorLinalgCommands, &tensorRandomCommands, &tensorFftCommands, &ampRuntimeCommands,
                       &modelManagementCommands, &dataCommands, &jitCommands, &safetensorsCommands,
                       &summaryCommands, &tkPhotoCommands, &dataloaderCommands})
      for (auto& c : (*area)()) out.push_back(c);
    applyAliases(out);
    return out;
  }();
  return all;
}

}  // namespace tcltorch
