// safetensors: an 8-byte little-endian header length, a JSON header (name ->
// dtype, shape, data_offsets; optional __metadata__ of strings), then the raw
// little-endian data. Checked as strictly as the reference implementation:
// offsets must tile the data exactly, sizes must match dtype and shape.
#include "tcltorch/commands.h"
#include "tcltorch/json.h"
#include "tcltorch/model_files.h"
#include "tcltorch/nn.h"
#include <algorithm>
#include <cstdio>
#include <cstring>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader maps it as it is"
#endif

namespace tcltorch {

static constexpr uint64_t kMaxHeader = 100000000;  // the reference implementation's limit
static const char* kWhat = "safetensors file";

static const std::pair<const char*, at::ScalarType> kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool}};

static const char* dtypeCode(at::ScalarType t) {
  for (auto& [n, d] : kDtypes)
    if (d == t) return n;
  return nullptr;
}

bool isSafetensorsPath(const std::string& path) {
  static const std::string ext = ".safetensors";
  return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

// ---- reading ----

namespace {
struct TensorInfo {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};
}  // namespace

static bool nonNegInt(const Json& j) { return j.kind == Json::Number && j.isInt && j.i >= 0; }

Safetensors readSafetensors(const std::string& path, MapUse use) {
  auto file = std::make_shared<MappedFile>(path, use);
  auto bad = [&](const std::string& why) { badModelFile(path, kWhat, why); };
  const size_t size = file->size();
  if (size < 8) bad("truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = n << 8 | file->data()[k];
  if (n > kMaxHeader) bad("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeader));
  if (n > size - 8)
    bad("truncated: the header needs " + std::to_string(n) + " bytes, the file has " + std::to_string(size - 8) +
        " after the length");
  std::string_view text(reinterpret_cast<const char*>(file->data()) + 8, size_t(n));
  Json h;
  try {
    h = parseJson(text);
  } catch (const JsonError& e) {
    bad("bad header: " + std::string(e.what()) + " at byte " + std::to_string(8 + e.pos));
  }
  if (h.kind != Json::Object) bad("bad header: not a JSON object");

  Safetensors out;
  std::vector<TensorInfo> entries;
  for (auto& [name, v] : h.obj) {
    if (name == "__metadata__") {
      if (v.kind != Json::Object) bad("bad header: __metadata__ must map strings to strings");
      for (auto& [k, s] : v.obj) {
        if (s.kind != Json::String) bad("bad header: __metadata__ must map strings to strings");
        out.metadata.emplace_back(k, s.str);
      }
      continue;
    }
    const Json *dt = v.find("dtype"), *shape = v.find("shape"), *offs = v.find("data_offsets");
    if (v.kind != Json::Object || !dt || !shape || !offs)
      bad("bad header: \"" + name + "\" needs dtype, shape and data_offsets");
    TensorInfo e{name, at::kFloat, {}, 0, 0};
    bool known = false;
    for (auto& [code, d] : kDtypes)
      if (dt->kind == Json::String && dt->str == code) known = (e.dtype = d, true);
    if (!known) bad("bad header: \"" + name + "\" has an unknown dtype " + writeJson(*dt));
    if (shape->kind != Json::Array || !std::all_of(shape->arr.begin(), shape->arr.end(), nonNegInt))
      bad("bad header: \"" + name + "\": shape must be a list of integers >= 0");
    if (offs->kind != Json::Array || offs->arr.size() != 2 || !nonNegInt(offs->arr[0]) || !nonNegInt(offs->arr[1]) ||
        offs->arr[0].i > offs->arr[1].i)
      bad("bad header: \"" + name + "\": data_offsets must be two integers begin <= end");
    e.begin = uint64_t(offs->arr[0].i);
    e.end = uint64_t(offs->arr[1].i);
    // numel * element size, refusing anything that overflows (it could not fit a file anyway).
    uint64_t bytes = c10::elementSize(e.dtype);
    for (auto& d : shape->arr) {
      e.shape.push_back(d.i);
      if (d.i != 0 && bytes > (uint64_t(1) << 62) / uint64_t(d.i)) bad("bad header: \"" + name + "\": shape too large");
      bytes *= uint64_t(d.i);
    }
    if (e.end - e.begin != bytes)
      bad("\"" + name + "\" has " + std::to_string(e.end - e.begin) + " bytes of data, its dtype and shape need " +
          std::to_string(bytes));
    if (e.end > size - 8 - n)
      bad("\"" + name + "\" data ends at byte " + std::to_string(8 + n + e.end) + ", past the end of the file (" +
          std::to_string(size) + " bytes)");
    entries.push_back(std::move(e));
  }
  // The data must be exactly the tensors' bytes, each once.
  std::vector<const TensorInfo*> byOffset;
  for (auto& e : entries) byOffset.push_back(&e);
  std::sort(byOffset.begin(), byOffset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t at = 0;
  for (auto* e : byOffset) {
    if (e->begin != at) bad("data_offsets leave a gap or an overlap before \"" + e->name + "\"");
    at = e->end;
  }
  if (at != size - 8 - n) bad(std::to_string(size - 8 - n - at) + " bytes after the last tensor's data");

  const size_t base = size_t(8 + n);
  for (auto& e : entries) {
    if (e.dtype == at::kBool)
      for (uint64_t k = e.begin; k < e.end; ++k)
        if (file->data()[base + k] > 1) bad("\"" + e.name + "\": BOOL data other than 0 and 1");
    out.tensors.emplace_back(e.name,
                             mappedTensor(file, base + size_t(e.begin), size_t(e.end - e.begin), e.dtype, e.shape));
  }
  return out;
}

// ---- writing ----

void writeSafetensors(const std::string& path, const NamedTensors& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::vector<std::pair<std::string, at::Tensor>> ts;
  for (auto& [name, t] : tensors) {
    if (name == "__metadata__") fail("a tensor cannot be named __metadata__ in a safetensors file", {"ARGS", "NAME", name});
    if (!dtypeCode(t.scalar_type()))
      fail("tensor \"" + name + "\" is " + dtypeName(t.scalar_type()) + ", which safetensors cannot store",
           {"ARGS", "DTYPE", name});
    ts.emplace_back(name, t.detach().to(at::kCPU).contiguous());
  }
  // As the reference writer: larger elements first (keeps every tensor aligned), then by name.
  std::stable_sort(ts.begin(), ts.end(), [](const auto& a, const auto& b) {
    size_t ea = a.second.element_size(), eb = b.second.element_size();
    return ea != eb ? ea > eb : a.first < b.first;
  });
  Json h;
  h.kind = Json::Object;
  if (!metadata.empty()) {
    Json m;
    m.kind = Json::Object;
    for (auto& [k, v] : metadata) m.obj.emplace_back(k, Json::string(v));
    h.obj.emplace_back("__metadata__", std::move(m));
  }
  int64_t off = 0;
  for (auto& [name, t] : ts) {
    Json e, shape, offs;
    e.kind = Json::Object;
    shape.kind = offs.kind = Json::Array;
    for (int64_t d : t.sizes()) shape.arr.push_back(Json::integer(d));
    int64_t bytes = int64_t(t.nbytes());
    offs.arr = {Json::integer(off), Json::integer(off + bytes)};
    off += bytes;
    e.obj.emplace_back("dtype", Json::string(dtypeCode(t.scalar_type())));
    e.obj.emplace_back("shape", std::move(shape));
    e.obj.emplace_back("data_offsets", std::move(offs));
    h.obj.emplace_back(name, std::move(e));
  }
  std::string header = writeJson(h);
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-aligned
  saveAtomically(path, [&](const std::string& tmp) {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) fail("cannot write \"" + path + "\": " + std::strerror(errno), {"IO", "WRITE", path});
    unsigned char len[8];
    for (int k = 0; k < 8; ++k) len[k] = (uint64_t(header.size()) >> (8 * k)) & 0xFF;
    bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(header.data(), 1, header.size(), f) == header.size();
    for (auto& [name, t] : ts)
      if (ok && t.nbytes()) ok = std::fwrite(t.data_ptr(), 1, t.nbytes(), f) == t.nbytes();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) fail("cannot write \"" + path + "\": write failed", {"IO", "WRITE", path});
  });
}

// ---- commands ----

// Names and metadata cross as real UTF-8 (Tcl's own form differs for NUL and,
// in 8.6, for characters beyond the BMP).
namespace {
struct Utf8 {
  Tcl_Encoding e = Tcl_GetEncoding(nullptr, "utf-8");
  ~Utf8() { Tcl_FreeEncoding(e); }
};
}  // namespace
static std::string toUtf8(Tcl_Obj* o) {
  Utf8 enc;
  Tcl_DString ds;
  Tcl_Size n;
  const char* s = Tcl_GetStringFromObj(o, &n);
  Tcl_UtfToExternalDString(enc.e, s, n, &ds);
  std::string out(Tcl_DStringValue(&ds), size_t(Tcl_DStringLength(&ds)));
  Tcl_DStringFree(&ds);
  return out;
}
static Tcl_Obj* fromUtf8(const std::string& s) {
  Utf8 enc;
  Tcl_DString ds;
  Tcl_ExternalToUtfDString(enc.e, s.data(), Tcl_Size(s.size()), &ds);
  Tcl_Obj* o = Tcl_NewStringObj(Tcl_DStringValue(&ds), Tcl_DStringLength(&ds));
  Tcl_DStringFree(&ds);
  return o;
}

// A Tcl dict argument as key/value pairs, in order.
static std::vector<std::pair<Tcl_Obj*, Tcl_Obj*>> dictArg(Call& c, const Arg<Type::String>& key) {
  Tcl_Obj* d = c.obj(key);
  Tcl_Size n = 0;
  if (Tcl_DictObjSize(nullptr, d, &n) != TCL_OK) c.badValue(key, "a dict");
  std::vector<std::pair<Tcl_Obj*, Tcl_Obj*>> out;
  Tcl_DictSearch s;
  Tcl_Obj *k, *v;
  int done = 0;
  for (Tcl_DictObjFirst(nullptr, d, &s, &k, &v, &done); !done; Tcl_DictObjNext(&s, &k, &v, &done))
    out.emplace_back(k, v);
  Tcl_DictObjDone(&s);
  return out;
}

namespace {
const Param kFile{"file", Type::Path, nullptr, "file path", "filename"};
struct SaveArgs : Args {
  Arg<Type::String> tensors{this, {"tensors", Type::String, nullptr, "dict of name -> tensor handle"}};
  Arg<Type::Path> file{this, kFile};
  Arg<Type::String> metadata{this, {"metadata", Type::String, "", "dict of string -> string, stored as __metadata__"}};
};
}  // namespace
static Tcl_Obj* cmdSafetensorsSave(Call& c, const SaveArgs& a) {
  NamedTensors ts;
  for (auto& [k, v] : dictArg(c, a.tensors)) ts.emplace_back(toUtf8(k), c.st.reg.tensor(v));
  std::vector<std::pair<std::string, std::string>> meta;
  for (auto& [k, v] : dictArg(c, a.metadata)) meta.emplace_back(toUtf8(k), toUtf8(v));
  writeSafetensors(c.str(a.file), ts, meta);
  return nullptr;
}

namespace {
struct LoadArgs : Args {
  Arg<Type::Path> file{this, kFile};
  Arg<Type::Device> device{this, {"device", Type::Device, "cpu", "device of the new tensors"}};
  Arg<Type::Bool> mmap{this,
                       {"mmap", Type::Bool, "0",
                        "1: CPU tensors use the mapped file's pages, copied only when written (no load time; the file "
                        "must not be truncated while they live)"}};
};
}  // namespace
// Each tensor is copied out of the mapping once (to the device, when given),
// so the handles never depend on the file afterwards; with -mmap 1 (CPU) they
// alias the mapping instead, as Python's safetensors and torch.load(mmap=True).
static Tcl_Obj* cmdSafetensorsLoad(Call& c, const LoadArgs& a) {
  c10::Device dev = c.device(a.device);
  bool keep = c.boolean(a.mmap) && dev.is_cpu();
  Safetensors st = readSafetensors(c.str(a.file), keep ? MapUse::Keep : MapUse::Copy);
  std::vector<at::Tensor> owned;
  for (auto& [name, t] : st.tensors) owned.push_back(keep ? t : dev.is_cpu() ? t.clone() : t.to(dev));
  Tcl_Obj* d = Tcl_NewDictObj();
  for (size_t k = 0; k < owned.size(); ++k)
    Tcl_DictObjPut(nullptr, d, fromUtf8(st.tensors[k].first), c.result(std::move(owned[k])));
  return d;
}

namespace {
struct FileArgs : Args {
  Arg<Type::Path> file{this, kFile};
};
}  // namespace
static Tcl_Obj* cmdSafetensorsMetadata(Call& c, const FileArgs& a) {
  Safetensors st = readSafetensors(c.str(a.file), MapUse::Header);
  Tcl_Obj* d = Tcl_NewDictObj();
  for (auto& [k, v] : st.metadata) Tcl_DictObjPut(nullptr, d, fromUtf8(k), fromUtf8(v));
  return d;
}

std::vector<Command> safetensorsCommands() {
  return {
      typedRow<cmdSafetensorsSave>(
          "safetensors_save",
          "Write a dict of name -> tensor handle as a safetensors file (readable by Python's safetensors)."),
      typedRow<cmdSafetensorsLoad>(
          "safetensors_load",
          "Read a safetensors file (mapped, not read through Tcl); returns a dict of name -> tensor handle."),
      typedRow<cmdSafetensorsMetadata>("safetensors_metadata",
                                       "The __metadata__ dict of a safetensors file (empty when it has none)."),
  };
}

}  // namespace tcltorch
