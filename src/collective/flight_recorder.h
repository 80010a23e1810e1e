// The flight recorder (private to src/collective/): the last collectives of
// this rank, all groups, written to a file when one fails or on
// torch::distributed_debug_dump.
#pragma once
#include "call_site.h"
#include "tcltorch/runtime.h"
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

namespace tcltorch {

using SysClock = std::chrono::system_clock;

struct FlightEntry {
  uint64_t seq = 0;
  uint64_t serial = callSiteSerial();  // the command that started it
  std::string group, op, what, callSite;
  std::string state = "started";  // started, completed, failed
  std::string error;
  SysClock::time_point start, end;
};

class FlightRecorder {
 public:
  FlightRecorder(int rank, int size, size_t cap) : rank_(rank), size_(size), cap_(cap) {}
  std::shared_ptr<FlightEntry> add(uint64_t seq, std::string group, std::string op, std::string what,
                                   std::string site);
  static void finish(const std::shared_ptr<FlightEntry>& e, const char* state, const std::string& error = "");
  // Writes the dump ("" picks $TCLTORCH_DEBUG_DIR, else the temp folder);
  // returns the path ("" when it could not be written).
  std::string dump(std::string path, const std::string& reason);

 private:
  int rank_, size_;
  size_t cap_;
  std::mutex m_;
  std::deque<std::shared_ptr<FlightEntry>> ring_;
};
using RecorderPtr = std::shared_ptr<FlightRecorder>;

// A DIST TIMEOUT/ERROR/DESYNC of a recorded collective: marks it, writes the
// recorder, and points the message to the file.
Error recordFailure(const RecorderPtr& rec, const std::shared_ptr<FlightEntry>& e, const Error& err);

}  // namespace tcltorch
