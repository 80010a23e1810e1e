// The parser's types (args.h): their names, descriptions and ranges; how a
// word is classified (option, value, "--"); one converter per type, which
// turns a word into a typed Value before any handler runs; and the parsing
// helpers that handlers share.
#include "convert.h"
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
    case Type::Mesh: return "mesh";
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
    case Type::NamedChoices: return "name choice pairs";
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
  if (std::isinf(hi)) return (p.lo_open ? " > " : " >= ") + num(lo);
  if (std::isinf(lo)) return (p.hi_open ? " < " : " <= ") + num(hi);
  return std::string(" in ") + (p.lo_open ? "(" : "[") + num(lo) + ", " + num(hi) + (p.hi_open ? ")" : "]");
}

std::string choiceWords(const Param& p, const char* first) {
  std::vector<std::string> w;
  if (first) w.push_back(first);
  for (auto& c : p.choices.items) w.push_back(c.name);
  return orList(w);
}

std::string describe(const Param& p) {
  if (p.must) return p.must;
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
    case Type::Choice: return choiceWords(p);
    case Type::NumberOrChoice: return choiceWords(p, "a number");
    case Type::IntLists: return "an integer or a list of integer lists";
    case Type::NamedChoices: return "a list of names, each followed by " + choiceWords(p);
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

// A word is an option only if it is a declared spelling: "-1", "-Inf", "-nan",
// "-1e3" are values; "--" ends the options; any other "-letter..." word that is
// not a number is an unknown option.
int classify(const CommandInfo& info, Tcl_Obj* o) {
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

static bool inRange(const Param& p, double v) {
  return (p.lo_open ? v > effLo(p) : v >= effLo(p)) && (p.hi_open ? v < effHi(p) : v <= effHi(p));
}
// NaN is a number only where no range is declared.
static bool unbounded(const Param& p) { return std::isinf(effLo(p)) && std::isinf(effHi(p)); }

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

// The choice of p spelled s, or nullptr.
static const Choice* findChoice(const Param& p, const char* s) {
  for (auto& c : p.choices.items)
    if (!strcmp(s, c.name)) return &c;
  return nullptr;
}

static bool listOf(Tcl_Obj* o, Tcl_Size* n, Tcl_Obj*** elems) {
  return Tcl_ListObjGetElements(nullptr, o, n, elems) == TCL_OK;
}


// Converts `o` for parameter `p` into `v`. Returns false when the word has the
// wrong form (the caller reports it, or tries another parameter of a by-type
// run); handle lookups throw their own "Invalid ... handle" errors. `st` is
// null for default literals, which are never handles.
bool convert(State* st, const Param& p, Tcl_Obj* o, Value& v) {
  Tcl_Size n;
  Tcl_Obj** elems;
  switch (p.type) {
    case Type::Int: case Type::PosInt: case Type::NonNegInt:
      if (!intWord(p, o, &v.i)) return false;
      v.d = double(v.i);
      v.s = at::Scalar(v.i);
      return true;
    case Type::Double: case Type::Probability: {
      if (!parseNumber(o, &v.d) || !(std::isnan(v.d) ? unbounded(p) : inRange(p, v.d))) return false;
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
      return true;  // Call::str reads the word
    case Type::RankOrAll:
      if (!strcmp(Tcl_GetString(o), "all")) {
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
      if (p.type == Type::ReduceOp) {
        for (auto& w : kReduceOps)
          if (!strcmp(s, w.name)) {
            v.i = int(w.op);
            return true;
          }
        return false;
      }
      const Choice* c = findChoice(p, s);
      if (c) v.i = c->value;
      return c != nullptr;
    }
    case Type::Dtype:
      return dtypeFromName(Tcl_GetString(o), &v.dtype);
    case Type::Device: {
      if (!deviceWord(Tcl_GetString(o))) return false;
      c10::Device d = parseDevice(Tcl_GetString(o), p.name);  // CUDA availability: its own error
      v.devType = d.type();
      v.devIndex = d.index();
      return true;
    }
    case Type::IntList: {
      if (!listOf(o, &n, &elems) || (p.non_empty && n == 0)) return false;
      auto& ints = v.lists().ints;
      ints.resize(size_t(n));
      for (int k = 0; k < n; ++k)
        if (!intWord(p, elems[k], &ints[size_t(k)])) return false;
      return true;
    }
    case Type::DoubleList: {
      if (!listOf(o, &n, &elems) || (p.non_empty && n == 0)) return false;
      auto& dbls = v.lists().dbls;
      dbls.resize(size_t(n));
      for (int k = 0; k < n; ++k)
        if (!parseNumber(elems[k], &dbls[size_t(k)]) || !inRange(p, dbls[size_t(k)])) return false;
      return true;
    }
    case Type::IntLists: {
      if (!listOf(o, &n, &elems) || (p.non_empty && n == 0)) return false;
      auto& lists = v.lists().lists;
      lists.resize(size_t(n));
      for (int k = 0; k < n; ++k) {
        Tcl_Size m;
        Tcl_Obj** inner;
        if (!listOf(elems[k], &m, &inner)) return false;
        for (int j = 0; j < m; ++j) {
          int64_t x;
          if (!intWord(p, inner[j], &x)) return false;
          lists[size_t(k)].push_back(x);
        }
      }
      return true;
    }
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
    case Type::TensorList: {
      auto& ts = v.lists().ts;
      if (isHandleObj(o)) {
        ts.push_back(st->reg.tensor(o));
        return true;
      }
      if (!listOf(o, &n, &elems)) return false;
      ts.reserve(size_t(n));
      for (int k = 0; k < n; ++k) ts.push_back(st->reg.tensor(elems[k]));
      return true;
    }
    case Type::TensorsOrModule: {
      if (!listOf(o, &n, &elems)) return false;
      if (n == 1) {
        Entry* e = st->reg.find(elems[0]);
        if (e && e->kind == Kind::Module) {
          v.o = e->object;
          return true;
        }
      }
      auto& ts = v.lists().ts;
      ts.reserve(size_t(n));
      for (int k = 0; k < n; ++k) {
        Entry* e = st->reg.find(elems[k]);
        if (!e || e->kind != Kind::Tensor) badHandle("tensor or module", elems[k]);
        ts.push_back(e->tensor);
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
    case Type::Mesh: v.o = st->reg.object(Kind::Mesh, o); return true;
    case Type::ModuleList:
      if (!listOf(o, &n, &elems)) return false;
      for (int k = 0; k < n; ++k) v.lists().objs.push_back(st->reg.object(Kind::Module, elems[k]));
      return true;
    case Type::Handles: case Type::CommandWords:
      return isHandleObj(o) || listOf(o, &n, &elems);
    case Type::Words:
      return listOf(o, &n, &elems);  // Call::words reads them only where a handler asks
    case Type::NamedChoices: {
      if (!listOf(o, &n, &elems) || n % 2) return false;
      auto& pairs = v.lists().pairs;
      for (int k = 0; k < n; k += 2) {
        const Choice* c = findChoice(p, Tcl_GetString(elems[k + 1]));
        if (!c) return false;
        pairs.emplace_back(Tcl_GetString(elems[k]), c->value);
      }
      return true;
    }
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


// "" or "none": no tensor, for an optional tensor parameter.
bool noneWord(Tcl_Obj* o) {
  if (isHandleObj(o)) return false;
  Tcl_Size len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  return len == 0 || (len == 4 && !strcmp(s, "none"));
}
// ---- shared parsing helpers ----

at::ScalarType parseDtype(const std::string& s, const char* param) {
  at::ScalarType t;
  if (!dtypeFromName(s.c_str(), &t)) {
    std::string v = s.size() > 200 ? s.substr(0, 200) + "..." : s;
    fail(std::string("bad ") + param + " \"" + v + "\": must be " + kDtypeWords, {"ARGS", "VALUE", param, v});
  }
  return t;
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

}  // namespace tcltorch
