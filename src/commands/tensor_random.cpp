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

namespace {
struct SetRngStateArgs : Args {
  Arg<Type::Tensor> state{this, {"state", Type::Tensor, nullptr, "uint8 state tensor", "newState new_state"}};
};
}  // namespace
static Tcl_Obj* cmdSetRngState(Call& c, const SetRngStateArgs& a) {
  Tensor s = c.tensor(a.state);
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
  // a, b: the values of params (b: 0 for a sampler with one parameter)
  Tensor (*fn)(at::IntArrayRef size, const at::TensorOptions&, double a, double b);
  bool sizeLast = false;  // normal: mean std ?size?
};
}  // namespace

static const std::vector<Sampler>& samplers() {
  static const std::vector<Sampler> s = {
      {"normal", "Normal(mean, std) samples of the given size.",
       {{"mean", Type::Double, nullptr, "mean"}, {"std", Type::Double, nullptr, "standard deviation"}},
       [](at::IntArrayRef size, const at::TensorOptions& o, double mean, double sd) {
         return at::normal(mean, sd, size, c10::nullopt, o);
       },
       true},
      {"uniform", "Uniform samples in [low, high).",
       {{"low", Type::Double, nullptr, "lower bound"}, {"high", Type::Double, nullptr, "upper bound, exclusive"}},
       [](at::IntArrayRef size, const at::TensorOptions& o, double low, double high) {
         return at::empty(size, o).uniform_(low, high);
       }},
      {"exponential", "Exponential(rate) samples (mean 1/rate).",
       {{"rate", Type::Double, nullptr, "rate lambda > 0", "lambd"}},
       [](at::IntArrayRef size, const at::TensorOptions& o, double rate, double) {
         return at::empty(size, o).exponential_(rate);
       }},
      {"gamma", "Gamma(alpha, beta) samples: shape alpha, rate beta (mean alpha/beta).",
       {{"alpha", Type::Double, nullptr, "shape alpha > 0", "concentration"},
        Param{"beta", Type::Double, "1", "rate beta > 0", "rate"}.positive("a rate > 0")},
       [](at::IntArrayRef size, const at::TensorOptions& o, double alpha, double beta) {
         return at::_standard_gamma(at::full(size, alpha, o)).div_(beta);
       }},
      {"poisson", "Poisson(lambda) samples (counts, in the floating dtype).",
       {{"lambda", Type::Double, nullptr, "rate lambda >= 0", "rate"}},
       [](at::IntArrayRef size, const at::TensorOptions& o, double lambda, double) {
         return at::poisson(at::full(size, lambda, o));
       }},
  };
  return s;
}

// The three shapes of sampler rows: size ?a? (?b?) ?dtype? ?device?, or
// a b ?size? ... (normal); a and b are the sampler's own parameters.
namespace {
struct SampleOneArgs : Args {
  Arg<Type::IntList> size{this, kSize};
  Arg<Type::Double> a;
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  explicit SampleOneArgs(const Sampler& s) : a{this, s.params[0]} {}
};
struct SampleTwoArgs : Args {
  Arg<Type::IntList> size{this, kSize};
  Arg<Type::Double> a;
  Arg<Type::Double> b;
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  explicit SampleTwoArgs(const Sampler& s) : a{this, s.params[0]}, b{this, s.params[1]} {}
};
struct SampleSizeLastArgs : Args {
  Arg<Type::Double> a;
  Arg<Type::Double> b;
  Arg<Type::IntList> size{this, kSize};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  explicit SampleSizeLastArgs(const Sampler& s) : a{this, s.params[0]}, b{this, s.params[1]} {}
};
}  // namespace

static double secondOf(Call&, const SampleOneArgs&) { return 0; }
template <class A>
static double secondOf(Call& c, const A& k) { return c.number(k.b); }

template <class A>
static Tcl_Obj* cmdSample(Call& c, const A& k) {
  at::TensorOptions o = applyOptions(c, at::TensorOptions().dtype(at::kFloat), k.dtype, k.device);
  return c.result(c.data<Sampler>().fn(c.ints(k.size), o, c.number(k.a), secondOf(c, k)));
}

// One handler template for the family, each row carrying its sampler.
static void addSamplers(std::vector<Command>& out) {
  for (const Sampler& s : samplers()) {
    Command row =
        s.sizeLast ? typedRow<cmdSample<SampleSizeLastArgs>>(s.name, s.doc, std::make_shared<const SampleSizeLastArgs>(s))
        : s.params.size() == 1 ? typedRow<cmdSample<SampleOneArgs>>(s.name, s.doc, std::make_shared<const SampleOneArgs>(s))
                               : typedRow<cmdSample<SampleTwoArgs>>(s.name, s.doc, std::make_shared<const SampleTwoArgs>(s));
    out.push_back(row.withData(&s));
  }
}

// ---- samplers shaped like a tensor ----

namespace {
struct BernoulliArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> p{this, {"p", Type::Double, kOptional, "one probability for all elements", "probability"}};
};
}  // namespace
static Tcl_Obj* cmdBernoulli(Call& c, const BernoulliArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  if (c.has(a.p)) return c.result(at::bernoulli(t, c.number(a.p)));
  return c.result(at::bernoulli(t));
}

namespace {
struct MultinomialArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::PosInt> num_samples{this, {"num_samples", Type::PosInt, nullptr, "samples per row"}};
  Arg<Type::Bool> replacement{
      this, {"replacement", Type::Bool, "1", "1: with replacement (the other API's default; PyTorch's is 0)"}};
};
}  // namespace
static Tcl_Obj* cmdMultinomial(Call& c, const MultinomialArgs& a) {
  return c.result(at::multinomial(c.tensorRef(a.input), c.integer(a.num_samples), c.boolean(a.replacement)));
}

static Tensor finishGrad(Call& c, const Arg<Type::Bool>& requiresGrad, Tensor t) {
  if (c.boolean(requiresGrad)) t.set_requires_grad(true);
  return t;
}

namespace {
struct RandintLikeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> high{this, {"high", Type::Int, nullptr, "upper bound, exclusive"}};
  Arg<Type::Int> low{this, {"low", Type::Int, "0", "lower bound"}};
  Arg<Type::Dtype> dtype{this, kDtypeOpt};
  Arg<Type::Device> device{this, kDeviceOpt};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
static Tcl_Obj* cmdRandintLike(Call& c, const RandintLikeArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  return c.result(finishGrad(c, a.requires_grad,
                             at::randint_like(t, c.integer(a.low), c.integer(a.high),
                                              applyOptions(c, t.options(), a.dtype, a.device))));
}

namespace {
struct EmptyLikeArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Dtype> dtype{this, kDtypeOpt};
  Arg<Type::Device> device{this, kDeviceOpt};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
static Tcl_Obj* cmdEmptyLike(Call& c, const EmptyLikeArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  return c.result(finishGrad(c, a.requires_grad, at::empty_like(t, applyOptions(c, t.options(), a.dtype, a.device))));
}

// ---- deterministic creation ----

namespace {
struct LogspaceArgs : Args {
  Arg<Type::Double> start{this, {"start", Type::Double, nullptr, "first exponent"}};
  Arg<Type::Double> end{this, {"end", Type::Double, nullptr, "last exponent"}};
  Arg<Type::Int> steps{this, {"steps", Type::Int, "100", "number of values"}};
  Arg<Type::Double> base{this, {"base", Type::Double, "10", "base"}};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> requires_grad{this, kRequiresGradParam};
};
}  // namespace
static Tcl_Obj* cmdLogspace(Call& c, const LogspaceArgs& a) {
  at::TensorOptions o = applyOptions(c, at::TensorOptions().dtype(at::kFloat), a.dtype, a.device);
  return c.result(finishGrad(c, a.requires_grad,
                             at::logspace(c.number(a.start), c.number(a.end), c.integer(a.steps), c.number(a.base), o)));
}

namespace {
struct MeshgridArgs : Args {
  Arg<Type::TensorList> tensors{this, {"tensors", Type::TensorList, nullptr, "list of 1-D tensor handles", "inputs"}};
  Arg<Type::Choice> indexing{this, {"indexing", Type::Choice, "ij", "ij (matrix) or xy (Cartesian)", nullptr, "ij xy"}};
};
}  // namespace
static Tcl_Obj* cmdMeshgrid(Call& c, const MeshgridArgs& a) {
  static const char* const kIndexing[] = {"ij", "xy"};  // the order of the choices
  return c.results(at::meshgrid(c.tensors(a.tensors), kIndexing[c.choice(a.indexing)]));
}

std::vector<Command> tensorRandomCommands() {
  std::vector<Command> out = {
      // No parameters: plain rows.
      {"seed", "Seed the CPU generator from a non-deterministic source; returns the seed.", {}, cmdSeed},
      {"initial_seed", "The CPU generator's current seed (from manual_seed or seed).", {}, cmdInitialSeed},
      {"get_rng_state", "The CPU generator's state as a uint8 tensor (for set_rng_state).", {}, cmdGetRngState},
      typedRow<cmdSetRngState>("set_rng_state", "Restore the CPU generator's state from get_rng_state's tensor."),
      typedRow<cmdBernoulli>("bernoulli", "0/1 samples shaped like input: probability input[i], or p for every element."),
      typedRow<cmdMultinomial>("multinomial", "num_samples category indices per row of the (unnormalised) weights input."),
      typedRow<cmdRandintLike>("randint_like",
                               "Random integers in [low, high) with the input's shape (and dtype/device unless given)."),
      typedRow<cmdEmptyLike>("empty_like", "Uninitialised tensor with the input's shape (and dtype/device unless given)."),
      typedRow<cmdLogspace>("logspace", "steps values base**x for x evenly spaced from start to end, inclusive."),
      typedRow<cmdMeshgrid>("meshgrid", "Coordinate grids of 1-D tensors: a list of handles, one per input."),
  };
  addSamplers(out);
  return out;
}

}  // namespace tcltorch
