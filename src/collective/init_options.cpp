// distributed_init's option resolution (dist_options.h): given values, the
// environment, defaults. The messages are the user-facing contract: they name
// the Tcl options (-rank) as the command's documentation does.
#include "tcltorch/dist_options.h"
#include <cstdlib>

namespace tcltorch {

static const char* envValue(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

// A given value wins over nothing; conflicting with the environment is an error.
static std::string setting(const std::optional<std::string>& given, const char* param, const char* envName,
                           const std::string& def) {
  const char* e = envValue(envName);
  if (given) {
    if (e && *given != e)
      fail(std::string("-") + param + " " + *given + " conflicts with " + envName + "=" + e + " in the environment",
           {"DIST", "CONFIG", param});
    return *given;
  }
  return e ? e : def;
}

static int intSetting(const std::optional<int64_t>& given, const char* param, const char* envName, int def) {
  std::optional<std::string> word;
  if (given) word = std::to_string(*given);
  std::string s = setting(word, param, envName, std::to_string(def));
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end) fail(std::string(envName) + "=" + s + " is not an integer", {"DIST", "CONFIG", param});
  return int(v);
}

static const char* const kInitMethodForms = "env://, tcp://host:port or file://path";

DistOptions resolveDistOptions(const GivenDistOptions& g) {
  DistOptions o;
  o.rank = intSetting(g.rank, "rank", "RANK", 0);
  o.worldSize = intSetting(g.worldSize, "world_size", "WORLD_SIZE", 1);
  o.localRank = envValue("LOCAL_RANK") ? std::atoi(envValue("LOCAL_RANK")) : o.rank;
  o.masterAddr = setting(g.masterAddr, "master_addr", "MASTER_ADDR", "127.0.0.1");
  o.masterPort = intSetting(g.masterPort, "master_port", "MASTER_PORT", 29500);
  o.backend = g.backend;
  if (g.initMethod) {
    o.initMethod = *g.initMethod;
    if (o.initMethod.rfind("tcp://", 0) == 0) {
      // tcp://host:port names the master instead of the environment.
      std::string hp = o.initMethod.substr(6);
      auto colon = hp.rfind(':');
      char* end = nullptr;
      long port = colon == std::string::npos ? -1 : std::strtol(hp.c_str() + colon + 1, &end, 10);
      if (colon == std::string::npos || colon == 0 || *end || port <= 0 || port > 65535)
        throw BadSetting("init_method", kInitMethodForms);
      std::string host = hp.substr(0, colon);
      if ((g.masterAddr && *g.masterAddr != host) || (g.masterPort && *g.masterPort != port))
        fail("-init_method " + o.initMethod + " conflicts with -master_addr/-master_port",
             {"DIST", "CONFIG", "init_method"});
      o.masterAddr = host;
      o.masterPort = int(port);
    } else if (o.initMethod != "env://" &&
               !(o.initMethod.rfind("file://", 0) == 0 && o.initMethod.size() > 7)) {
      throw BadSetting("init_method", kInitMethodForms);
    }
  }
  // MASTER_PORT is checked here; a given port also by the binding's declared range.
  if (o.masterPort <= 0 || o.masterPort > 65535) throw BadSetting("master_port", "a port between 1 and 65535");
  if (g.timeout) {
    if (!(*g.timeout > 0)) throw BadSetting("timeout", "a positive number of seconds");
    o.timeout = std::chrono::milliseconds(int64_t(*g.timeout * 1000));
  } else if (const char* e = envValue("TCLTORCH_DIST_TIMEOUT")) {
    double s = std::atof(e);
    if (!(s > 0)) fail(std::string("TCLTORCH_DIST_TIMEOUT=") + e + " is not a positive number", {"DIST", "CONFIG", "timeout"});
    o.timeout = std::chrono::milliseconds(int64_t(s * 1000));
  }
  const char* dbg = envValue("TORCH_DISTRIBUTED_DEBUG");
  o.debug = g.debug || (dbg && std::string(dbg) == "DETAIL");
  if (g.desyncCheck) {
    o.desyncCheck = *g.desyncCheck;
  } else if (const char* e = envValue("TCLTORCH_DESYNC_CHECK")) {
    o.desyncCheck = std::string(e) != "0";
  }
  if (const char* e = envValue("TCLTORCH_DESYNC_SHM")) o.desyncShm = std::string(e) != "0";
  return o;
}

}  // namespace tcltorch
