// The flight recorder (flight_recorder.h).
#include "flight_recorder.h"
#include "tcltorch/collective.h"
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>

namespace tcltorch {

// How much of a failure's message the dump's header repeats.
constexpr size_t kReasonChars = 200;

static std::string clockText(SysClock::time_point t) {
  std::time_t tt = SysClock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  auto msPart = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03d", buf, int(msPart));
  return out;
}

std::shared_ptr<FlightEntry> FlightRecorder::add(uint64_t seq, std::string group, std::string op,
                                                 std::string what, std::string site) {
  auto e = std::make_shared<FlightEntry>();
  e->seq = seq;
  e->group = std::move(group);
  e->op = std::move(op);
  e->what = std::move(what);
  e->callSite = std::move(site);
  e->start = SysClock::now();
  std::lock_guard<std::mutex> lock(m_);
  if (cap_ == 0) return e;
  ring_.push_back(e);
  while (ring_.size() > cap_) ring_.pop_front();
  return e;
}

void FlightRecorder::finish(const std::shared_ptr<FlightEntry>& e, const char* state, const std::string& error) {
  if (!e || e->state != "started") return;
  e->state = state;
  e->error = error;
  e->end = SysClock::now();
}

std::string FlightRecorder::dump(std::string path, const std::string& reason) {
  if (path.empty()) {
    const char* dir = std::getenv("TCLTORCH_DEBUG_DIR");
    if (!dir || !*dir) dir = std::getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    path = std::string(dir) + "/tcltorch-flight-rank" + std::to_string(rank_) + "-" +
           std::to_string(::getpid()) + ".txt";
  }
  std::ofstream f(path);
  if (!f) return "";
  std::lock_guard<std::mutex> lock(m_);
  f << "tcltorch flight recorder: rank " << rank_ << " of " << size_ << ", pid " << ::getpid() << ", written "
    << clockText(SysClock::now()) << (reason.empty() ? "" : " (" + reason + ")") << "\n";
  f << "last " << ring_.size() << " collective(s), oldest first:\n";
  f << "seq\tgroup\top\ttensor\tstate\tstart\tms\tcall site\terror\n";
  for (auto& e : ring_) {
    std::string dur = "-";
    if (e->state != "started") {
      char b[32];
      std::snprintf(b, sizeof b, "%.3f", std::chrono::duration<double, std::milli>(e->end - e->start).count());
      dur = b;
    }
    f << e->seq << "\t" << e->group << "\t" << e->op << "\t" << e->what << "\t" << e->state << "\t"
      << clockText(e->start) << "\t" << dur << "\t" << (e->callSite.empty() ? "?" : e->callSite) << "\t"
      << e->error << "\n";
  }
  return f ? path : "";
}

Error recordFailure(const RecorderPtr& rec, const std::shared_ptr<FlightEntry>& e, const Error& err) {
  // Still inside the command that started it: its call site is known.
  if (e && e->callSite.empty() && e->serial == callSiteSerial() && callSiteKnown()) e->callSite = currentCallSite();
  FlightRecorder::finish(e, "failed", err.what());
  if (!rec || err.code.size() < 2 || err.code[0] != "DIST" ||
      (err.code[1] != "TIMEOUT" && err.code[1] != "ERROR" && err.code[1] != "DESYNC"))
    return err;
  std::string path = rec->dump("", std::string(err.what()).substr(0, kReasonChars));
  if (path.empty()) return err;
  return Error(std::string(err.what()) + " (flight recorder: " + path + ")", err.code);
}

}  // namespace tcltorch
