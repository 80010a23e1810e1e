// Tcl entry points: load torch, register the command table.
#include "tcltorch/args.h"

#include <cstring>

// The first fields of every Tcl interpreter, 8.6 and 9 alike: where the stubs
// library leaves its message when the interpreter's major version is not the
// one this library was built for (no Tcl call works then).
namespace {
struct LegacyResult {
  const char* result;
  void (*freeProc)(char*);
};
constexpr const char kWrongTcl[] =
    "torch " TCLTORCH_VERSION " (this library) was built for Tcl " TCL_VERSION
    " and cannot load into another major version of Tcl: load the build for the running Tcl"
    " (cmake -DTCLTORCH_TCL_VERSION=8.6 or 9.0), through package require, whose pkgIndex.tcl picks it";
}  // namespace

static int init(Tcl_Interp* interp, bool safe) {
  if (Tcl_InitStubs(interp, TCL_VERSION, 0) == nullptr) {
    auto* legacy = reinterpret_cast<LegacyResult*>(interp);
    if (legacy->result && std::strstr(legacy->result, "incompatible stubs mechanism") && !legacy->freeProc)
      legacy->result = kWrongTcl;  // static, as the stubs library's own message
    return TCL_ERROR;
  }
  try {
    tcltorch::State& st = tcltorch::state(interp);
    tcltorch::registerCommands(interp, st, safe);
  } catch (const std::exception& e) {
    Tcl_SetObjResult(interp, Tcl_NewStringObj(e.what(), -1));
    return TCL_ERROR;
  }
  return Tcl_PkgProvideEx(interp, "torch", TCLTORCH_VERSION, nullptr);
}

extern "C" int Torch_Init(Tcl_Interp* interp) { return init(interp, false); }

// A safe interpreter gets no command that touches files, sockets or the
// environment (rows marked unsafe, and every command with a file path).
extern "C" int Torch_SafeInit(Tcl_Interp* interp) { return init(interp, true); }
