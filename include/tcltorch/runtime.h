// Runtime layer: per-interpreter state, the handle registry, scopes, errors.
#pragma once
#include <tcl.h>
#include <ATen/ATen.h>
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

enum class Kind : uint8_t { Tensor, Module, Optimizer, Work, Scheduler, Shard, Count };
const char* kindName(Kind k);

// Base of every non-tensor object a handle can own.
struct Object {
  virtual ~Object() = default;
};

struct Entry {
  Kind kind;
  at::Tensor tensor;               // Kind::Tensor
  std::shared_ptr<Object> object;  // every other kind
  bool kept = false;               // torch::keep: survives enclosing scopes
};

class Registry {
 public:
  std::string add(at::Tensor t);
  std::string add(Kind k, std::shared_ptr<Object> o);
  // nullptr when the name is unknown or freed.
  Entry* find(const char* name, size_t len);
  Entry* find(Tcl_Obj* name);
  const at::Tensor& tensor(Tcl_Obj* name);  // throws Invalid tensor handle
  std::shared_ptr<Object> object(Kind k, Tcl_Obj* name);  // throws Invalid <kind> handle
  template <class T>
  std::shared_ptr<T> get(Kind k, Tcl_Obj* name) {
    return std::static_pointer_cast<T>(object(k, name));
  }
  bool free(const std::string& name);
  void keep(const std::string& name);
  void freeAll();

  // Scopes: handles created while a scope is open belong to it.
  void pushScope();
  // Frees the scope's handles except kept ones and those named in `result`,
  // which move to the enclosing scope.
  void popScope(Tcl_Obj* result);
  size_t scopeDepth() const { return scopes_.size(); }

  size_t count(Kind k) const { return live_[size_t(k)]; }
  size_t tensorBytes() const;  // bytes of distinct storages held by tensor handles

 private:
  std::string insert(Kind k, Entry e);
  std::unordered_map<std::string, Entry> map_;
  uint64_t next_[size_t(Kind::Count)] = {};
  size_t live_[size_t(Kind::Count)] = {};
  std::vector<std::vector<std::string>> scopes_;
  std::string key_;  // reused lookup buffer: no allocation per lookup
};

struct CommandInfo;

// Everything one interpreter owns; deleted with the interpreter (AssocData).
struct State {
  Tcl_Interp* interp;
  Registry reg;
  // Per-layer extensions (e.g. the collective module) keyed by name, freed with the state.
  std::unordered_map<std::string, std::shared_ptr<void>> ext;
  std::vector<std::pair<State*, const CommandInfo*>*> bindings;
  explicit State(Tcl_Interp* i) : interp(i) {}
  ~State();
};
State& state(Tcl_Interp* interp);

// Version differences between libtorch 1.13 and 2.x live in compat.h; this is
// the message of a libtorch exception without its C++ backtrace.
std::string torchMessage(const std::exception& e);

}  // namespace tcltorch
