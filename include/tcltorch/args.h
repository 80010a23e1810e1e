// The one dual-syntax parser and the command table.
#pragma once
#include "tcltorch/runtime.h"
#include <optional>

namespace tcltorch {

enum class Type {
  Tensor,          // tensor handle
  TensorOrNumber,  // tensor handle or a number (scalar operand)
  TensorList,      // list of tensor handles
  Module, Optimizer, Work, Scheduler, Shard,  // object handles
  Int, Double, Bool, String,
  Dtype,           // float32 float64 float16 bfloat16 int8 int16 int32 int64 uint8 bool
  Device,          // cpu, cuda, cuda:N
  ReduceOp,        // sum mean max min product
  Choice,          // one of Param::choices
  IntList, DoubleList,
  Script,          // a Tcl script body
  Any,             // any value, interpreted by the handler
};
const char* typeName(Type t);

enum class ReduceOp { Sum, Mean, Max, Min, Product };

extern const char* const kOptional;  // Param::def for "optional, no default"

struct Param {
  const char* name;             // snake_case; -camelCase is derived
  Type type;
  const char* def;              // nullptr: required; kOptional; else the default literal
  const char* doc;
  const char* aliases = nullptr;  // extra spellings, space separated, without '-'
  const char* choices = nullptr;  // Type::Choice: space separated
  bool named_only = false;  // only as -name value (e.g. -async): never taken positionally
};

class Call;
using Handler = Tcl_Obj* (*)(Call&);

struct Command {
  const char* name;  // snake_case; torch::camelCase is derived
  const char* doc;
  std::vector<Param> params;
  Handler handler;
};

// Derived once per command at load time.
struct CommandInfo {
  const Command* cmd;
  std::string camel;
  std::string usage;  // "torch::name a ?b? ?c?"
  std::vector<std::pair<std::string, int>> spellings;  // "world_size" -> 1
  int lookup(const char* spelling) const;
};

std::string camelCase(const std::string& snake);

constexpr int kMaxParams = 16;

// One command invocation: the parsed arguments, typed accessors, result helpers.
class Call {
 public:
  Call(State& st, const CommandInfo& info, int objc, Tcl_Obj* const objv[]);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  State& st;
  Tcl_Interp* interp;
  const CommandInfo& info;

  bool declares(const char* name) const;  // the command has this parameter
  bool has(const char* name) const;    // given, or has a default
  bool given(const char* name) const;  // given by the caller
  Tcl_Obj* obj(const char* name);      // given value or default; nullptr if neither

  at::Tensor tensor(const char* name);
  // The registry's own reference: no reference-count traffic. Valid until that
  // handle is freed, so never across torch::free or a script evaluation.
  const at::Tensor& tensorRef(const char* name);
  std::vector<at::Tensor> tensors(const char* name);
  bool isNumber(const char* name);     // TensorOrNumber: a number was given
  at::Scalar scalar(const char* name);
  template <class T>
  std::shared_ptr<T> object(const char* name) {
    return std::static_pointer_cast<T>(objectRaw(name));
  }
  std::shared_ptr<Object> objectRaw(const char* name);
  int64_t integer(const char* name);
  double number(const char* name);
  bool boolean(const char* name);
  std::string str(const char* name);
  at::ScalarType dtype(const char* name);
  c10::Device device(const char* name);
  ReduceOp op(const char* name);
  int choice(const char* name);  // index into Param::choices
  std::vector<int64_t> ints(const char* name);
  std::vector<double> doubles(const char* name);

  std::optional<int64_t> optInteger(const char* name) {
    return has(name) ? std::optional<int64_t>(integer(name)) : std::nullopt;
  }
  std::optional<at::ScalarType> optDtype(const char* name) {
    return has(name) ? std::optional<at::ScalarType>(dtype(name)) : std::nullopt;
  }

  // Result helpers: register a new handle and return its name.
  Tcl_Obj* result(const at::Tensor& t);
  Tcl_Obj* result(at::Tensor&& t);  // moves: no reference-count round trip
  Tcl_Obj* result(Kind k, std::shared_ptr<Object> o);
  Tcl_Obj* results(const std::vector<at::Tensor>& ts);  // list of new handles

  [[noreturn]] void badValue(const char* name, const std::string& what);

 private:
  int index(const char* name) const;
  // The default's literal text when the parameter was not given, else nullptr.
  const char* defaultLiteral(const char* name, int* idx) const;
  const Param& param(int i) const { return info.cmd->params[i]; }
  // Only the first info.cmd->params.size() entries are used (and initialised).
  Tcl_Obj* vals_[kMaxParams];
  Tcl_Obj* defaults_[kMaxParams];  // created lazily, released in ~Call
};

// Every area contributes its commands; table.cpp lists the areas in one place.
const std::vector<Command>& allCommands();
const std::vector<CommandInfo>& allCommandInfos();
// Registers torch::snake and torch::camel for every command in `interp`.
void registerCommands(Tcl_Interp* interp, State& st);

// Parsing helpers shared by types and handlers.
at::ScalarType parseDtype(const std::string& s, const char* param = "dtype");
const char* dtypeName(at::ScalarType t);
c10::Device parseDevice(const std::string& s, const char* param = "device");
Tcl_Obj* newList(const std::vector<int64_t>& v);
Tcl_Obj* newString(const std::string& s);

}  // namespace tcltorch
