// Random sampling and the generator's state. Every sampler draws from the
// default CPU generator (or the device's), so torch::manual_seed makes a run
// repeat, and the numbers equal PyTorch's for the same seed and calls.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <ATen/CPUGeneratorImpl.h>
#include <mutex>

namespace tcltorch {

using at::Tensor;

static const Param kSize{"size", Type::IntList, "1", "shape of the result", "shape"};
static const Param kDtypeOpt{"dtype", Type::Dtype, kOptional, "element type (default: the input's)"};
static const Param kDeviceOpt{"device", Type::Device, kOptional, "cpu, cuda or cuda:N (default: the input's)"};

static at::Generator& cpuGenerator() {
  static at::Generator g = at::detail::getDefaultCPUGenerator();
  return g;
}

static Tcl_Obj* cmdSeed(Call&) {
  at::Generator& g = cpuGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  return newString(std::to_string(g.seed()));
}

static Tcl_Obj* cmdInitialSeed(Call&) { return newString(std::to_string(cpuGenerator().current_seed())); }

static Tcl_Obj* cmdGetRngState(Call& c) {
  at::Generator& g = cpuGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  return c.result(g.get_state());
}

static Tcl_Obj* cmdSetRngState(Call& c) {
  Tensor s = c.tensor("state");
  if (s.scalar_type() != at::kByte) fail("set_rng_state: the state must be a uint8 tensor from get_rng_state", {"VALUE", "state"});
  at::Generator& g = cpuGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(s);
  return nullptr;
}

// ---- samplers with a shape: size ... ?dtype? ?device? ----

namespace {
struct Sampler {
  const char* name;
  const char* doc;
  std::vector<Param> params;  // between size (or first) and dtype, in the other API's order
  Tensor (*fn)(Call&, at::IntArrayRef size, const at::TensorOptions&);
  bool sizeLast = false;  // normal: mean std ?size?
};
}  // namespace

static const std::vector<Sampler>& samplers() {
  static const std::vector<Sampler> s = {
      {"normal", "Normal(mean, std) samples of the given size.",
       {{"mean", Type::Double, nullptr, "mean"}, {"std", Type::Double, nullptr, "standard deviation"}},
       [](Call& c, at::IntArrayRef size, const at::TensorOptions& o) {
         return at::normal(c.number("mean"), c.number("std"), size, c10::nullopt, o);
       },
       true},
      {"uniform", "Uniform samples in [low, high).",
       {{"low", Type::Double, nullptr, "lower bound"}, {"high", Type::Double, nullptr, "upper bound, exclusive"}},
       [](Call& c, at::IntArrayRef size, const at::TensorOptions& o) {
         return at::empty(size, o).uniform_(c.number("low"), c.number("high"));
       }},
      {"exponential", "Exponential(rate) samples (mean 1/rate).",
       {{"rate", Type::Double, nullptr, "rate lambda > 0", "lambd"}},
       [](Call& c, at::IntArrayRef size, const at::TensorOptions& o) {
         return at::empty(size, o).exponential_(c.number("rate"));
       }},
      {"gamma", "Gamma(alpha, beta) samples: shape alpha, rate beta (mean alpha/beta).",
       {{"alpha", Type::Double, nullptr, "shape alpha > 0", "concentration"},
        Param{"beta", Type::Double, "1", "rate beta > 0", "rate"}.positive("a rate > 0")},
       [](Call& c, at::IntArrayRef size, const at::TensorOptions& o) {
         double beta = c.number("beta");
         return at::_standard_gamma(at::full(size, c.number("alpha"), o)).div_(beta);
       }},
      {"poisson", "Poisson(lambda) samples (counts, in the floating dtype).",
       {{"lambda", Type::Double, nullptr, "rate lambda >= 0", "rate"}},
       [](Call& c, at::IntArrayRef size, const at::TensorOptions& o) {
         return at::poisson(at::full(size, c.number("lambda"), o));
       }},
  };
  return s;
}

static Tcl_Obj* cmdSample(Call& c) {
  at::TensorOptions o = applyOptions(c, at::TensorOptions().dtype(at::kFloat));
  std::vector<int64_t> size = c.ints("size");
  return c.result(c.data<Sampler>().fn(c, size, o));
}

// One handler for the family, each row carrying its sampler.
static void addSamplers(std::vector<Command>& out) {
  auto params = [](const Sampler& s) {
    std::vector<Param> p = s.params;
    p.insert(s.sizeLast ? p.end() : p.begin(), kSize);
    p.push_back(kDtypeParam);
    p.push_back(kDeviceParam);
    return p;
  };
  for (const Sampler& s : samplers()) out.push_back(Command{s.name, s.doc, params(s), cmdSample}.withData(&s));
}

// ---- samplers shaped like a tensor ----

static Tcl_Obj* cmdBernoulli(Call& c) {
  const Tensor& t = c.tensorRef("input");
  if (c.has("p")) return c.result(at::bernoulli(t, c.number("p")));
  return c.result(at::bernoulli(t));
}

static Tcl_Obj* cmdMultinomial(Call& c) {
  return c.result(at::multinomial(c.tensorRef("input"), c.integer("num_samples"), c.boolean("replacement")));
}

static Tensor finishGrad(Call& c, Tensor t) {
  if (c.boolean("requires_grad")) t.set_requires_grad(true);
  return t;
}

static Tcl_Obj* cmdRandintLike(Call& c) {
  const Tensor& t = c.tensorRef("input");
  return c.result(finishGrad(c, at::randint_like(t, c.integer("low"), c.integer("high"), applyOptions(c, t.options()))));
}

static Tcl_Obj* cmdEmptyLike(Call& c) {
  const Tensor& t = c.tensorRef("input");
  return c.result(finishGrad(c, at::empty_like(t, applyOptions(c, t.options()))));
}

// ---- deterministic creation ----

static Tcl_Obj* cmdLogspace(Call& c) {
  at::TensorOptions o = applyOptions(c, at::TensorOptions().dtype(at::kFloat));
  return c.result(finishGrad(c, at::logspace(c.number("start"), c.number("end"), c.integer("steps"), c.number("base"), o)));
}

static Tcl_Obj* cmdMeshgrid(Call& c) {
  static const char* const kIndexing[] = {"ij", "xy"};  // the order of the choices
  return c.results(at::meshgrid(c.tensors("tensors"), kIndexing[c.choice("indexing")]));
}

std::vector<Command> tensorRandomCommands() {
  std::vector<Command> out = {
      {"seed", "Seed the CPU generator from a non-deterministic source; returns the seed.", {}, cmdSeed},
      {"initial_seed", "The CPU generator's current seed (from manual_seed or seed).", {}, cmdInitialSeed},
      {"get_rng_state", "The CPU generator's state as a uint8 tensor (for set_rng_state).", {}, cmdGetRngState},
      {"set_rng_state", "Restore the CPU generator's state from get_rng_state's tensor.",
       {{"state", Type::Tensor, nullptr, "uint8 state tensor", "newState new_state"}}, cmdSetRngState},
      {"bernoulli", "0/1 samples shaped like input: probability input[i], or p for every element.",
       {kInput, {"p", Type::Double, kOptional, "one probability for all elements", "probability"}}, cmdBernoulli},
      {"multinomial", "num_samples category indices per row of the (unnormalised) weights input.",
       {kInput, {"num_samples", Type::PosInt, nullptr, "samples per row"},
        {"replacement", Type::Bool, "1", "1: with replacement (the other API's default; PyTorch's is 0)"}},
       cmdMultinomial},
      {"randint_like", "Random integers in [low, high) with the input's shape (and dtype/device unless given).",
       {kInput, {"high", Type::Int, nullptr, "upper bound, exclusive"}, {"low", Type::Int, "0", "lower bound"},
        kDtypeOpt, kDeviceOpt, kRequiresGradParam},
       cmdRandintLike},
      {"empty_like", "Uninitialised tensor with the input's shape (and dtype/device unless given).",
       {kInput, kDtypeOpt, kDeviceOpt, kRequiresGradParam}, cmdEmptyLike},
      {"logspace", "steps values base**x for x evenly spaced from start to end, inclusive.",
       {{"start", Type::Double, nullptr, "first exponent"}, {"end", Type::Double, nullptr, "last exponent"},
        {"steps", Type::Int, "100", "number of values"}, {"base", Type::Double, "10", "base"}, kDtypeParam, kDeviceParam,
        kRequiresGradParam},
       cmdLogspace},
      {"meshgrid", "Coordinate grids of 1-D tensors: a list of handles, one per input.",
       {{"tensors", Type::TensorList, nullptr, "list of 1-D tensor handles", "inputs"},
        {"indexing", Type::Choice, "ij", "ij (matrix) or xy (Cartesian)", nullptr, "ij xy"}},
       cmdMeshgrid},
  };
  addSamplers(out);
  return out;
}

}  // namespace tcltorch
