// A small strict JSON (RFC 8259) reader and writer, for file headers such as
// safetensors'. Objects keep their members in file order; duplicate keys,
// trailing commas, comments, bad escapes and invalid UTF-8 are errors.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tcltorch {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0;
  bool isInt = false;  // a number written as an integer that fits int64
  int64_t i = 0;
  std::string str;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;

  const Json* find(std::string_view key) const;  // Object member or nullptr
  static Json string(std::string s);
  static Json integer(int64_t v);
};

// What is wrong and at which byte of the text.
struct JsonError : std::runtime_error {
  size_t pos;
  JsonError(const std::string& m, size_t p) : std::runtime_error(m), pos(p) {}
};

// The whole text must be one JSON value (surrounding whitespace allowed).
Json parseJson(std::string_view text, int maxDepth = 64);
// Compact form: no whitespace, strings escaped as JSON requires.
std::string writeJson(const Json& v);

}  // namespace tcltorch
