// Fourier transforms, window functions and spectrograms. Transforms return
// complex tensors (tensor_real, tensor_imag, tensor_abs read them).
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <cmath>
#include <numeric>
#include <utility>

namespace tcltorch {

using at::Tensor;

static const Param kNorm{"norm", Type::Choice, "backward", "scaling: backward, forward or ortho", nullptr,
                         "backward forward ortho"};
static c10::string_view normOf(Call& c, const Arg<Type::Choice>& norm) {
  static const char* const kNames[] = {"backward", "forward", "ortho"};  // kNorm's choices, in order
  return kNames[c.choice(norm)];
}

// ---- 1-D transforms ----

namespace {
struct Fft1Op {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&, c10::optional<int64_t> n, int64_t dim, c10::optional<c10::string_view> norm);
  bool nFirst;  // the other API's order: rfft/irfft `input ?n? ?dim?`, fft/ifft `input ?dim? ?n?`
};
}  // namespace
static const Fft1Op kFft1[] = {
    {"tensor_fft", "Discrete Fourier transform along dim (complex result).",
     [](const Tensor& t, c10::optional<int64_t> n, int64_t d, c10::optional<c10::string_view> m) { return at::fft_fft(t, n, d, m); },
     false},
    {"tensor_ifft", "Inverse discrete Fourier transform along dim (complex result).",
     [](const Tensor& t, c10::optional<int64_t> n, int64_t d, c10::optional<c10::string_view> m) { return at::fft_ifft(t, n, d, m); },
     false},
    {"tensor_rfft", "Fourier transform of a real signal: the n/2+1 non-negative frequencies.",
     [](const Tensor& t, c10::optional<int64_t> n, int64_t d, c10::optional<c10::string_view> m) { return at::fft_rfft(t, n, d, m); },
     true},
    {"tensor_irfft", "Inverse of tensor_rfft: a real signal of length n (default 2*(m-1)).",
     [](const Tensor& t, c10::optional<int64_t> n, int64_t d, c10::optional<c10::string_view> m) { return at::fft_irfft(t, n, d, m); },
     true},
};

// The two orders of n and dim are two structs of the same members.
namespace {
const Param kFftN{"n", Type::Int, kOptional, "signal length (crop or zero-pad)"};
const Param kFftDim{"dim", Type::Int, "-1", "dimension", "dimension"};
struct FftDimFirstArgs : Args {  // input ?dim? ?n? ?norm?
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, kFftDim};
  Arg<Type::Int> n{this, kFftN};
  Arg<Type::Choice> norm{this, kNorm};
};
struct FftNFirstArgs : Args {  // input ?n? ?dim? ?norm?
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> n{this, kFftN};
  Arg<Type::Int> dim{this, kFftDim};
  Arg<Type::Choice> norm{this, kNorm};
};
}  // namespace

template <class A>
static Tcl_Obj* cmdFft1(Call& c, const A& a) {
  c10::optional<int64_t> n;
  if (c.has(a.n)) n = c.integer(a.n);
  return c.result(c.data<Fft1Op>().fn(c.tensorRef(a.input), n, c.integer(a.dim), normOf(c, a.norm)));
}

// ---- 2-D transforms ----

namespace {
struct Fft2Args : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> dims{this, {"dims", Type::IntList, "-2 -1", "the two dimensions", "dim"}};
  Arg<Type::Choice> norm{this, kNorm};
};
}  // namespace

template <bool Inverse>
static Tcl_Obj* cmdFft2(Call& c, const Fft2Args& a) {
  std::vector<int64_t> dims = c.ints(a.dims);
  const Tensor& t = c.tensorRef(a.input);
  return c.result(Inverse ? at::fft_ifft2(t, c10::nullopt, dims, normOf(c, a.norm))
                          : at::fft_fft2(t, c10::nullopt, dims, normOf(c, a.norm)));
}

namespace {
struct ShiftArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::IntList> dim{this, {"dim", Type::IntList, kOptional, "dimension(s) (default: all)", "dims"}};
};
}  // namespace

template <bool Inverse>
static Tcl_Obj* cmdShift(Call& c, const ShiftArgs& a) {
  c10::optional<at::IntArrayRef> dims;
  std::vector<int64_t> d;
  if (c.has(a.dim)) dims = d = c.ints(a.dim);
  return c.result(Inverse ? at::fft_ifftshift(c.tensorRef(a.input), dims) : at::fft_fftshift(c.tensorRef(a.input), dims));
}

namespace {
struct HilbertArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> dim{this, kFftDim};
};
}  // namespace
// Analytic signal x + i*H(x) along dim (scipy.signal.hilbert): the FFT with
// negative frequencies zeroed and positive ones doubled, transformed back.
static Tcl_Obj* cmdHilbert(Call& c, const HilbertArgs& a) {
  const Tensor& x = c.tensorRef(a.input);
  int64_t dim = c.integer(a.dim);
  if (x.is_complex()) fail("hilbert: the input must be real", {"DTYPE"});
  int64_t n = x.size(dim);
  Tensor h = at::zeros({n}, x.options().dtype(x.is_floating_point() ? x.scalar_type() : at::kFloat));
  if (n > 0) {
    h[0] = 1;
    if (n % 2 == 0) {
      h.slice(0, 1, n / 2).fill_(2);
      h[n / 2] = 1;
    } else {
      h.slice(0, 1, (n + 1) / 2).fill_(2);
    }
  }
  std::vector<int64_t> shape(size_t(x.dim()), 1);
  shape[size_t(dim < 0 ? dim + x.dim() : dim)] = n;
  return c.result(at::fft_ifft(at::fft_fft(x, c10::nullopt, dim) * h.view(shape), c10::nullopt, dim));
}

// ---- short-time transforms ----

// tensor_stft's parameters; tensor_istft and spectrogram add one after them.
namespace {
struct StftArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> n_fft{this, {"n_fft", Type::Int, nullptr, "FFT size", "nfft nFft"}};
  Arg<Type::Int> hop_length{this, {"hop_length", Type::Int, kOptional, "samples between frames (default n_fft/4)"}};
  Arg<Type::Int> win_length{this, {"win_length", Type::Int, kOptional, "window length (default n_fft)"}};
  Arg<Type::Tensor> window{this, {"window", Type::Tensor, kOptional, "window tensor (default: Hann of win_length)"}};
  Arg<Type::Bool> center{this, {"center", Type::Bool, "1", "1: pad the signal so frames are centred"}};
  Arg<Type::Bool> normalized{this, {"normalized", Type::Bool, "0", "1: scale by 1/sqrt(n_fft)"}};
};
struct IstftArgs : StftArgs {
  Arg<Type::Int> length{this, {"length", Type::Int, kOptional, "length of the signal to return"}};
};
struct SpectrogramArgs : StftArgs {
  Arg<Type::Double> power{this, {"power", Type::Double, "2", "exponent of the magnitude (1: magnitude, 2: power)"}};
};
}  // namespace

static c10::optional<Tensor> windowOf(Call& c, const StftArgs& a, int64_t nfft) {
  if (c.has(a.window)) return c.tensor(a.window);
  int64_t wl = c.has(a.win_length) ? c.integer(a.win_length) : nfft;
  const Tensor& x = c.tensorRef(a.input);  // complex for istft: the window is real
  return at::hann_window(wl, x.options().dtype(c10::toRealValueType(x.scalar_type())));
}

static c10::optional<int64_t> optInt(Call& c, const Arg<Type::Int>& k) {
  return c.has(k) ? c10::optional<int64_t>(c.integer(k)) : c10::nullopt;
}

static Tensor stftOf(Call& c, const StftArgs& a) {
  int64_t nfft = c.integer(a.n_fft);
  return at::stft(c.tensorRef(a.input), nfft, optInt(c, a.hop_length), optInt(c, a.win_length), windowOf(c, a, nfft),
                  c.boolean(a.center), "reflect", c.boolean(a.normalized), c10::nullopt, true);
}

static Tcl_Obj* cmdStft(Call& c, const StftArgs& a) { return c.result(stftOf(c, a)); }

static Tcl_Obj* cmdSpectrogram(Call& c, const SpectrogramArgs& a) {
  return c.result(stftOf(c, a).abs().pow(c.number(a.power)));
}

static Tcl_Obj* cmdIstft(Call& c, const IstftArgs& a) {
  int64_t nfft = c.integer(a.n_fft);
  return c.result(at::istft(c.tensorRef(a.input), nfft, optInt(c, a.hop_length), optInt(c, a.win_length),
                            windowOf(c, a, nfft), c.boolean(a.center), c.boolean(a.normalized), c10::nullopt,
                            optInt(c, a.length), false));
}

// ---- mel filters and cepstra (torchaudio's definitions, HTK mel scale) ----

static Tensor hzToMel(const Tensor& f) { return 2595.0 * at::log10(1.0 + f / 700.0); }
static Tensor melToHz(const Tensor& m) { return 700.0 * (at::pow(10.0, m / 2595.0) - 1.0); }

namespace {
struct MelscaleFbanksArgs : Args {
  Arg<Type::Int> n_freqs{this, Param{"n_freqs", Type::Int, nullptr, "frequency bins (n_fft/2 + 1)"}.positive("a count >= 1")};
  Arg<Type::Int> n_mels{this, Param{"n_mels", Type::Int, nullptr, "mel bands"}.positive("a count >= 1")};
  Arg<Type::Double> sample_rate{this, {"sample_rate", Type::Double, nullptr, "sample rate in Hz"}};
  Arg<Type::Double> f_min{this, {"f_min", Type::Double, "0", "lowest frequency"}};
  Arg<Type::Double> f_max{this, {"f_max", Type::Double, kOptional, "highest frequency (default sample_rate/2)"}};
  Arg<Type::Choice> norm{this, {"norm", Type::Choice, "none", "none, or slaney (area-normalised filters)", nullptr, "none slaney"}};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
};
}  // namespace
// Triangular filters [n_mels, n_freqs] over n_freqs bins from 0 to sample_rate/2.
static Tcl_Obj* cmdMelscaleFbanks(Call& c, const MelscaleFbanksArgs& a) {
  int64_t nFreqs = c.integer(a.n_freqs), nMels = c.integer(a.n_mels);
  double sr = c.number(a.sample_rate), fMin = c.number(a.f_min);
  double fMax = c.has(a.f_max) ? c.number(a.f_max) : sr / 2;
  at::TensorOptions o = at::TensorOptions().dtype(at::kDouble);
  Tensor freqs = at::linspace(0, std::floor(sr / 2), nFreqs, o);
  Tensor fPts = melToHz(at::linspace(hzToMel(at::scalar_tensor(fMin, o)).item<double>(),
                                     hzToMel(at::scalar_tensor(fMax, o)).item<double>(), nMels + 2, o));
  Tensor fDiff = fPts.slice(0, 1) - fPts.slice(0, 0, -1);
  Tensor slopes = fPts.unsqueeze(0) - freqs.unsqueeze(1);  // [n_freqs, n_mels + 2]
  Tensor down = -slopes.slice(1, 0, -2) / fDiff.slice(0, 0, -1);
  Tensor up = slopes.slice(1, 2) / fDiff.slice(0, 1);
  Tensor fb = at::clamp_min(at::minimum(down, up), 0);
  if (c.choice(a.norm) == 1) fb = fb * (2.0 / (fPts.slice(0, 2) - fPts.slice(0, 0, nMels)));
  return c.result(fb.t().contiguous().to(c.dtype(a.dtype)));
}

namespace {
struct MfccArgs : Args {
  Arg<Type::Tensor> spectrogram{this, {"spectrogram", Type::Tensor, nullptr, "mel power spectrogram [..., n_mels, frames]", "input"}};
  Arg<Type::Int> n_mfcc{this, {"n_mfcc", Type::Int, "13", "coefficients to keep"}};
  // Its range admits only 2, so the handler never reads it.
  Arg<Type::Int> dct_type{this, Param{"dct_type", Type::Int, "2", "DCT type (2)"}.within(2, 2).mustBe("2 (the only DCT type supported)")};
  Arg<Type::Double> top_db{this, {"top_db", Type::Double, "80", "clamp decibels to this far below the peak"}};
};
}  // namespace
// MFCC of a mel power spectrogram [..., n_mels, frames]: decibels (clamped to
// top_db below the peak), then the orthonormal DCT-II over the mel axis.
static Tcl_Obj* cmdMfcc(Call& c, const MfccArgs& a) {
  const Tensor& mel = c.tensorRef(a.spectrogram);
  int64_t nMfcc = c.integer(a.n_mfcc);
  if (mel.dim() < 2) fail("mfcc: the spectrogram must be [..., n_mels, frames]", {"SHAPE"});
  int64_t nMels = mel.size(-2);
  if (nMfcc < 1 || nMfcc > nMels) c.badValue(a.n_mfcc, "a count from 1 to n_mels");
  Tensor db = 10.0 * at::log10(at::clamp_min(mel, 1e-10));
  if (c.has(a.top_db)) {
    Tensor peak = db.amax({-2, -1}, true);
    db = at::maximum(db, peak - c.number(a.top_db));
  }
  at::TensorOptions o = mel.options();
  Tensor n = at::arange(nMels, o).unsqueeze(1);
  Tensor k = at::arange(nMfcc, o).unsqueeze(0);
  Tensor dct = at::cos(M_PI / double(nMels) * (n + 0.5) * k) * std::sqrt(2.0 / double(nMels));  // [n_mels, n_mfcc]
  dct.select(1, 0).mul_(1.0 / std::sqrt(2.0));
  return c.result(at::matmul(db.transpose(-2, -1), dct).transpose(-2, -1));
}

// Phase vocoder (torchaudio.functional.phase_vocoder): a complex STFT
// [..., freq, frames] played at `rate` (> 1 faster), magnitudes interpolated
// between frames, phases advanced by the measured instantaneous frequency.
static Tensor phaseVocoder(const Tensor& spec, double rate, int64_t hop) {
  int64_t nFreq = spec.size(-2), frames = spec.size(-1);
  at::TensorOptions real = spec.options().dtype(c10::toRealValueType(spec.scalar_type()));
  Tensor advance = at::linspace(0, M_PI * double(hop), nFreq, real).unsqueeze(-1);
  Tensor steps = at::arange(0, double(frames), rate, real);
  Tensor alphas = at::remainder(steps, 1.0);
  Tensor phase0 = at::angle(spec.narrow(-1, 0, 1));
  Tensor padded = at::constant_pad_nd(spec, {0, 2}, 0);
  Tensor s0 = padded.index_select(-1, steps.to(at::kLong)), s1 = padded.index_select(-1, (steps + 1).to(at::kLong));
  Tensor phase = at::angle(s1) - at::angle(s0) - advance;
  phase = phase - 2 * M_PI * at::round(phase / (2 * M_PI)) + advance;
  phase = at::cat({phase0, phase.narrow(-1, 0, phase.size(-1) - 1)}, -1);
  Tensor mag = alphas * at::abs(s1) + (1 - alphas) * at::abs(s0);
  return at::polar(mag, at::cumsum(phase, -1));
}

namespace {
struct TimeStretchArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "complex STFT [..., freq, frames]", "tensor stft_matrix"}};
  Arg<Type::Double> rate{this, Param{"rate", Type::Double, nullptr, "speed factor > 0"}.positive("a rate > 0")};
  Arg<Type::Int> hop_length{this, {"hop_length", Type::Int, kOptional, "hop of the STFT (default freq - 1, i.e. n_fft/2)"}};
};
}  // namespace
// A real input is read as a spectrum with zero phase.
static Tcl_Obj* cmdTimeStretch(Call& c, const TimeStretchArgs& a) {
  Tensor spec = c.tensor(a.input);
  double rate = c.number(a.rate);
  if (spec.dim() < 2) fail("time_stretch: the input must be an STFT [..., freq, frames]", {"SHAPE"});
  if (!spec.is_complex()) spec = at::complex(spec.to(at::kFloat), at::zeros_like(spec, at::kFloat));
  if (rate == 1.0) return c.result(spec);
  return c.result(phaseVocoder(spec, rate, c.has(a.hop_length) ? c.integer(a.hop_length) : spec.size(-2) - 1));
}

// Band-limited resampling of the last dimension from orig to target Hz
// (torchaudio.functional.resample: Hann-windowed sinc, width 6, rolloff 0.99).
static Tensor resample(const Tensor& w, int64_t orig, int64_t target) {
  if (orig == target) return w;
  int64_t g = std::gcd(orig, target);
  orig /= g;
  target /= g;
  const double width6 = 6, base = double(std::min(orig, target)) * 0.99;
  int64_t width = int64_t(std::ceil(width6 * double(orig) / base));
  Tensor idx = at::arange(-width, width + orig, w.options()).view({1, 1, -1}) / double(orig);
  Tensor t = (at::arange(0, -target, -1, w.options()).view({-1, 1, 1}) / double(target) + idx) * base;
  t.clamp_(-width6, width6);
  Tensor window = at::pow(at::cos(t * (M_PI / width6 / 2)), 2);
  t.mul_(M_PI);
  Tensor kernel = at::where(t == 0, at::ones_like(t), at::sin(t) / t) * window * (base / double(orig));
  int64_t length = w.size(-1);
  Tensor x = at::constant_pad_nd(w.reshape({-1, 1, length}), {width, width + orig}, 0);
  Tensor r = at::conv1d(x, kernel, {}, orig).transpose(1, 2).reshape({x.size(0), -1});
  r = r.narrow(-1, 0, std::min(r.size(-1), int64_t(std::ceil(double(target) * double(length) / double(orig)))));
  std::vector<int64_t> shape(w.sizes().begin(), w.sizes().end());
  shape.back() = r.size(-1);
  return r.reshape(shape);
}

namespace {
struct PitchShiftArgs : Args {
  Arg<Type::Tensor> waveform{this, {"waveform", Type::Tensor, nullptr, "waveform [..., time]", "input tensor"}};
  Arg<Type::Double> sample_rate{this, Param{"sample_rate", Type::Double, nullptr, "sample rate in Hz"}.positive("a rate > 0")};
  Arg<Type::Double> n_steps{this, {"n_steps", Type::Double, nullptr, "semitones (negative: down)"}};
  Arg<Type::Int> bins_per_octave{this, {"bins_per_octave", Type::Int, "12", "steps per octave"}};
  Arg<Type::Int> n_fft{this, {"n_fft", Type::Int, "512", "FFT size"}};
  Arg<Type::Int> hop_length{this, {"hop_length", Type::Int, kOptional, "hop (default n_fft/4)"}};
  Arg<Type::Int> win_length{this, {"win_length", Type::Int, kOptional, "window (default n_fft)"}};
};
}  // namespace
// torchaudio.functional.pitch_shift: time-stretch by 2**(-n_steps/bins), then
// resample back to the original length.
static Tcl_Obj* cmdPitchShift(Call& c, const PitchShiftArgs& a) {
  Tensor w = c.tensor(a.waveform);
  double sr = c.number(a.sample_rate);
  int64_t nfft = c.integer(a.n_fft);
  int64_t hop = c.has(a.hop_length) ? c.integer(a.hop_length) : nfft / 4;
  int64_t wl = c.has(a.win_length) ? c.integer(a.win_length) : nfft;
  std::vector<int64_t> shape(w.sizes().begin(), w.sizes().end());
  int64_t len = w.size(-1);
  Tensor x = w.reshape({-1, len});
  double rate = std::pow(2.0, -c.number(a.n_steps) / double(c.integer(a.bins_per_octave)));
  Tensor window = at::hann_window(wl, x.options());
  Tensor spec = at::stft(x, nfft, hop, wl, window, true, "reflect", false, true, true);
  Tensor stretched = phaseVocoder(spec, rate, hop);
  int64_t lenStretch = int64_t(std::round(double(len) / rate));
  Tensor y = at::istft(stretched, nfft, hop, wl, window, true, false, c10::nullopt, lenStretch, false);
  y = resample(y, int64_t(sr / rate), int64_t(sr));
  y = y.size(-1) > len ? y.narrow(-1, 0, len) : at::constant_pad_nd(y, {0, len - y.size(-1)}, 0);
  return c.result(y.reshape(shape));
}

// ---- windows: window_length ?dtype? ?device? ?periodic? (kaiser_window: ?beta?) ----

namespace {
struct WindowOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(int64_t, bool, double beta, const at::TensorOptions&);  // beta: kaiser_window's only
  bool beta = false;  // the row ends with kaiser_window's beta
};
}  // namespace
static const WindowOp kWindow[] = {
    {"hann_window", "Hann window 0.5 - 0.5 cos(2 pi n / N).",
     [](int64_t n, bool p, double, const at::TensorOptions& o) { return at::hann_window(n, p, o); }},
    {"hamming_window", "Hamming window 0.54 - 0.46 cos(2 pi n / N).",
     [](int64_t n, bool p, double, const at::TensorOptions& o) { return at::hamming_window(n, p, o); }},
    {"blackman_window", "Blackman window 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N).",
     [](int64_t n, bool p, double, const at::TensorOptions& o) { return at::blackman_window(n, p, o); }},
    {"bartlett_window", "Bartlett (triangular) window.",
     [](int64_t n, bool p, double, const at::TensorOptions& o) { return at::bartlett_window(n, p, o); }},
    {"kaiser_window", "Kaiser window with shape parameter beta.",
     [](int64_t n, bool p, double beta, const at::TensorOptions& o) { return at::kaiser_window(n, p, beta, o); }, true},
};

namespace {
struct WindowArgs : Args {
  Arg<Type::NonNegInt> window_length{this, {"window_length", Type::NonNegInt, nullptr, "number of points", "length"}};
  Arg<Type::Dtype> dtype{this, kDtypeParam};
  Arg<Type::Device> device{this, kDeviceParam};
  Arg<Type::Bool> periodic{this, {"periodic", Type::Bool, "1", "1: periodic (for spectra); 0: symmetric"}};
};
struct KaiserArgs : WindowArgs {
  Arg<Type::Double> beta{this, {"beta", Type::Double, "12", "shape parameter"}};
};
}  // namespace

static double betaOf(Call&, const WindowArgs&) { return 0; }
static double betaOf(Call& c, const KaiserArgs& a) { return c.number(a.beta); }

template <class A>
static Tcl_Obj* cmdWindow(Call& c, const A& a) {
  int64_t n = c.integer(a.window_length);
  return c.result(c.data<WindowOp>().fn(n, c.boolean(a.periodic), betaOf(c, a),
                                        applyOptions(c, at::TensorOptions().dtype(at::kFloat), a.dtype, a.device)));
}

// Families are rows: one handler per family, each row carrying its member.
static void addFft1(std::vector<Command>& out) {
  auto dimFirst = std::make_shared<const FftDimFirstArgs>();
  auto nFirst = std::make_shared<const FftNFirstArgs>();
  for (const Fft1Op& op : kFft1) {
    Command row = op.nFirst ? typedRow<cmdFft1<FftNFirstArgs>>(op.name, op.doc, nFirst)
                            : typedRow<cmdFft1<FftDimFirstArgs>>(op.name, op.doc, dimFirst);
    out.push_back(row.withData(&op));
  }
}
static void addWindows(std::vector<Command>& out) {
  auto plain = std::make_shared<const WindowArgs>();
  auto kaiser = std::make_shared<const KaiserArgs>();
  for (const WindowOp& op : kWindow) {
    Command row = op.beta ? typedRow<cmdWindow<KaiserArgs>>(op.name, op.doc, kaiser)
                          : typedRow<cmdWindow<WindowArgs>>(op.name, op.doc, plain);
    out.push_back(row.withData(&op));
  }
}

std::vector<Command> tensorFftCommands() {
  auto fft2 = std::make_shared<const Fft2Args>();
  auto shift = std::make_shared<const ShiftArgs>();
  std::vector<Command> out = {
      typedRow<cmdFft2<false>>("tensor_fft2d", "2-D discrete Fourier transform over dims (complex result).", fft2),
      typedRow<cmdFft2<true>>("tensor_ifft2d", "2-D inverse discrete Fourier transform over dims (complex result).", fft2),
      typedRow<cmdShift<false>>("fftshift", "Move the zero frequency to the centre (roll by n/2 along each dim).", shift),
      typedRow<cmdShift<true>>("ifftshift", "Inverse of fftshift.", shift),
      typedRow<cmdHilbert>("hilbert", "Analytic signal x + i H(x) along dim (complex result; scipy.signal.hilbert)."),
      typedRow<cmdStft>("tensor_stft", "Short-time Fourier transform: complex [freq, frames] (one-sided for real input)."),
      typedRow<cmdIstft>("tensor_istft", "Inverse short-time Fourier transform (overlap-add) of tensor_stft's result."),
      typedRow<cmdSpectrogram>("spectrogram",
                               "The STFT's magnitude to a power: a real [freq, frames] spectrogram (torchaudio's Spectrogram)."),
      typedRow<cmdTimeStretch>("time_stretch",
                               "Phase-vocoder time stretch of a complex STFT [..., freq, frames] by rate (> 1: shorter)."),
      typedRow<cmdPitchShift>("pitch_shift",
                              "Shift the pitch of a waveform [..., time] by n_steps semitones, keeping its length (torchaudio's)."),
      typedRow<cmdMelscaleFbanks>("melscale_fbanks",
                                  "Triangular mel filters [n_mels, n_freqs] (HTK scale) for a [freq, frames] spectrogram."),
      typedRow<cmdMfcc>("mfcc", "Mel-frequency cepstral coefficients [..., n_mfcc, frames] of a mel power spectrogram."),
  };
  addFft1(out);
  addWindows(out);
  return out;
}

}  // namespace tcltorch
