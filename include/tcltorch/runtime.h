// Runtime layer: per-interpreter state, the handle registry, scopes, errors.
#pragma once
#include "tcltorch/compat.h"  // tcl.h and Tcl_Size
#include <ATen/ATen.h>
#include <deque>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tcltorch {

// Thrown by handlers; the one dispatch wrapper turns it into a Tcl error whose
// -errorcode is {TORCH code...}.
struct Error : std::runtime_error {
  std::vector<std::string> code;
  Error(const std::string& msg, std::vector<std::string> c)
      : std::runtime_error(msg), code(std::move(c)) {}
};
[[noreturn]] void fail(const std::string& msg, std::vector<std::string> code);

// Thrown by handlers that ran a script and must hand its return code (error,
// break, continue, return) back to Tcl unchanged; the interp result is left as is.
struct ScriptCode {
  int code;
};

enum class Kind : uint8_t { Tensor, Module, Optimizer, Work, Scheduler, Shard, Writer, Loader, Mesh, Count };
const char* kindName(Kind k);
// The one refusal of a word that is no live handle of the kind wanted:
// `Invalid WHAT handle "NAME"`, errorcode {TORCH HANDLE NAME}.
[[noreturn]] void badHandle(const char* what, Tcl_Obj* name);

// Base of every non-tensor object a handle can own.
struct Object {
  virtual ~Object() = default;
  // The prefix of this object's handle names ("linear" for linear3, "gru",
  // "step_scheduler"), as the other API names its handles; "" : the kind's
  // name (module3). Read once, when the handle is made.
  virtual std::string handlePrefix() const { return ""; }
};

struct Entry {
  Kind kind;
  at::Tensor tensor;               // Kind::Tensor
  std::shared_ptr<Object> object;  // every other kind
  bool kept = false;               // torch::keep: survives enclosing scopes
};

// Handle names are "<prefix><id>": the prefix is the kind's name (tensor3,
// optimizer2) or the object's own (linear4, gru1, step_scheduler5; see
// Object::handlePrefix), the id a per-kind counter that never repeats, so a
// stale name can never reach a newer object. Lookups avoid string hashing: a
// name maps to a 64-bit key (kind, prefix, id), and name Tcl_Objs cache (key,
// slot) in their internal rep, validated against the slot on every use.
class Registry {
 public:
  std::string add(at::Tensor t);
  std::string add(Kind k, std::shared_ptr<Object> o);
  // Same, returning the name as a new Tcl_Obj (refcount 0) that resolves without
  // parsing; its string is generated only when someone asks for it.
  Tcl_Obj* addObj(at::Tensor t);
  Tcl_Obj* addObj(Kind k, std::shared_ptr<Object> o);
  // nullptr when the name is unknown or freed. Entry pointers stay valid until
  // that handle is freed.
  Entry* find(const char* name, size_t len);
  Entry* find(Tcl_Obj* name);
  const at::Tensor& tensor(Tcl_Obj* name);  // throws Invalid tensor handle
  std::shared_ptr<Object> object(Kind k, Tcl_Obj* name);  // throws Invalid <kind> handle
  template <class T>
  std::shared_ptr<T> get(Kind k, Tcl_Obj* name) {
    return std::static_pointer_cast<T>(object(k, name));
  }
  bool free(const std::string& name);
  bool free(Tcl_Obj* name);
  void keep(const std::string& name);
  void freeAll();

  // Scopes: handles created while a scope is open belong to it.
  void pushScope();
  // Frees the scope's handles except kept ones and those named in `result`,
  // which move to the enclosing scope.
  void popScope(Tcl_Obj* result);
  size_t scopeDepth() const { return scopes_.size(); }

  // A small CPU tensor of this dtype and shape whose last reference went with a
  // freed handle, for an op to write into (out= form) instead of allocating;
  // undefined when there is none. Only tensors nothing else can see are kept:
  // sole owner of TensorImpl and storage, no autograd state, plain layout.
  at::Tensor recycled(at::ScalarType dtype, at::IntArrayRef sizes);

  size_t count(Kind k) const { return live_[size_t(k)]; }
  size_t tensorBytes() const;  // bytes of distinct storages held by tensor handles

  ~Registry();

 private:
  struct Slot {
    Entry e;
    uint64_t key = 0;  // 0: free
  };
  struct ScopeItem {
    uint64_t key;
    uint32_t slot;
  };
  uint64_t insert(Kind k, Entry&& e, uint32_t* slot, uint32_t prefix = 0);
  Tcl_Obj* nameObj(uint64_t key, uint32_t slot);
  Entry* lookup(uint64_t key, uint32_t* slot);
  void erase(uint32_t slot);
  // open addressing key -> slot (linear probing, backward-shift deletion)
  void tablePut(uint64_t key, uint32_t slot);
  void tableDel(uint64_t key);
  bool tableGet(uint64_t key, uint32_t* slot) const;

  // Slots in fixed chunks: Entry references survive growth, and finding slot
  // i is a shift and a mask (a deque's index costs a division).
  static constexpr uint32_t kChunkBits = 8;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  uint32_t nSlots_ = 0;
  Slot& slotAt(uint32_t i) { return chunks_[i >> kChunkBits][i & ((1u << kChunkBits) - 1)]; }
  const Slot& slotAt(uint32_t i) const { return chunks_[i >> kChunkBits][i & ((1u << kChunkBits) - 1)]; }
  std::vector<uint32_t> freeSlots_;
  std::vector<std::pair<uint64_t, uint32_t>> table_;
  size_t tableUsed_ = 0;
  uint64_t next_[size_t(Kind::Count)] = {};
  size_t live_[size_t(Kind::Count)] = {};
  std::vector<std::vector<ScopeItem>> scopes_;
  std::vector<std::vector<ScopeItem>> spare_;  // finished scopes' buffers, reused
  std::vector<at::Tensor> pool_;  // see recycled()
  void recycle(at::Tensor&& t);
};

// True when `o` is a handle name made by this package (never a number or an option).
extern const Tcl_ObjType kHandleObjType;
inline bool isHandleObj(Tcl_Obj* o) { return o->typePtr == &kHandleObjType; }

// Everything one interpreter owns; deleted with the interpreter (AssocData).
struct State {
  Tcl_Interp* interp;
  Registry reg;
  // Per-layer extensions (the parser's command bindings, the collective
  // module, ...) keyed by name, freed with the state.
  std::unordered_map<std::string, std::shared_ptr<void>> ext;
  explicit State(Tcl_Interp* i) : interp(i) {}
  ~State();
};
State& state(Tcl_Interp* interp);

// Version differences between libtorch 1.13 and 2.x live in compat.h; this is
// the message of a libtorch exception without its C++ backtrace.
std::string torchMessage(const std::exception& e);

}  // namespace tcltorch
