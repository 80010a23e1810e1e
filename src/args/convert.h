// What the parser and the registration share with the converters (private to
// src/args/; types.cpp defines them).
#pragma once
#include "tcltorch/args.h"

namespace tcltorch {

// classify(): a word is a value, an unknown option, "--", or (>= 0) the index
// of the parameter it names. "-1", "-Inf", "-nan" are values.
enum : int { kValue = -1, kUnknownOption = -2, kEndOfOptions = -3 };
int classify(const CommandInfo& info, Tcl_Obj* o);

// Converts `o` for parameter `p` into `v`; false when the word has the wrong
// form. `st` is null for default literals, which are never handles.
bool convert(State* st, const Param& p, Tcl_Obj* o, Value& v);

// "" or "none": no tensor, for an optional tensor parameter.
bool noneWord(Tcl_Obj* o);

}  // namespace tcltorch
