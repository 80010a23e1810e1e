// Loss functions: one handler per row; targets checked against the input.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <sstream>

namespace tcltorch {

// ---- losses: one argument struct per parameter shape, one handler per row ----

// Losses comparing input and target element by element: the shapes must
// match (libtorch would broadcast with only a warning, hiding a bug), and the
// target takes the input's dtype so a float64 target works with float32 models.
static at::Tensor sameShapeTarget(Call& c, const Arg<Type::Tensor>& target, const at::Tensor& in) {
  at::Tensor t = c.tensor(target);
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
static at::Tensor classTarget(Call& c, const Arg<Type::Tensor>& target, const at::Tensor& in, bool probsOk) {
  at::Tensor t = c.tensor(target);
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

static at::Tensor floatTarget(Call& c, const Arg<Type::Tensor>& target, const at::Tensor& like) {
  at::Tensor t = c.tensor(target);
  return t.scalar_type() == like.scalar_type() ? t : t.to(like.scalar_type());
}

// Reduction of an elementwise loss computed here (losses libtorch has no kernel for).
static at::Tensor reduce(const at::Tensor& l, int64_t r) {
  return r == at::Reduction::Mean ? l.mean() : r == at::Reduction::Sum ? l.sum() : l;
}

// PyTorch's order: reduction right after weight (or after the parameter the
// other API documents it after), right after the tensors (huber, kl_div,
// smooth_l1), or last.
namespace {
// mean|sum|none, or PyTorch's enum values 0 (none), 1 (mean), 2 (sum) -> at::Reduction
// The word is at::Reduction's own value: the other API also writes 0, 1, 2.
const Param kReduction{"reduction", Type::Choice, "mean", "mean, sum or none (per element); or 1, 2, 0", nullptr,
                       {{"mean", at::Reduction::Mean}, {"sum", at::Reduction::Sum}, {"none", at::Reduction::None},
                        {"0", at::Reduction::None}, {"1", at::Reduction::Mean}, {"2", at::Reduction::Sum}}};
const Param kMargin0{"margin", Type::Double, "0.0", "margin"};
const Param kMargin1{"margin", Type::Double, "1.0", "margin"};
const Param kSmooth{"smooth", Type::Double, "1.0", "added to numerator and denominator"};
const Param kWeight{"weight", Type::OptTensor, kOptional, "per-class (or per-element) rescaling weights"};
const Param kIgnoreIndex{"ignore_index", Type::Int, "-100", "target value that does not contribute"};
const Param kSwap{"swap", Type::Bool, "0", "use the distance swap"};

// The usual leading tensors.
struct TargetArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "prediction"}};
  Arg<Type::Tensor> target{this, {"target", Type::Tensor, nullptr, "target"}};
};
struct LossArgs : TargetArgs {  // mse, l1, soft_margin, multilabel_margin; huber, kl_div, smooth_l1 add one
  Arg<Type::Choice> reduction{this, kReduction};
};
struct WeightedArgs : TargetArgs {  // bce, multilabel_soft_margin; cross_entropy, nll, bce_with_logits add to it
  Arg<Type::OptTensor> weight{this, kWeight};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct SmoothL1Args : LossArgs {
  Arg<Type::Double> beta{this, {"beta", Type::Double, "1.0", "threshold between the quadratic and the linear part"}};
};
struct CrossEntropyArgs : WeightedArgs {
  Arg<Type::Int> ignore_index{this, kIgnoreIndex};
  Arg<Type::Double> label_smoothing{this, {"label_smoothing", Type::Double, "0.0", "amount of label smoothing in [0, 1]"}};
};
struct NllArgs : WeightedArgs {
  Arg<Type::Int> ignore_index{this, kIgnoreIndex};
};
struct BceWithLogitsArgs : WeightedArgs {
  Arg<Type::OptTensor> pos_weight{this, {"pos_weight", Type::OptTensor, kOptional, "weight of positive examples, per class"}};
};
struct HuberArgs : LossArgs {
  Arg<Type::Double> delta{this, Param{"delta", Type::Double, "1.0", "threshold between the quadratic and the linear part"}.positive()};
};
struct KlDivArgs : LossArgs {
  Arg<Type::Bool> log_target{this, {"log_target", Type::Bool, "0", "the target is given as log-probabilities"}};
};
struct HingeEmbeddingArgs : TargetArgs {
  Arg<Type::Double> margin{this, kMargin1};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct PoissonNllArgs : TargetArgs {
  Arg<Type::Bool> log_input{this, {"log_input", Type::Bool, "1", "the input is the log of the rate"}};
  Arg<Type::Bool> full{this, {"full", Type::Bool, "0", "add the Stirling term"}};
  Arg<Type::Double> eps{this, {"eps", Type::Double, "1e-8", "added inside the log when log_input is 0"}};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct GaussianNllArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "predicted means"}};
  Arg<Type::Tensor> target{this, {"target", Type::Tensor, nullptr, "target"}};
  Arg<Type::Tensor> var{this, {"var", Type::Tensor, nullptr, "variances (input's shape, or one less trailing dimension)"}};
  Arg<Type::Bool> full{this, {"full", Type::Bool, "0", "add the constant 0.5 log(2 pi)"}};
  Arg<Type::Double> eps{this, {"eps", Type::Double, "1e-6", "smallest variance"}};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct MultiMarginArgs : TargetArgs {  // the other API's order: input target p margin reduction weight
  Arg<Type::Int> p{this, Param{"p", Type::Int, "1", "1 or 2"}.within(1, 2).mustBe("1 or 2")};
  Arg<Type::Double> margin{this, kMargin1};
  Arg<Type::Choice> reduction{this, kReduction};
  Arg<Type::OptTensor> weight{this, kWeight};
};
struct PairArgs : Args {  // cosine_embedding, margin_ranking
  Arg<Type::Tensor> input1{this, {"input1", Type::Tensor, nullptr, "first input"}};
  Arg<Type::Tensor> input2{this, {"input2", Type::Tensor, nullptr, "second input"}};
  Arg<Type::Tensor> target{this, {"target", Type::Tensor, nullptr, "1 or -1 per pair"}};
  Arg<Type::Double> margin{this, kMargin0};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct TripletTensors : Args {
  Arg<Type::Tensor> anchor{this, {"anchor", Type::Tensor, nullptr, "anchor embeddings"}};
  Arg<Type::Tensor> positive{this, {"positive", Type::Tensor, nullptr, "positive examples"}};
  Arg<Type::Tensor> negative{this, {"negative", Type::Tensor, nullptr, "negative examples"}};
};
struct TripletArgs : TripletTensors {
  Arg<Type::Double> margin{this, kMargin1};
  Arg<Type::Double> p{this, {"p", Type::Double, "2.0", "norm degree"}};
  Arg<Type::Double> eps{this, {"eps", Type::Double, "1e-6", "added to differences"}};
  Arg<Type::Bool> swap{this, kSwap};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct TripletDistanceArgs : TripletTensors {
  Arg<Type::Choice> distance{this, {"distance", Type::Choice, "euclidean", "euclidean or cosine", "distance_function", "euclidean cosine"}};
  Arg<Type::Double> margin{this, kMargin1};
  Arg<Type::Bool> swap{this, kSwap};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct FocalArgs : TargetArgs {
  Arg<Type::Double> alpha{this, {"alpha", Type::Double, kOptional, "class balance (softmax: 1.0; sigmoid: 0.25, negative for none)"}};
  Arg<Type::Double> gamma{this, {"gamma", Type::Double, "2.0", "focusing exponent"}};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct DiceArgs : TargetArgs {
  Arg<Type::Double> smooth{this, kSmooth};
  Arg<Type::Choice> reduction{this, kReduction};
};
struct TverskyArgs : TargetArgs {
  Arg<Type::Double> alpha{this, {"alpha", Type::Double, "0.5", "weight of false positives"}};
  Arg<Type::Double> beta{this, {"beta", Type::Double, "0.5", "weight of false negatives"}};
  Arg<Type::Double> smooth{this, kSmooth};
  Arg<Type::Choice> reduction{this, kReduction};
};
}  // namespace

// Losses of an input and a target of its shape (mse, l1, soft margin).
template <at::Tensor (*Loss)(const at::Tensor&, const at::Tensor&, int64_t)>
static Tcl_Obj* cmdSameShapeLoss(Call& c, const LossArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(Loss(x, sameShapeTarget(c, a.target, x), c.choice(a.reduction)));
}
static Tcl_Obj* cmdSmoothL1(Call& c, const SmoothL1Args& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::smooth_l1_loss(x, sameShapeTarget(c, a.target, x), c.choice(a.reduction), c.number(a.beta)));
}
static Tcl_Obj* cmdCrossEntropy(Call& c, const CrossEntropyArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::cross_entropy_loss(x, classTarget(c, a.target, x, true), c.optTensor(a.weight), c.choice(a.reduction),
                                         c.integer(a.ignore_index), c.number(a.label_smoothing)));
}
static Tcl_Obj* cmdNll(Call& c, const NllArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::nll_loss_nd(x, classTarget(c, a.target, x, false), c.optTensor(a.weight), c.choice(a.reduction),
                                  c.integer(a.ignore_index)));
}
static Tcl_Obj* cmdBce(Call& c, const WeightedArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::binary_cross_entropy(x, sameShapeTarget(c, a.target, x), c.optTensor(a.weight), c.choice(a.reduction)));
}
static Tcl_Obj* cmdBceWithLogits(Call& c, const BceWithLogitsArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::binary_cross_entropy_with_logits(x, sameShapeTarget(c, a.target, x), c.optTensor(a.weight),
                                                       c.optTensor(a.pos_weight), c.choice(a.reduction)));
}
static Tcl_Obj* cmdHuber(Call& c, const HuberArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::huber_loss(x, sameShapeTarget(c, a.target, x), c.choice(a.reduction), c.number(a.delta)));
}
static Tcl_Obj* cmdKlDiv(Call& c, const KlDivArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::kl_div(x, sameShapeTarget(c, a.target, x), c.choice(a.reduction), c.boolean(a.log_target)));
}
static Tcl_Obj* cmdHingeEmbedding(Call& c, const HingeEmbeddingArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::hinge_embedding_loss(x, sameShapeTarget(c, a.target, x), c.number(a.margin), c.choice(a.reduction)));
}
static Tcl_Obj* cmdPoissonNll(Call& c, const PoissonNllArgs& a) {
  at::Tensor x = c.tensor(a.input);
  return c.result(at::poisson_nll_loss(x, sameShapeTarget(c, a.target, x), c.boolean(a.log_input), c.boolean(a.full),
                                       c.number(a.eps), c.choice(a.reduction)));
}
static Tcl_Obj* cmdGaussianNll(Call& c, const GaussianNllArgs& a) {
  at::Tensor x = c.tensor(a.input);
  at::Tensor y = sameShapeTarget(c, a.target, x), var = c.tensor(a.var).to(x.scalar_type());
  if (var.dim() == x.dim() - 1) var = var.unsqueeze(-1);
  if (at::lt(var, 0).any().item<bool>()) c.badValue(a.var, "a tensor of non-negative variances");
  at::Tensor v = var.clamp_min(c.number(a.eps));
  at::Tensor l = 0.5 * (v.log() + (x - y).pow(2) / v);
  if (c.boolean(a.full)) l = l + 0.5 * std::log(2 * M_PI);
  return c.result(reduce(l, c.choice(a.reduction)));
}
static Tcl_Obj* cmdMultiMargin(Call& c, const MultiMarginArgs& a) {
  at::Tensor x = c.tensor(a.input);
  int64_t p = c.integer(a.p);
  return c.result(at::multi_margin_loss(x, classTarget(c, a.target, x, false), p, c.number(a.margin), c.optTensor(a.weight),
                                        c.choice(a.reduction)));
}
static Tcl_Obj* cmdMultilabelMargin(Call& c, const LossArgs& a) {
  at::Tensor x = c.tensor(a.input), t = c.tensor(a.target);
  return c.result(at::multilabel_margin_loss(x, t.scalar_type() == at::kLong ? t : t.to(at::kLong), c.choice(a.reduction)));
}
static Tcl_Obj* cmdMultilabelSoftMargin(Call& c, const WeightedArgs& a) {
  at::Tensor x = c.tensor(a.input);
  at::Tensor y = sameShapeTarget(c, a.target, x), w = c.optTensor(a.weight);
  at::Tensor l = -(y * at::log_sigmoid(x) + (1 - y) * at::log_sigmoid(-x));
  if (w.defined()) l = l * w;
  return c.result(reduce(l.mean(-1), c.choice(a.reduction)));
}
static Tcl_Obj* cmdCosineEmbedding(Call& c, const PairArgs& a) {
  at::Tensor x = c.tensor(a.input1);
  return c.result(at::cosine_embedding_loss(x, c.tensor(a.input2), floatTarget(c, a.target, x), c.number(a.margin),
                                            c.choice(a.reduction)));
}
static Tcl_Obj* cmdMarginRanking(Call& c, const PairArgs& a) {
  at::Tensor x = c.tensor(a.input1);
  return c.result(at::margin_ranking_loss(x, c.tensor(a.input2), floatTarget(c, a.target, x), c.number(a.margin),
                                          c.choice(a.reduction)));
}
static Tcl_Obj* cmdTripletMargin(Call& c, const TripletArgs& a) {
  return c.result(at::triplet_margin_loss(c.tensor(a.anchor), c.tensor(a.positive), c.tensor(a.negative), c.number(a.margin),
                                          c.number(a.p), c.number(a.eps), c.boolean(a.swap), c.choice(a.reduction)));
}
static Tcl_Obj* cmdTripletDistance(Call& c, const TripletDistanceArgs& a) {
  at::Tensor an = c.tensor(a.anchor), p = c.tensor(a.positive), n = c.tensor(a.negative);
  bool cosine = c.choice(a.distance) == 1;
  auto d = [&](const at::Tensor& u, const at::Tensor& v) {
    return cosine ? 1 - at::cosine_similarity(u, v, -1) : at::pairwise_distance(u, v);
  };
  at::Tensor dp = d(an, p), dn = d(an, n);
  if (c.boolean(a.swap)) dn = at::min(dn, d(p, n));
  return c.result(reduce(at::clamp_min(dp - dn + c.number(a.margin), 0), c.choice(a.reduction)));
}
static Tcl_Obj* cmdFocal(Call& c, const FocalArgs& a) {
  at::Tensor x = c.tensor(a.input);
  int64_t r = c.choice(a.reduction);
  double gamma = c.number(a.gamma);
  if (!c.tensor(a.target).sizes().equals(x.sizes())) {
    at::Tensor logp = at::log_softmax(x, 1).gather(1, classTarget(c, a.target, x, false).unsqueeze(1)).squeeze(1);
    double alpha = c.has(a.alpha) ? c.number(a.alpha) : 1.0;
    return c.result(reduce(-alpha * (1 - logp.exp()).pow(gamma) * logp, r));
  }
  at::Tensor y = sameShapeTarget(c, a.target, x), p = x.sigmoid();
  at::Tensor ce = at::binary_cross_entropy_with_logits(x, y, {}, {}, at::Reduction::None);
  at::Tensor pt = p * y + (1 - p) * (1 - y);
  at::Tensor l = ce * (1 - pt).pow(gamma);
  double alpha = c.has(a.alpha) ? c.number(a.alpha) : 0.25;
  if (alpha >= 0) l = (alpha * y + (1 - alpha) * (1 - y)) * l;
  return c.result(reduce(l, r));
}
// Dice and Tversky on probabilities: per sample over all but dimension 0.
template <class A>
static at::Tensor overlapLoss(Call& c, const A& a, double alpha, double beta) {
  at::Tensor p = c.tensor(a.input);
  at::Tensor t = sameShapeTarget(c, a.target, p);
  double smooth = c.number(a.smooth);
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < p.dim(); ++d) dims.push_back(d);
  auto sum = [&](const at::Tensor& v) { return p.dim() > 1 ? v.sum(dims) : v.sum(); };
  at::Tensor tp = sum(p * t), fp = sum(p * (1 - t)), fn = sum((1 - p) * t);
  return reduce(1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth), c.choice(a.reduction));
}
static Tcl_Obj* cmdDice(Call& c, const DiceArgs& a) { return c.result(overlapLoss(c, a, 0.5, 0.5)); }
static Tcl_Obj* cmdTversky(Call& c, const TverskyArgs& a) {
  return c.result(overlapLoss(c, a, c.number(a.alpha), c.number(a.beta)));
}

// Rows of one shape share its struct.
std::vector<Command> lossCommands() {
  auto plain = std::make_shared<const LossArgs>();
  auto weighted = std::make_shared<const WeightedArgs>();
  auto pair = std::make_shared<const PairArgs>();
  return {
      typedRow<cmdSameShapeLoss<at::mse_loss>>("mse_loss", "Mean squared error: mean((input - target)^2).", plain),
      typedRow<cmdSameShapeLoss<at::l1_loss>>("l1_loss", "Mean absolute error: mean(|input - target|).", plain),
      typedRow<cmdSmoothL1>("smooth_l1_loss", "Huber-like loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."),
      typedRow<cmdCrossEntropy>("cross_entropy_loss",
                                "Cross entropy of logits [N, C] against class indices [N] (or class probabilities [N, C])."),
      typedRow<cmdNll>("nll_loss", "Negative log likelihood of log-probabilities [N, C] against class indices [N]."),
      typedRow<cmdBce>("bce_loss", "Binary cross entropy of probabilities in [0, 1] against targets of the same shape.", weighted),
      typedRow<cmdBceWithLogits>("bce_with_logits_loss", "Binary cross entropy on logits (sigmoid folded in, numerically stable)."),
      typedRow<cmdHuber>("huber_loss", "Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."),
      typedRow<cmdKlDiv>("kl_div_loss", "Kullback-Leibler divergence of log-probabilities input from target (mean over elements)."),
      typedRow<cmdSameShapeLoss<at::soft_margin_loss>>("soft_margin_loss", "Two-class logistic loss: log(1 + exp(-y x)), targets 1 or -1.", plain),
      typedRow<cmdHingeEmbedding>("hinge_embedding_loss", "x where y = 1, max(0, margin - x) where y = -1."),
      typedRow<cmdPoissonNll>("poisson_nll_loss",
                              "Poisson negative log likelihood: exp(x) - y x for log input (else x - y log(x + eps))."),
      typedRow<cmdGaussianNll>("gaussian_nll_loss",
                               "Gaussian negative log likelihood: 0.5 (log(var) + (x - y)^2 / var), var clamped to eps."),
      typedRow<cmdMultiMargin>("multi_margin_loss", "Multi-class hinge loss of scores [N, C] against class indices [N]."),
      typedRow<cmdMultilabelMargin>("multilabel_margin_loss",
                                    "Multi-label hinge loss; the target [N, C] lists class indices, ended by -1.", plain),
      typedRow<cmdMultilabelSoftMargin>("multilabel_soft_margin_loss",
                                        "Multi-label one-versus-all logistic loss, targets 0 or 1 of the input's shape.", weighted),
      typedRow<cmdCosineEmbedding>("cosine_embedding_loss",
                                   "1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.", pair),
      typedRow<cmdMarginRanking>("margin_ranking_loss", "max(0, -y (x1 - x2) + margin), targets 1 or -1.", pair),
      typedRow<cmdTripletMargin>("triplet_margin_loss", "max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance."),
      typedRow<cmdTripletDistance>("triplet_margin_with_distance_loss",
                                   "Triplet margin loss with a named distance: euclidean (pairwise) or cosine (1 - cos)."),
      typedRow<cmdFocal>("focal_loss",
                         "Focal loss: class indices [N] for logits [N, C]: -alpha (1 - p_t)^gamma log p_t (softmax; alpha 1 by "
                         "default); targets of the input's shape: sigmoid focal loss of torchvision (alpha 0.25 by default)."),
      typedRow<cmdDice>("dice_loss", "1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth) per sample, on probabilities."),
      typedRow<cmdTversky>("tversky_loss", "1 - (TP + smooth) / (TP + alpha FP + beta FN + smooth) per sample, on probabilities."),
  };
}

}  // namespace tcltorch
