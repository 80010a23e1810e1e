// TensorBoard summaries (PyTorch's SummaryWriter): scalars, histograms, images and
// text written to an event file that TensorBoard reads. The file format is in
// src/io/event_file.cpp; see docs/training.md.
#include "tcltorch/collective.h"
#include "tcltorch/commands.h"
#include "tcltorch/event_file.h"
#include "tcltorch/image.h"
#include <chrono>

namespace tcltorch {

namespace {
// A writer; `file` is null on a rank that does not write (rank 0 writes, every rank
// with -all_ranks 1), so one script runs unchanged on N ranks.
struct WriterObj : Object {
  std::unique_ptr<events::EventFile> file;
};
}  // namespace

static double wallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

static const Param kWriter{"writer", Type::Writer, nullptr, "summary writer handle"};
static const Param kTag{"tag", Type::String, nullptr, "name of the series (e.g. loss/train)"};
static const Param kStep{"step", Type::Int, "0", "global step (x axis)", "global_step"};

static void add(Call& c, const Arg<Type::Writer>& writer, const std::string& event) {
  auto w = c.object<WriterObj>(writer);
  try {
    w->file->add(event);
  } catch (const std::runtime_error& e) {
    fail(e.what(), {"IO", "WRITE", w->file->path()});
  }
}

namespace {
struct WriterArgs : Args {
  Arg<Type::Path> dir{this, {"dir", Type::Path, nullptr, "log folder", "log_dir logdir"}};
  Arg<Type::Double> flush_secs{
      this, Param{"flush_secs", Type::Double, "120", "seconds between writes of the buffered records"}.within(0.001, 1e9)};
  Arg<Type::Bool> all_ranks{this, {"all_ranks", Type::Bool, "0", "write on every rank (give each rank its own dir)"}};
};
}  // namespace
static Tcl_Obj* cmdWriter(Call& c, const WriterArgs& a) {
  std::string dir = c.str(a.dir);
  double secs = c.number(a.flush_secs);
  auto w = std::make_shared<WriterObj>();
  if (c.boolean(a.all_ranks) || communicator(c.st, "")->rank() == 0) {
    try {
      w->file = std::make_unique<events::EventFile>(dir, secs);
    } catch (const std::runtime_error& e) {
      fail(e.what(), {"IO", "OPEN", dir});
    }
  }
  return c.result(Kind::Writer, w);
}

namespace {
struct HandleArgs : Args {
  Arg<Type::Writer> writer{this, kWriter};
};
}  // namespace
static Tcl_Obj* cmdFile(Call& c, const HandleArgs& a) {
  auto w = c.object<WriterObj>(a.writer);
  return newString(w->file ? w->file->path() : "");
}

static Tcl_Obj* cmdFlush(Call& c, const HandleArgs& a) {
  auto w = c.object<WriterObj>(a.writer);
  if (!w->file) return nullptr;
  try {
    w->file->flush();
  } catch (const std::runtime_error& e) {
    fail(e.what(), {"IO", "WRITE", w->file->path()});
  }
  return nullptr;
}

static bool writes(Call& c, const Arg<Type::Writer>& writer) { return c.object<WriterObj>(writer)->file != nullptr; }

namespace {
struct ScalarArgs : Args {
  Arg<Type::Writer> writer{this, kWriter};
  Arg<Type::String> tag{this, kTag};
  Arg<Type::TensorOrNumber> value{
      this, {"value", Type::TensorOrNumber, nullptr, "a number or a one-element tensor", "scalar_value"}};
  Arg<Type::Int> step{this, kStep};
};
}  // namespace
static Tcl_Obj* cmdScalar(Call& c, const ScalarArgs& a) {
  double v;
  if (c.isNumber(a.value)) {
    v = c.scalar(a.value).toDouble();
  } else {  // a one-element tensor, as PyTorch's add_scalar takes
    const at::Tensor& t = c.tensorRef(a.value);
    if (t.numel() != 1) c.badValue(a.value, "a number or a one-element tensor");
    v = t.item<double>();
  }
  if (writes(c, a.writer))
    add(c, a.writer, events::scalarEvent(wallTime(), c.integer(a.step), c.str(a.tag), float(v)));
  return nullptr;
}

namespace {
struct TextArgs : Args {
  Arg<Type::Writer> writer{this, kWriter};
  Arg<Type::String> tag{this, kTag};
  Arg<Type::String> text{this, {"text", Type::String, nullptr, "the text", "string text_string"}};
  Arg<Type::Int> step{this, kStep};
};
}  // namespace
static Tcl_Obj* cmdText(Call& c, const TextArgs& a) {
  if (writes(c, a.writer))
    add(c, a.writer, events::textEvent(wallTime(), c.integer(a.step), c.str(a.tag), c.str(a.text)));
  return nullptr;
}

namespace {
struct HistogramArgs : Args {
  Arg<Type::Writer> writer{this, kWriter};
  Arg<Type::String> tag{this, kTag};
  Arg<Type::Tensor> values{this, {"values", Type::Tensor, nullptr, "tensor (any shape, finite values)", "tensor"}};
  Arg<Type::Int> step{this, kStep};
  Arg<Type::PosInt> bins{this, Param{"bins", Type::PosInt, "30", "number of buckets"}.within(1, 10000)};
};
}  // namespace
static Tcl_Obj* cmdHistogram(Call& c, const HistogramArgs& a) {
  at::Tensor x = c.tensor(a.values).detach().to(at::kCPU, at::kDouble).flatten();
  if (x.numel() == 0) c.badValue(a.values, "a tensor with at least one element");
  if (!x.isfinite().all().item<bool>()) c.badValue(a.values, "a tensor of finite values (no NaN or Inf)");
  if (!writes(c, a.writer)) return nullptr;
  events::Histogram h;
  h.min = x.min().item<double>();
  h.max = x.max().item<double>();
  h.num = double(x.numel());
  h.sum = x.sum().item<double>();
  h.sumSquares = x.pow(2).sum().item<double>();
  int64_t bins = h.max > h.min ? c.integer(a.bins) : 1;
  at::Tensor counts = at::histc(x, bins, h.min, h.max);  // equal widths, the max in the last
  for (int64_t i = 0; i < bins; ++i) {
    h.limits.push_back(i == bins - 1 ? h.max : h.min + (h.max - h.min) * double(i + 1) / double(bins));
    h.counts.push_back(counts[i].item<double>());
  }
  add(c, a.writer, events::histogramEvent(wallTime(), c.integer(a.step), c.str(a.tag), h));
  return nullptr;
}

// zlib-format deflate through Tcl's own zlib (no other library needed).
static std::string tclDeflate(const std::string& raw, void* ctx) {
  auto* interp = static_cast<Tcl_Interp*>(ctx);
  Tcl_Obj* in = Tcl_NewByteArrayObj(reinterpret_cast<const unsigned char*>(raw.data()), Tcl_Size(raw.size()));
  Tcl_IncrRefCount(in);
  int rc = Tcl_ZlibDeflate(interp, TCL_ZLIB_FORMAT_ZLIB, in, 6, nullptr);
  Tcl_DecrRefCount(in);
  if (rc != TCL_OK) fail(std::string("cannot compress the image: ") + Tcl_GetStringResult(interp), {"IO", "ZLIB"});
  Tcl_Size n = 0;
  const unsigned char* p = Tcl_GetByteArrayFromObj(Tcl_GetObjResult(interp), &n);
  std::string out(reinterpret_cast<const char*>(p), size_t(n));
  Tcl_ResetResult(interp);
  return out;
}

namespace {
struct ImageArgs : Args {
  Arg<Type::Writer> writer{this, kWriter};
  Arg<Type::String> tag{this, kTag};
  Arg<Type::Tensor> image{this, {"image", Type::Tensor, nullptr, "image tensor", "tensor img_tensor"}};
  Arg<Type::Int> step{this, kStep};
};
}  // namespace
static Tcl_Obj* cmdImage(Call& c, const ImageArgs& a) {
  at::Tensor px = imagePixels(c.tensor(a.image), c.nameOf(a.image), false);
  if (!writes(c, a.writer)) return nullptr;
  int h = int(px.size(0)), w = int(px.size(1)), ch = int(px.size(2));
  std::string file = events::png(px.data_ptr<uint8_t>(), h, w, ch, tclDeflate, c.interp);
  add(c, a.writer, events::imageEvent(wallTime(), c.integer(a.step), c.str(a.tag), h, w, ch, file));
  return nullptr;
}

std::vector<Command> summaryCommands() {
  auto handle = std::make_shared<const HandleArgs>();
  return {
      typedRow<cmdWriter>(
          "summary_writer",
          "A TensorBoard writer: a new event file events.out.tfevents.SECONDS.HOST in dir (created). "
          "Records are buffered and written every -flush_secs, by summary_flush and by torch::free. "
          "On N ranks only rank 0 writes unless -all_ranks (the others' writers accept and drop everything)."),
      typedRow<cmdScalar>("summary_scalar", "Add a scalar to a TensorBoard writer (add_scalar)."),
      typedRow<cmdHistogram>("summary_histogram",
                             "Add a histogram of a tensor's values (add_histogram): min, max, count, sum, sum of "
                             "squares, equal-width buckets."),
      typedRow<cmdImage>(
          "summary_image",
          "Add an image (add_image), PNG encoded: H x W or C x H x W (C = 1, 3 or 4), uint8 or float in [0, 1]."),
      typedRow<cmdText>("summary_text", "Add text (add_text; TensorBoard renders it as Markdown)."),
      typedRow<cmdFlush>("summary_flush", "Write a writer's buffered records to its file now.", handle),
      typedRow<cmdFile>("summary_file", "The event file a writer writes (empty on a rank that does not write).",
                        handle),
  };
}

}  // namespace tcltorch
