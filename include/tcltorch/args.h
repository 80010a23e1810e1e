// The one dual-syntax parser and the command table: the typed contract.
// Every argument is converted to its declared type (and checked against its
// declared range or choices) before the handler runs; a handler only reads
// typed values through Call's accessors.
#pragma once
#include "tcltorch/runtime.h"
#include "tcltorch/vocab.h"  // ReduceOp, dtype names
#include <limits>
#include <optional>

namespace tcltorch {

enum class Type {
  Tensor,          // tensor handle
  TensorOrNumber,  // tensor handle or a number (scalar operand)
  OptTensor,       // tensor handle, or none / "" for "no tensor"
  TensorList,      // list of tensor handles
  TensorsOrModule, // list of tensor handles, or one module handle (its parameters)
  TensorOrShard,   // tensor handle or shard handle
  Module, Optimizer, Work, Scheduler, Shard,  // object handles
  Writer, Loader,  // summary writer, data loader handles
  Mesh,            // device mesh handle
  ModuleList,      // list of module handles
  Handles,         // one handle or a list of handles of any kind
  Int, Double, Bool, String,
  PosInt,          // Int >= 1
  NonNegInt,       // Int >= 0
  Probability,     // Double in [0, 1]
  RankOrAll,       // Int >= 0, or "all" (read as -1)
  Dtype,           // float32 float64 float16 bfloat16 int8 int16 int32 int64 uint8 bool
  Device,          // cpu, cuda, cuda:N
  ReduceOp,        // sum mean max min product
  Choice,          // one of Param::choices
  IntList, DoubleList,
  IntLists,        // a list of integer lists ({{0 1} {1 2}}; an integer N is {{N}})
  NumberOrChoice,  // a number, or one of Param::choices (a norm's ord: 2, inf, fro, nuc)
  Data,            // a number or a nested list of numbers (read by the handler)
  Bytes,           // a byte array (never turned into a string)
  Path,            // a file path (commands with one are left out of safe interpreters)
  Script,          // a Tcl script body
  CommandWords,    // a command as a list of words
  Words,           // the remaining positional words, as a list (the last parameter; named: a list)
  NamedChoices,    // a list of name / choice pairs ({0 colwise 2 rowwise}), choices from Param::choices
};
const char* typeName(Type t);

extern const char* const kOptional;  // Param::def for "optional, no default"

// One allowed word of a Type::Choice parameter and the enum value it stands for.
struct Choice {
  const char* name;
  int value;
};
// The choices of a parameter: one array for parsing, help and docs. A space
// separated string is shorthand for values 0, 1, 2, ... in order.
struct ChoiceSpec {
  std::vector<Choice> items;
  ChoiceSpec() = default;
  ChoiceSpec(std::nullptr_t) {}
  ChoiceSpec(const char* spaceSeparated);
  ChoiceSpec(std::initializer_list<Choice> l) : items(l) {}
  bool empty() const { return items.empty(); }
};

struct Param {
  const char* name;             // snake_case; -camelCase is derived
  Type type;
  const char* def;              // nullptr: required; kOptional; else the default literal
  const char* doc;
  const char* aliases = nullptr;  // extra spellings, space separated, without '-'
  ChoiceSpec choices = {};        // Type::Choice
  bool named_only = false;  // only as -name value (e.g. -async): never taken positionally
  // Inclusive bounds of a numeric value (each element of a list); NaN: none.
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
  // Member of a run of consecutive optional positionals of pairwise disjoint
  // types, matched by type in any order (tensor_create's shape/dtype/device).
  bool by_type = false;
  // The last parameter, taking every remaining positional word: one word is
  // the value itself, several are the list of them (cartesian_prod $a $b $c,
  // or cartesian_prod [list $a $b $c]).
  bool variadic = false;
  // "" stands for the default (a positional placeholder: gradient $t {} 0).
  bool empty_is_default = false;
  bool lo_open = false;    // lo itself is refused (a number > lo)
  bool hi_open = false;    // hi itself is refused (a number < hi)
  bool non_empty = false;  // a list type: at least one element
  // What a value must be, in messages, where the words are not describe()'s
  // ("a positive integer" rather than "an integer >= 1").
  const char* must = nullptr;

  Param atLeast(double v) const { Param p = *this; p.lo = v; return p; }
  Param within(double a, double b) const { Param p = *this; p.lo = a; p.hi = b; return p; }
  Param nonNegative() const { return atLeast(0); }
  Param above(double v) const { Param p = atLeast(v); p.lo_open = true; return p; }  // > v
  // Both ends refused: a number in (a, b).
  Param strictlyWithin(double a, double b) const {
    Param p = within(a, b);
    p.lo_open = p.hi_open = true;
    return p;
  }
  // Integers >= 1 ("a positive integer"), numbers > 0 ("a positive number"),
  // or in the given words. In a list, each element.
  Param positive(const char* words = nullptr) const {
    Param p = *this;
    bool ints = type == Type::Int || type == Type::IntList || type == Type::IntLists;
    p.lo = ints ? 1 : 0;
    p.lo_open = !ints;
    p.must = words ? words : type == Type::Int ? "a positive integer" : type == Type::Double ? "a positive number" : nullptr;
    return p;
  }
  Param probability() const { Param p = within(0, 1); p.must = "a probability between 0 and 1"; return p; }
  Param nonEmpty() const { Param p = *this; p.non_empty = true; return p; }
  Param mustBe(const char* words) const { Param p = *this; p.must = words; return p; }
  Param byType() const { Param p = *this; p.by_type = true; return p; }
  Param variadicList() const { Param p = *this; p.variadic = true; return p; }
  Param emptyIsDefault() const { Param p = *this; p.empty_is_default = true; return p; }
  Param alias(const char* a) const { Param p = *this; p.aliases = a; return p; }
};

class Call;
using Handler = Tcl_Obj* (*)(Call&);
// The `bad NAME "VALUE": must be WHAT` error with {TORCH ARGS VALUE name value}.
[[noreturn]] void badValueError(const char* name, Tcl_Obj* value, const std::string& what);

// A row's parameters as a struct of typed keys: each member declares one
// parameter (in member order, which is the positional order) and is the key a
// handler reads it by, so reading a parameter the row lacks is an unknown member
// (a compile error), and reading it as the wrong kind is a static_assert.
//   struct KthArgs : Args {
//     Arg<Type::Tensor> input{this, kInput};
//     Arg<Type::Int> k{this, {"k", Type::Int, nullptr, "rank, from 1"}};
//   };
//   static Tcl_Obj* cmdKth(Call& c, const KthArgs& a) { ... c.integer(a.k) ... }
//   typedRow<cmdKth>("kthvalue", "doc")
// A family's struct takes its member in its constructor (a per-member name or
// alias); a shared helper takes the keys it reads as arguments.
struct Args {
  std::vector<Param> params;
  Args() = default;
  Args(const Args&) = delete;  // keys index this object's params
  Args& operator=(const Args&) = delete;
};

template <Type T>
struct Arg {
  int index;
  const char* name;
  Arg(Args* owner, const Param& p) : index(int(owner->params.size())), name(p.name) {
    if (p.type != T) throw std::logic_error(std::string("internal: parameter ") + p.name + " declared as " + typeName(p.type) + ", keyed as " + typeName(T));
    owner->params.push_back(p);
  }
};

struct Command {
  const char* name;  // snake_case; torch::camelCase is derived
  const char* doc;
  std::vector<Param> params;
  Handler handler;
  const void* data = nullptr;  // family member data for a shared handler (Call::data)
  const char* aliases = nullptr;  // other command names, space separated (other API's spellings)
  // Touches sockets or the environment: left out of safe interpreters (so is
  // every command with a Type::Path parameter).
  bool unsafe = false;
  // This row is the tensor-function form of the command of the same name (the
  // other API calls some layer constructors with a tensor first: embedding
  // $indices 5 4). It is no command of its own: the command takes this row
  // when its first word is a tensor handle, or when a named word spells this
  // row's first parameter (compat rule 5: the types tell the forms apart).
  bool tensor_form = false;
  // The typed keys of a row made by typedRow (its params are args->params).
  std::shared_ptr<const Args> args = nullptr;

  Command withData(const void* d) const { Command c = *this; c.data = d; return c; }
  Command asTensorForm() const { Command c = *this; c.tensor_form = true; return c; }
  Command withAliases(const char* a) const { Command c = *this; c.aliases = a; return c; }
  Command markUnsafe() const { Command c = *this; c.unsafe = true; return c; }
};

// A converted argument. Which fields are set depends on the parameter's type.
// Kept small: one is made per given word on every call, so the lists that
// only some types need live in `more`, made by those types' converters.
struct Value {
  struct More {
    std::vector<int64_t> ints;
    std::vector<double> dbls;
    std::vector<at::Tensor> ts;    // TensorList, TensorsOrModule given as tensors
    std::vector<std::shared_ptr<Object>> objs;  // ModuleList
    std::vector<std::vector<int64_t>> lists;    // IntLists
    std::vector<std::pair<std::string, int>> pairs;  // NamedChoices: name, the choice's value
  };
  Tcl_Obj* obj = nullptr;        // the word as given (nullptr for a default)
  int64_t i = 0;                 // Int family, Bool, Choice value, ReduceOp, RankOrAll (-1: all)
  double d = 0;                  // Double family
  const at::Tensor* t = nullptr; // Tensor family: the registry's tensor
  at::Scalar s;                  // TensorOrNumber given as a number
  std::shared_ptr<Object> o;     // object handles, TensorOrShard/TensorsOrModule given as an object
  const char* literal = nullptr; // a default's literal (a given word's text is obj's)
  std::unique_ptr<More> more;
  bool numeric = false;          // TensorOrNumber / NumberOrChoice given as a number
  at::ScalarType dtype = at::kFloat;
  c10::DeviceType devType = c10::kCPU;
  c10::DeviceIndex devIndex = -1;

  More& lists() {
    if (!more) more = std::make_unique<More>();
    return *more;
  }
  const More& lists() const {
    static const More none;
    return more ? *more : none;
  }
};

// Derived once per command at load time.
struct CommandInfo {
  const Command* cmd;
  std::string camel;
  std::vector<std::string> aliases;  // other registered names (other API's spellings)
  std::string usage;  // "torch::name a ?b? ?c?"
  std::vector<std::pair<std::string, int>> spellings;  // "world_size" -> 1
  std::vector<std::optional<Value>> defaults;  // converted default literals
  uint32_t required = 0;  // bit k: parameter k has no default
  const CommandInfo* tensorForm = nullptr;  // the row of Command::tensor_form with this name, if any
  int lookup(const char* spelling) const;
};

std::string camelCase(const std::string& snake);
// What a value of this parameter must be, for messages and docs ("an integer >= 0").
std::string describe(const Param& p);
std::string rangeText(const Param& p);  // " >= 1", " in [0, 1]", or ""
// "a, b, or c": the words of Param::choices (after `first`, when given).
std::string choiceWords(const Param& p, const char* first = nullptr);

constexpr int kMaxParams = 16;

// One command invocation: the converted arguments, typed accessors, result helpers.
class Call {
 public:
  Call(State& st, const CommandInfo& info, int objc, Tcl_Obj* const objv[]);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  State& st;
  Tcl_Interp* interp;
  const CommandInfo& info;

  template <class T>
  const T& data() const { return *static_cast<const T*>(info.cmd->data); }

  // Each accessor takes a typed key (Arg<T>) of the row's argument struct, and
  // refuses at compile time a key of a type it does not read.
  template <Type T> const char* nameOf(const Arg<T>& k) const { return param(slot(k)).name; }  // the row's spelling
  template <Type T> bool has(const Arg<T>& k) const { return v_[slot(k)] != nullptr; }  // given, or has a default
  template <Type T> bool given(const Arg<T>& k) const { return givenAt(slot(k)); }  // given by the caller
  template <Type T> Tcl_Obj* obj(const Arg<T>& k) { return objAt(slot(k)); }  // given word or default; nullptr if neither

  template <Type T> at::Tensor tensor(const Arg<T>& k) { return tensorRef(k); }
  // The registry's own reference: no reference-count traffic. Valid until that
  // handle is freed, so never across torch::free or a script evaluation.
  template <Type T> const at::Tensor& tensorRef(const Arg<T>& k) {
    static_assert(reads<T>(Type::Tensor, Type::OptTensor, Type::TensorOrNumber, Type::TensorOrShard), "not a tensor parameter");
    return *get(k).t;
  }
  template <Type T> const std::vector<at::Tensor>& tensors(const Arg<T>& k) {
    static_assert(reads<T>(Type::TensorList, Type::TensorsOrModule), "not a tensor list parameter");
    return get(k).lists().ts;
  }
  template <Type T> bool isNumber(const Arg<T>& k) {  // TensorOrNumber, NumberOrChoice given as a number
    static_assert(reads<T>(Type::TensorOrNumber, Type::NumberOrChoice), "not a tensor-or-number parameter");
    return get(k).numeric;
  }
  template <Type T> const at::Scalar& scalar(const Arg<T>& k) {  // an integer word stays integral
    static_assert(reads<T>(Type::TensorOrNumber, Type::NumberOrChoice, Type::Double, Type::Probability, Type::Int,
                           Type::PosInt, Type::NonNegInt),
                  "not a number parameter");
    return get(k).s;
  }
  template <class O, Type T> std::shared_ptr<O> object(const Arg<T>& k) { return std::static_pointer_cast<O>(objectRaw(k)); }
  template <Type T> const std::shared_ptr<Object>& objectRaw(const Arg<T>& k) {
    static_assert(reads<T>(Type::Module, Type::Optimizer, Type::Work, Type::Scheduler, Type::Shard, Type::Writer,
                           Type::Loader, Type::Mesh, Type::TensorOrShard, Type::TensorsOrModule, Type::Handles),
                  "not an object parameter");
    return get(k).o;
  }
  template <Type T> const std::vector<std::shared_ptr<Object>>& objects(const Arg<T>& k) {
    static_assert(reads<T>(Type::ModuleList, Type::Handles), "not an object list parameter");
    return get(k).lists().objs;
  }
  template <Type T> int64_t integer(const Arg<T>& k) {
    static_assert(reads<T>(Type::Int, Type::PosInt, Type::NonNegInt, Type::RankOrAll, Type::Bool, Type::Choice),
                  "not an integer parameter");
    return get(k).i;
  }
  template <Type T> double number(const Arg<T>& k) {
    static_assert(reads<T>(Type::Double, Type::Probability, Type::Int, Type::PosInt, Type::NonNegInt, Type::TensorOrNumber),
                  "not a number parameter");
    return numberOf(get(k));
  }
  template <Type T> bool boolean(const Arg<T>& k) {
    static_assert(reads<T>(Type::Bool), "not a boolean parameter");
    return get(k).i != 0;
  }
  template <Type T> std::string str(const Arg<T>& k) { return strOf(get(k)); }
  template <Type T> at::ScalarType dtype(const Arg<T>& k) {
    static_assert(reads<T>(Type::Dtype), "not a dtype parameter");
    return get(k).dtype;
  }
  template <Type T> c10::Device device(const Arg<T>& k) {
    static_assert(reads<T>(Type::Device), "not a device parameter");
    const Value& v = get(k);
    return c10::Device(v.devType, v.devIndex);
  }
  template <Type T> ReduceOp op(const Arg<T>& k) {
    static_assert(reads<T>(Type::ReduceOp), "not a reduce-op parameter");
    return ReduceOp(get(k).i);
  }
  template <Type T> int choice(const Arg<T>& k) {  // the Choice's value
    static_assert(reads<T>(Type::Choice, Type::NumberOrChoice), "not a choice parameter");
    return int(get(k).i);
  }
  template <Type T> const std::vector<int64_t>& ints(const Arg<T>& k) {
    static_assert(reads<T>(Type::IntList), "not an integer list parameter");
    return get(k).lists().ints;
  }
  template <Type T> const std::vector<double>& doubles(const Arg<T>& k) {
    static_assert(reads<T>(Type::DoubleList), "not a number list parameter");
    return get(k).lists().dbls;
  }
  template <Type T> const std::vector<std::vector<int64_t>>& intLists(const Arg<T>& k) {
    static_assert(reads<T>(Type::IntLists), "not a list-of-integer-lists parameter");
    return get(k).lists().lists;
  }
  template <Type T> std::vector<std::string> words(const Arg<T>& k) {  // Type::Words: the list's elements
    static_assert(reads<T>(Type::Words, Type::CommandWords), "not a words parameter");
    return wordsOf(obj(k));
  }
  template <Type T> const std::vector<std::pair<std::string, int>>& namedChoices(const Arg<T>& k) {
    static_assert(reads<T>(Type::NamedChoices), "not a named-choices parameter");
    return get(k).lists().pairs;
  }
  template <Type T> std::optional<int64_t> optInteger(const Arg<T>& k) {
    return has(k) ? std::optional<int64_t>(integer(k)) : std::nullopt;
  }
  // An optional tensor (Type::OptTensor: left out, "" or none give an undefined tensor).
  template <Type T> at::Tensor optTensor(const Arg<T>& k) { return has(k) ? tensor(k) : at::Tensor(); }

  // Result helpers: register a new handle and return its name.
  Tcl_Obj* result(const at::Tensor& t);
  Tcl_Obj* result(at::Tensor&& t);  // moves: no reference-count round trip
  Tcl_Obj* result(Kind k, std::shared_ptr<Object> o);
  Tcl_Obj* results(const std::vector<at::Tensor>& ts);  // list of new handles

  // A value that is well typed but wrong for this call (e.g. a dim out of range):
  // `bad NAME "VALUE": must be WHAT`, errorcode {TORCH ARGS VALUE name value}.
  template <Type T> [[noreturn]] void badValue(const Arg<T>& k, const std::string& what) {
    int i = slot(k);
    badValueError(param(i).name, objAt(i), what);
  }

 private:
  // Whether a key of type T may be read as one of `ts`.
  template <Type T, class... Ts> static constexpr bool reads(Ts... ts) { return ((T == ts) || ...); }
  // A key's own position, or, in a row that holds the struct's parameters at
  // other positions (a tensor form puts the input before a constructor's), by name.
  template <Type T> int slot(const Arg<T>& a) const {
    return size_t(a.index) < info.cmd->params.size() && param(a.index).name == a.name ? a.index : index(a.name);
  }
  bool givenAt(int i) const { return ownPtr(i) && v_[i] == ownPtr(i); }
  Tcl_Obj* objAt(int i);
  static double numberOf(const Value& v);
  static std::string strOf(const Value& v);
  static std::vector<std::string> wordsOf(Tcl_Obj* list);
  // A key's name is the row's own literal, so a pointer compare finds it;
  // strcmp is the fallback.
  int index(const char* name) const {
    const Param* ps = info.cmd->params.data();
    for (size_t i = 0, n = info.cmd->params.size(); i < n; ++i)
      if (ps[i].name == name) return int(i);
    return indexByName(name);
  }
  int indexByName(const char* name) const;
  template <Type T> const Value& get(const Arg<T>& k) const {
    int i = slot(k);
    const Value* v = v_[i];
    if (!v) unset(i);
    return *v;
  }
  [[noreturn]] void unset(int i) const;
  const Param& param(int i) const { return info.cmd->params[i]; }
  void assign(int k, Tcl_Obj* word);
  // Only the first info.cmd->params.size() entries are used.
  const Value* v_[kMaxParams];        // given, default, or nullptr (absent)
  // Converted given words, constructed on demand (a bit per slot in ownMask_):
  // an array of std::optional<Value> would zero kMaxParams Values on every call.
  alignas(Value) unsigned char own_[kMaxParams][sizeof(Value)];
  uint32_t ownMask_ = 0;
  uint32_t defaultsMask_ = 0;         // which defaults_ entries are made
  Value& own(int k) { return *reinterpret_cast<Value*>(own_[k]); }
  const Value* ownPtr(int k) const { return ownMask_ >> k & 1 ? reinterpret_cast<const Value*>(own_[k]) : nullptr; }
  Value& emplaceOwn(int k);
  Value& emplaceOwn(int k, Value&& v);
  void resetOwn(int k);
  Tcl_Obj* defaults_[kMaxParams];     // default literals as objects, made on demand by obj()
  Tcl_Obj* rest_ = nullptr;           // the list a Type::Words or variadic parameter collects
};

// A row made from a handler that reads an argument struct: the struct's
// parameters are the row's, and the handler gets the row's own struct.
template <class F> struct HandlerArgs;
template <class A> struct HandlerArgs<Tcl_Obj* (*)(Call&, const A&)> { using type = A; };
template <auto H>
Tcl_Obj* boundHandler(Call& c) {
  using A = typename HandlerArgs<decltype(H)>::type;
  return H(c, static_cast<const A&>(*c.info.cmd->args));
}
// `args`: a family member's own struct (or one shared by a family).
template <auto H>
Command typedRow(const char* name, const char* doc, std::shared_ptr<const typename HandlerArgs<decltype(H)>::type> args) {
  Command c{name, doc, args->params, &boundHandler<H>};
  c.args = std::move(args);
  return c;
}
template <auto H>
Command typedRow(const char* name, const char* doc) {
  return typedRow<H>(name, doc, std::make_shared<const typename HandlerArgs<decltype(H)>::type>());
}

// Every area contributes its commands; table.cpp lists the areas in one place.
const std::vector<Command>& allCommands();
const std::vector<CommandInfo>& allCommandInfos();
// Registers torch::snake, torch::camel and the aliases of every command in `interp`;
// `safe`: leave out the commands that touch files, sockets or the environment.
void registerCommands(Tcl_Interp* interp, State& st, bool safe = false);

// Parsing helpers shared by types and handlers.
at::ScalarType parseDtype(const std::string& s, const char* param = "dtype");
c10::Device parseDevice(const std::string& s, const char* param = "device");
// A number, including NaN, Inf and their signed forms.
bool parseNumber(Tcl_Obj* o, double* d);
Tcl_Obj* newList(const std::vector<int64_t>& v);
Tcl_Obj* newString(const std::string& s);

}  // namespace tcltorch
