// The collective layer's error mapping (errors.h).
#include "errors.h"
#include <cctype>

namespace tcltorch {

static bool looksLikeTimeout(const std::string& m) {
  std::string l;
  for (char ch : m) l += char(std::tolower(static_cast<unsigned char>(ch)));
  return l.find("timed out") != std::string::npos || l.find("timeout") != std::string::npos;
}

void distFailure(const std::string& op, const std::exception& e, const std::string& context) {
  if (auto* err = dynamic_cast<const Error*>(&e)) throw *err;
  std::string m = torchMessage(e);
  bool timeout = looksLikeTimeout(m);
  fail(op + (timeout ? " timed out" : " failed") + context + ": " + m,
       {"DIST", timeout ? "TIMEOUT" : "ERROR", op});
}

}  // namespace tcltorch
