#include "tcltorch/runtime.h"
#include <c10/util/Exception.h>
#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>

namespace tcltorch {

void fail(const std::string& msg, std::vector<std::string> code) {
  throw Error(msg, std::move(code));
}

void badHandle(const char* what, Tcl_Obj* name) {
  const char* s = Tcl_GetString(name);
  fail(std::string("Invalid ") + what + " handle \"" + s + "\"", {"HANDLE", s});
}

const char* kindName(Kind k) {
  static const char* names[] = {"tensor", "module", "optimizer", "work", "scheduler", "shard", "writer", "loader", "mesh"};
  return names[size_t(k)];
}

// ---- handle names ----

// A key is kind (8 bits) | prefix (16 bits) | id (40 bits). Prefix 0 is the
// kind's own name; the others ("linear", "gru", ...) are interned once per
// process in kPrefixes, each for one kind. Ids count per kind, so a name never
// repeats, and "gru3" never reaches linear3 (another prefix, another key).
static constexpr int kKindShift = 56, kPrefixShift = 40;
static inline Kind keyKind(uint64_t key) { return Kind(key >> kKindShift); }
static inline uint32_t keyPrefix(uint64_t key) { return uint32_t(key >> kPrefixShift) & 0xffff; }
static inline uint64_t keyId(uint64_t key) { return key & ((uint64_t(1) << kPrefixShift) - 1); }

static constexpr size_t kNameCap = 64;  // a name's buffer

namespace {
struct Prefix {
  std::string name;
  Kind kind;
};
// Append-only; a deque keeps the strings in place. Guarded by prefixMutex.
std::deque<Prefix> kPrefixes;
std::mutex prefixMutex;
}  // namespace

// The index of `name` for kind k (0: the kind's own name, or a prefix another
// kind has taken, or no room left).
static uint32_t internPrefix(Kind k, const std::string& name) {
  // A name must end in a non-digit (the id follows), be short, and not be a kind's own name.
  if (name.empty() || name.size() > kNameCap - 24 || (name.back() >= '0' && name.back() <= '9')) return 0;
  for (size_t i = 0; i < size_t(Kind::Count); ++i)
    if (name == kindName(Kind(i))) return 0;
  std::lock_guard<std::mutex> lock(prefixMutex);
  for (size_t i = 0; i < kPrefixes.size(); ++i)
    if (kPrefixes[i].name == name) return kPrefixes[i].kind == k ? uint32_t(i + 1) : 0;
  if (kPrefixes.size() >= 0xffff) return 0;
  kPrefixes.push_back({name, k});
  return uint32_t(kPrefixes.size());
}

// Into buf (kNameCap bytes).
static size_t formatName(uint64_t key, char* buf) {
  size_t n;
  if (uint32_t p = keyPrefix(key)) {
    std::lock_guard<std::mutex> lock(prefixMutex);
    const std::string& prefix = kPrefixes[p - 1].name;
    n = std::min(prefix.size(), kNameCap - 24);
    memcpy(buf, prefix.data(), n);
  } else {
    const char* k = kindName(keyKind(key));
    n = strlen(k);
    memcpy(buf, k, n);
  }
  char digits[24];
  int d = 0;
  for (uint64_t id = keyId(key); id; id /= 10) digits[d++] = char('0' + id % 10);
  while (d) buf[n++] = digits[--d];
  buf[n] = 0;
  return n;
}

// "<prefix><id>" -> key; the exact inverse of formatName (no leading zeros).
static bool parseName(const char* s, size_t len, uint64_t* key) {
  size_t n = len;
  while (n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9') --n;
  if (n == 0 || n == len || len - n > 13 || s[n] == '0') return false;
  uint64_t id = 0;
  for (size_t i = n; i < len; ++i) id = id * 10 + uint64_t(s[i] - '0');
  for (size_t k = 0; k < size_t(Kind::Count); ++k) {
    const char* kn = kindName(Kind(k));
    if (strlen(kn) == n && memcmp(s, kn, n) == 0) {
      *key = (uint64_t(k) << kKindShift) | id;
      return true;
    }
  }
  std::lock_guard<std::mutex> lock(prefixMutex);
  for (size_t i = 0; i < kPrefixes.size(); ++i)
    if (kPrefixes[i].name.size() == n && memcmp(s, kPrefixes[i].name.data(), n) == 0) {
      *key = (uint64_t(kPrefixes[i].kind) << kKindShift) | (uint64_t(i + 1) << kPrefixShift) | id;
      return true;
    }
  return false;
}

// Internal rep of a handle name: ptr1 = key, ptr2 = slot hint. The key is what
// the name means, so a hint from another interpreter or a freed slot is simply
// re-validated; no pointer into any registry is ever kept.
static void dupHandleRep(Tcl_Obj* src, Tcl_Obj* dup) {
  dup->internalRep = src->internalRep;
  dup->typePtr = src->typePtr;
}
static void updateHandleString(Tcl_Obj* o) {
  char buf[kNameCap];
  size_t n = formatName(uint64_t(uintptr_t(o->internalRep.twoPtrValue.ptr1)), buf);
  o->bytes = static_cast<char*>(ckalloc(unsigned(n + 1)));
  memcpy(o->bytes, buf, n + 1);
  o->length = int(n);
}
const Tcl_ObjType kHandleObjType = {"tcltorchHandle", nullptr, dupHandleRep, updateHandleString, nullptr};
static const Tcl_ObjType& kHandleType = kHandleObjType;

static inline void setHandleRep(Tcl_Obj* o, uint64_t key, uint32_t slot) {
  o->internalRep.twoPtrValue.ptr1 = reinterpret_cast<void*>(uintptr_t(key));
  o->internalRep.twoPtrValue.ptr2 = reinterpret_cast<void*>(uintptr_t(slot));
}

// ---- key -> slot table ----

static inline size_t hashKey(uint64_t key) { return size_t((key * 0x9E3779B97F4A7C15ull) >> 29); }

bool Registry::tableGet(uint64_t key, uint32_t* slot) const {
  if (table_.empty()) return false;
  size_t mask = table_.size() - 1;
  for (size_t i = hashKey(key) & mask;; i = (i + 1) & mask) {
    if (table_[i].first == key) {
      *slot = table_[i].second;
      return true;
    }
    if (table_[i].first == 0) return false;
  }
}

void Registry::tablePut(uint64_t key, uint32_t slot) {
  if ((tableUsed_ + 1) * 2 > table_.size()) {
    std::vector<std::pair<uint64_t, uint32_t>> old(std::max<size_t>(1024, table_.size() * 2));
    old.swap(table_);
    tableUsed_ = 0;
    for (auto& kv : old)
      if (kv.first) tablePut(kv.first, kv.second);
  }
  size_t mask = table_.size() - 1;
  size_t i = hashKey(key) & mask;
  while (table_[i].first) i = (i + 1) & mask;
  table_[i] = {key, slot};
  ++tableUsed_;
}

void Registry::tableDel(uint64_t key) {
  if (table_.empty()) return;
  size_t mask = table_.size() - 1;
  size_t i = hashKey(key) & mask;
  while (table_[i].first != key) {
    if (table_[i].first == 0) return;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  for (size_t j = i;;) {
    j = (j + 1) & mask;
    if (table_[j].first == 0) break;
    size_t home = hashKey(table_[j].first) & mask;
    bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = {0, 0};
  --tableUsed_;
}

// ---- registry ----

uint64_t Registry::insert(Kind k, Entry&& e, uint32_t* slotOut, uint32_t prefix) {
  uint64_t key = (uint64_t(k) << kKindShift) | (uint64_t(prefix) << kPrefixShift) | ++next_[size_t(k)];
  uint32_t slot;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    slot = nSlots_++;
    if (slot >> kChunkBits == chunks_.size()) chunks_.emplace_back(new Slot[size_t(1) << kChunkBits]);
  }
  Slot& s = slotAt(slot);
  s.e = std::move(e);
  s.key = key;
  tablePut(key, slot);
  ++live_[size_t(k)];
  if (!scopes_.empty()) scopes_.back().push_back({key, slot});
  *slotOut = slot;
  return key;
}

Tcl_Obj* Registry::nameObj(uint64_t key, uint32_t slot) {
  Tcl_Obj* o = Tcl_NewObj();
  Tcl_InvalidateStringRep(o);  // the name text is made on demand by updateHandleString
  o->typePtr = &kHandleType;
  setHandleRep(o, key, slot);
  return o;
}

static std::string keyName(uint64_t key) {
  char buf[kNameCap];
  size_t n = formatName(key, buf);
  return std::string(buf, n);
}

std::string Registry::add(at::Tensor t) {
  uint32_t slot;
  return keyName(insert(Kind::Tensor, Entry{Kind::Tensor, std::move(t), nullptr}, &slot));
}

std::string Registry::add(Kind k, std::shared_ptr<Object> o) {
  uint32_t slot, prefix = internPrefix(k, o->handlePrefix());
  return keyName(insert(k, Entry{k, at::Tensor(), std::move(o)}, &slot, prefix));
}

Tcl_Obj* Registry::addObj(at::Tensor t) {
  uint32_t slot;
  uint64_t key = insert(Kind::Tensor, Entry{Kind::Tensor, std::move(t), nullptr}, &slot);
  return nameObj(key, slot);
}

Tcl_Obj* Registry::addObj(Kind k, std::shared_ptr<Object> o) {
  uint32_t slot, prefix = internPrefix(k, o->handlePrefix());
  uint64_t key = insert(k, Entry{k, at::Tensor(), std::move(o)}, &slot, prefix);
  return nameObj(key, slot);
}

Entry* Registry::lookup(uint64_t key, uint32_t* slot) {
  if (!tableGet(key, slot)) return nullptr;
  return &slotAt(*slot).e;
}

Entry* Registry::find(const char* name, size_t len) {
  uint64_t key;
  uint32_t slot;
  return parseName(name, len, &key) ? lookup(key, &slot) : nullptr;
}

Entry* Registry::find(Tcl_Obj* o) {
  uint32_t slot;
  if (o->typePtr == &kHandleType) {
    uint64_t key = uint64_t(uintptr_t(o->internalRep.twoPtrValue.ptr1));
    slot = uint32_t(uintptr_t(o->internalRep.twoPtrValue.ptr2));
    if (slot < nSlots_) {
      Slot& s = slotAt(slot);
      if (s.key == key) return &s.e;
    }
    Entry* e = lookup(key, &slot);
    if (e) setHandleRep(o, key, slot);
    return e;
  }
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  uint64_t key;
  if (!parseName(s, size_t(len), &key)) return nullptr;
  Entry* e = lookup(key, &slot);
  if (e) {  // cache: later uses of this object skip the parse and the table
    if (o->typePtr && o->typePtr->freeIntRepProc) o->typePtr->freeIntRepProc(o);
    o->typePtr = &kHandleType;
    setHandleRep(o, key, slot);
  }
  return e;
}

const at::Tensor& Registry::tensor(Tcl_Obj* name) {
  Entry* e = find(name);
  if (!e || e->kind != Kind::Tensor) badHandle("tensor", name);
  return e->tensor;
}

std::shared_ptr<Object> Registry::object(Kind k, Tcl_Obj* name) {
  Entry* e = find(name);
  if (!e || e->kind != k) badHandle(kindName(k), name);
  return e->object;
}

// ---- recycling of small result tensors ----

static constexpr size_t kPoolSize = 64;
static constexpr int64_t kPoolMaxNumel = 256;

// The dispatch keys of a fresh dense CPU tensor: equal keys also mean a CPU,
// strided (not sparse, not mkldnn), non-inference tensor that is neither
// conjugate nor negative.
static c10::DispatchKeySet plainCpuKeys() {
  static const c10::DispatchKeySet keys = at::empty({0}).key_set();
  return keys;
}

void Registry::recycle(at::Tensor&& t) {
  if (pool_.size() >= kPoolSize || !t.defined()) return;
  c10::TensorImpl* impl = t.unsafeGetTensorImpl();
  int64_t n = impl->numel();
  if (n > kPoolMaxNumel || n == 0 || impl->key_set() != plainCpuKeys() ||
      t.use_count() != 1 || t.weak_use_count() != 1 || impl->autograd_meta() || !impl->has_storage() ||
      impl->storage_offset() != 0 || !impl->is_contiguous())
    return;
  const c10::Storage& st = impl->storage();
  if (st.use_count() != 1 || !st.resizable() || st.nbytes() != size_t(n) * impl->itemsize()) return;
  pool_.push_back(std::move(t));
}

at::Tensor Registry::recycled(at::ScalarType dtype, at::IntArrayRef sizes) {
  for (size_t i = pool_.size(); i-- > 0;) {
    at::Tensor& t = pool_[i];
    if (t.scalar_type() == dtype && t.sizes() == sizes) {
      at::Tensor out = std::move(t);
      pool_[i] = std::move(pool_.back());
      pool_.pop_back();
      return out;
    }
  }
  return at::Tensor();
}

void Registry::erase(uint32_t slot) {
  Slot& s = slotAt(slot);
  Entry dead = std::move(s.e);  // destroyed last, after the bookkeeping; s.e is left empty
  if (dead.kind == Kind::Tensor) recycle(std::move(dead.tensor));
  --live_[size_t(keyKind(s.key))];
  tableDel(s.key);
  s.key = 0;
  s.e.kept = false;
  freeSlots_.push_back(slot);
}

bool Registry::free(const std::string& name) {
  uint64_t key;
  uint32_t slot;
  if (!parseName(name.data(), name.size(), &key) || !lookup(key, &slot)) return false;
  erase(slot);
  return true;
}

bool Registry::free(Tcl_Obj* name) {
  Entry* e = find(name);
  if (!e) return false;
  erase(uint32_t(uintptr_t(name->internalRep.twoPtrValue.ptr2)));  // find() left the slot cached
  return true;
}

void Registry::keep(const std::string& name) {
  if (Entry* e = find(name.data(), name.size())) e->kept = true;
}

void Registry::freeAll() {
  scopes_.clear();
  pool_.clear();
  std::vector<std::unique_ptr<Slot[]>> dead;
  dead.swap(chunks_);
  nSlots_ = 0;
  freeSlots_.clear();
  table_.clear();
  tableUsed_ = 0;
  for (auto& n : live_) n = 0;
  // `dead` releases the objects here, with the registry already consistent.
}

Registry::~Registry() { freeAll(); }

void Registry::pushScope() {
  // Reuse a finished scope's buffer: no allocation per scope in a loop.
  scopes_.emplace_back();
  if (!spare_.empty()) {
    scopes_.back().swap(spare_.back());
    spare_.pop_back();
  }
}

// Appends the keys of the handle names found in `o` (see popScope).
static void collectNames(Tcl_Obj* o, std::vector<uint64_t>& out) {
  static const Tcl_ObjType* const kList = Tcl_GetObjType("list");
  static const Tcl_ObjType* const kDict = Tcl_GetObjType("dict");
  static const Tcl_ObjType* const kInt = Tcl_GetObjType("int");
  static const Tcl_ObjType* const kDouble = Tcl_GetObjType("double");
  static const Tcl_ObjType* const kBytes = Tcl_GetObjType("bytearray");
  const Tcl_ObjType* t = o->typePtr;
  if (t == &kHandleType) {
    out.push_back(uint64_t(uintptr_t(o->internalRep.twoPtrValue.ptr1)));
    return;
  }
  if (t && (t == kInt || t == kDouble || t == kBytes)) return;
  if (t && !o->bytes && t == kList) {
    Tcl_Size n;
    Tcl_Obj** elems;
    Tcl_ListObjGetElements(nullptr, o, &n, &elems);
    for (int i = 0; i < n; ++i) collectNames(elems[i], out);
    return;
  }
  if (t && !o->bytes && t == kDict) {
    Tcl_DictSearch search;
    Tcl_Obj *k, *v;
    int done;
    Tcl_DictObjFirst(nullptr, o, &search, &k, &v, &done);
    for (; !done; Tcl_DictObjNext(&search, &k, &v, &done)) {
      collectNames(k, out);
      collectNames(v, out);
    }
    Tcl_DictObjDone(&search);
    return;
  }
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  for (int i = 0; i < len;) {
    while (i < len && !isalnum((unsigned char)s[i])) ++i;
    int j = i;
    while (j < len && isalnum((unsigned char)s[j])) ++j;
    uint64_t key;
    if (j > i && parseName(s + i, size_t(j - i), &key)) out.push_back(key);
    i = j;
  }
}

void Registry::popScope(Tcl_Obj* result) {
  std::vector<ScopeItem> mine = std::move(scopes_.back());
  scopes_.pop_back();
  // Handle names in the result survive, wherever they sit in nested lists or
  // dicts. Values without a string are walked by structure (a big list of
  // numbers is never turned into text); any other value is scanned as text.
  std::vector<uint64_t> survivors;
  if (result && !mine.empty()) {
    collectNames(result, survivors);
    std::sort(survivors.begin(), survivors.end());
  }
  // Newest first: the allocator gets its most recent blocks back first.
  for (auto p = mine.rbegin(); p != mine.rend(); ++p) {
    const ScopeItem& it = *p;
    Slot& s = slotAt(it.slot);
    if (s.key != it.key || s.e.kept) continue;  // already freed, or kept
    if (!survivors.empty() && std::binary_search(survivors.begin(), survivors.end(), it.key)) {
      if (!scopes_.empty()) scopes_.back().push_back(it);
      continue;
    }
    erase(it.slot);
  }
  mine.clear();
  if (spare_.size() < 8) spare_.push_back(std::move(mine));
}

size_t Registry::tensorBytes() const {
  std::unordered_set<const void*> seen;
  size_t total = 0;
  for (uint32_t i = 0; i < nSlots_; ++i) {
    const Slot& s = slotAt(i);
    if (!s.key) continue;
    const at::Tensor& t = s.e.tensor;
    if (!t.defined() || !t.has_storage()) continue;
    const void* impl = t.storage().unsafeGetStorageImpl();
    if (seen.insert(impl).second) total += t.storage().nbytes();
  }
  return total;
}

State::~State() {
  reg.freeAll();
  ext.clear();
}

static const char* kAssocKey = "tcltorch";

static void deleteState(ClientData cd, Tcl_Interp*) { delete static_cast<State*>(cd); }

State& state(Tcl_Interp* interp) {
  auto* st = static_cast<State*>(Tcl_GetAssocData(interp, kAssocKey, nullptr));
  if (!st) {
    st = new State(interp);
    Tcl_SetAssocData(interp, kAssocKey, deleteState, st);
  }
  return *st;
}

std::string torchMessage(const std::exception& e) {
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) {
    std::string m = ce->what_without_backtrace();
    // libtorch appends "Exception raised from ..." context on its own line.
    auto pos = m.find("\nException raised from");
    if (pos != std::string::npos) m.resize(pos);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
  }
  return e.what();
}

}  // namespace tcltorch
