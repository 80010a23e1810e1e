// The dual-syntax parser: every word is converted to its parameter's declared
// type (in the spirit of Tcl_ParseArgsObjv) before the handler runs; the typed
// accessors; and the dispatch wrapper, the one boundary where C++ exceptions
// become Tcl errors.
#include "tcltorch/args.h"
#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <cmath>
#include <cstring>
#include <sstream>
#include <strings.h>

namespace tcltorch {

const char* const kOptional = "\x01optional";

const char* typeName(Type t) {
  switch (t) {
    case Type::Tensor: return "tensor";
    case Type::TensorOrNumber: return "tensor or number";
    case Type::OptTensor: return "tensor or none";
    case Type::TensorList: return "tensor list";
    case Type::TensorsOrModule: return "tensor list or module";
    case Type::TensorOrShard: return "tensor or shard";
    case Type::Module: return "module";
    case Type::Optimizer: return "optimizer";
    case Type::Work: return "work";
    case Type::Scheduler: return "scheduler";
    case Type::Shard: return "shard";
    case Type::Writer: return "writer";
    case Type::Loader: return "loader";
    case Type::ModuleList: return "module list";
    case Type::Handles: return "handle list";
    case Type::Int: return "int";
    case Type::Double: return "double";
    case Type::Bool: return "bool";
    case Type::String: return "string";
    case Type::PosInt: return "int >= 1";
    case Type::NonNegInt: return "int >= 0";
    case Type::Probability: return "double in [0, 1]";
    case Type::RankOrAll: return "rank or all";
    case Type::Dtype: return "dtype";
    case Type::Device: return "device";
    case Type::ReduceOp: return "op";
    case Type::Choice: return "choice";
    case Type::IntList: return "int list";
    case Type::DoubleList: return "double list";
    case Type::IntLists: return "int lists";
    case Type::NumberOrChoice: return "number or choice";
    case Type::Data: return "number or nested list";
    case Type::Bytes: return "byte array";
    case Type::Path: return "file path";
    case Type::Script: return "script";
    case Type::CommandWords: return "command";
    case Type::Words: return "words";
  }
  return "value";
}

ChoiceSpec::ChoiceSpec(const char* spaceSeparated) {
  if (!spaceSeparated) return;
  // The words must outlive the table: keep one copy per distinct spec string.
  static std::vector<std::unique_ptr<std::string>> words;
  std::istringstream in(spaceSeparated);
  std::string w;
  for (int i = 0; in >> w; ++i) {
    words.push_back(std::make_unique<std::string>(w));
    items.push_back({words.back()->c_str(), i});
  }
}

// ---- the type table: names, defaults ranges, descriptions ----

static const std::pair<const char*, at::ScalarType> kDtypes[] = {
    {"float32", at::kFloat},  {"float64", at::kDouble},  {"float16", at::kHalf},
    {"bfloat16", at::kBFloat16}, {"int8", at::kChar},    {"int16", at::kShort},
    {"int32", at::kInt},      {"int64", at::kLong},      {"uint8", at::kByte},
    {"bool", at::kBool},
    // other spellings (the other Tcl API's and PyTorch's), accepted but never printed
    {"float", at::kFloat},    {"double", at::kDouble},   {"half", at::kHalf},
    {"int", at::kInt},        {"long", at::kLong},       {"short", at::kShort},
    {"byte", at::kByte},      {"char", at::kChar},
};
static const char* const kDtypeWords = "float32, float64, float16, bfloat16, int8, int16, int32, int64, uint8, or bool";

static const Choice kReduceOps[] = {{"sum", int(ReduceOp::Sum)}, {"mean", int(ReduceOp::Mean)},
                                    {"max", int(ReduceOp::Max)}, {"min", int(ReduceOp::Min)},
                                    {"product", int(ReduceOp::Product)}};

static double effLo(const Param& p) {
  if (!std::isnan(p.lo)) return p.lo;
  switch (p.type) {
    case Type::PosInt: return 1;
    case Type::NonNegInt: case Type::Probability: return 0;
    default: return -HUGE_VAL;
  }
}
static double effHi(const Param& p) {
  if (!std::isnan(p.hi)) return p.hi;
  return p.type == Type::Probability ? 1 : HUGE_VAL;
}

static std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

// Tcl's own enumeration style: "a, b, or c".
static std::string orList(const std::vector<std::string>& w) {
  std::string s;
  for (size_t i = 0; i < w.size(); ++i)
    s += (i ? (i + 1 == w.size() ? (w.size() > 2 ? ", or " : " or ") : ", ") : "") + w[i];
  return s;
}

std::string rangeText(const Param& p) {
  double lo = effLo(p), hi = effHi(p);
  if (std::isinf(lo) && std::isinf(hi)) return "";
  if (std::isinf(hi)) return " >= " + num(lo);
  if (std::isinf(lo)) return " <= " + num(hi);
  return " in [" + num(lo) + ", " + num(hi) + "]";
}

std::string describe(const Param& p) {
  switch (p.type) {
    case Type::Int: case Type::PosInt: case Type::NonNegInt: return "an integer" + rangeText(p);
    case Type::Double: case Type::Probability: return "a number" + rangeText(p);
    case Type::Bool: return "a boolean";
    case Type::RankOrAll: return "a rank >= 0 or all";
    case Type::Dtype: return kDtypeWords;
    case Type::Device: return "cpu, cuda, or cuda:N";
    case Type::ReduceOp: {
      std::vector<std::string> w;
      for (auto& c : kReduceOps) w.push_back(c.name);
      return orList(w);
    }
    case Type::Choice: case Type::NumberOrChoice: {
      std::vector<std::string> w;
      if (p.type == Type::NumberOrChoice) w.push_back("a number");
      for (auto& c : p.choices.items) w.push_back(c.name);
      return orList(w);
    }
    case Type::IntLists: return "an integer or a list of integer lists";
    case Type::IntList: return "a list of integers" + rangeText(p);
    case Type::DoubleList: return "a list of numbers" + rangeText(p);
    case Type::TensorOrNumber: return "a tensor handle or a number";
    case Type::OptTensor: return "a tensor handle or none";
    case Type::TensorList: return "a list of tensor handles";
    case Type::TensorsOrModule: return "a module handle or a list of tensor handles";
    case Type::ModuleList: return "a list of module handles";
    case Type::Handles: case Type::CommandWords: case Type::Words: return "a list";
    case Type::Data: return "a number or a (nested) list of numbers";
    default: return std::string("a ") + typeName(p.type);
  }
}

std::string camelCase(const std::string& snake) {
  std::string out;
  bool up = false;
  for (char c : snake) {
    if (c == '_') { up = !out.empty(); continue; }
    out += up ? char(toupper((unsigned char)c)) : c;
    up = false;
  }
  return out;
}

int CommandInfo::lookup(const char* s) const {
  for (auto& sp : spellings)
    if (sp.first == s) return sp.second;
  return -1;
}

// ---- words ----

// Tcl's object types, looked up once (Tcl_GetObjType takes a lock).
namespace {
struct ObjTypes {
  const Tcl_ObjType *list, *integer, *dbl, *bytes, *dict;
};
}  // namespace
static const ObjTypes& objTypes() {
  static const ObjTypes t{Tcl_GetObjType("list"), Tcl_GetObjType("int"), Tcl_GetObjType("double"),
                          Tcl_GetObjType("bytearray"), Tcl_GetObjType("dict")};
  return t;
}

// Object types whose string form is never an option word, and whose string
// must not be made just to look (a data list of a million numbers).
static bool neverOption(Tcl_Obj* o) {
  const ObjTypes& k = objTypes();
  const Tcl_ObjType* t = o->typePtr;
  if (!t) return false;
  if (t == &kHandleObjType || t == k.integer || t == k.dbl || t == k.bytes || t == k.dict) return true;
  if (t == k.list) {
    Tcl_Size n;
    Tcl_ListObjLength(nullptr, o, &n);
    return n != 1;
  }
  return false;
}

bool parseNumber(Tcl_Obj* o, double* d) {
  const ObjTypes& k = objTypes();
  const Tcl_ObjType* t = o->typePtr;
  if (t && t != k.integer && t != k.dbl && neverOption(o)) return false;
  if (Tcl_GetDoubleFromObj(nullptr, o, d) == TCL_OK) return true;
  // Tcl refuses NaN as a double, but tensor_to_list writes it.
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  if (len && (*s == '-' || *s == '+')) ++s, --len;
  if (len == 3 && strncasecmp(s, "nan", 3) == 0) {
    *d = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return false;
}

enum : int { kValue = -1, kUnknownOption = -2, kEndOfOptions = -3 };

// A word is an option only if it is a declared spelling: "-1", "-Inf", "-nan",
// "-1e3" are values; "--" ends the options; any other "-letter..." word that is
// not a number is an unknown option.
static int classify(const CommandInfo& info, Tcl_Obj* o) {
  if (neverOption(o)) return kValue;
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  if (len < 2 || s[0] != '-') return kValue;
  if (len == 2 && s[1] == '-') return kEndOfOptions;
  int idx = info.lookup(s + 1);
  if (idx >= 0) return idx;
  double d;
  if (!isalpha((unsigned char)s[1]) || parseNumber(o, &d)) return kValue;
  return kUnknownOption;
}

// ---- converters: one per type ----

static bool inRange(const Param& p, double v) { return v >= effLo(p) && v <= effHi(p); }

static bool lookupDtype(const char* s, at::ScalarType* out) {
  if (strncasecmp(s, "torch.", 6) == 0) s += 6;
  for (auto& d : kDtypes)
    if (strcasecmp(s, d.first) == 0) {
      *out = d.second;
      return true;
    }
  return false;
}

static bool deviceWord(const char* s) {
  if (!strcmp(s, "cpu") || !strcmp(s, "cuda")) return true;
  if (strncmp(s, "cuda:", 5) || !s[5]) return false;
  for (const char* p = s + 5; *p; ++p)
    if (!isdigit((unsigned char)*p)) return false;
  return true;
}

static bool intWord(const Param& p, Tcl_Obj* o, int64_t* out) {
  Tcl_WideInt w;
  if (Tcl_GetWideIntFromObj(nullptr, o, &w) != TCL_OK || !inRange(p, double(w))) return false;
  *out = w;
  return true;
}

static bool listOf(Tcl_Obj* o, Tcl_Size* n, Tcl_Obj*** elems) {
  return Tcl_ListObjGetElements(nullptr, o, n, elems) == TCL_OK;
}

[[noreturn]] static void badHandle(const char* what, Tcl_Obj* o) {
  const char* s = Tcl_GetString(o);
  fail(std::string("Invalid ") + what + " handle \"" + s + "\"", {"HANDLE", s});
}

// Converts `o` for parameter `p` into `v`. Returns false when the word has the
// wrong form (the caller reports it, or tries another parameter of a by-type
// run); handle lookups throw their own "Invalid ... handle" errors. `st` is
// null for default literals, which are never handles.
static bool convert(State* st, const Param& p, Tcl_Obj* o, Value& v) {
  Tcl_Size n;
  Tcl_Obj** elems;
  switch (p.type) {
    case Type::Int: case Type::PosInt: case Type::NonNegInt:
      if (!intWord(p, o, &v.i)) return false;
      v.d = double(v.i);
      v.s = at::Scalar(v.i);
      return true;
    case Type::Double: case Type::Probability: {
      if (!parseNumber(o, &v.d) || !(std::isnan(v.d) ? p.type == Type::Double : inRange(p, v.d))) return false;
      Tcl_WideInt w;  // an integer word stays integral as a Scalar (arange's dtype)
      v.s = Tcl_GetWideIntFromObj(nullptr, o, &w) == TCL_OK ? at::Scalar(int64_t(w)) : at::Scalar(v.d);
      return true;
    }
    case Type::Bool: {
      int b;
      if (Tcl_GetBooleanFromObj(nullptr, o, &b) != TCL_OK) return false;
      v.i = b != 0;
      return true;
    }
    case Type::String: case Type::Path:
      v.str = Tcl_GetString(o);
      return true;
    case Type::RankOrAll:
      v.str = Tcl_GetString(o);
      if (v.str == "all") {
        v.i = -1;
        return true;
      }
      return intWord(Param{p.name, Type::NonNegInt, nullptr, ""}, o, &v.i);
    case Type::NumberOrChoice:
      if (parseNumber(o, &v.d)) {
        v.s = at::Scalar(v.d);
        return v.numeric = true;
      }
      [[fallthrough]];
    case Type::Choice: case Type::ReduceOp: {
      const char* s = Tcl_GetString(o);
      auto match = [&](const Choice* b, const Choice* e) {
        for (; b != e; ++b)
          if (!strcmp(s, b->name)) {
            v.i = b->value;
            v.str = s;
            return true;
          }
        return false;
      };
      if (p.type == Type::ReduceOp) return match(std::begin(kReduceOps), std::end(kReduceOps));
      return match(p.choices.items.data(), p.choices.items.data() + p.choices.items.size());
    }
    case Type::Dtype:
      if (!lookupDtype(Tcl_GetString(o), &v.dtype)) return false;
      v.str = Tcl_GetString(o);
      return true;
    case Type::Device:
      if (!deviceWord(Tcl_GetString(o))) return false;
      v.dev = parseDevice(Tcl_GetString(o), p.name);  // CUDA availability: its own error
      v.str = Tcl_GetString(o);
      return true;
    case Type::IntList:
      if (!listOf(o, &n, &elems)) return false;
      v.ints.resize(size_t(n));
      for (int k = 0; k < n; ++k)
        if (!intWord(p, elems[k], &v.ints[size_t(k)])) return false;
      return true;
    case Type::DoubleList:
      if (!listOf(o, &n, &elems)) return false;
      v.dbls.resize(size_t(n));
      for (int k = 0; k < n; ++k)
        if (!parseNumber(elems[k], &v.dbls[size_t(k)]) || !inRange(p, v.dbls[size_t(k)])) return false;
      return true;
    case Type::IntLists:
      if (!listOf(o, &n, &elems)) return false;
      v.lists.resize(size_t(n));
      for (int k = 0; k < n; ++k) {
        Tcl_Size m;
        Tcl_Obj** inner;
        if (!listOf(elems[k], &m, &inner)) return false;
        for (int j = 0; j < m; ++j) {
          int64_t x;
          if (!intWord(p, inner[j], &x)) return false;
          v.lists[size_t(k)].push_back(x);
        }
      }
      return true;
    case Type::Tensor:
      v.t = &st->reg.tensor(o);
      return true;
    case Type::OptTensor:
      v.t = &st->reg.tensor(o);  // "none" and "" never get here (see assign)
      return true;
    case Type::TensorOrNumber: {
      if (!isHandleObj(o)) {
        Tcl_WideInt w;
        if (Tcl_GetWideIntFromObj(nullptr, o, &w) == TCL_OK) {
          v.s = at::Scalar(int64_t(w));
          v.d = double(w);
          return v.numeric = true;
        }
        if (parseNumber(o, &v.d)) {
          v.s = at::Scalar(v.d);
          return v.numeric = true;
        }
      }
      v.t = &st->reg.tensor(o);
      return true;
    }
    case Type::TensorList:
      if (isHandleObj(o)) {
        v.ts.push_back(st->reg.tensor(o));
        return true;
      }
      if (!listOf(o, &n, &elems)) return false;
      v.ts.reserve(size_t(n));
      for (int k = 0; k < n; ++k) v.ts.push_back(st->reg.tensor(elems[k]));
      return true;
    case Type::TensorsOrModule: {
      if (!listOf(o, &n, &elems)) return false;
      if (n == 1) {
        Entry* e = st->reg.find(elems[0]);
        if (e && e->kind == Kind::Module) {
          v.o = e->object;
          return true;
        }
      }
      v.ts.reserve(size_t(n));
      for (int k = 0; k < n; ++k) {
        Entry* e = st->reg.find(elems[k]);
        if (!e || e->kind != Kind::Tensor) badHandle("tensor or module", elems[k]);
        v.ts.push_back(e->tensor);
      }
      return true;
    }
    case Type::TensorOrShard: {
      Entry* e = st->reg.find(o);
      if (e && e->kind == Kind::Tensor) v.t = &e->tensor;
      else if (e && e->kind == Kind::Shard) v.o = e->object;
      else badHandle("tensor or shard", o);
      return true;
    }
    case Type::Module: v.o = st->reg.object(Kind::Module, o); return true;
    case Type::Optimizer: v.o = st->reg.object(Kind::Optimizer, o); return true;
    case Type::Work: v.o = st->reg.object(Kind::Work, o); return true;
    case Type::Scheduler: v.o = st->reg.object(Kind::Scheduler, o); return true;
    case Type::Shard: v.o = st->reg.object(Kind::Shard, o); return true;
    case Type::Writer: v.o = st->reg.object(Kind::Writer, o); return true;
    case Type::Loader: v.o = st->reg.object(Kind::Loader, o); return true;
    case Type::ModuleList:
      if (!listOf(o, &n, &elems)) return false;
      for (int k = 0; k < n; ++k) v.objs.push_back(st->reg.object(Kind::Module, elems[k]));
      return true;
    case Type::Handles: case Type::CommandWords:
      return isHandleObj(o) || listOf(o, &n, &elems);
    case Type::Words:
      return listOf(o, &n, &elems);
    case Type::Data: case Type::Bytes: case Type::Script:
      return true;
  }
  return false;
}

[[noreturn]] void badValueError(const char* name, Tcl_Obj* value, const std::string& what) {
  std::string s = value ? Tcl_GetString(value) : "";
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  fail(std::string("bad ") + name + " \"" + s + "\": must be " + what, {"ARGS", "VALUE", name, s});
}

// ---- the parser ----

static bool noneWord(Tcl_Obj* o) {
  if (isHandleObj(o)) return false;
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  return len == 0 || (len == 4 && !strcmp(s, "none"));
}

// Pass 2: converts the word given for parameter k.
void Call::assign(int k, Tcl_Obj* word) {
  const Param& p = param(k);
  if (p.type == Type::OptTensor && noneWord(word)) {
    resetOwn(k);
    v_[k] = nullptr;  // "no tensor", even where the row has a default
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
    defaults_[k] = nullptr;
    words[k] = nullptr;
    v_[k] = info.defaults[size_t(k)] ? &*info.defaults[size_t(k)] : nullptr;
  }
  bool given[kMaxParams] = {};
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
        if (given[idx] && !words[idx]) resetOwn(idx);  // a by-type match, now named
        words[idx] = objv[++i];
        given[idx] = true;
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
      int hit = -1;
      for (int k = pos; k < end && hit < 0; ++k) {
        if (given[k]) continue;
        Value probe;
        if (convert(&st, param(k), w, probe)) {
          emplaceOwn(k, std::move(probe)).obj = w;
          v_[k] = &own(k);
          hit = k;
        }
      }
      if (hit >= 0) {
        given[hit] = true;
        bool full = true;
        for (int k = pos; k < end; ++k) full = full && given[k];
        if (full) pos = end;
        goto next;
      }
      // The word ends the run only if the parameter after the run takes it;
      // otherwise it is reported against the run's first free member.
      {
        Value probe;
        bool after = end < n && !param(end).named_only && !param(end).by_type &&
                     (param(end).type == Type::OptTensor || convert(&st, param(end), w, probe));
        if (!after)
          for (int k = pos; k < end; ++k)
            if (!given[k]) badValueError(param(k).name, w, describe(param(k)));
      }
      pos = end;
    }
    if (param(pos).type == Type::Words) {  // takes this word and every later one
      if (!rest_) {
        rest_ = Tcl_NewListObj(0, nullptr);
        Tcl_IncrRefCount(rest_);
      }
      Tcl_ListObjAppendElement(nullptr, rest_, w);
      words[pos] = rest_;
      given[pos] = true;
      continue;
    }
    words[pos] = w;
    given[pos++] = true;
  next:;
  }
  for (int k = 0; k < n; ++k)
    if (!param(k).def && !given[k])
      fail(std::string("Required parameter missing: -") + param(k).name, {"ARGS", "MISSING", param(k).name});
  for (int k = 0; k < n; ++k)
    if (words[k]) assign(k, words[k]);
}

Call::~Call() {
  if (rest_) Tcl_DecrRefCount(rest_);
  for (size_t k = 0; k < info.cmd->params.size(); ++k) {
    if (defaults_[k]) Tcl_DecrRefCount(defaults_[k]);
    resetOwn(int(k));
  }
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

int Call::index(const char* name) const {
  auto& ps = info.cmd->params;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i].name == name || (ps[i].name[0] == name[0] && std::strcmp(ps[i].name, name) == 0)) return int(i);
  throw std::logic_error(std::string("internal: command ") + info.cmd->name + " has no parameter " + name);
}

const Value& Call::get(const char* name) const {
  int i = index(name);
  if (!v_[i]) throw std::logic_error(std::string("internal: parameter ") + name + " is unset");
  return *v_[i];
}

bool Call::declares(const char* name) const {
  for (auto& p : info.cmd->params)
    if (std::strcmp(p.name, name) == 0) return true;
  return false;
}

bool Call::given(const char* name) const {
  int i = index(name);
  return ownPtr(i) && v_[i] == ownPtr(i);
}

bool Call::has(const char* name) const { return v_[index(name)] != nullptr; }

Tcl_Obj* Call::obj(const char* name) {
  int i = index(name);
  if (!v_[i]) return nullptr;
  if (v_[i]->obj) return v_[i]->obj;
  if (!defaults_[i]) {
    defaults_[i] = Tcl_NewStringObj(param(i).def, -1);
    Tcl_IncrRefCount(defaults_[i]);
  }
  return defaults_[i];
}

double Call::number(const char* name) {
  const Value& v = get(name);
  return v.t ? v.t->item<double>() : v.d;
}

std::string Call::str(const char* name) {
  const Value& v = get(name);
  if (!v.obj || !v.str.empty()) return v.str;
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(v.obj, &len);
  return std::string(s, size_t(len));
}

void Call::badValue(const char* name, const std::string& what) {
  badValueError(name, obj(name), what);
}

Tcl_Obj* Call::result(const at::Tensor& t) { return st.reg.addObj(t); }
Tcl_Obj* Call::result(at::Tensor&& t) { return st.reg.addObj(std::move(t)); }
Tcl_Obj* Call::result(Kind k, std::shared_ptr<Object> o) { return st.reg.addObj(k, std::move(o)); }

Tcl_Obj* Call::results(const std::vector<at::Tensor>& ts) {
  Tcl_Obj* list = Tcl_NewListObj(0, nullptr);
  for (auto& t : ts) Tcl_ListObjAppendElement(nullptr, list, result(t));
  return list;
}

// ---- shared parsing helpers ----

at::ScalarType parseDtype(const std::string& s, const char* param) {
  at::ScalarType t;
  if (!lookupDtype(s.c_str(), &t)) {
    std::string v = s.size() > 200 ? s.substr(0, 200) + "..." : s;
    fail(std::string("bad ") + param + " \"" + v + "\": must be " + kDtypeWords, {"ARGS", "VALUE", param, v});
  }
  return t;
}

const char* dtypeName(at::ScalarType t) {
  for (auto& d : kDtypes)
    if (d.second == t) return d.first;
  return c10::toString(t);
}

c10::Device parseDevice(const std::string& s, const char* param) {
  if (s == "cpu") return c10::Device(c10::kCPU);
  if (deviceWord(s.c_str())) {
    if (!torch::cuda::is_available())
      fail("CUDA is not available: this libtorch has no CUDA or no GPU is visible (device \"" + s + "\")",
           {"DEVICE", "CUDA"});
    c10::Device d(s);
    if (d.has_index() && d.index() >= int(torch::cuda::device_count()))
      fail("CUDA device " + std::to_string(d.index()) + " does not exist", {"DEVICE", "CUDA"});
    return d;
  }
  fail(std::string("bad ") + param + " \"" + s + "\": must be cpu, cuda, or cuda:N", {"ARGS", "VALUE", param, s});
}

Tcl_Obj* newList(const std::vector<int64_t>& v) {
  std::vector<Tcl_Obj*> objs(v.size());
  for (size_t i = 0; i < v.size(); ++i) objs[i] = Tcl_NewWideIntObj(v[i]);
  return Tcl_NewListObj(int(objs.size()), objs.data());
}

Tcl_Obj* newString(const std::string& s) { return Tcl_NewStringObj(s.data(), int(s.size())); }

// ---- registration and the exception boundary ----

static void setError(Tcl_Interp* interp, const std::string& msg, const std::vector<std::string>& code) {
  Tcl_SetObjResult(interp, newString(msg));
  Tcl_Obj* ec = Tcl_NewListObj(0, nullptr);
  Tcl_ListObjAppendElement(nullptr, ec, Tcl_NewStringObj("TORCH", -1));
  for (auto& c : code) Tcl_ListObjAppendElement(nullptr, ec, newString(c));
  Tcl_SetObjErrorCode(interp, ec);
}

static int dispatch(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  auto* b = static_cast<std::pair<State*, const CommandInfo*>*>(cd);
  try {
    Call call(*b->first, *b->second, objc, objv);
    Tcl_Obj* r = b->second->cmd->handler(call);
    if (r) Tcl_SetObjResult(interp, r);
    else Tcl_ResetResult(interp);
    return TCL_OK;
  } catch (const ScriptCode& sc) {
    return sc.code;
  } catch (const Error& e) {
    setError(interp, e.what(), e.code);
  } catch (const c10::Error& e) {
    setError(interp, torchMessage(e), {"LIBTORCH"});
  } catch (const std::bad_alloc&) {
    setError(interp, "out of memory", {"MEMORY"});
  } catch (const std::exception& e) {
    // Some libtorch checks throw plain std:: exceptions (e.g. reshape's shape
    // check); only our own "internal:" logic errors are not libtorch's.
    bool internal = std::strncmp(e.what(), "internal:", 9) == 0;
    setError(interp, torchMessage(e), {internal ? "ERROR" : "LIBTORCH"});
  } catch (...) {
    setError(interp, "unknown C++ exception", {"ERROR"});
  }
  return TCL_ERROR;
}

static std::vector<std::string> words(const char* s) {
  std::vector<std::string> out;
  if (!s) return out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Table invariants are checked once at load: a broken row is a bug, reported
// as such instead of misparsing later.
static CommandInfo makeInfo(const Command& c) {
  auto bug = [&](const std::string& what) { throw std::logic_error("internal: command " + std::string(c.name) + ": " + what); };
  if (c.params.size() > size_t(kMaxParams)) bug("too many parameters");
  CommandInfo info{&c, camelCase(c.name), {}, std::string("torch::") + c.name, {}, {}};
  for (auto& a : words(c.aliases)) {
    for (const std::string& n : {a, camelCase(a)})
      if (n != c.name && n != info.camel &&
          std::find(info.aliases.begin(), info.aliases.end(), n) == info.aliases.end())
        info.aliases.push_back(n);
  }
  for (size_t i = 0; i < c.params.size(); ++i) {
    const Param& p = c.params[i];
    bool req = !p.def;
    if (p.named_only)
      info.usage += std::string(" ?-") + p.name + " " + typeName(p.type) + "?";
    else if (p.type == Type::Words)
      info.usage += std::string(" ?") + p.name + " ...?";
    else
      info.usage += std::string(" ") + (req ? "" : "?") + p.name + (req ? "" : "?");
    std::vector<std::string> sp{p.name};
    std::string camel = camelCase(p.name);
    if (camel != p.name) sp.push_back(camel);
    for (auto& a : words(p.aliases)) sp.push_back(a);
    for (auto& s : sp) {
      int prev = info.lookup(s.c_str());
      if (prev == int(i)) continue;  // an alias that equals the derived camelCase
      if (prev >= 0) bug("spelling -" + s + " names two parameters");
      info.spellings.emplace_back(s, int(i));
    }
    if ((p.type == Type::Choice || p.type == Type::NumberOrChoice) == p.choices.empty())
      bug(std::string("choices of -") + p.name);
    if (p.by_type && req) bug(std::string("-") + p.name + " is by-type but required");
    if (p.type == Type::Words && i + 1 != c.params.size()) bug(std::string("-") + p.name + " is not the last parameter");
    std::optional<Value> dv;
    if (p.def && p.def != kOptional) {
      Tcl_Obj* o = Tcl_NewStringObj(p.def, -1);
      Tcl_IncrRefCount(o);
      dv.emplace();
      bool ok = p.type == Type::OptTensor ? noneWord(o) : convert(nullptr, p, o, *dv);
      if (p.type == Type::OptTensor) dv.reset();
      Tcl_DecrRefCount(o);
      if (!ok) bug(std::string("default of -") + p.name + " is not " + describe(p));
      if (dv) dv->str = p.def;
    }
    info.defaults.push_back(std::move(dv));
  }
  return info;
}

const std::vector<CommandInfo>& allCommandInfos() {
  static const std::vector<CommandInfo> infos = [] {
    std::vector<CommandInfo> out;
    for (auto& c : allCommands()) out.push_back(makeInfo(c));
    return out;
  }();
  return infos;
}

static bool unsafeCommand(const Command& c) {
  if (c.unsafe) return true;
  for (auto& p : c.params)
    if (p.type == Type::Path) return true;
  return false;
}

void registerCommands(Tcl_Interp* interp, State& st, bool safe) {
  for (auto& info : allCommandInfos()) {
    if (safe && unsafeCommand(*info.cmd)) continue;
    auto* b = new std::pair<State*, const CommandInfo*>(&st, &info);
    st.bindings.push_back(b);
    std::vector<std::string> names{info.cmd->name};
    if (info.camel != info.cmd->name) names.push_back(info.camel);
    names.insert(names.end(), info.aliases.begin(), info.aliases.end());
    for (auto& nm : names) Tcl_CreateObjCommand(interp, ("::torch::" + nm).c_str(), dispatch, b, nullptr);
  }
}

}  // namespace tcltorch
