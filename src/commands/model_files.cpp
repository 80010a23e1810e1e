// Mapped weights files and the reader of torch.save's zip files.
//
// libtorch's own unpickler (torch::pickle_load) cannot read what Python's
// torch.save(model.state_dict()) writes: in 1.13 it turns the OrderedDict into
// None and knows no SETITEM; and its zip reader cannot tell a record's size
// without copying it. So this file reads the zip's central directory itself
// (each tensor then aliases the mapped file) and has a small unpickler for
// the part of the pickle format those files use (dicts, lists, tuples, numbers,
// strings, tensors over storages). Anything else in a file is an error, never
// code run: no global outside a fixed list is ever resolved.
#include "tcltorch/model_files.h"
#include <c10/util/strides.h>
#include <caffe2/serialize/inline_container.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tcltorch {

// ---- mapped files ----

MappedFile::MappedFile(const std::string& path, MapUse use) : path_(path) {
  auto cannot = [&](int err) {
    fail("cannot read \"" + path + "\": " + std::strerror(err), {"IO", "READ", path});
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) cannot(errno);
  struct stat st;
  int err = 0;
  if (fstat(fd, &st) != 0) err = errno;
  else if (S_ISDIR(st.st_mode)) err = EISDIR;
  else if (!S_ISREG(st.st_mode)) err = EINVAL;  // a mapping needs a regular file
  if (err) {
    ::close(fd);
    cannot(err);
  }
  n_ = size_t(st.st_size);
  if (n_ > 0) {
    // Populating a writable private mapping would copy every page: Keep maps lazily.
    p_ = use == MapUse::Keep ? mmap(nullptr, n_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
                             : mmap(nullptr, n_, PROT_READ, MAP_PRIVATE | (use == MapUse::Copy ? MAP_POPULATE : 0), fd, 0);
    if (p_ == MAP_FAILED) {
      err = errno;
      p_ = nullptr;
      ::close(fd);
      cannot(err);
    }
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (p_) munmap(p_, n_);
}

void badModelFile(const std::string& path, const char* what, const std::string& why) {
  fail("\"" + path + "\" is not a valid " + what + ": " + why, {"IO", "FORMAT", path});
}

// A storage over part of the mapping; its DataPtr holds the mapping.
static c10::Storage mappedStorage(const std::shared_ptr<MappedFile>& f, size_t offset, size_t nbytes) {
  auto* keep = new std::shared_ptr<MappedFile>(f);
  void* p = const_cast<unsigned char*>(f->data()) + offset;
  c10::DataPtr dp(p, keep, [](void* k) { delete static_cast<std::shared_ptr<MappedFile>*>(k); },
                  c10::Device(c10::kCPU));
  return c10::Storage(c10::Storage::use_byte_size_t(), nbytes, std::move(dp), nullptr, false);
}

at::Tensor mappedTensor(const std::shared_ptr<MappedFile>& f, size_t offset, size_t nbytes, at::ScalarType dtype,
                        at::IntArrayRef sizes) {
  auto opts = at::TensorOptions().dtype(dtype);
  if (nbytes == 0) return at::empty(sizes, opts);
  if (reinterpret_cast<uintptr_t>(f->data() + offset) % c10::elementSize(dtype) != 0) {
    at::Tensor t = at::empty(sizes, opts);
    std::memcpy(t.data_ptr(), f->data() + offset, nbytes);
    return t;
  }
  return at::empty({0}, opts).set_(mappedStorage(f, offset, nbytes), 0, sizes, c10::contiguous_strides(sizes));
}


// ---- the zip container ----
// torch.save writes an uncompressed zip (zip64 when large) whose records are
// "<archive>/data.pkl", "<archive>/data/<key>", ...; the central directory
// gives each record's exact place and size, all checked against the file.

namespace {

class ZipRecords {
 public:
  ZipRecords(const MappedFile& f, const std::string& path) : f_(f), path_(path) {
    const size_t n = f.size();
    if (n < 22) bad("not a zip file (too short)");
    size_t eocd = std::string::npos;
    for (size_t k = n - 22 + 1; k-- > 0 && n - k <= 22 + 65535;)
      if (u32(k) == 0x06054b50) {
        eocd = k;
        break;
      }
    if (eocd == std::string::npos) bad("not a zip file (no end of central directory)");
    uint64_t count = u16(eocd + 10), size = u32(eocd + 12), offset = u32(eocd + 16);
    if (count == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF) {  // zip64
      if (eocd < 20 || u32(eocd - 20) != 0x07064b50) bad("bad zip64 locator");
      uint64_t z = u64(eocd - 20 + 8);
      if (z > n - 56 || u32(size_t(z)) != 0x06064b50) bad("bad zip64 end of central directory");
      count = u64(size_t(z) + 32);
      size = u64(size_t(z) + 40);
      offset = u64(size_t(z) + 48);
    }
    if (offset > n || size > n - offset) bad("central directory past the end of the file");
    size_t p = size_t(offset), end = size_t(offset + size);
    for (uint64_t e = 0; e < count; ++e) {
      if (p + 46 > end || u32(p) != 0x02014b50) bad("bad central directory");
      Rec r;
      r.method = u16(p + 10);
      r.csize = u32(p + 20);
      r.usize = u32(p + 24);
      size_t fn = u16(p + 28), ex = u16(p + 30), cm = u16(p + 32);
      r.local = u32(p + 42);
      if (p + 46 + fn + ex + cm > end) bad("bad central directory");
      std::string name(reinterpret_cast<const char*>(f.data()) + p + 46, fn);
      // zip64 sizes and offset, in this order, for the fields that overflowed
      for (size_t x = p + 46 + fn; x + 4 <= p + 46 + fn + ex;) {
        size_t id = u16(x), len = u16(x + 2), q = x + 4;
        if (q + len > p + 46 + fn + ex) bad("bad central directory");
        if (id == 1) {
          auto next = [&](uint64_t& v) {
            if (v != 0xFFFFFFFF) return;
            if (q + 8 > x + 4 + len) bad("bad zip64 field");
            v = u64(q);
            q += 8;
          };
          next(r.usize);
          next(r.csize);
          next(r.local);
        }
        x += 4 + len;
      }
      recs_.emplace(std::move(name), r);
      p += 46 + fn + ex + cm;
    }
    for (auto& [name, r] : recs_) {
      size_t slash = name.find('/');
      if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
        prefix_ = name.substr(0, slash + 1);
        return;
      }
    }
    bad("no data.pkl record: not a file of torch.save");
  }

  bool has(const std::string& name) const { return recs_.count(prefix_ + name) > 0; }

  // Offset and size of a stored (uncompressed) record inside the file.
  std::pair<size_t, size_t> find(const std::string& name) const {
    auto it = recs_.find(prefix_ + name);
    if (it == recs_.end()) bad("no record " + name);
    const Rec& r = it->second;
    const size_t n = f_.size();
    if (r.method != 0 || r.csize != r.usize) bad("record " + name + " is compressed");
    if (r.local > n - 30 || u32(size_t(r.local)) != 0x04034b50) bad("bad local header of " + name);
    uint64_t data = r.local + 30 + u16(size_t(r.local) + 26) + u16(size_t(r.local) + 28);
    if (data > n || r.usize > n - data) bad("record " + name + " runs past the end of the file");
    return {size_t(data), size_t(r.usize)};
  }

 private:
  struct Rec {
    uint64_t csize = 0, usize = 0, local = 0;
    unsigned method = 0;
  };
  const MappedFile& f_;
  const std::string& path_;
  std::unordered_map<std::string, Rec> recs_;
  std::string prefix_;

  [[noreturn]] void bad(const std::string& why) const { badModelFile(path_, "checkpoint", why); }
  uint64_t le(size_t at, size_t k) const {
    if (at > f_.size() || k > f_.size() - at) bad("truncated zip file");
    uint64_t u = 0;
    for (size_t j = k; j-- > 0;) u = u << 8 | f_.data()[at + j];
    return u;
  }
  uint64_t u16(size_t at) const { return le(at, 2); }
  uint64_t u32(size_t at) const { return le(at, 4); }
  uint64_t u64(size_t at) const { return le(at, 8); }
};

}  // namespace

// ---- the unpickler ----

namespace {

struct PV;
using PVP = std::shared_ptr<PV>;
struct PV {
  enum K { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor } k = None;
  int64_t i = 0;
  double d = 0;
  std::string s;  // Str; Global: "module.name"
  std::vector<PVP> items;
  std::vector<std::pair<PVP, PVP>> dict;
  c10::Storage storage;
  at::ScalarType dtype = at::kFloat;
  at::Tensor t;
};

PVP make(PV::K k) {
  auto v = std::make_shared<PV>();
  v->k = k;
  return v;
}

// torch.<Name>Storage <-> element type (read: every kind Python writes; written:
// the first name of each type).
const std::pair<const char*, at::ScalarType> kStorageTypes[] = {
    {"torch.FloatStorage", at::kFloat},       {"torch.DoubleStorage", at::kDouble},
    {"torch.HalfStorage", at::kHalf},         {"torch.BFloat16Storage", at::kBFloat16},
    {"torch.LongStorage", at::kLong},         {"torch.IntStorage", at::kInt},
    {"torch.ShortStorage", at::kShort},       {"torch.CharStorage", at::kChar},
    {"torch.ByteStorage", at::kByte},         {"torch.BoolStorage", at::kBool},
    {"torch.ComplexFloatStorage", at::kComplexFloat}, {"torch.ComplexDoubleStorage", at::kComplexDouble},
    {"torch.UntypedStorage", at::kByte}};

bool storageDtype(const std::string& global, at::ScalarType* t) {
  for (auto& [n, d] : kStorageTypes)
    if (global == n) {
      *t = d;
      return true;
    }
  return false;
}

class Unpickler {
 public:
  Unpickler(const std::string& path, const unsigned char* p, size_t n, std::shared_ptr<MappedFile> file,
            const ZipRecords& zip)
      : path_(path), p_(p), n_(n), file_(std::move(file)), zip_(zip) {}

  PVP run() {
    for (;;) {
      unsigned char op = byte();
      switch (op) {
        case 0x80: byte(); break;                      // PROTO
        case 0x95: take(8); break;                     // FRAME
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '.':                                      // STOP
          if (stack_.size() != 1 || !marks_.empty()) bad("malformed pickle");
          return stack_.back();
        case ')': push(make(PV::Tuple)); break;
        case 't': { auto v = make(PV::Tuple); v->items = popMark(); push(v); break; }
        case 0x85: case 0x86: case 0x87: {             // TUPLE1..3
          size_t k = size_t(op - 0x84);
          need(k);
          auto v = make(PV::Tuple);
          v->items.assign(stack_.end() - long(k), stack_.end());
          stack_.resize(stack_.size() - k);
          push(v);
          break;
        }
        case ']': push(make(PV::List)); break;
        case 'l': { auto v = make(PV::List); v->items = popMark(); push(v); break; }
        case 'a': { auto x = pop(); into(PV::List)->items.push_back(x); break; }
        case 'e': { auto xs = popMark(); auto& l = into(PV::List)->items; l.insert(l.end(), xs.begin(), xs.end()); break; }
        case '}': push(make(PV::Dict)); break;
        case 'd': { auto v = make(PV::Dict); setItems(v, popMark()); push(v); break; }
        case 's': { auto val = pop(); auto key = pop(); setItems(into(PV::Dict), {key, val}); break; }
        case 'u': { auto xs = popMark(); setItems(into(PV::Dict), xs); break; }
        case 'N': push(make(PV::None)); break;
        case 0x88: case 0x89: { auto v = make(PV::Bool); v->i = op == 0x88; push(v); break; }
        case 'J': pushInt(int32_t(le(4))); break;
        case 'K': pushInt(int64_t(le(1))); break;
        case 'M': pushInt(int64_t(le(2))); break;
        case 0x8a: {                                   // LONG1
          size_t k = byte();
          if (k > 8) bad("integer too large");
          uint64_t u = le(k);
          if (k > 0 && k < 8 && (u >> (8 * k - 1) & 1)) u |= ~uint64_t(0) << (8 * k);  // sign
          pushInt(int64_t(u));
          break;
        }
        case 'G': {                                    // BINFLOAT, big-endian
          uint64_t u = 0;
          const unsigned char* b = take(8);
          for (int k = 0; k < 8; ++k) u = u << 8 | b[k];
          auto v = make(PV::Float);
          std::memcpy(&v->d, &u, 8);
          push(v);
          break;
        }
        case 'X': pushStr(le(4)); break;               // BINUNICODE
        case 0x8c: pushStr(le(1)); break;              // SHORT_BINUNICODE
        case 0x8d: pushStr(le(8)); break;              // BINUNICODE8
        case 'T': pushStr(le(4)); break;               // BINSTRING
        case 'U': pushStr(le(1)); break;               // SHORT_BINSTRING
        case 'q': memo_[le(1)] = top(); break;         // BINPUT
        case 'r': memo_[le(4)] = top(); break;         // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break; // MEMOIZE
        case 'h': push(memo(le(1))); break;            // BINGET
        case 'j': push(memo(le(4))); break;            // LONG_BINGET
        case 'c': {                                    // GLOBAL
          std::string mod = line(), name = line();
          pushGlobal(mod + "." + name);
          break;
        }
        case 0x93: {                                   // STACK_GLOBAL
          auto name = pop(), mod = pop();
          if (mod->k != PV::Str || name->k != PV::Str) bad("malformed pickle");
          pushGlobal(mod->s + "." + name->s);
          break;
        }
        case 'R': { auto args = pop(); auto fn = pop(); push(call(fn, args)); break; }  // REDUCE
        case 'b': {                                    // BUILD: an OrderedDict's _metadata
          pop();
          if (top()->k != PV::Dict && top()->k != PV::Tensor) bad("unsupported object state");
          break;
        }
        case 'Q': push(persistent(pop())); break;      // BINPERSID
        case '0': pop(); break;                        // POP
        case '1': popMark(); break;                    // POP_MARK
        case '2': push(top()); break;                  // DUP
        default: {
          char buf[48];
          std::snprintf(buf, sizeof buf, "unsupported pickle opcode 0x%02x", op);
          bad(buf);
        }
      }
    }
  }

 private:
  const std::string& path_;
  const unsigned char* p_;
  size_t n_, pos_ = 0;
  std::shared_ptr<MappedFile> file_;
  const ZipRecords& zip_;
  std::vector<PVP> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PVP> memo_;
  std::unordered_map<std::string, PVP> storages_;

  [[noreturn]] void bad(const std::string& why) { badModelFile(path_, "checkpoint", why); }
  const unsigned char* take(size_t k) {
    if (k > n_ - pos_) bad("truncated pickle");
    const unsigned char* b = p_ + pos_;
    pos_ += k;
    return b;
  }
  unsigned char byte() { return *take(1); }
  uint64_t le(size_t k) {
    const unsigned char* b = take(k);
    uint64_t u = 0;
    for (size_t j = k; j-- > 0;) u = u << 8 | b[j];
    return u;
  }
  std::string line() {
    size_t start = pos_;
    while (pos_ < n_ && p_[pos_] != '\n') ++pos_;
    if (pos_ >= n_) bad("truncated pickle");
    return std::string(reinterpret_cast<const char*>(p_ + start), pos_++ - start);
  }
  void need(size_t k) {
    size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + k) bad("malformed pickle");
  }
  void push(PVP v) { stack_.push_back(std::move(v)); }
  PVP pop() {
    need(1);
    PVP v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const PVP& top() {
    need(1);
    return stack_.back();
  }
  PVP into(PV::K k) {
    if (top()->k != k) bad("malformed pickle");
    return top();
  }
  std::vector<PVP> popMark() {
    if (marks_.empty()) bad("malformed pickle");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PVP> xs(stack_.begin() + long(m), stack_.end());
    stack_.resize(m);
    return xs;
  }
  void setItems(const PVP& d, const std::vector<PVP>& xs) {
    if (xs.size() % 2) bad("malformed pickle");
    for (size_t k = 0; k < xs.size(); k += 2) d->dict.emplace_back(xs[k], xs[k + 1]);
  }
  void pushInt(int64_t i) {
    auto v = make(PV::Int);
    v->i = i;
    push(v);
  }
  void pushStr(uint64_t len) {
    if (len > n_ - pos_) bad("truncated pickle");
    auto v = make(PV::Str);
    v->s.assign(reinterpret_cast<const char*>(take(size_t(len))), size_t(len));
    push(v);
  }
  void pushGlobal(std::string name) {
    auto v = make(PV::Global);
    v->s = std::move(name);
    push(v);
  }
  PVP memo(uint64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) bad("malformed pickle");
    return it->second;
  }

  static bool isInts(const PVP& v) {
    if (v->k != PV::Tuple && v->k != PV::List) return false;
    for (auto& x : v->items)
      if (x->k != PV::Int || x->i < 0) return false;
    return true;
  }
  static std::vector<int64_t> ints(const PVP& v) {
    std::vector<int64_t> out;
    for (auto& x : v->items) out.push_back(x->i);
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel): the record data/<key>.
  PVP persistent(const PVP& pid) {
    auto& a = pid->items;
    at::ScalarType dtype;
    if (pid->k != PV::Tuple || a.size() != 5 || a[0]->k != PV::Str || a[0]->s != "storage" ||
        a[1]->k != PV::Global || !storageDtype(a[1]->s, &dtype) || a[2]->k != PV::Str || a[4]->k != PV::Int ||
        a[4]->i < 0)
      bad("unsupported persistent object");
    auto it = storages_.find(a[2]->s);
    if (it != storages_.end()) return it->second;
    size_t elem = c10::elementSize(dtype);
    auto [off, size] = zip_.find("data/" + a[2]->s);
    if (uint64_t(a[4]->i) > size / elem)
      bad("storage " + a[2]->s + " needs " + std::to_string(a[4]->i) + " elements, its record holds " +
          std::to_string(size / elem));
    size_t nbytes = size_t(a[4]->i) * elem;
    auto v = make(PV::Storage);
    v->dtype = dtype;
    v->storage = mappedStorage(file_, off, nbytes);
    storages_.emplace(a[2]->s, v);
    return v;
  }

  PVP call(const PVP& fn, const PVP& args) {
    if (fn->k != PV::Global || args->k != PV::Tuple) bad("malformed pickle");
    auto& a = args->items;
    const std::string& f = fn->s;
    if (f == "collections.OrderedDict" && a.empty()) return make(PV::Dict);
    if ((f == "torch._utils._rebuild_tensor_v2" && a.size() >= 4) || (f == "torch._utils._rebuild_tensor" && a.size() == 4))
      return tensor(a[0], a[1], a[2], a[3]);
    if ((f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") &&
        a.size() >= 2 && a[0]->k == PV::Tensor)
      return a[0];
    if (f == "torch.jit._pickle.restore_type_tag" && a.size() == 2) return a[0];
    bad("unsupported object " + f + " (state dicts hold tensors only)");
  }

  PVP tensor(const PVP& st, const PVP& offset, const PVP& size, const PVP& stride) {
    if (st->k != PV::Storage || offset->k != PV::Int || offset->i < 0 || !isInts(size) || !isInts(stride) ||
        size->items.size() != stride->items.size())
      bad("malformed tensor");
    auto sz = ints(size), sd = ints(stride);
    // The last element the view reaches must lie inside the storage.
    uint64_t elems = uint64_t(st->storage.nbytes() / c10::elementSize(st->dtype));
    bool empty = false;
    uint64_t last = uint64_t(offset->i);
    for (size_t k = 0; k < sz.size(); ++k) {
      if (sz[k] == 0) empty = true;
      else if (sd[k] > 0 && uint64_t(sz[k] - 1) > (uint64_t(1) << 62) / uint64_t(sd[k])) bad("malformed tensor");
      else last += uint64_t(sz[k] - 1) * uint64_t(sd[k]);
    }
    if (!empty && last >= elems) bad("a tensor reaches past its storage");
    auto v = make(PV::Tensor);
    v->t = at::empty({0}, at::TensorOptions().dtype(st->dtype))
               .set_(st->storage, empty ? 0 : offset->i, sz, sd);
    return v;
  }
};

}  // namespace

NamedTensors readTorchStateDict(const std::string& path) {
  auto file = std::make_shared<MappedFile>(path);
  if (file->size() == 0) badModelFile(path, "checkpoint", "empty file");
  ZipRecords zip(*file, path);
  if (zip.has("byteorder")) {
    auto [off, size] = zip.find("byteorder");
    std::string order(reinterpret_cast<const char*>(file->data()) + off, size);
    if (order != "little") badModelFile(path, "checkpoint", "byte order \"" + order + "\" (only little-endian loads)");
  }
  auto [off, size] = zip.find("data.pkl");
  PVP v = Unpickler(path, file->data() + off, size, file, zip).run();
  if (v->k != PV::Dict) badModelFile(path, "checkpoint", "it holds no state dict");
  NamedTensors out;
  for (auto& [k, t] : v->dict) {
    if (k->k != PV::Str || t->k != PV::Tensor) badModelFile(path, "checkpoint", "it holds no state dict");
    out.emplace_back(k->s, t->t);
  }
  return out;
}

// What Python's torch.save(model.state_dict()) writes, so that Python's torch.load
// reads it with its default weights_only=True (2.6), which refuses the type tags
// of torch::pickle_save: a protocol 2 pickle of an OrderedDict of
// torch._utils._rebuild_tensor_v2 calls, one storage record per tensor, written
// by libtorch's own zip writer (alignment, CRC-32, version record).
std::vector<char> torchStateDictBytes(const std::string& path, const NamedTensors& tensors) {
  std::string p = "\x80\x02";  // PROTO 2
  auto global = [&](const char* dotted) {
    std::string g(dotted);
    size_t dot = g.rfind('.');
    p += 'c' + g.substr(0, dot) + '\n' + g.substr(dot + 1) + '\n';
  };
  auto str = [&](const std::string& v) {  // BINUNICODE
    uint32_t n = uint32_t(v.size());
    p += 'X';
    p.append(reinterpret_cast<const char*>(&n), 4);  // little-endian hosts only, as the reader
    p += v;
  };
  auto integer = [&](int64_t v) {  // LONG1: any int64
    p += "\x8a\x08";
    p.append(reinterpret_cast<const char*>(&v), 8);
  };
  auto ints = [&](at::IntArrayRef v) {
    p += '(';
    for (int64_t x : v) integer(x);
    p += 't';
  };
  std::vector<at::Tensor> data;
  global("collections.OrderedDict");
  p += ")R(";  // OrderedDict(), MARK
  for (auto& [name, t0] : tensors) {
    at::Tensor t = t0.detach().to(at::kCPU).contiguous();
    const char* storage = nullptr;
    for (auto& [n, d] : kStorageTypes)
      if (d == t.scalar_type()) {
        storage = n;
        break;
      }
    if (!storage) fail("cannot save \"" + name + "\": no torch.save storage for its dtype", {"IO", "FORMAT", path});
    str(name);
    global("torch._utils._rebuild_tensor_v2");
    p += "((";  // the arguments, then the persistent id: ('storage', type, key, 'cpu', numel)
    str("storage");
    global(storage);
    str(std::to_string(data.size()));
    str("cpu");
    integer(t.numel());
    p += "tQ";  // TUPLE, BINPERSID
    integer(0);
    ints(t.sizes());
    ints(t.strides());
    p += '\x89';  // requires_grad False
    global("collections.OrderedDict");
    p += ")Rt";  // backward hooks: OrderedDict(); TUPLE
    p += 'R';    // _rebuild_tensor_v2(...)
    data.push_back(t);
  }
  p += "u.";  // SETITEMS, STOP
  std::vector<char> bytes;
  {
    caffe2::serialize::PyTorchStreamWriter w([&](const void* b, size_t n) {
      bytes.insert(bytes.end(), static_cast<const char*>(b), static_cast<const char*>(b) + n);
      return n;
    });
    w.writeRecord("data.pkl", p.data(), p.size());
    w.writeRecord("byteorder", "little", 6);
    for (size_t k = 0; k < data.size(); ++k)
      w.writeRecord("data/" + std::to_string(k), data[k].data_ptr(), data[k].nbytes());
    w.writeEndOfFile();
  }
  return bytes;
}

}  // namespace tcltorch
