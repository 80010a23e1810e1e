// The dual-syntax parser, typed accessors and the dispatch wrapper: the one
// boundary where C++ exceptions become Tcl errors.
#include "tcltorch/args.h"
#include <c10/util/Exception.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace tcltorch {

const char* const kOptional = "\x01optional";

const char* typeName(Type t) {
  switch (t) {
    case Type::Tensor: return "tensor";
    case Type::TensorOrNumber: return "tensor|number";
    case Type::TensorList: return "tensor list";
    case Type::Module: return "module";
    case Type::Optimizer: return "optimizer";
    case Type::Work: return "work";
    case Type::Scheduler: return "scheduler";
    case Type::Shard: return "shard";
    case Type::Int: return "int";
    case Type::Double: return "double";
    case Type::Bool: return "bool";
    case Type::String: return "string";
    case Type::Dtype: return "dtype";
    case Type::Device: return "device";
    case Type::ReduceOp: return "op";
    case Type::Choice: return "choice";
    case Type::IntList: return "int list";
    case Type::DoubleList: return "double list";
    case Type::Script: return "script";
    case Type::Any: return "value";
  }
  return "value";
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

// "-x..." with a letter after the dash starts the named part; "-1" is a value.
static inline bool isOption(Tcl_Obj* o) {
  if (isHandleObj(o)) return false;  // no need to make its string
  int len;
  const char* s = Tcl_GetStringFromObj(o, &len);
  return len >= 2 && s[0] == '-' && isalpha((unsigned char)s[1]);
}

static std::string validList(const CommandInfo& info) {
  std::string out;
  for (auto& p : info.cmd->params) {
    if (!out.empty()) out += ", ";
    out += std::string("-") + p.name;
  }
  return out;
}

Call::Call(State& s, const CommandInfo& inf, int objc, Tcl_Obj* const objv[])
    : st(s), interp(s.interp), info(inf) {
  const int n = int(info.cmd->params.size());
  for (int k = 0; k < n; ++k) vals_[k] = defaults_[k] = nullptr;
  int i = 1, pos = 0;
  for (; i < objc && !isOption(objv[i]); ++i) {
    if (pos >= n || param(pos).named_only)
      fail("Wrong number of arguments for positional syntax. Usage: " + info.usage,
           {"ARGS", "COUNT"});
    vals_[pos++] = objv[i];
  }
  for (; i < objc; i += 2) {
    const char* s = Tcl_GetString(objv[i]);
    int idx = s[0] == '-' ? info.lookup(s + 1) : -1;
    if (idx < 0)
      fail(std::string("Unknown parameter: ") + s + ". Valid parameters: " + validList(info),
           {"ARGS", "UNKNOWN", s[0] == '-' ? s + 1 : s});
    if (i + 1 >= objc)
      fail(std::string("Missing value for parameter ") + s, {"ARGS", "VALUE", param(idx).name});
    vals_[idx] = objv[i + 1];
  }
  for (int k = 0; k < n; ++k)
    if (!vals_[k] && !param(k).def)
      fail(std::string("Required parameter missing: -") + param(k).name,
           {"ARGS", "MISSING", param(k).name});
}

Call::~Call() {
  for (size_t k = 0; k < info.cmd->params.size(); ++k)
    if (defaults_[k]) Tcl_DecrRefCount(defaults_[k]);
}

int Call::index(const char* name) const {
  auto& ps = info.cmd->params;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i].name == name || (ps[i].name[0] == name[0] && std::strcmp(ps[i].name, name) == 0)) return int(i);
  throw std::logic_error(std::string("internal: command ") + info.cmd->name +
                         " has no parameter " + name);
}

bool Call::declares(const char* name) const {
  for (auto& p : info.cmd->params)
    if (std::strcmp(p.name, name) == 0) return true;
  return false;
}

bool Call::given(const char* name) const { return vals_[index(name)] != nullptr; }

bool Call::has(const char* name) const {
  int i = index(name);
  return vals_[i] || (param(i).def && param(i).def != kOptional);
}

Tcl_Obj* Call::obj(const char* name) {
  int i = index(name);
  if (vals_[i]) return vals_[i];
  const char* d = param(i).def;
  if (!d || d == kOptional) return nullptr;
  if (!defaults_[i]) {
    defaults_[i] = Tcl_NewStringObj(d, -1);
    Tcl_IncrRefCount(defaults_[i]);
  }
  return defaults_[i];
}

void Call::badValue(const char* name, const std::string& what) {
  fail(std::string("Invalid -") + name + " parameter. Must be " + what + ".",
       {"ARGS", "TYPE", name});
}

// Numeric defaults are read from the table's literal: no Tcl_Obj per call.
const char* Call::defaultLiteral(const char* name, int* idx) const {
  int i = index(name);
  *idx = i;
  if (vals_[i]) return nullptr;
  const char* d = param(i).def;
  return d && d != kOptional ? d : nullptr;
}

static bool literalInt(const char* s, int64_t* out) {
  char* end;
  errno = 0;
  long long v = strtoll(s, &end, 0);
  if (end == s || *end || errno) return false;
  *out = v;
  return true;
}

// Accessors: a missing optional value is a bug in the handler, not user input.
static Tcl_Obj* need(Call& c, const char* name) {
  Tcl_Obj* o = c.obj(name);
  if (!o) throw std::logic_error(std::string("internal: parameter ") + name + " is unset");
  return o;
}

at::Tensor Call::tensor(const char* name) { return st.reg.tensor(need(*this, name)); }
const at::Tensor& Call::tensorRef(const char* name) { return st.reg.tensor(need(*this, name)); }

std::vector<at::Tensor> Call::tensors(const char* name) {
  Tcl_Obj* o = need(*this, name);
  int n;
  Tcl_Obj** elems;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) badValue(name, "a list of tensor handles");
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) out.push_back(st.reg.tensor(elems[i]));
  return out;
}

bool Call::isNumber(const char* name) {
  int i;
  if (defaultLiteral(name, &i)) return true;  // defaults of such params are numbers
  Tcl_Obj* o = need(*this, name);
  if (isHandleObj(o)) return false;
  double d;
  return Tcl_GetDoubleFromObj(nullptr, o, &d) == TCL_OK;
}

at::Scalar Call::scalar(const char* name) {
  int i;
  if (const char* d = defaultLiteral(name, &i)) {
    int64_t v;
    if (literalInt(d, &v)) return at::Scalar(v);
    return at::Scalar(strtod(d, nullptr));
  }
  Tcl_Obj* o = need(*this, name);
  Tcl_WideInt w;
  if (Tcl_GetWideIntFromObj(nullptr, o, &w) == TCL_OK) return at::Scalar(int64_t(w));
  double d;
  if (Tcl_GetDoubleFromObj(nullptr, o, &d) == TCL_OK) return at::Scalar(d);
  badValue(name, "a number");
}

std::shared_ptr<Object> Call::objectRaw(const char* name) {
  int i = index(name);
  Kind k;
  switch (param(i).type) {
    case Type::Module: k = Kind::Module; break;
    case Type::Optimizer: k = Kind::Optimizer; break;
    case Type::Work: k = Kind::Work; break;
    case Type::Scheduler: k = Kind::Scheduler; break;
    case Type::Shard: k = Kind::Shard; break;
    default: throw std::logic_error(std::string("internal: ") + name + " is not a handle");
  }
  return st.reg.object(k, need(*this, name));
}

int64_t Call::integer(const char* name) {
  int i;
  int64_t v;
  if (const char* d = defaultLiteral(name, &i); d && literalInt(d, &v)) return v;
  Tcl_WideInt w;
  if (Tcl_GetWideIntFromObj(nullptr, need(*this, name), &w) != TCL_OK) badValue(name, "an integer");
  return int64_t(w);
}

double Call::number(const char* name) {
  int i;
  if (const char* lit = defaultLiteral(name, &i)) {
    char* end;
    double v = strtod(lit, &end);
    if (end != lit && !*end) return v;
  }
  double d;
  if (Tcl_GetDoubleFromObj(nullptr, need(*this, name), &d) != TCL_OK) badValue(name, "a number");
  return d;
}

bool Call::boolean(const char* name) {
  int i;
  if (const char* d = defaultLiteral(name, &i)) {
    if (!strcmp(d, "0") || !strcmp(d, "false")) return false;
    if (!strcmp(d, "1") || !strcmp(d, "true")) return true;
  }
  int b;
  if (Tcl_GetBooleanFromObj(nullptr, need(*this, name), &b) != TCL_OK) badValue(name, "a boolean");
  return b != 0;
}

std::string Call::str(const char* name) {
  int i;
  if (const char* d = defaultLiteral(name, &i)) return d;
  int len;
  const char* s = Tcl_GetStringFromObj(need(*this, name), &len);
  return std::string(s, size_t(len));
}

at::ScalarType Call::dtype(const char* name) { return parseDtype(str(name), name); }

c10::Device Call::device(const char* name) { return parseDevice(str(name), name); }

ReduceOp Call::op(const char* name) {
  static const char* names[] = {"sum", "mean", "max", "min", "product"};
  std::string s = str(name);
  for (int i = 0; i < 5; ++i)
    if (s == names[i]) return ReduceOp(i);
  fail("invalid operation \"" + s + "\". Valid operations: sum, mean, max, min, product",
       {"ARGS", "OP", s});
}

int Call::choice(const char* name) {
  std::string s = str(name);
  std::istringstream in(param(index(name)).choices);
  std::string c, all;
  for (int i = 0; in >> c; ++i) {
    if (c == s) return i;
    all += (all.empty() ? "" : ", ") + c;
  }
  badValue(name, "one of: " + all);
}

std::vector<int64_t> Call::ints(const char* name) {
  Tcl_Obj* o = need(*this, name);
  int n;
  Tcl_Obj** elems;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) badValue(name, "a list of integers");
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Tcl_WideInt w;
    if (Tcl_GetWideIntFromObj(nullptr, elems[i], &w) != TCL_OK) badValue(name, "a list of integers");
    out[size_t(i)] = w;
  }
  return out;
}

std::vector<double> Call::doubles(const char* name) {
  Tcl_Obj* o = need(*this, name);
  int n;
  Tcl_Obj** elems;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &elems) != TCL_OK) badValue(name, "a list of numbers");
  std::vector<double> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    if (Tcl_GetDoubleFromObj(nullptr, elems[i], &out[size_t(i)]) != TCL_OK)
      badValue(name, "a list of numbers");
  return out;
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

static const std::pair<const char*, at::ScalarType> kDtypes[] = {
    {"float32", at::kFloat},  {"float64", at::kDouble},  {"float16", at::kHalf},
    {"bfloat16", at::kBFloat16}, {"int8", at::kChar},    {"int16", at::kShort},
    {"int32", at::kInt},      {"int64", at::kLong},      {"uint8", at::kByte},
    {"bool", at::kBool},
    // common aliases, accepted but never printed
    {"float", at::kFloat},    {"double", at::kDouble},   {"half", at::kHalf},
    {"int", at::kInt},        {"long", at::kLong},
};

at::ScalarType parseDtype(const std::string& s, const char* param) {
  for (auto& d : kDtypes)
    if (s == d.first) return d.second;
  fail(std::string("Invalid -") + param + " parameter. Must be one of: float32, float64, "
       "float16, bfloat16, int8, int16, int32, int64, uint8, bool.", {"ARGS", "TYPE", param});
}

const char* dtypeName(at::ScalarType t) {
  for (auto& d : kDtypes)
    if (d.second == t) return d.first;
  return c10::toString(t);
}

c10::Device parseDevice(const std::string& s, const char* param) {
  if (s == "cpu") return c10::Device(c10::kCPU);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      fail("CUDA is not available: this libtorch has no CUDA or no GPU is visible (device \"" + s + "\")",
           {"DEVICE", "CUDA"});
    try {
      c10::Device d(s);
      if (d.has_index() && d.index() >= int(torch::cuda::device_count()))
        fail("CUDA device " + std::to_string(d.index()) + " does not exist", {"DEVICE", "CUDA"});
      return d;
    } catch (const c10::Error&) {
    }
  }
  fail(std::string("Invalid -") + param + " parameter. Must be cpu, cuda or cuda:N.",
       {"ARGS", "TYPE", param});
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

const std::vector<CommandInfo>& allCommandInfos() {
  static const std::vector<CommandInfo> infos = [] {
    std::vector<CommandInfo> out;
    for (auto& c : allCommands()) {
      if (c.params.size() > size_t(kMaxParams))
        throw std::logic_error(std::string("too many parameters: ") + c.name);
      CommandInfo info{&c, camelCase(c.name), std::string("torch::") + c.name, {}};
      for (size_t i = 0; i < c.params.size(); ++i) {
        const Param& p = c.params[i];
        bool req = !p.def;
        if (p.named_only)
          info.usage += std::string(" ?-") + p.name + " " + typeName(p.type) + "?";
        else
          info.usage += std::string(" ") + (req ? "" : "?") + p.name + (req ? "" : "?");
        info.spellings.emplace_back(p.name, int(i));
        std::string camel = camelCase(p.name);
        if (camel != p.name) info.spellings.emplace_back(camel, int(i));
        if (p.aliases) {
          std::istringstream in(p.aliases);
          std::string a;
          while (in >> a) info.spellings.emplace_back(a, int(i));
        }
      }
      out.push_back(std::move(info));
    }
    return out;
  }();
  return infos;
}

void registerCommands(Tcl_Interp* interp, State& st) {
  for (auto& info : allCommandInfos()) {
    auto* b = new std::pair<State*, const CommandInfo*>(&st, &info);
    st.bindings.push_back(b);
    Tcl_CreateObjCommand(interp, (std::string("::torch::") + info.cmd->name).c_str(), dispatch, b, nullptr);
    if (info.camel != info.cmd->name)
      Tcl_CreateObjCommand(interp, ("::torch::" + info.camel).c_str(), dispatch, b, nullptr);
  }
}

}  // namespace tcltorch
