// Other names of existing commands, all of them in this one table: the other
// Tcl torch API's names and its irregular camelCase spellings (torch::siNh,
// torch::Floor, torch::kthValue...). Each is attached to its target row as an
// alias (Command::aliases, the one alias path): one command, several names;
// torch::help and the reference list them with the target, and each alias
// also gets its derived camelCase spelling.
#include "tcltorch/commands.h"
#include <algorithm>
#include <deque>
#include <stdexcept>

namespace tcltorch {

namespace {
struct Alias {
  const char* name;
  const char* target;
};
const Alias kAliases[] = {
    // elementwise math and comparison
    {"sin", "tensor_sin"}, {"cos", "tensor_cos"}, {"floor", "tensor_floor"}, {"Floor", "tensor_floor"},
    {"ceil", "tensor_ceil"}, {"round", "tensor_round"}, {"Round", "tensor_round"}, {"log2", "tensor_log2"},
    {"log10", "tensor_log10"}, {"rsqrt", "tensor_rsqrt"}, {"rSqrt", "tensor_rsqrt"}, {"pow", "tensor_pow"},
    {"eq", "tensor_eq"}, {"Eq", "tensor_eq"}, {"ne", "tensor_ne"}, {"Ne", "tensor_ne"}, {"lt", "tensor_lt"},
    {"Lt", "tensor_lt"}, {"le", "tensor_le"}, {"Le", "tensor_le"}, {"gt", "tensor_gt"}, {"Gt", "tensor_gt"},
    {"ge", "tensor_ge"}, {"siNh", "sinh"}, {"deg2Rad", "deg2rad"}, {"rad_to_deg", "rad2deg"}, {"Square", "square"},
    {"Frac", "frac"}, {"isNan", "isnan"}, {"isInf", "isinf"}, {"isFinite", "isfinite"}, {"isClose", "isclose"},
    {"allClose", "allclose"},
    // reductions, scans and statistics
    {"mean_dim", "tensor_mean"}, {"std_dim", "tensor_std"}, {"var_dim", "tensor_var"}, {"median_dim", "tensor_median"},
    {"cumSum", "cumsum"}, {"cumProd", "cumprod"}, {"cumMax", "cummax"}, {"cumMin", "cummin"}, {"kthValue", "kthvalue"},
    {"gradient_cmd", "gradient"},
    // creation and random sampling
    {"tensor_rand", "rand"}, {"tensor_randn", "randn"}, {"Normal", "normal"}, {"Poisson", "poisson"},
    {"meshGrid", "meshgrid"}, {"Empty", "empty"},
    // linear algebra
    {"diagFlat", "diagflat"}, {"Outer", "outer"}, {"Trace", "trace"}, {"least_squares", "lstsq"},
    {"tensorDot", "tensordot"}, {"Einsum", "einsum"},
    // layers: the other API's spellings of ours
    {"batchnorm2d", "batch_norm2d"}, {"avgPool2d", "avgpool2d"}, {"maxPool2d", "maxpool2d"},
    {"conv2d_layer", "conv2d"}, {"linear_layer", "linear"}, {"Embedding", "embedding"},
    {"batch_norm_1d", "batch_norm1d"},
    // FFT and signal
    {"fftShift", "fftshift"}, {"ifftShift", "ifftshift"},
    // shape: irregular camelCase
    {"Flip", "flip"}, {"Roll", "roll"}, {"Rot90", "rot90"}, {"dStack", "dstack"}, {"hSplit", "hsplit"},
    {"hStack", "hstack"}, {"vSplit", "vsplit"}, {"vStack", "vstack"}, {"row_stack", "vstack"},
    // activations and autograd: irregular camelCase
    {"Elu", "elu"}, {"hardSigmoid", "hardsigmoid"}, {"hardSwish", "hardswish"}, {"hardTanh", "hardtanh"},
    {"logSoftmax", "logsoftmax"}, {"rRelu", "rrelu"}, {"siLU", "silu"}, {"softmax2D", "softmax2d"},
    {"softMin", "softmin"}, {"softPlus", "softplus"}, {"softSign", "softsign"}, {"tanhShrink", "tanhshrink"},
    {"Threshold", "threshold"}, {"Jacobian", "jacobian"},
    // optimizers and schedulers
    {"get_lr", "optimizer_get_lr"}, {"lr_scheduler_cosine_annealing", "lr_scheduler_cosine"},
    {"optimizerRAdam", "optimizer_radam"}, {"optimizerAdamW", "optimizer_adamw"},
    // models and collectives under the other API's short names (each also camelCase: saveState, ...)
    {"save_state", "save_state_dict"}, {"load_state", "load_state_dict"},
    {"all_reduce", "distributed_all_reduce"}, {"broadcast", "distributed_broadcast"},
    // autograd's long names
    {"vector_jacobian_product", "vjp"}, {"vector_map", "vmap"},
    {"lr_scheduler_plateau", "lr_scheduler_reduce_on_plateau"}, {"lr_scheduler_step_advanced", "lr_scheduler_step_update"},
};
}  // namespace

void applyAliases(std::vector<Command>& all) {
  static std::deque<std::string> names;  // Command::aliases points into these
  for (Command& c : all) {
    std::string extra = c.aliases ? c.aliases : "";
    for (const Alias& a : kAliases)
      if (std::string(a.target) == c.name) extra += (extra.empty() ? "" : " ") + std::string(a.name);
    if (extra.empty()) continue;
    names.push_back(extra);
    c.aliases = names.back().c_str();
  }
  for (const Alias& a : kAliases)
    if (std::none_of(all.begin(), all.end(), [&](const Command& c) { return std::string(c.name) == a.target; }))
      throw std::logic_error(std::string("alias ") + a.name + " of unknown command " + a.target);
}

}  // namespace tcltorch
