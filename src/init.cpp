// Tcl entry point: load torch, register the command table.
#include "tcltorch/args.h"

extern "C" int Torch_Init(Tcl_Interp* interp) {
  if (Tcl_InitStubs(interp, "8.6", 0) == nullptr) return TCL_ERROR;
  try {
    tcltorch::State& st = tcltorch::state(interp);
    tcltorch::registerCommands(interp, st);
  } catch (const std::exception& e) {
    Tcl_SetObjResult(interp, Tcl_NewStringObj(e.what(), -1));
    return TCL_ERROR;
  }
  return Tcl_PkgProvideEx(interp, "torch", TCLTORCH_VERSION, nullptr);
}

extern "C" int Torch_SafeInit(Tcl_Interp* interp) { return Torch_Init(interp); }
