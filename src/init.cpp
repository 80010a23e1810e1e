// Tcl entry points: load torch, register the command table.
#include "tcltorch/args.h"

static int init(Tcl_Interp* interp, bool safe) {
  if (Tcl_InitStubs(interp, "8.6", 0) == nullptr) return TCL_ERROR;
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
