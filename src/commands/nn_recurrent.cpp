// Sequence layers as module handles: recurrent layers (LSTM, GRU, Elman RNN),
// multi-head attention, transformer encoder/decoder layers and stacks, and the
// functional scaled dot-product attention. Modules are libtorch's own, so the
// state-dict keys are PyTorch's (weight_ih_l0, in_proj_weight, linear1.weight).
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include "tcltorch/nn.h"
#include <cmath>
#include <limits>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/modules/transformer.h>
#include <torch/nn/modules/transformerlayer.h>

namespace tcltorch {

namespace nn = torch::nn;

// ---- shared helpers (declared in nn.h) ----

std::vector<int64_t> expandInts(Call& c, const Arg<Type::IntList>& k, size_t n, int64_t min) {
  auto v = c.ints(k);
  if (v.size() == 1) v.assign(n, v[0]);
  bool ok = v.size() == n;
  for (auto x : v) ok = ok && x >= min;
  if (!ok && n == 1) c.badValue(k, min > 0 ? "a positive integer" : "an integer >= " + std::to_string(min));
  if (!ok)
    c.badValue(k, "1 or " + std::to_string(n) + (min > 0 ? " positive integers" : " integers >= " + std::to_string(min)));
  return v;
}

static const Param kModuleP{"module", Type::Module, nullptr, "module handle", "layer model"};

// ---- recurrent layers ----

// A recurrent module: run(input, h0, c0) -> {output, h_n, c_n (LSTM only)}.
namespace {
struct RnnObj : ModuleObj {
  bool lstm = false;
  std::function<std::vector<at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&)> run;
};
}  // namespace

// {output {h_n c_n}} for LSTM, {output h_n} for the others (PyTorch's tuples).
static Tcl_Obj* rnnResult(Call& c, const RnnObj& m, const std::vector<at::Tensor>& r) {
  Tcl_Obj* out = Tcl_NewListObj(0, nullptr);
  Tcl_ListObjAppendElement(nullptr, out, c.result(r[0]));
  Tcl_ListObjAppendElement(nullptr, out, m.lstm ? c.results({r[1], r[2]}) : c.result(r[1]));
  return out;
}

enum class RnnKind { Lstm, Gru, Tanh, Relu };
using RnnSpec = FamilyRow<RnnKind>;

namespace {
struct RnnArgs : Args {
  Arg<Type::Int> input_size{this, Param{"input_size", Type::Int, nullptr, "features of each input step"}.positive()};
  Arg<Type::Int> hidden_size{this, Param{"hidden_size", Type::Int, nullptr, "features of the hidden state"}.positive()};
  Arg<Type::Int> num_layers{this, Param{"num_layers", Type::Int, "1", "stacked recurrent layers"}.positive()};
  Arg<Type::Bool> bias{this, {"bias", Type::Bool, "1", "learn bias_ih and bias_hh"}};
  Arg<Type::Bool> batch_first{
      this, {"batch_first", Type::Bool, "0", "input and output are [batch, seq, feature] (else [seq, batch, feature])"}};
  Arg<Type::Double> dropout{
      this,
      Param{"dropout", Type::Double, "0", "dropout on each layer's output except the last (train mode)"}.probability()};
  Arg<Type::Bool> bidirectional{this, {"bidirectional", Type::Bool, "0", "also run the sequence backwards (keys *_reverse)"}};
};
}  // namespace

template <class Options>
static Options rnnOptions(Call& c, const RnnArgs& a) {
  Options o(c.integer(a.input_size), c.integer(a.hidden_size));
  o.num_layers(c.integer(a.num_layers)).bias(c.boolean(a.bias)).batch_first(c.boolean(a.batch_first))
      .dropout(c.number(a.dropout)).bidirectional(c.boolean(a.bidirectional));
  return o;
}

template <class Holder>
static void setRun(RnnObj& o, Holder m) {
  o.module = m.ptr();
  o.run = [m](const at::Tensor& x, const at::Tensor& h0, const at::Tensor&) mutable {
    auto r = m->forward(x, h0);
    return std::vector<at::Tensor>{std::get<0>(r), std::get<1>(r)};
  };
}

static Tcl_Obj* makeRnn(Call& c, const RnnArgs& a) {
  const RnnSpec& s = c.data<RnnSpec>();
  auto o = std::make_shared<RnnObj>();
  o->type = s.name;
  o->lstm = s.kind == RnnKind::Lstm;
  if (s.kind == RnnKind::Lstm) {
    nn::LSTM m(rnnOptions<nn::LSTMOptions>(c, a));
    o->module = m.ptr();
    o->run = [m](const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0) mutable {
      torch::optional<std::tuple<at::Tensor, at::Tensor>> hx;
      if (h0.defined() || c0.defined()) {
        if (!h0.defined() || !c0.defined())
          fail("an LSTM's initial state needs both h0 and c0", {"ARGS", "STATE"});
        hx = std::make_tuple(h0, c0);
      }
      auto r = m->forward(x, hx);
      return std::vector<at::Tensor>{std::get<0>(r), std::get<0>(std::get<1>(r)), std::get<1>(std::get<1>(r))};
    };
  } else if (s.kind == RnnKind::Gru) {
    setRun(*o, nn::GRU(rnnOptions<nn::GRUOptions>(c, a)));
  } else {
    auto opts = rnnOptions<nn::RNNOptions>(c, a);
    if (s.kind == RnnKind::Relu) opts.nonlinearity(torch::kReLU);
    else opts.nonlinearity(torch::kTanh);
    setRun(*o, nn::RNN(opts));
  }
  // Unbatched input [seq, feature] (and states [layers*dirs, hidden]), as in PyTorch.
  bool bf = c.boolean(a.batch_first);
  auto batched = o->run;
  o->run = [batched, bf](const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0) {
    if (x.dim() != 2) return batched(x, h0, c0);
    auto one = [](const at::Tensor& t) { return t.defined() ? t.unsqueeze(1) : t; };
    auto r = batched(x.unsqueeze(bf ? 0 : 1), one(h0), one(c0));
    r[0] = r[0].squeeze(bf ? 0 : 1);
    for (size_t i = 1; i < r.size(); ++i) r[i] = r[i].squeeze(1);
    return r;
  };
  RnnObj* raw = o.get();
  o->forward = [raw](const at::Tensor& x) { return raw->run(x, {}, {})[0]; };
  o->forwardFull = [raw](Call& c, const at::Tensor& x) { return rnnResult(c, *raw, raw->run(x, {}, {})); };
  return c.result(Kind::Module, o);
}

static const RnnSpec kRnns[] = {
    {"lstm", "LSTM layer; layer_forward returns {output {h_n c_n}}, in sequential the output.", memberRow<makeRnn>,
     RnnKind::Lstm},
    {"gru", "GRU layer; layer_forward returns {output h_n}, in sequential the output.", memberRow<makeRnn>, RnnKind::Gru,
     0, "Gru"},
    {"rnn_tanh", "Elman RNN layer with tanh; layer_forward returns {output h_n}.", memberRow<makeRnn>, RnnKind::Tanh},
    {"rnn_relu", "Elman RNN layer with ReLU; layer_forward returns {output h_n}.", memberRow<makeRnn>, RnnKind::Relu},
};

namespace {
struct RnnForwardArgs : Args {
  Arg<Type::Module> module{this, kModuleP};
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "input sequence"}};
  Arg<Type::OptTensor> h0{this, {"h0", Type::OptTensor, kOptional, "initial hidden state [layers*directions, batch, hidden]"}};
  Arg<Type::OptTensor> c0{this, {"c0", Type::OptTensor, kOptional, "initial cell state (LSTM)"}};
};
}  // namespace

static Tcl_Obj* cmdRnnForward(Call& c, const RnnForwardArgs& a) {
  auto m = std::dynamic_pointer_cast<RnnObj>(c.object<ModuleObj>(a.module));
  if (!m) c.badValue(a.module, "a recurrent module (lstm, gru, rnn_tanh, rnn_relu)");
  at::Tensor c0 = c.optTensor(a.c0);
  if (c0.defined() && !m->lstm) fail("only an LSTM has a cell state (-c0)", {"ARGS", "STATE"});
  return rnnResult(c, *m, m->run(c.tensor(a.input), c.optTensor(a.h0), c0));
}

// ---- masks (PyTorch's rules on top of libtorch 1.13's C++ attention) ----
// libtorch 1.13 adds attn_mask and masked_fills a boolean key_padding_mask.
// PyTorch's rules: a boolean attn_mask is true where attention is NOT allowed
// (becomes -inf); a floating mask is added; key_padding_mask true (or
// nonzero integer) = ignore that key, floating = added to the scores.

static const double kInf = std::numeric_limits<double>::infinity();

static at::Tensor additiveMask(const at::Tensor& m, at::ScalarType dt) {
  if (!m.defined()) return m;
  if (m.scalar_type() == at::kBool) return at::zeros(m.sizes(), m.options().dtype(dt)).masked_fill(m, -kInf);
  if (!at::isFloatingType(m.scalar_type()))
    return at::zeros(m.sizes(), m.options().dtype(dt)).masked_fill(m != 0, -kInf);
  return m.to(dt);
}

namespace {
struct Masks {
  at::Tensor attn, kpm;  // ready for libtorch: attn floating, kpm boolean
};
}  // namespace

// n: batch, h: heads, l: query length, s: key length.
static Masks attentionMasks(at::Tensor attn, at::Tensor kpm, int64_t n, int64_t h, int64_t l, int64_t s,
                            at::ScalarType dt) {
  Masks out;
  out.attn = additiveMask(attn, dt);
  if (kpm.defined()) {
    if (kpm.dim() != 2 || kpm.size(0) != n || kpm.size(1) != s)
      fail("key_padding_mask must have shape [" + std::to_string(n) + ", " + std::to_string(s) + "]",
           {"ARGS", "SHAPE", "key_padding_mask"});
    if (at::isFloatingType(kpm.scalar_type())) {
      at::Tensor add = kpm.to(dt).view({n, 1, 1, s}).expand({n, h, l, s}).reshape({n * h, l, s});
      out.attn = out.attn.defined() ? add + out.attn : add;
    } else {
      out.kpm = kpm.to(at::kBool);
    }
  }
  return out;
}

static at::Tensor causalMask(int64_t n, at::ScalarType dt) {
  return at::full({n, n}, -kInf, at::TensorOptions().dtype(dt)).triu(1);
}

// ---- multi-head attention ----

namespace {
struct AttentionObj : ModuleObj {
  nn::MultiheadAttention mha{nullptr};
  bool batch_first = false;
  // {output, weights}; inputs in the module's layout.
  std::vector<at::Tensor> run(at::Tensor q, at::Tensor k, at::Tensor v, const at::Tensor& attn_mask,
                              at::Tensor kpm, bool need_weights, bool average) {
    // Unbatched input [L, E] (key padding mask [S]), as in PyTorch.
    bool unbatched = q.dim() == 2;
    if (unbatched) {
      q = q.unsqueeze(1), k = k.unsqueeze(1), v = v.unsqueeze(1);
      if (kpm.defined()) kpm = kpm.unsqueeze(0);
    } else if (batch_first) {
      q = q.transpose(0, 1), k = k.transpose(0, 1), v = v.transpose(0, 1);
    }
    if (q.dim() != 3 || k.dim() != 3)
      fail("attention inputs must be 3-D: [seq, batch, embed] (or [batch, seq, embed] with batch_first)",
           {"ARGS", "SHAPE", "query"});
    Masks m = attentionMasks(attn_mask, kpm, q.size(1), mha->options.num_heads(), q.size(0), k.size(0),
                             q.scalar_type());
    auto r = mha->forward(q, k, v, m.kpm, need_weights, m.attn, average);
    at::Tensor out = std::get<0>(r), w = std::get<1>(r);
    if (unbatched) return {out.squeeze(1), w.defined() ? w.squeeze(0) : w};
    if (batch_first) out = out.transpose(0, 1);
    return {out, w};
  }
};
}  // namespace

namespace {
struct MultiheadAttentionArgs : Args {
  Arg<Type::Int> embed_dim{this, Param{"embed_dim", Type::Int, nullptr, "model width"}.positive()};
  Arg<Type::Int> num_heads{this, Param{"num_heads", Type::Int, nullptr, "heads (divides embed_dim)", "nhead"}.positive()};
  Arg<Type::Double> dropout{
      this, Param{"dropout", Type::Double, "0", "dropout on the attention weights (train mode)"}.probability()};
  Arg<Type::Bool> bias{this, {"bias", Type::Bool, "1", "learn projection biases"}};
  Arg<Type::Bool> add_bias_kv{this, {"add_bias_kv", Type::Bool, "0", "learn bias_k and bias_v appended to the keys and values"}};
  Arg<Type::Bool> add_zero_attn{this, {"add_zero_attn", Type::Bool, "0", "append a zero key and value"}};
  Arg<Type::Int> kdim{this, Param{"kdim", Type::Int, kOptional, "key width (default embed_dim)"}.positive()};
  Arg<Type::Int> vdim{this, Param{"vdim", Type::Int, kOptional, "value width (default embed_dim)"}.positive()};
  Arg<Type::Bool> batch_first{this, {"batch_first", Type::Bool, "0", "inputs are [batch, seq, feature]"}};
};
}  // namespace

static Tcl_Obj* cmdMultiheadAttention(Call& c, const MultiheadAttentionArgs& a) {
  int64_t e = c.integer(a.embed_dim), h = c.integer(a.num_heads);
  if (e % h != 0) c.badValue(a.num_heads, "a divisor of embed_dim (" + std::to_string(e) + ")");
  nn::MultiheadAttentionOptions o(e, h);
  o.dropout(c.number(a.dropout)).bias(c.boolean(a.bias)).add_bias_kv(c.boolean(a.add_bias_kv))
      .add_zero_attn(c.boolean(a.add_zero_attn));
  if (c.has(a.kdim)) o.kdim(c.integer(a.kdim));
  if (c.has(a.vdim)) o.vdim(c.integer(a.vdim));
  auto obj = std::make_shared<AttentionObj>();
  obj->type = "multihead_attention";
  obj->mha = nn::MultiheadAttention(o);
  obj->module = obj->mha.ptr();
  obj->batch_first = c.boolean(a.batch_first);
  AttentionObj* raw = obj.get();
  obj->forward = [raw](const at::Tensor& x) { return raw->run(x, x, x, {}, {}, false, true)[0]; };
  obj->forwardFull = [raw](Call& c, const at::Tensor& x) {
    return c.results(raw->run(x, x, x, {}, {}, true, true));
  };
  return c.result(Kind::Module, obj);
}

namespace {
struct AttentionForwardArgs : Args {
  Arg<Type::Module> module{this, kModuleP};
  Arg<Type::Tensor> query{this, {"query", Type::Tensor, nullptr, "queries [L, N, E]"}};
  Arg<Type::Tensor> key{this, {"key", Type::Tensor, kOptional, "keys [S, N, kdim] (default: query)"}};
  Arg<Type::Tensor> value{this, {"value", Type::Tensor, kOptional, "values [S, N, vdim] (default: key)"}};
  Arg<Type::OptTensor> key_padding_mask{
      this, {"key_padding_mask", Type::OptTensor, kOptional, "[N, S]: true/nonzero = ignore that key; float = added"}};
  Arg<Type::Bool> need_weights{this, {"need_weights", Type::Bool, "1", "also return the attention weights"}};
  Arg<Type::OptTensor> attn_mask{
      this, {"attn_mask", Type::OptTensor, kOptional, "[L, S] or [N*heads, L, S]: bool true = blocked; float = added"}};
  Arg<Type::Bool> average_attn_weights{this, {"average_attn_weights", Type::Bool, "1", "average the weights over heads"}};
  Arg<Type::Bool> is_causal{
      this, {"is_causal", Type::Bool, "0", "block attention to later positions", nullptr, nullptr, true}};
};
}  // namespace

static Tcl_Obj* cmdAttentionForward(Call& c, const AttentionForwardArgs& a) {
  auto m = std::dynamic_pointer_cast<AttentionObj>(c.object<ModuleObj>(a.module));
  if (!m) c.badValue(a.module, "a multihead_attention module");
  at::Tensor q = c.tensor(a.query);
  at::Tensor k = c.has(a.key) ? c.tensor(a.key) : q;
  at::Tensor v = c.has(a.value) ? c.tensor(a.value) : k;
  bool need = c.boolean(a.need_weights);
  at::Tensor mask = c.optTensor(a.attn_mask);
  if (c.boolean(a.is_causal)) {
    int64_t l = q.size(m->batch_first ? 1 : 0), s = k.size(m->batch_first ? 1 : 0);
    if (l != s) fail("is_causal needs as many keys as queries", {"ARGS", "SHAPE", "is_causal"});
    at::Tensor cm = causalMask(l, q.scalar_type());
    mask = mask.defined() ? additiveMask(mask, q.scalar_type()) + cm : cm;
  }
  auto r = m->run(q, k, v, mask, c.optTensor(a.key_padding_mask), need, c.boolean(a.average_attn_weights));
  Tcl_Obj* out = Tcl_NewListObj(0, nullptr);
  Tcl_ListObjAppendElement(nullptr, out, c.result(r[0]));
  Tcl_ListObjAppendElement(nullptr, out, need ? c.result(r[1]) : Tcl_NewObj());
  return out;
}

namespace {
struct SdpaArgs : Args {
  Arg<Type::Tensor> query{this, {"query", Type::Tensor, nullptr, "[..., L, E]"}};
  Arg<Type::Tensor> key{this, {"key", Type::Tensor, nullptr, "[..., S, E]"}};
  Arg<Type::Tensor> value{this, {"value", Type::Tensor, nullptr, "[..., S, Ev]"}};
  Arg<Type::OptTensor> attn_mask{
      this, {"attn_mask", Type::OptTensor, kOptional, "bool: true = may attend; float: added to the scores"}};
  Arg<Type::Double> dropout_p{this, Param{"dropout_p", Type::Double, "0", "dropout on the weights"}.probability()};
  Arg<Type::Bool> is_causal{this, {"is_causal", Type::Bool, "0", "block attention to later positions"}};
  Arg<Type::Double> scale{this, {"scale", Type::Double, kOptional, "score scale (default 1/sqrt(E))"}};
};
}  // namespace

// softmax(q k^T / sqrt(E) + mask) v over the last two dimensions. A boolean
// mask is true where attention IS allowed (torch.nn.functional's rule).
static Tcl_Obj* cmdScaledDotProductAttention(Call& c, const SdpaArgs& a) {
  at::Tensor q = c.tensor(a.query), k = c.tensor(a.key), v = c.tensor(a.value);
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2) c.badValue(a.query, "tensors of at least 2 dimensions");
  double p = c.number(a.dropout_p);
  double scale = c.has(a.scale) ? c.number(a.scale) : 1.0 / std::sqrt(double(q.size(-1)));
  at::Tensor s = at::matmul(q, k.transpose(-2, -1)) * scale;
  if (c.boolean(a.is_causal)) {
    at::Tensor keep = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    s = s.masked_fill(keep.logical_not(), -kInf);
  }
  at::Tensor mask = c.optTensor(a.attn_mask);
  if (mask.defined())
    s = mask.scalar_type() == at::kBool ? s.masked_fill(mask.logical_not(), -kInf) : s + mask.to(s.scalar_type());
  at::Tensor w = at::softmax(s, -1);
  if (p > 0) w = at::dropout(w, p, true);
  return c.result(at::matmul(w, v));
}

namespace {
struct SubsequentMaskArgs : Args {
  Arg<Type::Int> size{this, Param{"size", Type::Int, nullptr, "sequence length"}.positive()};
  Arg<Type::Dtype> dtype{this, {"dtype", Type::Dtype, "float32", "floating type"}};
};
}  // namespace

static Tcl_Obj* cmdSubsequentMask(Call& c, const SubsequentMaskArgs& a) {
  at::ScalarType dt = c.dtype(a.dtype);
  if (!at::isFloatingType(dt)) c.badValue(a.dtype, "a floating point type");
  return c.result(causalMask(c.integer(a.size), dt));
}

// ---- transformer layers and stacks ----

namespace {
struct TransformerObj : ModuleObj {
  bool decoder = false, batch_first = false;
  int64_t nhead = 1;
  // (input, memory, mask, key_padding_mask, memory_mask, memory_key_padding_mask),
  // all in libtorch's [seq, batch, feature] layout with masks already normalised.
  std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const Masks&, const Masks&)> run;

  at::Tensor call(at::Tensor x, at::Tensor mem, at::Tensor mask, at::Tensor kpm, at::Tensor mmask,
                  at::Tensor mkpm, bool causal) {
    if (x.dim() == 2) {  // unbatched [L, E] (masks [L] / [S]), as in PyTorch
      auto one = [](const at::Tensor& t, int64_t d) { return t.defined() ? t.unsqueeze(d) : t; };
      return call(x.unsqueeze(1), one(mem, 1), mask, one(kpm, 0), mmask, one(mkpm, 0), causal).squeeze(1);
    }
    if (batch_first) {
      x = x.transpose(0, 1);
      if (mem.defined()) mem = mem.transpose(0, 1);
    }
    if (x.dim() != 3) fail("transformer input must be 3-D", {"ARGS", "SHAPE", "input"});
    if (decoder && !mem.defined())
      fail("a transformer decoder needs -memory (use transformer_forward)", {"ARGS", "MISSING", "memory"});
    int64_t l = x.size(0), n = x.size(1);
    at::ScalarType dt = x.scalar_type();
    if (causal) {
      at::Tensor cm = causalMask(l, dt);
      mask = mask.defined() ? additiveMask(mask, dt) + cm : cm;
    }
    Masks self = attentionMasks(mask, kpm, n, nhead, l, l, dt);
    Masks cross;
    if (decoder) cross = attentionMasks(mmask, mkpm, n, nhead, l, mem.size(0), dt);
    at::Tensor y = run(x, mem, self, cross);
    return batch_first ? y.transpose(0, 1) : y;
  }
};
}  // namespace

enum class TfKind { EncoderLayer, Encoder, DecoderLayer, Decoder };
using TfSpec = FamilyRow<TfKind>;

static const Param kDModel = Param{"d_model", Type::Int, nullptr, "model (embedding) width"}.positive();
static const Param kNHead = Param{"nhead", Type::Int, nullptr, "attention heads (divides d_model)", "num_heads"}.positive();
static const Param kNumLayers = Param{"num_layers", Type::Int, nullptr, "stacked layers (keys layers.0. ...)"}.positive();
static const Param kDimFf = Param{"dim_feedforward", Type::Int, "2048", "hidden width of the feed-forward block"}.positive();
static const Param kTfDropout = Param{"dropout", Type::Double, "0.1", "dropout probability (train mode)"}.probability();
static const Param kActivation{"activation", Type::Choice, "relu", "feed-forward activation", nullptr, "relu gelu"};
static const Param kTfBatchFirst{"batch_first", Type::Bool, "0", "inputs are [batch, seq, feature]"};
static const Param kFinalNorm{"norm", Type::Bool, "0", "final LayerNorm after the stack (keys norm.*)"};

namespace {
struct TfLayerArgs : Args {
  Arg<Type::Int> d_model{this, kDModel};
  Arg<Type::Int> nhead{this, kNHead};
  Arg<Type::Int> dim_feedforward{this, kDimFf};
  Arg<Type::Double> dropout{this, kTfDropout};
  Arg<Type::Choice> activation{this, kActivation};
  Arg<Type::Bool> batch_first{this, kTfBatchFirst};
};
struct TfStackArgs : Args {
  Arg<Type::Int> d_model{this, kDModel};
  Arg<Type::Int> nhead{this, kNHead};
  Arg<Type::Int> num_layers{this, kNumLayers};
  Arg<Type::Int> dim_feedforward{this, kDimFf};
  Arg<Type::Double> dropout{this, kTfDropout};
  Arg<Type::Choice> activation{this, kActivation};
  Arg<Type::Bool> norm{this, kFinalNorm};
  Arg<Type::Bool> batch_first{this, kTfBatchFirst};
};
}  // namespace

template <class Options, class A>
static Options layerOptions(Call& c, const A& a) {
  int64_t d = c.integer(a.d_model), h = c.integer(a.nhead);
  if (d % h != 0) c.badValue(a.nhead, "a divisor of d_model (" + std::to_string(d) + ")");
  Options o(d, h);
  o.dim_feedforward(c.integer(a.dim_feedforward)).dropout(c.number(a.dropout));
  if (c.choice(a.activation) == 1) o.activation(torch::kGELU);
  else o.activation(torch::kReLU);
  return o;
}

// A layer (TfLayerArgs) or a stack (TfStackArgs); the row's kind says encoder or decoder.
template <class A>
static Tcl_Obj* makeTransformer(Call& c, const A& k) {
  const TfSpec& s = c.data<TfSpec>();
  auto o = std::make_shared<TransformerObj>();
  o->type = s.name;
  o->nhead = c.integer(k.nhead);
  o->batch_first = c.boolean(k.batch_first);
  o->decoder = s.kind == TfKind::DecoderLayer || s.kind == TfKind::Decoder;
  // Encoders take the self-attention masks; decoders also the memory and its masks.
  auto encoder = [&](auto m) {
    o->module = m.ptr();
    o->run = [m](const at::Tensor& x, const at::Tensor&, const Masks& a, const Masks&) mutable {
      return m->forward(x, a.attn, a.kpm);
    };
  };
  auto decoder = [&](auto m) {
    o->module = m.ptr();
    o->run = [m](const at::Tensor& x, const at::Tensor& mem, const Masks& a, const Masks& b) mutable {
      return m->forward(x, mem, a.attn, b.attn, a.kpm, b.kpm);
    };
  };
  if constexpr (std::is_same_v<A, TfStackArgs>) {
    int64_t d = c.integer(k.d_model);
    auto norm = [&](auto& opts) {
      if (c.boolean(k.norm)) opts.norm(nn::AnyModule(nn::LayerNorm(nn::LayerNormOptions({d}))));
    };
    if (o->decoder) {
      nn::TransformerDecoderOptions opts(layerOptions<nn::TransformerDecoderLayerOptions>(c, k),
                                         c.integer(k.num_layers));
      norm(opts);
      decoder(nn::TransformerDecoder(opts));
    } else {
      nn::TransformerEncoderOptions opts(layerOptions<nn::TransformerEncoderLayerOptions>(c, k),
                                         c.integer(k.num_layers));
      norm(opts);
      encoder(nn::TransformerEncoder(opts));
    }
  } else if (o->decoder) {
    decoder(nn::TransformerDecoderLayer(layerOptions<nn::TransformerDecoderLayerOptions>(c, k)));
  } else {
    encoder(nn::TransformerEncoderLayer(layerOptions<nn::TransformerEncoderLayerOptions>(c, k)));
  }
  TransformerObj* raw = o.get();
  o->forward = [raw](const at::Tensor& x) { return raw->call(x, {}, {}, {}, {}, {}, false); };
  return c.result(Kind::Module, o);
}

namespace {
struct TransformerForwardArgs : Args {
  Arg<Type::Module> module{this, kModuleP};
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "src (encoder) or tgt (decoder)", "src tgt"}};
  Arg<Type::OptTensor> memory{this, {"memory", Type::OptTensor, kOptional, "encoder output (decoders)"}};
  Arg<Type::OptTensor> mask{
      this, {"mask", Type::OptTensor, kOptional, "self-attention mask [L, L]: bool true = blocked; float = added",
             "src_mask tgt_mask"}};
  Arg<Type::OptTensor> key_padding_mask{
      this, {"key_padding_mask", Type::OptTensor, kOptional, "[N, L]: true/nonzero = padding",
             "src_key_padding_mask tgt_key_padding_mask"}};
  Arg<Type::OptTensor> memory_mask{this, {"memory_mask", Type::OptTensor, kOptional, "cross-attention mask [L, S]"}};
  Arg<Type::OptTensor> memory_key_padding_mask{
      this, {"memory_key_padding_mask", Type::OptTensor, kOptional, "[N, S]: true/nonzero = padding"}};
  Arg<Type::Bool> is_causal{this, {"is_causal", Type::Bool, "0", "add the causal mask (no attention to later positions)"}};
};
}  // namespace

static Tcl_Obj* cmdTransformerForward(Call& c, const TransformerForwardArgs& a) {
  auto m = std::dynamic_pointer_cast<TransformerObj>(c.object<ModuleObj>(a.module));
  if (!m) c.badValue(a.module, "a transformer encoder or decoder (layer or stack)");
  at::Tensor mem = c.optTensor(a.memory);
  if (mem.defined() && !m->decoder) fail("an encoder takes no -memory", {"ARGS", "UNEXPECTED", "memory"});
  return c.result(m->call(c.tensor(a.input), mem, c.optTensor(a.mask), c.optTensor(a.key_padding_mask),
                          c.optTensor(a.memory_mask), c.optTensor(a.memory_key_padding_mask),
                          c.boolean(a.is_causal)));
}

static const TfSpec kTransformers[] = {
    {"transformer_encoder_layer",
     "Transformer encoder layer (post-norm: self-attention, feed-forward, each followed by add & LayerNorm).",
     memberRow<makeTransformer<TfLayerArgs>>, TfKind::EncoderLayer},
    {"transformer_encoder", "Stack of num_layers transformer encoder layers (keys layers.N.*).",
     memberRow<makeTransformer<TfStackArgs>>, TfKind::Encoder},
    {"transformer_decoder_layer",
     "Transformer decoder layer (self-attention, cross-attention on memory, feed-forward; post-norm).",
     memberRow<makeTransformer<TfLayerArgs>>, TfKind::DecoderLayer},
    {"transformer_decoder", "Stack of num_layers transformer decoder layers (keys layers.N.*).",
     memberRow<makeTransformer<TfStackArgs>>, TfKind::Decoder},
};

// The tensor forms (the other API's transformer_encoder_layer src d_model ...):
// a new layer or stack from the same parameters, applied once. A 1-D input of
// d_model features is one token.
static Tcl_Obj* applyTransformer(Call& c, const OneCallModule& m, at::Tensor x, at::Tensor mem) {
  auto& tf = static_cast<TransformerObj&>(*m.get());
  bool token = x.dim() == 1;
  if (token) x = x.unsqueeze(0);
  if (mem.defined() && mem.dim() == 1) mem = mem.unsqueeze(0);
  at::Tensor y = tf.call(x, mem, {}, {}, {}, {}, false);
  return c.result(token ? y.squeeze(0) : y);
}
static const Param kSrc{"src", Type::Tensor, nullptr, "input sequence [S, E], [S, N, E] (or [E]: one token)",
                        "input tensor"};
static const Param kTgt{"tgt", Type::Tensor, nullptr, "target sequence [T, E], [T, N, E] (or [E])", "input tensor"};
static const Param kMemory{"memory", Type::Tensor, nullptr, "encoder output [S, E], [S, N, E] (or [E])"};

namespace {
// An encoder's tensor form: src, then the constructor's parameters.
template <class A>
struct EncoderForm : WithInput<A> {
  EncoderForm() : WithInput<A>(kSrc) {}
};
// A decoder's: tgt and memory, then the constructor's parameters.
template <class A>
struct DecoderForm : Args {
  Arg<Type::Tensor> tgt{this, kTgt};
  Arg<Type::Tensor> memory{this, kMemory};
  A ctor;
  DecoderForm() { params.insert(params.end(), ctor.params.begin(), ctor.params.end()); }
};
}  // namespace

template <class A>
static Tcl_Obj* applyEncoder(Call& c, const EncoderForm<A>& a) {
  OneCallModule m(c.st, makeTransformer(c, a.ctor));
  return applyTransformer(c, m, c.tensor(a.input), at::Tensor());
}
template <class A>
static Tcl_Obj* applyDecoder(Call& c, const DecoderForm<A>& a) {
  OneCallModule m(c.st, makeTransformer(c, a.ctor));
  return applyTransformer(c, m, c.tensor(a.tgt), c.tensor(a.memory));
}

static const char* const kEncoderFormDoc = "A new encoder (layer or stack) from these parameters, applied once to src.";
static const char* const kDecoderFormDoc =
    "A new decoder (layer or stack) from these parameters, applied once to tgt and memory.";
static const TfSpec kTransformerForms[] = {
    {"transformer_encoder_layer", kEncoderFormDoc, memberRow<applyEncoder<TfLayerArgs>>, TfKind::EncoderLayer},
    {"transformer_encoder", kEncoderFormDoc, memberRow<applyEncoder<TfStackArgs>>, TfKind::Encoder},
    {"transformer_decoder_layer", kDecoderFormDoc, memberRow<applyDecoder<TfLayerArgs>>, TfKind::DecoderLayer},
    {"transformer_decoder", kDecoderFormDoc, memberRow<applyDecoder<TfStackArgs>>, TfKind::Decoder},
};

std::vector<Command> nnRecurrentCommands() {
  std::vector<Command> out;
  addFamily(out, kRnns);
  addFamily(out, kTransformers);
  for (const TfSpec& s : kTransformerForms) out.push_back(s.row(s).asTensorForm());
  out.push_back(typedRow<cmdRnnForward>(
      "rnn_forward", "Run a recurrent module from a given state: {output {h_n c_n}} (LSTM) or {output h_n}."));
  out.push_back(typedRow<cmdMultiheadAttention>(
      "multihead_attention",
      "Multi-head attention with learned projections (keys in_proj_weight, out_proj.weight); "
      "layer_forward m x is self-attention returning {output weights}."));
  out.push_back(typedRow<cmdAttentionForward>(
      "attention_forward", "Run a multihead_attention module: {output weights} (weights \"\" when -need_weights 0)."));
  out.push_back(typedRow<cmdTransformerForward>(
      "transformer_forward", "Run a transformer encoder/decoder (layer or stack) with masks; decoders need -memory."));
  out.push_back(typedRow<cmdScaledDotProductAttention>(
      "scaled_dot_product_attention",
      "softmax(Q K^T * scale + mask) V over the last two dimensions (torch.nn.functional's rules)."));
  out.push_back(typedRow<cmdSubsequentMask>(
      "generate_square_subsequent_mask",
      "Causal mask [size, size]: 0 on and below the diagonal, -inf above (nn.Transformer's)."));
  return out;
}

}  // namespace tcltorch
