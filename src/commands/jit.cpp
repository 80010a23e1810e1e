// TorchScript modules (what Python's torch.jit.save writes) as module handles.
//
// Every module command works on a torch::nn::Module, so a loaded
// torch::jit::Module is given one: an nn::Module tree mirroring the script
// module's, whose parameters and buffers are the script module's own tensors
// (same TensorImpl). Optimizers, state dicts, to(), data parallelism and
// counting then act on the script module's weights with no command knowing
// about TorchScript; train() and to() are passed on to the script module,
// which keeps its own training flag and moves only floating tensors.
#include "tcltorch/commands.h"
#include "tcltorch/model_files.h"
#include "tcltorch/nn.h"
#include <torch/script.h>

namespace tcltorch {

namespace {

struct ScriptModule : torch::nn::Module {
  torch::jit::Module jit;
  explicit ScriptModule(const torch::jit::Module& m) : torch::nn::Module(typeName(m)), jit(m) {
    torch::nn::Module::train(m.is_training());  // before any child: this module's flag only
    for (const auto& p : m.named_parameters(false)) register_parameter(p.name, p.value, p.value.requires_grad());
    for (const auto& b : m.named_buffers(false)) register_buffer(b.name, b.value);
    for (const auto& ch : m.named_children()) register_module(ch.name, std::make_shared<ScriptModule>(ch.value));
  }
  static std::string typeName(const torch::jit::Module& m) {
    auto n = m.type()->name();
    return n ? n->name() : "ScriptModule";
  }
  void train(bool on) override {
    jit.train(on);
    torch::nn::Module::train(on);
  }
  void to(torch::Device d, torch::Dtype t, bool nb) override { jit.to(d, t, nb); }
  void to(torch::Dtype t, bool nb) override { jit.to(t, nb); }
  void to(torch::Device d, bool nb) override { jit.to(d, nb); }
};

constexpr const char* kScriptType = "torchscript";

const Param kScriptModule{"module", Type::Module, nullptr, "module handle of a TorchScript module"};
const Param kScriptFile{"file", Type::Path, nullptr, "file path", "filename"};
struct JitLoadArgs : Args {
  Arg<Type::Path> file{this, kScriptFile};
  Arg<Type::Device> device{this, {"device", Type::Device, "cpu", "device of its parameters and buffers"}};
};
struct JitCallArgs : Args {
  Arg<Type::Module> module{this, kScriptModule};
  Arg<Type::String> method{this, {"method", Type::String, nullptr, "method name"}};
  Arg<Type::Words> args{this, {"args", Type::Words, "", "the method's arguments (named: one list)"}};
};
struct ModuleArgs : Args {
  Arg<Type::Module> module{this, kScriptModule};
};
struct JitSaveArgs : Args {
  Arg<Type::Module> module{this, kScriptModule};
  Arg<Type::Path> file{this, kScriptFile};
};

torch::jit::Module& scriptArg(Call& c, const Arg<Type::Module>& module) {
  auto m = c.object<ModuleObj>(module);
  auto s = std::dynamic_pointer_cast<ScriptModule>(m->module);
  if (!s)
    fail("\"" + c.str(module) + "\" is a " + m->type + " module, not a TorchScript module",
         {"ARGS", "TYPE", "module"});
  return s->jit;
}

// ---- results: IValue -> Tcl ----

// Checked before any handle is made, so a result that cannot cross leaves none behind.
bool convertible(const c10::IValue& v) {
  if (v.isTensor() || v.isNone() || v.isBool() || v.isInt() || v.isDouble() || v.isString() || v.isDevice())
    return true;
  if (v.isTuple()) {
    for (auto& e : v.toTuple()->elements())
      if (!convertible(e)) return false;
    return true;
  }
  if (v.isList()) {
    auto l = v.toList();
    for (size_t k = 0; k < l.size(); ++k)
      if (!convertible(l.get(k))) return false;
    return true;
  }
  if (v.isGenericDict()) {
    for (auto& kv : v.toGenericDict())
      if (!convertible(kv.key()) || !convertible(kv.value())) return false;
    return true;
  }
  return false;
}

Tcl_Obj* toTcl(Call& c, const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor().defined() ? c.result(v.toTensor()) : Tcl_NewObj();
  if (v.isNone()) return Tcl_NewObj();
  if (v.isBool()) return Tcl_NewBooleanObj(v.toBool());
  if (v.isInt()) return Tcl_NewWideIntObj(v.toInt());
  if (v.isDouble()) return Tcl_NewDoubleObj(v.toDouble());
  if (v.isString()) return newString(v.toStringRef());
  if (v.isDevice()) return newString(v.toDevice().str());
  Tcl_Obj* out = Tcl_NewListObj(0, nullptr);
  if (v.isTuple()) {
    for (auto& e : v.toTuple()->elements()) Tcl_ListObjAppendElement(nullptr, out, toTcl(c, e));
  } else if (v.isList()) {
    auto l = v.toList();
    for (size_t k = 0; k < l.size(); ++k) Tcl_ListObjAppendElement(nullptr, out, toTcl(c, l.get(k)));
  } else {  // dict (convertible() let nothing else through)
    Tcl_DecrRefCount(out);
    out = Tcl_NewDictObj();
    for (auto& kv : v.toGenericDict()) Tcl_DictObjPut(nullptr, out, toTcl(c, kv.key()), toTcl(c, kv.value()));
  }
  return out;
}

Tcl_Obj* result(Call& c, const c10::IValue& v) {
  if (!convertible(v))
    fail("the method returned a " + v.type()->str() + ", which has no Tcl form", {"JIT", "RESULT", v.type()->str()});
  return toTcl(c, v);
}

// ---- arguments: Tcl -> IValue, by the method's declared types ----

[[noreturn]] void badArg(const std::string& arg, Tcl_Obj* o, const std::string& what) {
  badValueError(arg.c_str(), o, what);
}

std::vector<Tcl_Obj*> listElems(const std::string& arg, Tcl_Obj* o, const char* what) {
  Tcl_Size n;
  Tcl_Obj** e;
  if (Tcl_ListObjGetElements(nullptr, o, &n, &e) != TCL_OK) badArg(arg, o, what);
  return std::vector<Tcl_Obj*>(e, e + n);
}

c10::IValue fromTcl(Call& c, const std::string& arg, Tcl_Obj* o, const c10::TypePtr& t) {
  using K = c10::TypeKind;
  switch (t->kind()) {
    case K::TensorType:
      return c.st.reg.tensor(o);
    case K::IntType: {
      Tcl_WideInt i;
      if (Tcl_GetWideIntFromObj(nullptr, o, &i) != TCL_OK) badArg(arg, o, "an integer");
      return int64_t(i);
    }
    case K::FloatType: {
      double d;
      if (!parseNumber(o, &d)) badArg(arg, o, "a number");
      return d;
    }
    case K::NumberType: {
      Tcl_WideInt i;
      double d;
      if (Tcl_GetWideIntFromObj(nullptr, o, &i) == TCL_OK) return int64_t(i);
      if (!parseNumber(o, &d)) badArg(arg, o, "a number");
      return d;
    }
    case K::BoolType: {
      int b;
      if (Tcl_GetBooleanFromObj(nullptr, o, &b) != TCL_OK) badArg(arg, o, "a boolean");
      return bool(b);
    }
    case K::StringType:
      return std::string(Tcl_GetString(o));
    case K::OptionalType: {  // "" is None
      Tcl_Size n;
      Tcl_GetStringFromObj(o, &n);
      if (n == 0) return c10::IValue();
      return fromTcl(c, arg, o, t->containedTypes()[0]);
    }
    case K::ListType: {
      const c10::TypePtr& et = t->containedTypes()[0];
      c10::impl::GenericList l(et);
      for (Tcl_Obj* e : listElems(arg, o, "a list")) l.push_back(fromTcl(c, arg, e, et));
      return l;
    }
    case K::TupleType: {
      auto ts = t->containedTypes();
      auto es = listElems(arg, o, "a list");
      if (es.size() != ts.size()) badArg(arg, o, "a list of " + std::to_string(ts.size()) + " elements");
      std::vector<c10::IValue> items;
      for (size_t k = 0; k < es.size(); ++k) items.push_back(fromTcl(c, arg, es[k], ts[k]));
      return c10::ivalue::Tuple::create(std::move(items));
    }
    case K::DictType: {
      auto ts = t->containedTypes();
      auto es = listElems(arg, o, "a dict");
      if (es.size() % 2) badArg(arg, o, "a dict");
      c10::impl::GenericDict d(ts[0], ts[1]);
      for (size_t k = 0; k < es.size(); k += 2)
        d.insert_or_assign(fromTcl(c, arg, es[k], ts[0]), fromTcl(c, arg, es[k + 1], ts[1]));
      return d;
    }
    case K::AnyType: {  // untyped: a live tensor handle, else a number, else a string
      if (Entry* e = c.st.reg.find(o); e && e->kind == Kind::Tensor) return e->tensor;
      Tcl_WideInt i;
      double d;
      if (Tcl_GetWideIntFromObj(nullptr, o, &i) == TCL_OK) return int64_t(i);
      if (parseNumber(o, &d)) return d;
      return std::string(Tcl_GetString(o));
    }
    default:
      fail("argument " + arg + " is a " + t->str() + ", which Tcl cannot pass", {"JIT", "ARGTYPE", t->str()});
  }
}

// `words`: the row's parameter holding the method's arguments.
c10::IValue call(Call& c, torch::jit::Module& m, const std::string& name, const Arg<Type::Words>& words) {
  auto method = m.find_method(name);
  if (!method)
    fail("the module has no method \"" + name + "\"", {"JIT", "METHOD", name});
  const auto& args = method->function().getSchema().arguments();  // args[0] is self
  auto given = listElems(c.nameOf(words), c.obj(words), "a list");
  size_t most = args.size() - 1, least = 0;
  for (size_t k = 1; k < args.size(); ++k)
    if (!args[k].default_value()) least = k;
  if (given.size() > most || given.size() < least)
    fail("method \"" + name + "\" takes " + (least == most ? "" : std::to_string(least) + " to ") +
             std::to_string(most) + " arguments, got " + std::to_string(given.size()),
         {"JIT", "ARGS", name});
  std::vector<c10::IValue> stack;
  for (size_t k = 0; k < given.size(); ++k) stack.push_back(fromTcl(c, args[k + 1].name(), given[k], args[k + 1].type()));
  return (*method)(std::move(stack));
}

// ---- commands ----

Tcl_Obj* cmdJitLoad(Call& c, const JitLoadArgs& a) {
  std::string path = c.str(a.file);
  MappedFile probe(path, MapUse::Header);  // a missing or unreadable file: the usual IO READ error
  if (probe.size() == 0) badModelFile(path, "TorchScript file", "empty file");
  torch::jit::Module jm;
  try {
    jm = torch::jit::load(path, c.device(a.device));
  } catch (const std::exception& e) {
    badModelFile(path, "TorchScript file", torchMessage(e));
  }
  auto o = std::make_shared<ModuleObj>();
  o->type = kScriptType;
  auto s = std::make_shared<ScriptModule>(jm);
  o->module = s;
  // One input, as every module's forward; results other than one tensor
  // (tuples, dicts) come back through layer_forward as jit_call gives them.
  o->forward = [jm](const at::Tensor& x) mutable {
    c10::IValue r = jm.forward({x});
    if (!r.isTensor()) fail("forward returned a " + r.type()->str() + ", not a tensor", {"JIT", "RESULT", r.type()->str()});
    return r.toTensor();
  };
  o->forwardFull = [jm](Call& c, const at::Tensor& x) mutable { return result(c, jm.forward({x})); };
  return c.result(Kind::Module, o);
}

Tcl_Obj* cmdJitCall(Call& c, const JitCallArgs& a) {
  torch::jit::Module& m = scriptArg(c, a.module);
  return result(c, call(c, m, c.str(a.method), a.args));
}

Tcl_Obj* cmdJitMethods(Call& c, const ModuleArgs& a) {
  Tcl_Obj* out = Tcl_NewListObj(0, nullptr);
  for (auto& m : scriptArg(c, a.module).get_methods()) Tcl_ListObjAppendElement(nullptr, out, newString(m.name()));
  return out;
}

Tcl_Obj* cmdJitSave(Call& c, const JitSaveArgs& a) {
  torch::jit::Module& m = scriptArg(c, a.module);
  saveAtomically(c.str(a.file), [&](const std::string& tmp) { m.save(tmp); });
  return nullptr;
}

}  // namespace

std::vector<Command> jitCommands() {
  return {
      typedRow<cmdJitLoad>(
          "jit_load",
          "Load a TorchScript module (Python's torch.jit.save); returns a module handle that every module command takes."),
      typedRow<cmdJitCall>(
          "jit_call",
          "Call a method of a TorchScript module. Arguments follow the method's types (tensor handles, numbers, strings, "
          "lists, dicts); a tensor result is a handle, a tuple or list a list, a dict a dict."),
      typedRow<cmdJitMethods>("jit_methods", "Names of the methods of a TorchScript module that jit_call can call."),
      typedRow<cmdJitSave>("jit_save", "Save a TorchScript module (with its current weights) for Python's torch.jit.load."),
  };
}

}  // namespace tcltorch
