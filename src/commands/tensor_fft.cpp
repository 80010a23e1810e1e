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
static c10::string_view normOf(Call& c) {
  static const char* const kNames[] = {"backward", "forward", "ortho"};  // kNorm's choices, in order
  return kNames[c.choice("norm")];
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

static Tcl_Obj* cmdFft1(Call& c) {
  c10::optional<int64_t> n;
  if (c.has("n")) n = c.integer("n");
  return c.result(c.data<Fft1Op>().fn(c.tensorRef("input"), n, c.integer("dim"), normOf(c)));
}

// ---- 2-D transforms ----

template <bool Inverse>
static Tcl_Obj* cmdFft2(Call& c) {
  std::vector<int64_t> dims = c.ints("dims");
  const Tensor& t = c.tensorRef("input");
  return c.result(Inverse ? at::fft_ifft2(t, c10::nullopt, dims, normOf(c)) : at::fft_fft2(t, c10::nullopt, dims, normOf(c)));
}

template <bool Inverse>
static Tcl_Obj* cmdShift(Call& c) {
  c10::optional<at::IntArrayRef> dims;
  std::vector<int64_t> d;
  if (c.has("dim")) dims = d = c.ints("dim");
  return c.result(Inverse ? at::fft_ifftshift(c.tensorRef("input"), dims) : at::fft_fftshift(c.tensorRef("input"), dims));
}

// Analytic signal x + i*H(x) along dim (scipy.signal.hilbert): the FFT with
// negative frequencies zeroed and positive ones doubled, transformed back.
static Tcl_Obj* cmdHilbert(Call& c) {
  const Tensor& x = c.tensorRef("input");
  int64_t dim = c.integer("dim");
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

static c10::optional<Tensor> windowOf(Call& c, int64_t nfft) {
  if (c.has("window")) return c.tensor("window");
  int64_t wl = c.has("win_length") ? c.integer("win_length") : nfft;
  const Tensor& x = c.tensorRef("input");  // complex for istft: the window is real
  return at::hann_window(wl, x.options().dtype(c10::toRealValueType(x.scalar_type())));
}

static c10::optional<int64_t> optInt(Call& c, const char* name) {
  return c.has(name) ? c10::optional<int64_t>(c.integer(name)) : c10::nullopt;
}

static Tensor stftOf(Call& c) {
  int64_t nfft = c.integer("n_fft");
  return at::stft(c.tensorRef("input"), nfft, optInt(c, "hop_length"), optInt(c, "win_length"), windowOf(c, nfft),
                  c.boolean("center"), "reflect", c.boolean("normalized"), c10::nullopt, true);
}

static Tcl_Obj* cmdStft(Call& c) { return c.result(stftOf(c)); }

static Tcl_Obj* cmdSpectrogram(Call& c) { return c.result(stftOf(c).abs().pow(c.number("power"))); }

static Tcl_Obj* cmdIstft(Call& c) {
  int64_t nfft = c.integer("n_fft");
  return c.result(at::istft(c.tensorRef("input"), nfft, optInt(c, "hop_length"), optInt(c, "win_length"),
                            windowOf(c, nfft), c.boolean("center"), c.boolean("normalized"), c10::nullopt,
                            optInt(c, "length"), false));
}

// ---- mel filters and cepstra (torchaudio's definitions, HTK mel scale) ----

static Tensor hzToMel(const Tensor& f) { return 2595.0 * at::log10(1.0 + f / 700.0); }
static Tensor melToHz(const Tensor& m) { return 700.0 * (at::pow(10.0, m / 2595.0) - 1.0); }

// Triangular filters [n_mels, n_freqs] over n_freqs bins from 0 to sample_rate/2.
static Tcl_Obj* cmdMelscaleFbanks(Call& c) {
  int64_t nFreqs = c.integer("n_freqs"), nMels = c.integer("n_mels");
  double sr = c.number("sample_rate"), fMin = c.number("f_min");
  double fMax = c.has("f_max") ? c.number("f_max") : sr / 2;
  at::TensorOptions o = at::TensorOptions().dtype(at::kDouble);
  Tensor freqs = at::linspace(0, std::floor(sr / 2), nFreqs, o);
  Tensor fPts = melToHz(at::linspace(hzToMel(at::scalar_tensor(fMin, o)).item<double>(),
                                     hzToMel(at::scalar_tensor(fMax, o)).item<double>(), nMels + 2, o));
  Tensor fDiff = fPts.slice(0, 1) - fPts.slice(0, 0, -1);
  Tensor slopes = fPts.unsqueeze(0) - freqs.unsqueeze(1);  // [n_freqs, n_mels + 2]
  Tensor down = -slopes.slice(1, 0, -2) / fDiff.slice(0, 0, -1);
  Tensor up = slopes.slice(1, 2) / fDiff.slice(0, 1);
  Tensor fb = at::clamp_min(at::minimum(down, up), 0);
  if (c.choice("norm") == 1) fb = fb * (2.0 / (fPts.slice(0, 2) - fPts.slice(0, 0, nMels)));
  return c.result(fb.t().contiguous().to(c.dtype("dtype")));
}

// MFCC of a mel power spectrogram [..., n_mels, frames]: decibels (clamped to
// top_db below the peak), then the orthonormal DCT-II over the mel axis.
static Tcl_Obj* cmdMfcc(Call& c) {
  const Tensor& mel = c.tensorRef("spectrogram");
  int64_t nMfcc = c.integer("n_mfcc");
  if (mel.dim() < 2) fail("mfcc: the spectrogram must be [..., n_mels, frames]", {"SHAPE"});
  int64_t nMels = mel.size(-2);
  if (nMfcc < 1 || nMfcc > nMels) c.badValue("n_mfcc", "a count from 1 to n_mels");
  Tensor db = 10.0 * at::log10(at::clamp_min(mel, 1e-10));
  if (c.has("top_db")) {
    Tensor peak = db.amax({-2, -1}, true);
    db = at::maximum(db, peak - c.number("top_db"));
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

// A real input is read as a spectrum with zero phase.
static Tcl_Obj* cmdTimeStretch(Call& c) {
  Tensor spec = c.tensor("input");
  double rate = c.number("rate");
  if (spec.dim() < 2) fail("time_stretch: the input must be an STFT [..., freq, frames]", {"SHAPE"});
  if (!spec.is_complex()) spec = at::complex(spec.to(at::kFloat), at::zeros_like(spec, at::kFloat));
  if (rate == 1.0) return c.result(spec);
  return c.result(phaseVocoder(spec, rate, c.has("hop_length") ? c.integer("hop_length") : spec.size(-2) - 1));
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

// torchaudio.functional.pitch_shift: time-stretch by 2**(-n_steps/bins), then
// resample back to the original length.
static Tcl_Obj* cmdPitchShift(Call& c) {
  Tensor w = c.tensor("waveform");
  double sr = c.number("sample_rate");
  int64_t nfft = c.integer("n_fft");
  int64_t hop = c.has("hop_length") ? c.integer("hop_length") : nfft / 4;
  int64_t wl = c.has("win_length") ? c.integer("win_length") : nfft;
  std::vector<int64_t> shape(w.sizes().begin(), w.sizes().end());
  int64_t len = w.size(-1);
  Tensor x = w.reshape({-1, len});
  double rate = std::pow(2.0, -c.number("n_steps") / double(c.integer("bins_per_octave")));
  Tensor window = at::hann_window(wl, x.options());
  Tensor spec = at::stft(x, nfft, hop, wl, window, true, "reflect", false, true, true);
  Tensor stretched = phaseVocoder(spec, rate, hop);
  int64_t lenStretch = int64_t(std::round(double(len) / rate));
  Tensor y = at::istft(stretched, nfft, hop, wl, window, true, false, c10::nullopt, lenStretch, false);
  y = resample(y, int64_t(sr / rate), int64_t(sr));
  y = y.size(-1) > len ? y.narrow(-1, 0, len) : at::constant_pad_nd(y, {0, len - y.size(-1)}, 0);
  return c.result(y.reshape(shape));
}

// ---- windows: window_length ?dtype? ?device? ?periodic? ----

namespace {
struct WindowOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(Call&, int64_t, bool, const at::TensorOptions&);
};
}  // namespace
static const WindowOp kWindow[] = {
    {"hann_window", "Hann window 0.5 - 0.5 cos(2 pi n / N).",
     [](Call&, int64_t n, bool p, const at::TensorOptions& o) { return at::hann_window(n, p, o); }},
    {"hamming_window", "Hamming window 0.54 - 0.46 cos(2 pi n / N).",
     [](Call&, int64_t n, bool p, const at::TensorOptions& o) { return at::hamming_window(n, p, o); }},
    {"blackman_window", "Blackman window 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N).",
     [](Call&, int64_t n, bool p, const at::TensorOptions& o) { return at::blackman_window(n, p, o); }},
    {"bartlett_window", "Bartlett (triangular) window.",
     [](Call&, int64_t n, bool p, const at::TensorOptions& o) { return at::bartlett_window(n, p, o); }},
    {"kaiser_window", "Kaiser window with shape parameter beta.",
     [](Call& c, int64_t n, bool p, const at::TensorOptions& o) { return at::kaiser_window(n, p, c.number("beta"), o); }},
};

static Tcl_Obj* cmdWindow(Call& c) {
  int64_t n = c.integer("window_length");
  return c.result(c.data<WindowOp>().fn(c, n, c.boolean("periodic"), applyOptions(c, at::TensorOptions().dtype(at::kFloat))));
}

// Families are rows: one handler per family, each row carrying its member.
static void addFft1(std::vector<Command>& out) {
  for (const Fft1Op& op : kFft1) {
    Param n{"n", Type::Int, kOptional, "signal length (crop or zero-pad)"};
    Param dim{"dim", Type::Int, "-1", "dimension", "dimension"};
    std::vector<Param> p = {kInput};
    if (op.nFirst) p.insert(p.end(), {n, dim});
    else p.insert(p.end(), {dim, n});
    p.push_back(kNorm);
    out.push_back(Command{op.name, op.doc, p, cmdFft1}.withData(&op));
  }
}
static void addWindows(std::vector<Command>& out) {
  for (const WindowOp& op : kWindow) {
    std::vector<Param> p = {{"window_length", Type::NonNegInt, nullptr, "number of points", "length"}, kDtypeParam,
                            kDeviceParam, {"periodic", Type::Bool, "1", "1: periodic (for spectra); 0: symmetric"}};
    if (std::string(op.name) == "kaiser_window") p.push_back({"beta", Type::Double, "12", "shape parameter"});
    out.push_back(Command{op.name, op.doc, p, cmdWindow}.withData(&op));
  }
}

std::vector<Command> tensorFftCommands() {
  const Param dims2{"dims", Type::IntList, "-2 -1", "the two dimensions", "dim"};
  const Param shiftDim{"dim", Type::IntList, kOptional, "dimension(s) (default: all)", "dims"};
  const std::vector<Param> stft = {
      kInput,
      {"n_fft", Type::Int, nullptr, "FFT size", "nfft nFft"},
      {"hop_length", Type::Int, kOptional, "samples between frames (default n_fft/4)"},
      {"win_length", Type::Int, kOptional, "window length (default n_fft)"},
      {"window", Type::Tensor, kOptional, "window tensor (default: Hann of win_length)"},
      {"center", Type::Bool, "1", "1: pad the signal so frames are centred"},
      {"normalized", Type::Bool, "0", "1: scale by 1/sqrt(n_fft)"},
  };
  std::vector<Param> istft = stft;
  istft.push_back({"length", Type::Int, kOptional, "length of the signal to return"});
  std::vector<Param> spec = stft;
  spec.push_back({"power", Type::Double, "2", "exponent of the magnitude (1: magnitude, 2: power)"});
  std::vector<Command> out = {
      {"tensor_fft2d", "2-D discrete Fourier transform over dims (complex result).", {kInput, dims2, kNorm},
       cmdFft2<false>},
      {"tensor_ifft2d", "2-D inverse discrete Fourier transform over dims (complex result).", {kInput, dims2, kNorm},
       cmdFft2<true>},
      {"fftshift", "Move the zero frequency to the centre (roll by n/2 along each dim).", {kInput, shiftDim},
       cmdShift<false>},
      {"ifftshift", "Inverse of fftshift.", {kInput, shiftDim}, cmdShift<true>},
      {"hilbert", "Analytic signal x + i H(x) along dim (complex result; scipy.signal.hilbert).",
       {kInput, {"dim", Type::Int, "-1", "dimension", "dimension"}}, cmdHilbert},
      {"tensor_stft", "Short-time Fourier transform: complex [freq, frames] (one-sided for real input).", stft, cmdStft},
      {"tensor_istft", "Inverse short-time Fourier transform (overlap-add) of tensor_stft's result.", istft, cmdIstft},
      {"spectrogram", "The STFT's magnitude to a power: a real [freq, frames] spectrogram (torchaudio's Spectrogram).", spec,
       cmdSpectrogram},
      {"time_stretch", "Phase-vocoder time stretch of a complex STFT [..., freq, frames] by rate (> 1: shorter).",
       {{"input", Type::Tensor, nullptr, "complex STFT [..., freq, frames]", "tensor stft_matrix"},
        Param{"rate", Type::Double, nullptr, "speed factor > 0"}.positive("a rate > 0"),
        {"hop_length", Type::Int, kOptional, "hop of the STFT (default freq - 1, i.e. n_fft/2)"}},
       cmdTimeStretch},
      {"pitch_shift", "Shift the pitch of a waveform [..., time] by n_steps semitones, keeping its length (torchaudio's).",
       {{"waveform", Type::Tensor, nullptr, "waveform [..., time]", "input tensor"},
        Param{"sample_rate", Type::Double, nullptr, "sample rate in Hz"}.positive("a rate > 0"), {"n_steps", Type::Double, nullptr, "semitones (negative: down)"},
        {"bins_per_octave", Type::Int, "12", "steps per octave"}, {"n_fft", Type::Int, "512", "FFT size"},
        {"hop_length", Type::Int, kOptional, "hop (default n_fft/4)"}, {"win_length", Type::Int, kOptional, "window (default n_fft)"}},
       cmdPitchShift},
      {"melscale_fbanks", "Triangular mel filters [n_mels, n_freqs] (HTK scale) for a [freq, frames] spectrogram.",
       {Param{"n_freqs", Type::Int, nullptr, "frequency bins (n_fft/2 + 1)"}.positive("a count >= 1"),
        Param{"n_mels", Type::Int, nullptr, "mel bands"}.positive("a count >= 1"),
        {"sample_rate", Type::Double, nullptr, "sample rate in Hz"}, {"f_min", Type::Double, "0", "lowest frequency"},
        {"f_max", Type::Double, kOptional, "highest frequency (default sample_rate/2)"},
        {"norm", Type::Choice, "none", "none, or slaney (area-normalised filters)", nullptr, "none slaney"}, kDtypeParam},
       cmdMelscaleFbanks},
      {"mfcc", "Mel-frequency cepstral coefficients [..., n_mfcc, frames] of a mel power spectrogram.",
       {{"spectrogram", Type::Tensor, nullptr, "mel power spectrogram [..., n_mels, frames]", "input"},
        {"n_mfcc", Type::Int, "13", "coefficients to keep"}, Param{"dct_type", Type::Int, "2", "DCT type (2)"}.within(2, 2).mustBe("2 (the only DCT type supported)"),
        {"top_db", Type::Double, "80", "clamp decibels to this far below the peak"}},
       cmdMfcc},
  };
  addFft1(out);
  addWindows(out);
  return out;
}

}  // namespace tcltorch
