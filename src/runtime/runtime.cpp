#include "tcltorch/runtime.h"
#include "tcltorch/args.h"
#include <c10/util/Exception.h>

namespace tcltorch {

void fail(const std::string& msg, std::vector<std::string> code) {
  throw Error(msg, std::move(code));
}

const char* kindName(Kind k) {
  static const char* names[] = {"tensor", "module", "optimizer", "work", "scheduler", "shard"};
  return names[size_t(k)];
}

std::string Registry::insert(Kind k, Entry e) {
  std::string name = kindName(k) + std::to_string(++next_[size_t(k)]);
  map_.emplace(name, std::move(e));
  ++live_[size_t(k)];
  if (!scopes_.empty()) scopes_.back().push_back(name);
  return name;
}

std::string Registry::add(at::Tensor t) {
  Entry e{Kind::Tensor, std::move(t), nullptr};
  return insert(Kind::Tensor, std::move(e));
}

std::string Registry::add(Kind k, std::shared_ptr<Object> o) {
  Entry e{k, at::Tensor(), std::move(o)};
  return insert(k, std::move(e));
}

Entry* Registry::find(const char* name, size_t len) {
  key_.assign(name, len);
  auto it = map_.find(key_);
  return it == map_.end() ? nullptr : &it->second;
}

Entry* Registry::find(Tcl_Obj* name) {
  int len;
  const char* s = Tcl_GetStringFromObj(name, &len);
  return find(s, size_t(len));
}

const at::Tensor& Registry::tensor(Tcl_Obj* name) {
  Entry* e = find(name);
  if (!e || e->kind != Kind::Tensor) {
    const char* s = Tcl_GetString(name);
    fail(std::string("Invalid tensor handle \"") + s + "\"", {"HANDLE", s});
  }
  return e->tensor;
}

std::shared_ptr<Object> Registry::object(Kind k, Tcl_Obj* name) {
  Entry* e = find(name);
  if (!e || e->kind != k) {
    const char* s = Tcl_GetString(name);
    fail(std::string("Invalid ") + kindName(k) + " handle \"" + s + "\"", {"HANDLE", s});
  }
  return e->object;
}

bool Registry::free(const std::string& name) {
  auto it = map_.find(name);
  if (it == map_.end()) return false;
  --live_[size_t(it->second.kind)];
  map_.erase(it);
  return true;
}

void Registry::keep(const std::string& name) {
  auto it = map_.find(name);
  if (it != map_.end()) it->second.kept = true;
}

void Registry::freeAll() {
  scopes_.clear();
  map_.clear();
  for (auto& n : live_) n = 0;
}

void Registry::pushScope() { scopes_.emplace_back(); }

void Registry::popScope(Tcl_Obj* result) {
  std::vector<std::string> mine = std::move(scopes_.back());
  scopes_.pop_back();
  // Handle names in the result survive, wherever they sit in nested lists or
  // dicts: split the result text on characters that cannot be in a name.
  std::unordered_set<std::string> survivors;
  if (result && !mine.empty()) {
    int len;
    const char* s = Tcl_GetStringFromObj(result, &len);
    for (int i = 0; i < len;) {
      while (i < len && !isalnum((unsigned char)s[i])) ++i;
      int j = i;
      while (j < len && isalnum((unsigned char)s[j])) ++j;
      if (j > i) survivors.emplace(s + i, size_t(j - i));
      i = j;
    }
  }
  for (auto& name : mine) {
    auto it = map_.find(name);
    if (it == map_.end()) continue;
    if (it->second.kept) continue;
    if (survivors.count(name)) {
      if (!scopes_.empty()) scopes_.back().push_back(name);
      continue;
    }
    --live_[size_t(it->second.kind)];
    map_.erase(it);
  }
}

size_t Registry::tensorBytes() const {
  std::unordered_set<const void*> seen;
  size_t total = 0;
  for (auto& kv : map_) {
    const at::Tensor& t = kv.second.tensor;
    if (!t.defined() || !t.has_storage()) continue;
    const void* impl = t.storage().unsafeGetStorageImpl();
    if (seen.insert(impl).second) total += t.storage().nbytes();
  }
  return total;
}

State::~State() {
  reg.freeAll();
  ext.clear();
  for (auto* b : bindings) delete b;
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
