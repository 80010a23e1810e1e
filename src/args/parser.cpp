// The two-pass parser (in the spirit of Tcl_ParseArgsObjv): pass 1 sorts the
// words into parameters (named, positional, by type); pass 2 converts each one
// (types.cpp) before the handler runs. Then Call's typed accessors.
#include "convert.h"
#include <cstring>

namespace tcltorch {
// ---- the parser ----

// Pass 2: converts the word given for parameter k.
void Call::assign(int k, Tcl_Obj* word) {
  const Param& p = param(k);
  if (p.type == Type::OptTensor && noneWord(word)) {
    resetOwn(k);
    v_[k] = nullptr;  // "no tensor", even where the row has a default
    return;
  }
  if (p.empty_is_default && !isHandleObj(word) && !*Tcl_GetString(word)) {
    resetOwn(k);
    v_[k] = info.defaults[size_t(k)] ? &*info.defaults[size_t(k)] : nullptr;  // a placeholder: the default
    return;
  }
  Value& v = emplaceOwn(k);
  v.obj = word;
  if (!convert(&st, p, word, v)) badValueError(p.name, word, describe(p));
  v_[k] = &v;
}

// Pass 1 places every word (positional, by-type run, or -name value) and checks
// the structure: unknown options, missing values, counts, required parameters.
// Pass 2 converts, in parameter order, before the handler runs.
Call::Call(State& s, const CommandInfo& inf, int objc, Tcl_Obj* const objv[])
    : st(s), interp(s.interp), info(inf) {
  const int n = int(info.cmd->params.size());
  Tcl_Obj* words[kMaxParams];
  for (int k = 0; k < n; ++k) {
    words[k] = nullptr;
    v_[k] = info.defaults[size_t(k)] ? &*info.defaults[size_t(k)] : nullptr;
  }
  uint32_t given = 0;  // bit k: parameter k has a word
  bool endOpts = false, named = false;
  int pos = 0;
  for (int i = 1; i < objc; ++i) {
    Tcl_Obj* w = objv[i];
    if (!endOpts) {
      int idx = classify(info, w);
      if (idx == kEndOfOptions) {
        endOpts = true;
        continue;
      }
      if (idx == kUnknownOption) {
        const char* sp = Tcl_GetString(w);
        std::string valid;
        for (auto& p : info.cmd->params) valid += (valid.empty() ? "-" : ", -") + std::string(p.name);
        fail(std::string("Unknown parameter: ") + sp + ". Valid parameters: " + valid, {"ARGS", "UNKNOWN", sp + 1});
      }
      if (idx >= 0) {
        if (i + 1 >= objc)
          fail(std::string("Missing value for parameter ") + Tcl_GetString(w), {"ARGS", "MISSING", param(idx).name});
        if ((given >> idx & 1) && !words[idx]) resetOwn(idx);  // a by-type match, now named
        words[idx] = objv[++i];
        given |= 1u << idx;
        named = true;
        continue;
      }
      if (named)  // positional words come first
        fail(std::string("Unknown parameter: ") + Tcl_GetString(w) + ". Usage: " + info.usage,
             {"ARGS", "UNKNOWN", Tcl_GetString(w)});
    }
    // A positional word. In a by-type run it goes to the first unfilled member
    // whose type takes it (converted now, to know); a word no member takes ends the run.
    for (;;) {
      if (pos >= n || param(pos).named_only)
        fail("Wrong number of arguments for positional syntax. Usage: " + info.usage, {"ARGS", "COUNT"});
      if (!param(pos).by_type) break;
      int end = pos;
      while (end < n && param(end).by_type) ++end;
      // Whether the parameter after the run takes the word (asked once, lazily).
      int afterTakes = -1;
      auto after = [&] {
        if (afterTakes < 0) {
          Value probe;
          afterTakes = end < n && !param(end).named_only && !param(end).by_type &&
                       (param(end).type == Type::OptTensor || convert(&st, param(end), w, probe));
        }
        return afterTakes == 1;
      };
      int hit = -1;
      for (int k = pos; k < end && hit < 0; ++k) {
        if (given >> k & 1) continue;
        // Their positional order breaks a tie: a member that comes before one
        // already given leaves a word that the parameter after the run also
        // takes to that parameter (tensor_create $d float32 cpu 0: requires_grad,
        // not shape {0}).
        bool laterGiven = (given & ((1u << end) - 1)) >> (k + 1);
        if (laterGiven && after()) continue;
        Value probe;
        if (convert(&st, param(k), w, probe)) {
          emplaceOwn(k, std::move(probe)).obj = w;
          v_[k] = &own(k);
          hit = k;
        }
      }
      if (hit >= 0) {
        given |= 1u << hit;
        uint32_t run = ((1u << end) - 1) & ~((1u << pos) - 1);
        if ((given & run) == run) pos = end;
        goto next;
      }
      // The word ends the run only if the parameter after the run takes it;
      // otherwise it is reported against the run's first free member.
      if (!after())
        for (int k = pos; k < end; ++k)
          if (!(given >> k & 1)) badValueError(param(k).name, w, describe(param(k)));
      pos = end;
    }
    if (param(pos).type == Type::Words || param(pos).variadic) {  // takes this word and every later one
      if (!rest_) {
        rest_ = Tcl_NewListObj(0, nullptr);
        Tcl_IncrRefCount(rest_);
      }
      Tcl_ListObjAppendElement(nullptr, rest_, w);
      words[pos] = rest_;
      given |= 1u << pos;
      continue;
    }
    words[pos] = w;
    given |= 1u << pos++;
  next:;
  }
  if (uint32_t missing = info.required & ~given) {
    const char* name = param(__builtin_ctz(missing)).name;
    fail(std::string("Required parameter missing: -") + name, {"ARGS", "MISSING", name});
  }
  for (int k = 0; k < n; ++k) {
    if (!words[k]) continue;
    Tcl_Size len;
    Tcl_Obj* one;
    if (words[k] == rest_ && param(k).variadic && Tcl_ListObjLength(nullptr, rest_, &len) == TCL_OK && len == 1 &&
        Tcl_ListObjIndex(nullptr, rest_, 0, &one) == TCL_OK)
      words[k] = one;  // one word: the value itself
    assign(k, words[k]);
  }
}

Call::~Call() {
  if (rest_) Tcl_DecrRefCount(rest_);
  for (uint32_t m = defaultsMask_; m; m &= m - 1) Tcl_DecrRefCount(defaults_[__builtin_ctz(m)]);
  for (uint32_t m = ownMask_; m; m &= m - 1) own(__builtin_ctz(m)).~Value();
}

Value& Call::emplaceOwn(int k) {
  resetOwn(k);
  Value* p = new (own_[k]) Value();
  ownMask_ |= 1u << k;
  return *p;
}

Value& Call::emplaceOwn(int k, Value&& v) {
  resetOwn(k);
  Value* p = new (own_[k]) Value(std::move(v));
  ownMask_ |= 1u << k;
  return *p;
}

void Call::resetOwn(int k) {
  if (!(ownMask_ >> k & 1)) return;
  own(k).~Value();
  ownMask_ &= ~(1u << k);
}

int Call::indexByName(const char* name) const {
  auto& ps = info.cmd->params;
  for (size_t i = 0; i < ps.size(); ++i)
    if (std::strcmp(ps[i].name, name) == 0) return int(i);
  throw std::logic_error(std::string("internal: command ") + info.cmd->name + " has no parameter " + name);
}

void Call::unset(int i) const {
  throw std::logic_error(std::string("internal: parameter ") + param(i).name + " is unset");
}

Tcl_Obj* Call::objAt(int i) {
  if (!v_[i]) return nullptr;
  if (v_[i]->obj) return v_[i]->obj;
  if (!(defaultsMask_ >> i & 1)) {
    defaults_[i] = Tcl_NewStringObj(param(i).def, -1);
    Tcl_IncrRefCount(defaults_[i]);
    defaultsMask_ |= 1u << i;
  }
  return defaults_[i];
}

double Call::numberOf(const Value& v) { return v.t ? v.t->item<double>() : v.d; }

std::string Call::strOf(const Value& v) {
  if (!v.obj) return v.literal ? v.literal : "";
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(v.obj, &len);
  return std::string(s, size_t(len));
}

std::vector<std::string> Call::wordsOf(Tcl_Obj* o) {
  std::vector<std::string> r;
  Tcl_Size n = 0;
  Tcl_Obj** elems = nullptr;
  if (o && Tcl_ListObjGetElements(nullptr, o, &n, &elems) == TCL_OK)  // the parser checked it is a list
    for (Tcl_Size k = 0; k < n; ++k) r.emplace_back(Tcl_GetString(elems[k]));
  return r;
}

Tcl_Obj* Call::result(const at::Tensor& t) { return st.reg.addObj(t); }
Tcl_Obj* Call::result(at::Tensor&& t) { return st.reg.addObj(std::move(t)); }
Tcl_Obj* Call::result(Kind k, std::shared_ptr<Object> o) { return st.reg.addObj(k, std::move(o)); }

Tcl_Obj* Call::results(const std::vector<at::Tensor>& ts) {
  Tcl_Obj* list = Tcl_NewListObj(0, nullptr);
  for (auto& t : ts) Tcl_ListObjAppendElement(nullptr, list, result(t));
  return list;
}

}  // namespace tcltorch
