// Handles, scopes, grad mode, help and package info.
#include "tcltorch/commands.h"
#include "tcltorch/compat.h"
#include <cmath>
#include <sstream>

namespace tcltorch {

// Runs `script` in the caller's frame; a non-OK code is handed back unchanged.
static int evalScript(Call& c, const Arg<Type::Script>& script) {
  return Tcl_EvalObjEx(c.interp, c.obj(script), 0);
}

namespace {
// free and keep
struct HandlesArgs : Args {
  Arg<Type::Handles> handles{this, {"handles", Type::Handles, nullptr, "one handle or a list of handles"}};
};
// scope (required) and no_grad (optional)
struct ScriptArgs : Args {
  Arg<Type::Script> script;
  explicit ScriptArgs(const char* def = nullptr) : script{this, {"script", Type::Script, def, "the script to run"}} {}
};
struct HelpArgs : Args {
  Arg<Type::String> command{this, {"command", Type::String, kOptional, "a command name (snake_case or camelCase)"}};
  Arg<Type::Choice> format{
      this, {"format", Type::Choice, "text", "text, or markdown for the whole reference", nullptr, "text markdown"}};
};
}  // namespace

static Tcl_Obj* cmdFree(Call& c, const HandlesArgs& a) {
  Tcl_Size n;
  Tcl_Obj** elems;
  Tcl_Obj* handles = c.obj(a.handles);
  // Fast path: one name as returned by a command (no list parse, no string).
  if (isHandleObj(handles)) {
    if (!c.st.reg.free(handles)) {
      const char* s = Tcl_GetString(handles);
      fail(std::string("Invalid handle \"") + s + "\"", {"HANDLE", s});
    }
    return nullptr;
  }
  Tcl_ListObjGetElements(nullptr, handles, &n, &elems);  // a list: checked by the parser
  // Check all first, so a bad name frees nothing.
  for (int i = 0; i < n; ++i)
    if (!c.st.reg.find(elems[i])) {
      const char* s = Tcl_GetString(elems[i]);
      fail(std::string("Invalid handle \"") + s + "\"", {"HANDLE", s});
    }
  for (int i = 0; i < n; ++i) c.st.reg.free(Tcl_GetString(elems[i]));
  return nullptr;
}

static Tcl_Obj* cmdKeep(Call& c, const HandlesArgs& a) {
  Tcl_Size n;
  Tcl_Obj** elems;
  Tcl_Obj* handles = c.obj(a.handles);
  Tcl_ListObjGetElements(nullptr, handles, &n, &elems);  // a list: checked by the parser
  for (int i = 0; i < n; ++i) {
    if (!c.st.reg.find(elems[i])) {
      const char* s = Tcl_GetString(elems[i]);
      fail(std::string("Invalid handle \"") + s + "\"", {"HANDLE", s});
    }
    c.st.reg.keep(Tcl_GetString(elems[i]));
  }
  return handles;
}

static Tcl_Obj* cmdScope(Call& c, const ScriptArgs& a) {
  c.st.reg.pushScope();
  int code = evalScript(c, a.script);
  // Same exit on every code: free what the script made, except its result.
  Tcl_Obj* res = Tcl_GetObjResult(c.interp);
  Tcl_IncrRefCount(res);
  c.st.reg.popScope(code == TCL_OK || code == TCL_RETURN ? res : nullptr);
  Tcl_DecrRefCount(res);
  if (code != TCL_OK) throw ScriptCode{code};
  return Tcl_GetObjResult(c.interp);
}

static Tcl_Obj* cmdNoGrad(Call& c, const ScriptArgs& a) {
  if (!c.has(a.script)) {  // no script: off until enable_grad or set_grad_enabled 1
    at::GradMode::set_enabled(false);
    return nullptr;
  }
  at::NoGradGuard guard;  // restores the previous mode on every exit
  int code = evalScript(c, a.script);
  if (code != TCL_OK) throw ScriptCode{code};
  return Tcl_GetObjResult(c.interp);
}

static Tcl_Obj* cmdIsGradEnabled(Call&) { return Tcl_NewBooleanObj(at::GradMode::is_enabled()); }

static Tcl_Obj* cmdMemory(Call& c) {
  Tcl_Obj* d = Tcl_NewDictObj();
  for (size_t k = 0; k < size_t(Kind::Count); ++k) {
    std::string plural = kindName(Kind(k));
    plural += plural.back() == 'h' ? "es" : "s";  // meshes
    Tcl_DictObjPut(nullptr, d, newString(plural), Tcl_NewWideIntObj(Tcl_WideInt(c.st.reg.count(Kind(k)))));
  }
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("tensor_bytes", -1),
                 Tcl_NewWideIntObj(Tcl_WideInt(c.st.reg.tensorBytes())));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("scope_depth", -1),
                 Tcl_NewWideIntObj(Tcl_WideInt(c.st.reg.scopeDepth())));
  return d;
}

static const CommandInfo* findInfo(const std::string& name) {
  std::string n = name.rfind("torch::", 0) == 0 ? name.substr(7) : name;
  if (n.rfind("::torch::", 0) == 0) n = n.substr(9);
  for (auto& i : allCommandInfos())
    if (!i.cmd->tensor_form &&  // a tensor form answers to its command's names
        (n == i.cmd->name || n == i.camel || std::find(i.aliases.begin(), i.aliases.end(), n) != i.aliases.end()))
      return &i;
  return nullptr;
}

static std::string paramLine(const Param& p) {
  std::string s = std::string("-") + p.name;
  std::string camel = camelCase(p.name);
  if (camel != p.name) s += "/-" + camel;
  if (p.aliases) {
    std::istringstream in(p.aliases);
    std::string a;
    while (in >> a) s += "/-" + a;
  }
  return s;
}

static std::string defaultText(const Param& p) {
  if (!p.def) return "required";
  if (p.def == kOptional) return "optional";
  return std::string("default ") + (*p.def ? p.def : "\"\"");
}

// Choices and ranges as words: "one of: a, b, or c", "int >= 1" (no '|', which
// would split a Markdown table cell).
static std::string typeText(const Param& p) {
  if (p.type == Type::NamedChoices) return "names, each followed by one of: " + choiceWords(p);
  std::string t = p.type == Type::Choice || p.type == Type::ReduceOp || p.type == Type::Dtype ||
                          p.type == Type::NumberOrChoice
                      ? "one of: " + describe(p)
                  : !std::isnan(p.lo) || !std::isnan(p.hi) ? typeName(p.type) + rangeText(p)
                                                           : std::string(typeName(p.type));
  if (p.variadic) t += " (one word or several)";
  if (p.empty_is_default) t += " (\"\" = default)";
  return p.by_type ? t + " (any order)" : t;
}

// The other names a command answers to: camelCase, then the declared aliases.
static std::string otherNames(const CommandInfo& i, const char* sep, const char* quote) {
  std::string s;
  auto add = [&](const std::string& n) { s += (s.empty() ? "" : sep) + std::string(quote) + "torch::" + n + quote; };
  if (i.camel != i.cmd->name) add(i.camel);
  for (auto& a : i.aliases) add(a);
  return s;
}

static std::string helpText(const CommandInfo& i) {
  std::string s = i.usage + "\n";
  if (!otherNames(i, "", "").empty()) s += "  alias: " + otherNames(i, " ", "") + "\n";
  s += std::string("  ") + i.cmd->doc + "\n";
  for (auto& p : i.cmd->params)
    s += "  " + paramLine(p) + " (" + typeText(p) + ", " + defaultText(p) + "): " + p.doc + "\n";
  if (i.tensorForm) s += "tensor form (a tensor first):\n" + helpText(*i.tensorForm);
  return s;
}

static std::string markdown() {
  std::string s =
      "# Command reference\n\n"
      "Generated from the command table by `docs/generate.tcl` (`cmake --build build --target docs`);\n"
      "do not edit by hand. Every command takes its parameters positionally in the order listed,\n"
      "as `-name value` pairs (snake_case or camelCase spelling, or a listed alias), or positional\n"
      "first and then named. Every command also exists under its camelCase name and its aliases.\n\n"
      "Word rules (one parser for every command):\n\n"
      "- A word is an option only if it is a declared spelling of the command: `-1`, `-1e3`, `-Inf`,\n"
      "  `-nan` are values. `--` ends the options; every word after it is positional.\n"
      "- Optional positionals may be left off from the right. Consecutive optional parameters marked\n"
      "  *any order* have pairwise disjoint types and are matched by type, each at most once:\n"
      "  `tensor_create {1 2 3 4} {2 2} float32`, `randn {2 3} cpu float32` and `randn {2 3} float32 cpu`.\n"
      "- Every value is converted to its type (and checked against its range or choices) before the\n"
      "  command acts. A bad one is `bad NAME \"VALUE\": must be ...` with errorcode\n"
      "  `TORCH ARGS VALUE name value`; a bad handle is `Invalid tensor handle \"x\"` with `TORCH HANDLE x`.\n"
      "- A parameter of type *tensor or none* takes `none` or an empty word for \"no tensor\".\n"
      "- A last parameter of type *words* (`?args ...?`) takes every remaining positional word;\n"
      "  its named form takes them as one list. A last parameter marked *one word or several*\n"
      "  (`tensors ...`) takes the list as one word or its elements as several: `hstack [list $a $b]`\n"
      "  and `hstack $a $b`.\n"
      "- A parameter marked *\"\" = default* takes an empty word as a placeholder for its default.\n"
      "- A command with a *(tensor form)* section is also called with a tensor first (or, named, with\n"
      "  that section's first parameter): it then builds the layer and applies it once.\n\n";
  for (auto& i : allCommandInfos()) {
    s += std::string("## torch::") + i.cmd->name + (i.cmd->tensor_form ? " (tensor form)" : "") + "\n\n";
    s += "```tcl\n" + i.usage + "\n```\n\n";
    if (i.cmd->tensor_form)
      s += "The same command called with a tensor first (or named with its first parameter).\n\n";
    else if (!otherNames(i, "", "").empty()) s += "Alias: " + otherNames(i, ", ", "`") + "\n\n";
    s += std::string(i.cmd->doc) + "\n\n";
    if (!i.cmd->params.empty()) {
      s += "| parameter | type | default | description |\n|---|---|---|---|\n";
      // A '|' inside a cell would split it: escape it.
      auto cell = [](std::string v) {
        for (size_t k = 0; (k = v.find('|', k)) != std::string::npos; k += 2) v.insert(k, "\\");
        return v;
      };
      for (auto& p : i.cmd->params)
        s += "| `" + cell(paramLine(p)) + "` | " + cell(typeText(p)) + " | " + cell(defaultText(p)) + " | " +
             cell(p.doc) + " |\n";
      s += "\n";
    }
  }
  return s;
}

static Tcl_Obj* cmdHelp(Call& c, const HelpArgs& a) {
  if (c.choice(a.format) == 1) return newString(markdown());
  if (!c.has(a.command)) {
    Tcl_Obj* list = Tcl_NewListObj(0, nullptr);
    for (auto& i : allCommandInfos())
      if (!i.cmd->tensor_form) Tcl_ListObjAppendElement(nullptr, list, Tcl_NewStringObj(i.cmd->name, -1));
    return list;
  }
  std::string name = c.str(a.command);
  const CommandInfo* i = findInfo(name);
  if (!i) fail("Unknown command \"" + name + "\"", {"HELP", "UNKNOWN", name});
  return newString(helpText(*i));
}

static Tcl_Obj* cmdVersion(Call&) {
  Tcl_Obj* d = Tcl_NewDictObj();
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("package", -1), Tcl_NewStringObj(TCLTORCH_VERSION, -1));
  Tcl_DictObjPut(nullptr, d, Tcl_NewStringObj("libtorch", -1), Tcl_NewStringObj(TORCH_VERSION, -1));
  return d;
}

static Tcl_Obj* cmdCudaAvailable(Call&) { return Tcl_NewBooleanObj(torch::cuda::is_available()); }
static Tcl_Obj* cmdCudaCount(Call&) { return Tcl_NewWideIntObj(Tcl_WideInt(torch::cuda::device_count())); }

std::vector<Command> runtimeCommands() {
  return {
      typedRow<cmdFree>("free",
                        "Release handles (tensors, modules, optimizers, work, ...). Using a freed handle is an error."),
      typedRow<cmdKeep>("keep", "Exempt handles from every enclosing torch::scope; returns them."),
      typedRow<cmdScope>("scope",
                         "Run a script; free every handle it created except those named in its result or kept."),
      typedRow<cmdNoGrad>("no_grad",
                          "Run a script with gradient recording off (the previous mode is restored on every exit); "
                          "without a script, switch recording off until enable_grad or set_grad_enabled 1.",
                          std::make_shared<const ScriptArgs>(kOptional)),
      {"is_grad_enabled", "1 when autograd records operations, else 0.", {}, cmdIsGradEnabled},
      {"memory", "Dict of live handles by kind (tensors, modules, ...), tensor_bytes and scope_depth.", {}, cmdMemory},
      typedRow<cmdHelp>("help", "List the commands, or describe one (usage, parameters) from the command table."),
      {"version", "Dict with the package version and the libtorch version.", {}, cmdVersion},
      {"cuda_is_available", "1 when libtorch has CUDA and a GPU is visible.", {}, cmdCudaAvailable},
      {"cuda_device_count", "Number of visible CUDA devices.", {}, cmdCudaCount},
  };
}

}  // namespace tcltorch
