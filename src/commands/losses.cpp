// Loss functions: one table of specs, one handler; targets checked against the input.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <cstring>
#include <sstream>

namespace tcltorch {

// ---- losses: one table, one handler template ----

// mean|sum|none, or PyTorch's enum values 0 (none), 1 (mean), 2 (sum) -> at::Reduction
// The word is at::Reduction's own value: the other API also writes 0, 1, 2.
static int64_t reduction(Call& c) { return c.choice("reduction"); }

// Losses comparing input and target element by element: the shapes must
// match (libtorch would broadcast with only a warning, hiding a bug), and the
// target takes the input's dtype so a float64 target works with float32 models.
static at::Tensor sameShapeTarget(Call& c, const at::Tensor& in) {
  at::Tensor t = c.tensor("target");
  if (!in.sizes().equals(t.sizes())) {
    std::ostringstream m;
    m << "shape mismatch: input " << in.sizes() << " and target " << t.sizes() << " must have the same shape";
    fail(m.str(), {"SHAPE"});
  }
  return t.scalar_type() == in.scalar_type() ? t : t.to(in.scalar_type());
}

// Class-index targets: [N] (or [N, d...]) indices for an [N, C, d...] input.
// Floating targets of that shape are class numbers written as Tcl numbers and
// are converted to int64; a floating target of the input's shape is class
// probabilities (cross_entropy only).
static at::Tensor classTarget(Call& c, const at::Tensor& in, bool probsOk) {
  at::Tensor t = c.tensor("target");
  if (probsOk && t.is_floating_point() && t.sizes().equals(in.sizes()))
    return t.scalar_type() == in.scalar_type() ? t : t.to(in.scalar_type());
  bool shapeOk = in.dim() >= 1 && t.dim() == in.dim() - 1;
  for (int64_t d = 0; shapeOk && d < t.dim(); ++d)
    shapeOk = t.size(d) == in.size(d == 0 ? 0 : d + 1);
  if (in.dim() == 1) shapeOk = t.dim() == 0;
  if (!shapeOk) {
    std::ostringstream m;
    m << "shape mismatch: input " << in.sizes() << " needs a class-index target of shape [N, d...] without the class dimension"
      << (probsOk ? " (or class probabilities of the input's shape)" : "") << ", got " << t.sizes();
    fail(m.str(), {"SHAPE"});
  }
  return t.scalar_type() == at::kLong ? t : t.to(at::kLong);
}

namespace {
struct LossSpec {
  const char* name;
  const char* doc;
  std::vector<Param> extra;  // after the tensors; reduction goes after weight, else last
  at::Tensor (*fn)(Call&, const at::Tensor& input, int64_t reduction);  // input: "" when not declared
  std::vector<Param> tensors = {};  // the leading tensor parameters; empty: input, target
  bool reductionFirst = false;  // reduction right after the tensors (PyTorch's huber, kl_div, smooth_l1)
  // Reduction right after this parameter (the other API's order where it
  // documents one: multi_margin_loss input target p margin reduction).
  const char* reductionAfter = nullptr;
};
}  // namespace

// Reduction of an elementwise loss computed here (losses libtorch has no kernel for).
static at::Tensor reduce(const at::Tensor& l, int64_t r) {
  return r == at::Reduction::Mean ? l.mean() : r == at::Reduction::Sum ? l.sum() : l;
}
// Dice and Tversky on probabilities: per sample over all but dimension 0.
static at::Tensor overlapLoss(Call& c, const at::Tensor& p, int64_t r, double alpha, double beta) {
  at::Tensor t = sameShapeTarget(c, p);
  double smooth = c.number("smooth");
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < p.dim(); ++d) dims.push_back(d);
  auto sum = [&](const at::Tensor& v) { return p.dim() > 1 ? v.sum(dims) : v.sum(); };
  at::Tensor tp = sum(p * t), fp = sum(p * (1 - t)), fn = sum((1 - p) * t);
  return reduce(1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth), r);
}
static const Param kMargin0{"margin", Type::Double, "0.0", "margin"};
static const Param kMargin1{"margin", Type::Double, "1.0", "margin"};
static const Param kSmooth{"smooth", Type::Double, "1.0", "added to numerator and denominator"};
static const std::vector<Param> kPairTarget = {{"input1", Type::Tensor, nullptr, "first input"},
                                               {"input2", Type::Tensor, nullptr, "second input"},
                                               {"target", Type::Tensor, nullptr, "1 or -1 per pair"}};
static const std::vector<Param> kTriplet = {{"anchor", Type::Tensor, nullptr, "anchor embeddings"},
                                            {"positive", Type::Tensor, nullptr, "positive examples"},
                                            {"negative", Type::Tensor, nullptr, "negative examples"}};
static at::Tensor floatTarget(Call& c, const at::Tensor& like) {
  at::Tensor t = c.tensor("target");
  return t.scalar_type() == like.scalar_type() ? t : t.to(like.scalar_type());
}

static const Param kWeight{"weight", Type::OptTensor, kOptional, "per-class (or per-element) rescaling weights"};

static const std::vector<LossSpec>& lossSpecs() {
  static const std::vector<LossSpec> specs = {
      {"mse_loss", "Mean squared error: mean((input - target)^2).", {},
       [](Call& c, const at::Tensor& x, int64_t r) { return at::mse_loss(x, sameShapeTarget(c, x), r); }},
      {"l1_loss", "Mean absolute error: mean(|input - target|).", {},
       [](Call& c, const at::Tensor& x, int64_t r) { return at::l1_loss(x, sameShapeTarget(c, x), r); }},
      {"smooth_l1_loss", "Huber-like loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.",
       {{"beta", Type::Double, "1.0", "threshold between the quadratic and the linear part"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::smooth_l1_loss(x, sameShapeTarget(c, x), r, c.number("beta"));
       },
       {}, true},
      {"cross_entropy_loss", "Cross entropy of logits [N, C] against class indices [N] (or class probabilities [N, C]).",
       {kWeight,
        {"ignore_index", Type::Int, "-100", "target value that does not contribute"},
        {"label_smoothing", Type::Double, "0.0", "amount of label smoothing in [0, 1]"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::cross_entropy_loss(x, classTarget(c, x, true), c.optTensor("weight"), r,
                                       c.integer("ignore_index"), c.number("label_smoothing"));
       }},
      {"nll_loss", "Negative log likelihood of log-probabilities [N, C] against class indices [N].",
       {kWeight, {"ignore_index", Type::Int, "-100", "target value that does not contribute"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::nll_loss_nd(x, classTarget(c, x, false), c.optTensor("weight"), r, c.integer("ignore_index"));
       }},
      {"bce_loss", "Binary cross entropy of probabilities in [0, 1] against targets of the same shape.", {kWeight},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::binary_cross_entropy(x, sameShapeTarget(c, x), c.optTensor("weight"), r);
       }},
      {"bce_with_logits_loss", "Binary cross entropy on logits (sigmoid folded in, numerically stable).",
       {kWeight, {"pos_weight", Type::OptTensor, kOptional, "weight of positive examples, per class"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::binary_cross_entropy_with_logits(x, sameShapeTarget(c, x), c.optTensor("weight"),
                                                     c.optTensor("pos_weight"), r);
       }},
      {"huber_loss", "Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta).",
       {Param{"delta", Type::Double, "1.0", "threshold between the quadratic and the linear part"}.positive()},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::huber_loss(x, sameShapeTarget(c, x), r, c.number("delta"));
       },
       {}, true},
      {"kl_div_loss", "Kullback-Leibler divergence of log-probabilities input from target (mean over elements).",
       {{"log_target", Type::Bool, "0", "the target is given as log-probabilities"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::kl_div(x, sameShapeTarget(c, x), r, c.boolean("log_target"));
       },
       {}, true},
      {"soft_margin_loss", "Two-class logistic loss: log(1 + exp(-y x)), targets 1 or -1.", {},
       [](Call& c, const at::Tensor& x, int64_t r) { return at::soft_margin_loss(x, sameShapeTarget(c, x), r); }},
      {"hinge_embedding_loss", "x where y = 1, max(0, margin - x) where y = -1.", {kMargin1},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::hinge_embedding_loss(x, sameShapeTarget(c, x), c.number("margin"), r);
       }},
      {"poisson_nll_loss", "Poisson negative log likelihood: exp(x) - y x for log input (else x - y log(x + eps)).",
       {{"log_input", Type::Bool, "1", "the input is the log of the rate"},
        {"full", Type::Bool, "0", "add the Stirling term"},
        {"eps", Type::Double, "1e-8", "added inside the log when log_input is 0"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         return at::poisson_nll_loss(x, sameShapeTarget(c, x), c.boolean("log_input"), c.boolean("full"),
                                     c.number("eps"), r);
       }},
      {"gaussian_nll_loss", "Gaussian negative log likelihood: 0.5 (log(var) + (x - y)^2 / var), var clamped to eps.",
       {{"full", Type::Bool, "0", "add the constant 0.5 log(2 pi)"},
        {"eps", Type::Double, "1e-6", "smallest variance"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         at::Tensor y = sameShapeTarget(c, x), var = c.tensor("var").to(x.scalar_type());
         if (var.dim() == x.dim() - 1) var = var.unsqueeze(-1);
         if (at::lt(var, 0).any().item<bool>()) c.badValue("var", "a tensor of non-negative variances");
         at::Tensor v = var.clamp_min(c.number("eps"));
         at::Tensor l = 0.5 * (v.log() + (x - y).pow(2) / v);
         if (c.boolean("full")) l = l + 0.5 * std::log(2 * M_PI);
         return reduce(l, r);
       },
       {{"input", Type::Tensor, nullptr, "predicted means"}, {"target", Type::Tensor, nullptr, "target"},
        {"var", Type::Tensor, nullptr, "variances (input's shape, or one less trailing dimension)"}}},
      {"multi_margin_loss", "Multi-class hinge loss of scores [N, C] against class indices [N].",
       {Param{"p", Type::Int, "1", "1 or 2"}.within(1, 2).mustBe("1 or 2"), kMargin1, kWeight},
       [](Call& c, const at::Tensor& x, int64_t r) {
         int64_t p = c.integer("p");
         return at::multi_margin_loss(x, classTarget(c, x, false), p, c.number("margin"), c.optTensor("weight"), r);
       },
       {}, false, "margin"},
      {"multilabel_margin_loss", "Multi-label hinge loss; the target [N, C] lists class indices, ended by -1.", {},
       [](Call& c, const at::Tensor& x, int64_t r) {
         at::Tensor t = c.tensor("target");
         return at::multilabel_margin_loss(x, t.scalar_type() == at::kLong ? t : t.to(at::kLong), r);
       }},
      {"multilabel_soft_margin_loss", "Multi-label one-versus-all logistic loss, targets 0 or 1 of the input's shape.",
       {kWeight},
       [](Call& c, const at::Tensor& x, int64_t r) {
         at::Tensor y = sameShapeTarget(c, x), w = c.optTensor("weight");
         at::Tensor l = -(y * at::log_sigmoid(x) + (1 - y) * at::log_sigmoid(-x));
         if (w.defined()) l = l * w;
         return reduce(l.mean(-1), r);
       }},
      {"cosine_embedding_loss", "1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.", {kMargin0},
       [](Call& c, const at::Tensor&, int64_t r) {
         at::Tensor a = c.tensor("input1");
         return at::cosine_embedding_loss(a, c.tensor("input2"), floatTarget(c, a), c.number("margin"), r);
       },
       kPairTarget},
      {"margin_ranking_loss", "max(0, -y (x1 - x2) + margin), targets 1 or -1.", {kMargin0},
       [](Call& c, const at::Tensor&, int64_t r) {
         at::Tensor a = c.tensor("input1");
         return at::margin_ranking_loss(a, c.tensor("input2"), floatTarget(c, a), c.number("margin"), r);
       },
       kPairTarget},
      {"triplet_margin_loss", "max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance.",
       {kMargin1, {"p", Type::Double, "2.0", "norm degree"}, {"eps", Type::Double, "1e-6", "added to differences"},
        {"swap", Type::Bool, "0", "use the distance swap"}},
       [](Call& c, const at::Tensor&, int64_t r) {
         return at::triplet_margin_loss(c.tensor("anchor"), c.tensor("positive"), c.tensor("negative"),
                                        c.number("margin"), c.number("p"), c.number("eps"), c.boolean("swap"), r);
       },
       kTriplet},
      {"triplet_margin_with_distance_loss", "Triplet margin loss with a named distance: euclidean (pairwise) or cosine (1 - cos).",
       {{"distance", Type::Choice, "euclidean", "euclidean or cosine", "distance_function", "euclidean cosine"},
        kMargin1, {"swap", Type::Bool, "0", "use the distance swap"}},
       [](Call& c, const at::Tensor&, int64_t r) {
         at::Tensor a = c.tensor("anchor"), p = c.tensor("positive"), n = c.tensor("negative");
         bool cosine = c.choice("distance") == 1;
         auto d = [&](const at::Tensor& u, const at::Tensor& v) {
           return cosine ? 1 - at::cosine_similarity(u, v, -1) : at::pairwise_distance(u, v);
         };
         at::Tensor dp = d(a, p), dn = d(a, n);
         if (c.boolean("swap")) dn = at::min(dn, d(p, n));
         return reduce(at::clamp_min(dp - dn + c.number("margin"), 0), r);
       },
       kTriplet},
      {"focal_loss",
       "Focal loss: class indices [N] for logits [N, C]: -alpha (1 - p_t)^gamma log p_t (softmax; alpha 1 by "
       "default); targets of the input's shape: sigmoid focal loss of torchvision (alpha 0.25 by default).",
       {{"alpha", Type::Double, kOptional, "class balance (softmax: 1.0; sigmoid: 0.25, negative for none)"},
        {"gamma", Type::Double, "2.0", "focusing exponent"}},
       [](Call& c, const at::Tensor& x, int64_t r) {
         double gamma = c.number("gamma");
         if (!c.tensor("target").sizes().equals(x.sizes())) {
           at::Tensor logp = at::log_softmax(x, 1).gather(1, classTarget(c, x, false).unsqueeze(1)).squeeze(1);
           double alpha = c.has("alpha") ? c.number("alpha") : 1.0;
           return reduce(-alpha * (1 - logp.exp()).pow(gamma) * logp, r);
         }
         at::Tensor y = sameShapeTarget(c, x), p = x.sigmoid();
         at::Tensor ce = at::binary_cross_entropy_with_logits(x, y, {}, {}, at::Reduction::None);
         at::Tensor pt = p * y + (1 - p) * (1 - y);
         at::Tensor l = ce * (1 - pt).pow(gamma);
         double alpha = c.has("alpha") ? c.number("alpha") : 0.25;
         if (alpha >= 0) l = (alpha * y + (1 - alpha) * (1 - y)) * l;
         return reduce(l, r);
       }},
      {"dice_loss", "1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth) per sample, on probabilities.", {kSmooth},
       [](Call& c, const at::Tensor& x, int64_t r) { return overlapLoss(c, x, r, 0.5, 0.5); }},
      {"tversky_loss", "1 - (TP + smooth) / (TP + alpha FP + beta FN + smooth) per sample, on probabilities.",
       {{"alpha", Type::Double, "0.5", "weight of false positives"}, {"beta", Type::Double, "0.5", "weight of false negatives"},
        kSmooth},
       [](Call& c, const at::Tensor& x, int64_t r) { return overlapLoss(c, x, r, c.number("alpha"), c.number("beta")); }},
  };
  return specs;
}

static Tcl_Obj* cmdLoss(Call& c) {
  at::Tensor x = c.declares("input") ? c.tensor("input") : at::Tensor();
  return c.result(c.data<LossSpec>().fn(c, x, reduction(c)));
}

// One handler for the family, each row carrying its spec.
std::vector<Command> lossCommands() {
  std::vector<Command> out;
  for (const LossSpec& s : lossSpecs()) {
    std::vector<Param> ps = s.tensors;
    if (ps.empty()) ps = {{"input", Type::Tensor, nullptr, "prediction"}, {"target", Type::Tensor, nullptr, "target"}};
    // PyTorch's order: reduction right after weight, or last.
    size_t at = s.reductionFirst ? ps.size() : 0;
    for (auto& p : s.extra) {
      ps.push_back(p);
      if (s.reductionAfter ? !std::strcmp(p.name, s.reductionAfter) : !std::strcmp(p.name, "weight")) at = ps.size();
    }
    if (!at) at = ps.size();
    Param red{"reduction", Type::Choice, "mean", "mean, sum or none (per element); or 1, 2, 0", nullptr,
              {{"mean", at::Reduction::Mean}, {"sum", at::Reduction::Sum}, {"none", at::Reduction::None},
               {"0", at::Reduction::None}, {"1", at::Reduction::Mean}, {"2", at::Reduction::Sum}}};
    ps.insert(ps.begin() + long(at), red);
    out.push_back(Command{s.name, s.doc, ps, cmdLoss}.withData(&s));
  }
  return out;
}

}  // namespace tcltorch
