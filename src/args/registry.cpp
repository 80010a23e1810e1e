// Registration: each table row checked once and made into a CommandInfo (its
// spellings, usage and converted defaults), then a Tcl command per name; and
// dispatch, the one boundary where C++ exceptions become Tcl errors.
#include "convert.h"
#include <c10/util/Exception.h>
#include <algorithm>
#include <cstring>
#include <deque>
#include <sstream>

namespace tcltorch {

static void setError(Tcl_Interp* interp, const std::string& msg, const std::vector<std::string>& code) {
  Tcl_SetObjResult(interp, newString(msg));
  Tcl_Obj* ec = Tcl_NewListObj(0, nullptr);
  Tcl_ListObjAppendElement(nullptr, ec, Tcl_NewStringObj("TORCH", -1));
  for (auto& c : code) Tcl_ListObjAppendElement(nullptr, ec, newString(c));
  Tcl_SetObjErrorCode(interp, ec);
}

// Whether a call of a command with a tensor form is that form: its first word
// is a tensor handle, or (named syntax) a word spells the form's first parameter.
static bool usesTensorForm(State& st, const CommandInfo& form, int objc, Tcl_Obj* const objv[]) {
  if (objc < 2) return false;
  if (Entry* e = st.reg.find(objv[1])) return e->kind == Kind::Tensor;
  if (Tcl_GetString(objv[1])[0] != '-') return false;
  for (int i = 1; i < objc; i += 2) {
    const char* s = Tcl_GetString(objv[i]);
    if (s[0] == '-' && form.lookup(s + 1) == 0) return true;
  }
  return false;
}

static int dispatch(ClientData cd, Tcl_Interp* interp, int objc, Tcl_Obj* const objv[]) {
  auto* b = static_cast<std::pair<State*, const CommandInfo*>*>(cd);
  try {
    const CommandInfo* info = b->second;
    if (info->tensorForm && usesTensorForm(*b->first, *info->tensorForm, objc, objv)) info = info->tensorForm;
    Call call(*b->first, *info, objc, objv);
    Tcl_Obj* r = info->cmd->handler(call);
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
  // Handlers read parameters only through typed keys: a row with parameters
  // comes from typedRow, and keeps its argument struct's parameters.
  if (!c.params.empty() && !c.args) bug("parameters without an argument struct (make the row with typedRow)");
  if (c.args && (c.args->params.size() != c.params.size() ||
                 !std::equal(c.params.begin(), c.params.end(), c.args->params.begin(),
                             [](const Param& a, const Param& b) { return a.name == b.name && a.type == b.type; })))
    bug("parameters differ from its argument struct's");
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
    if (req) info.required |= 1u << i;
    if (p.named_only)
      info.usage += std::string(" ?-") + p.name + " " + typeName(p.type) + "?";
    else if (p.type == Type::Words)
      info.usage += std::string(" ?") + p.name + " ...?";
    else if (p.variadic)
      info.usage += std::string(" ") + (req ? "" : "?") + p.name + " ..." + (req ? "" : "?");
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
    if ((p.type == Type::Choice || p.type == Type::NumberOrChoice || p.type == Type::NamedChoices) == p.choices.empty())
      bug(std::string("choices of -") + p.name);
    if (p.by_type && req) bug(std::string("-") + p.name + " is by-type but required");
    if ((p.type == Type::Words || p.variadic) && i + 1 != c.params.size())
      bug(std::string("-") + p.name + " is not the last parameter");
    std::optional<Value> dv;
    if (p.def && p.def != kOptional) {
      Tcl_Obj* o = Tcl_NewStringObj(p.def, -1);
      Tcl_IncrRefCount(o);
      dv.emplace();
      bool ok = p.type == Type::OptTensor ? noneWord(o) : convert(nullptr, p, o, *dv);
      if (p.type == Type::OptTensor) dv.reset();
      Tcl_DecrRefCount(o);
      if (!ok) bug(std::string("default of -") + p.name + " is not " + describe(p));
      if (dv) dv->literal = p.def;
    }
    info.defaults.push_back(std::move(dv));
  }
  return info;
}

const std::vector<CommandInfo>& allCommandInfos() {
  static const std::vector<CommandInfo> infos = [] {
    std::vector<CommandInfo> out;
    out.reserve(allCommands().size());  // stable addresses for the tensor-form links
    for (auto& c : allCommands()) out.push_back(makeInfo(c));
    for (auto& f : out) {
      if (!f.cmd->tensor_form) continue;
      auto p = std::find_if(out.begin(), out.end(), [&](const CommandInfo& i) {
        return !i.cmd->tensor_form && !std::strcmp(i.cmd->name, f.cmd->name);
      });
      if (p == out.end() || p->tensorForm)
        throw std::logic_error(std::string("internal: tensor form of ") + f.cmd->name + " without one command");
      p->tensorForm = &f;
    }
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
  // Each command's client data, owned by the state (a deque: stable addresses).
  using Binding = std::pair<State*, const CommandInfo*>;
  auto bindings = std::make_shared<std::deque<Binding>>();
  st.ext["args.bindings"] = bindings;
  for (auto& info : allCommandInfos()) {
    if ((safe && unsafeCommand(*info.cmd)) || info.cmd->tensor_form) continue;
    Binding* b = &bindings->emplace_back(&st, &info);
    std::vector<std::string> names{info.cmd->name};
    if (info.camel != info.cmd->name) names.push_back(info.camel);
    names.insert(names.end(), info.aliases.begin(), info.aliases.end());
    for (auto& nm : names) Tcl_CreateObjCommand(interp, ("::torch::" + nm).c_str(), dispatch, b, nullptr);
  }
}

}  // namespace tcltorch
