// Process groups and rendezvous: the per-interpreter distributed state (the
// default group and named subgroups, in st.ext["dist"]), communicator(), and
// the making of groups (TCPStore / FileStore / HashStore, Gloo or NCCL,
// ProcessGroupWrapper, the desync check's exchange).
#include "c10d.h"
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupWrapper.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>
#include <algorithm>
#include <cstdlib>
#include <map>

namespace tcltorch {

// ---- per-interpreter state -------------------------------------------------

static void exitHandler(ClientData cd);

namespace {
struct DistState {
  State* owner = nullptr;
  DistOptions opts;
  std::string backend;
  c10::intrusive_ptr<c10d::Store> store;
  RecorderPtr recorder;
  std::shared_ptr<C10dCommunicator> world;
  // Named subgroups; nullptr where this rank is not a member.
  std::map<std::string, std::shared_ptr<C10dCommunicator>> groups;
  int groupCounter = 0;
  ~DistState() {
    if (owner) Tcl_DeleteExitHandler(exitHandler, owner);
    // Subgroups first: they share the store with the default group.
    groups.clear();
    world.reset();
    store.reset();
  }
};
}  // namespace

static DistState* dist(State& st) {
  auto it = st.ext.find("dist");
  return it == st.ext.end() ? nullptr : static_cast<DistState*>(it->second.get());
}

bool distInitialized(State& st) { return dist(st) != nullptr; }
const DistOptions* distOptions(State& st) {
  DistState* d = dist(st);
  return d ? &d->opts : nullptr;
}

CommPtr communicator(State& st, const std::string& group) {
  static const CommPtr local = std::make_shared<LocalCommunicator>();
  DistState* d = dist(st);
  if (!d) return local;  // the world of one: any name, as the seeds show
  if (group.empty()) return d->world;
  auto it = d->groups.find(group);
  if (it == d->groups.end()) {
    std::string known;
    for (auto& [n, c] : d->groups) known += (known.empty() ? "" : ", ") + n;
    fail("unknown process group \"" + group + "\" (" +
             (known.empty() ? std::string("no group was made with torch::distributed_new_group")
                            : "groups: " + known) + "; \"\" is the default group)",
         {"DIST", "GROUP", group});
  }
  if (!it->second)
    fail("rank " + std::to_string(d->opts.rank) + " is not a member of group \"" + group + "\"",
         {"DIST", "NOTMEMBER", group});
  return it->second;
}

int memberRank(const Communicator& c, int64_t r, bool anyInWorldOfOne) {
  if (r < 0 || r > INT32_MAX) return -1;
  if (anyInWorldOfOne && c.backend() == "local") return c.groupRank(int(r));
  std::vector<int> members = c.globalRanks();
  if (std::find(members.begin(), members.end(), int(r)) == members.end()) return -1;
  return c.groupRank(int(r));
}

std::string notMemberReason(const Communicator& c, int64_t r) {
  std::string ranks;
  for (int x : c.globalRanks()) ranks += (ranks.empty() ? "" : " ") + std::to_string(x);
  return "rank " + std::to_string(r) + " is not in the group (ranks " + ranks + ")";
}

std::string distDebugDump(State& st, const std::string& path) {
  DistState* d = dist(st);
  if (!d) return "";
  std::string p = d->recorder->dump(path, "distributed_debug_dump");
  if (p.empty()) fail("distributed_debug_dump: cannot write \"" + path + "\"", {"DIST", "DUMP"});
  return p;
}

static compat::PgPtr makeGloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                              const DistOptions& o) {
  auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
  opts->devices.push_back(glooDevice(o, size));
  opts->threads = 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
}

// One process group (default or subgroup) on `store`, wrapped for -debug,
// with its desync-check context.
static Group makeGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                       const std::string& backend, const DistOptions& o) {
  Group g;
  g.store = store;
  g.callSites = o.debug;
  if (backend == "nccl") {
#ifdef TCLTORCH_WITH_NCCL
    // NCCL's bootstrap, like Gloo, picks its own interface; the one that
    // routes to the master is the one every host can use ("=" matches it
    // exactly). NCCL_SOCKET_IFNAME still wins.
    if (!std::getenv("NCCL_SOCKET_IFNAME") && size > 1) {
      std::string ifname = interfaceTowards(o.masterAddr, o.masterPort);
      if (!ifname.empty()) setenv("NCCL_SOCKET_IFNAME", ("=" + ifname).c_str(), 0);
    }
    g.pg = makeNcclGroup(c10::make_intrusive<c10d::PrefixStore>("nccl", store), rank, size, o.timeout,
                         o.localRank);
#else
    fail("backend nccl needs a CUDA build of libtorch (this build is CPU only; use -backend gloo)",
         {"DIST", "BACKEND", "nccl"});
#endif
  } else {
    g.pg = makeGloo(c10::make_intrusive<c10d::PrefixStore>("gloo", store), rank, size, o);
  }
  if (o.debug) {
    // c10d's ProcessGroupWrapper checks, on a helper Gloo group, that every
    // rank calls the same collective with the same shapes and dtypes.
    auto helper = c10::static_intrusive_pointer_cast<c10d::ProcessGroupGloo>(
        makeGloo(c10::make_intrusive<c10d::PrefixStore>("wrapper", store), rank, size, o));
    g.pg = c10::make_intrusive<c10d::ProcessGroupWrapper>(g.pg, helper);
  }
  if (o.desyncCheck && size > 1) {
    // Shared memory where every rank is on this host: no network round trip
    // per call. Otherwise on the group itself: the fingerprints take the path
    // the data takes (measured faster than a Gloo context of their own, whose
    // extra threads cost more wake-ups). NCCL needs a CPU group beside it.
    g.shm = ShmExchange::open(*store, rank, size, kFp, o.desyncShm);
    if (!g.shm)
      g.fingerprints = backend == "nccl"
                           ? makeGloo(c10::make_intrusive<c10d::PrefixStore>("desync", store), rank, size, o)
                           : g.pg;
  }
  return g;
}

CommPtr makeGlooCommunicator(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, ms timeout) {
  DistOptions o;
  o.timeout = timeout;
  std::vector<int> all(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) all[size_t(i)] = i;
  return std::make_shared<C10dCommunicator>(makeGroup(store, rank, size, "gloo", o), "gloo", all, timeout);
}

static void exitHandler(ClientData cd) {
  // Tcl's exit does not delete interpreters: shut the groups down here so
  // that no c10d thread outlives the process's static destructors.
  distDestroy(*static_cast<State*>(cd));
}

std::string distInit(State& st, const DistOptions& o) {
  if (dist(st))
    fail("distributed already initialized (call torch::distributed_destroy first)",
         {"DIST", "INITIALIZED"});
  if (o.worldSize < 1) fail("world_size must be at least 1", {"DIST", "CONFIG", "world_size"});
  if (o.rank < 0 || o.rank >= o.worldSize)
    fail("rank " + std::to_string(o.rank) + " is outside the world of " + std::to_string(o.worldSize),
         {"DIST", "CONFIG", "rank"});
  std::string backend = o.backend;
  if (backend == "auto") {
#ifdef TCLTORCH_WITH_NCCL
    backend = torch::cuda::is_available() ? "nccl" : "gloo";
#else
    backend = "gloo";
#endif
  }
  auto d = std::make_shared<DistState>();
  d->opts = o;
  d->opts.backend = backend;
  d->backend = backend;
  d->recorder = std::make_shared<FlightRecorder>(o.rank, o.worldSize, o.flightRecorder);
  guarded("distributed_init", [&] {
    c10::intrusive_ptr<c10d::Store> store;
    if (o.initMethod.rfind("file://", 0) == 0) {
      store = c10::make_intrusive<c10d::FileStore>(o.initMethod.substr(7), o.worldSize);
    } else if (o.worldSize == 1) {
      store = c10::make_intrusive<c10d::HashStore>();  // no network for a world of one
    } else {
      c10d::TCPStoreOptions so;
      so.port = uint16_t(o.masterPort);
      so.isServer = o.rank == 0;
      so.numWorkers = size_t(o.worldSize);
      so.waitWorkers = true;
      so.timeout = o.timeout;
      store = compat::makeTcpStore(o.masterAddr, so);
    }
    store->setTimeout(o.timeout);
    d->store = store;
    std::vector<int> all(size_t(o.worldSize));
    for (int i = 0; i < o.worldSize; ++i) all[size_t(i)] = i;
    // makeGroup's check set-up relies on the ranks agreeing.
    if (o.worldSize > 1) agreeOnDesyncCheck(*store, o.rank, o.worldSize, o.desyncCheck);
    auto g = makeGroup(c10::make_intrusive<c10d::PrefixStore>("default", store), o.rank, o.worldSize, backend, o);
    d->world = std::make_shared<C10dCommunicator>(g, backend, all, o.timeout, d->recorder, "default");
  }, o.worldSize == 1 || o.initMethod.rfind("file://", 0) == 0
         ? std::string()
         : " (rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) + ", rendezvous at " +
               o.masterAddr + ":" + std::to_string(o.masterPort) + ", timeout " +
               std::to_string(o.timeout.count() / 1000.0).substr(0, 5) + " s)");
  st.ext["dist"] = d;
  d->owner = &st;
  Tcl_CreateExitHandler(exitHandler, &st);
  return backend;
}

void distDestroy(State& st) {
  auto it = st.ext.find("dist");
  if (it == st.ext.end()) return;
  auto keep = it->second;  // destroyed after it left the map
  st.ext.erase(it);
}

std::string groupRanksProblem(const std::vector<int>& ranks, int worldSize) {
  std::vector<int> seen;
  for (int r : ranks) {
    if (r < 0 || r >= worldSize)
      return "rank " + std::to_string(r) + " is outside the world of " + std::to_string(worldSize);
    if (std::find(seen.begin(), seen.end(), r) != seen.end()) return "rank " + std::to_string(r) + " appears twice";
    seen.push_back(r);
  }
  return "";
}

std::string distNewGroup(State& st, const std::vector<int>& ranks, std::string name,
                         std::optional<bool> desyncCheck) {
  DistState* d = dist(st);
  if (!d) fail("distributed_new_group needs torch::distributed_init first", {"DIST", "NOTINIT"});
  std::string problem = ranks.empty() ? "the group has no ranks" : groupRanksProblem(ranks, d->opts.worldSize);
  if (!problem.empty()) fail("distributed_new_group: " + problem, {"DIST", "RANK"});
  // Every rank calls this in the same order, so the counter names the same
  // rendezvous prefix everywhere, whatever the user's name.
  int id = ++d->groupCounter;
  if (name.empty()) name = "group" + std::to_string(id);
  if (d->groups.count(name)) fail("group \"" + name + "\" already exists", {"DIST", "GROUP", name});
  auto pos = std::find(ranks.begin(), ranks.end(), d->opts.rank);
  std::shared_ptr<C10dCommunicator> comm;
  if (pos != ranks.end()) {
    int grank = int(pos - ranks.begin());
    guarded("distributed_new_group", [&] {
      auto store = c10::make_intrusive<c10d::PrefixStore>("group" + std::to_string(id), d->store);
      DistOptions o = d->opts;
      if (desyncCheck) o.desyncCheck = *desyncCheck;
      if (ranks.size() > 1) agreeOnDesyncCheck(*store, grank, int(ranks.size()), o.desyncCheck);
      auto g = makeGroup(store, grank, int(ranks.size()), d->backend, o);
      comm = std::make_shared<C10dCommunicator>(g, d->backend, ranks, d->opts.timeout, d->recorder, name);
    });
  }
  d->groups[name] = comm;
  return name;
}

}  // namespace tcltorch
