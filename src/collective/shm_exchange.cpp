// The desync check's same-host path. The segment holds, after a header:
// - a block per rank: a futex word bumped on every change, the last call the
//   rank has resolved (compared with the call's first row), and a ring of its
//   rows (each with its call number);
// - a ring of call slots: the row of the first rank to reach each call;
// - a ring of mismatch records: every rank's row of a call that differed.
// Waiting for a peer spins briefly (a peer in step arrives within
// microseconds), then yields, then sleeps on the peer's futex word, waking
// every 50 ms to look for a timeout or a peer that is gone. The spin is short:
// on a machine with fewer cores than busy threads (2 ranks, each with Gloo's
// threads, on 2 cores) a longer one takes the core the late peer needs.
//
// Rings are reused safely because publish() of call k waits until every rank
// has resolved call k - kRing, and every read of a ring slot of call j
// happens before the reader resolves j. Only mismatch records are read later
// (when an asynchronous work completes): one is lost if kRing more calls
// differ before that work is waited on.
#include "tcltorch/shm_exchange.h"
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <atomic>
#include <climits>
#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

namespace tcltorch {

using Clock = std::chrono::steady_clock;

namespace {
constexpr int kRing = 64;
constexpr size_t kLine = 64;
constexpr uint64_t kMagic = 0x686372746c746374ull;  // "tcltorch"
constexpr auto kSpin = std::chrono::microseconds(5);
constexpr auto kYield = std::chrono::microseconds(50);
constexpr auto kSleepSlice = std::chrono::milliseconds(50);

struct Header {
  uint64_t magic, nonce;
  int32_t size, width;
};

size_t roundUp(size_t n) { return (n + kLine - 1) / kLine * kLine; }

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Shared between processes: no FUTEX_PRIVATE_FLAG.
void futexWait(std::atomic<uint32_t>* w, uint32_t seen, std::chrono::nanoseconds d) {
  timespec ts{time_t(d.count() / 1000000000), long(d.count() % 1000000000)};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAIT, seen, &ts, nullptr, 0);
}
void futexWakeAll(std::atomic<uint32_t>* w) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}
}  // namespace

struct ShmExchange::Block {
  std::atomic<uint32_t> gen;      // bumped on every change: the futex word
  std::atomic<uint32_t> waiters;  // peers sleeping on gen (a change wakes them only then)
  std::atomic<uint32_t> closed;   // this rank left the group
  int32_t pid;
  std::atomic<uint64_t> resolved;  // the last call this rank compared with the call's first row
};
static_assert(sizeof(std::atomic<uint32_t>) == 4 && std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free,
              "the segment's atomics must be address-free");

ShmExchange::Layout ShmExchange::layoutFor(int size, int width) {
  Layout l;
  l.slot = roundUp(sizeof(uint64_t) * size_t(1 + width));
  l.block = kLine + kRing * l.slot;
  l.call = roundUp(sizeof(uint64_t) * size_t(2 + width));
  l.record = roundUp(sizeof(uint64_t) * (2 + size_t(size) * size_t(width)));
  l.total = kLine + size_t(size) * l.block + kRing * (l.call + l.record);
  return l;
}

ShmExchange::ShmExchange(void* base, int rank, int size, int width)
    : base_(base), rank_(rank), size_(size), width_(width), layout_(layoutFor(size, width)) {}

ShmExchange::Block& ShmExchange::block(int r) const {
  return *reinterpret_cast<Block*>(static_cast<char*>(base_) + kLine + size_t(r) * layout_.block);
}

static std::atomic<uint64_t>& word(int64_t* s) { return *reinterpret_cast<std::atomic<uint64_t>*>(s); }

// A rank's row of a call: the call number, then the row.
int64_t* ShmExchange::slot(int r, uint64_t seq) const {
  return reinterpret_cast<int64_t*>(reinterpret_cast<char*>(&block(r)) + kLine + (seq % kRing) * layout_.slot);
}

// A call's first row: claimed (call number), ready (call number), the row.
int64_t* ShmExchange::callSlot(uint64_t seq) const {
  return reinterpret_cast<int64_t*>(static_cast<char*>(base_) + kLine + size_t(size_) * layout_.block +
                                    (seq % kRing) * layout_.call);
}

// A mismatch record: claimed, ready, every rank's row.
int64_t* ShmExchange::record(uint64_t seq) const {
  return reinterpret_cast<int64_t*>(static_cast<char*>(base_) + kLine + size_t(size_) * layout_.block +
                                    kRing * layout_.call + (seq % kRing) * layout_.record);
}

std::unique_ptr<ShmExchange> ShmExchange::open(c10d::Store& store, int rank, int size, int width, bool allowed) {
  const size_t n = layoutFor(size, width).total;
  std::string name;
  uint64_t nonce = 0;
  void* base = MAP_FAILED;
  auto map = [&](int fd) {
    struct stat st{};
    if (fd >= 0 && fstat(fd, &st) == 0 && size_t(st.st_size) == n)
      base = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0) ::close(fd);
  };
  if (!allowed) {
    if (rank == 0) store.set("desync/shm", bytes("-"));
  } else if (rank == 0) {
    std::random_device rd;
    nonce = (uint64_t(rd()) << 32) ^ rd();
    char buf[64];
    std::snprintf(buf, sizeof buf, "/tcltorch-desync-%d-%016llx", int(getpid()), (unsigned long long)nonce);
    name = buf;
    int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd >= 0 && ftruncate(fd, off_t(n)) != 0) {
      ::close(fd);
      fd = -1;
    }
    map(fd);
    if (base != MAP_FAILED) {
      auto* h = static_cast<Header*>(base);  // ftruncate zeroed the rest
      h->nonce = nonce;
      h->size = size;
      h->width = width;
      std::atomic_thread_fence(std::memory_order_release);
      h->magic = kMagic;
    }
    store.set("desync/shm", bytes(base == MAP_FAILED ? std::string("-") : name + " " + std::to_string(nonce)));
  } else {
    std::string said = text(store.get("desync/shm"));
    auto space = said.find(' ');
    if (space != std::string::npos) {
      name = said.substr(0, space);
      nonce = std::stoull(said.substr(space + 1));
      map(shm_open(name.c_str(), O_RDWR, 0));
      if (base != MAP_FAILED) {
        auto* h = static_cast<Header*>(base);
        if (h->magic != kMagic || h->nonce != nonce || h->size != size || h->width != width) {
          munmap(base, n);
          base = MAP_FAILED;
        }
      }
    }
  }
  std::unique_ptr<ShmExchange> x;
  if (base != MAP_FAILED) {
    x.reset(new ShmExchange(base, rank, size, width));
    x->block(rank).pid = int32_t(getpid());
  }
  // Rank 0 gathers the answers, unlinks the name and says the verdict.
  std::string verdict;
  if (rank == 0) {
    verdict = x ? "1" : "0";
    for (int r = 1; r < size; ++r)
      if (text(store.get("desync/shm/" + std::to_string(r))) != "1") verdict = "0";
    if (!name.empty()) shm_unlink(name.c_str());
    store.set("desync/shm/verdict", bytes(verdict));
  } else {
    store.set("desync/shm/" + std::to_string(rank), bytes(x ? "1" : "0"));
    verdict = text(store.get("desync/shm/verdict"));
  }
  if (verdict != "1") return nullptr;
  // Peers' pids mean something only in one pid namespace.
  x->pidsVisible_ = true;
  for (int r = 0; r < size; ++r)
    if (kill(pid_t(x->block(r).pid), 0) != 0 && errno != EPERM) x->pidsVisible_ = false;
  return x;
}

ShmExchange::~ShmExchange() {
  Block& b = block(rank_);
  b.closed.store(1);
  b.gen.fetch_add(1);
  futexWakeAll(&b.gen);
  munmap(base_, layout_.total);
}

// A peer is gone when its process no longer exists or is a zombie.
bool ShmExchange::exited(int r) const {
  if (!pidsVisible_) return false;
  std::ifstream f("/proc/" + std::to_string(block(r).pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return true;
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' ||
         stat[paren + 2] == 'X';
}

void ShmExchange::changed(Block& b) {
  b.gen.fetch_add(1);
  if (b.waiters.load() > 0) futexWakeAll(&b.gen);
}

void ShmExchange::publish(uint64_t seq, const int64_t* row, std::chrono::milliseconds timeout) {
  if (seq > uint64_t(kRing)) awaitResolved(seq - kRing, Clock::now() + timeout);
  int64_t* mine = slot(rank_, seq);
  std::memcpy(mine + 1, row, sizeof(int64_t) * size_t(width_));
  word(mine).store(seq, std::memory_order_release);
  changed(block(rank_));
}

void ShmExchange::resolve(uint64_t seq) {
  Block& b = block(rank_);
  if (b.resolved.load() < seq) b.resolved.store(seq);
  changed(b);
}

bool ShmExchange::first(uint64_t seq, const int64_t* row, int64_t* out, std::chrono::milliseconds timeout) {
  int64_t* s = callSlot(seq);
  const size_t n = sizeof(int64_t) * size_t(width_);
  uint64_t c = word(s).load();
  while (c < seq) {
    if (word(s).compare_exchange_weak(c, seq)) {
      std::memcpy(s + 2, row, n);
      word(s + 1).store(seq, std::memory_order_release);
      std::memcpy(out, row, n);
      return true;
    }
  }
  if (c > seq) throw std::runtime_error("another rank is already past call " + std::to_string(seq));
  // The first rank writes its row right after its claim: a short wait.
  auto deadline = Clock::now() + timeout;
  for (unsigned i = 0; word(s + 1).load(std::memory_order_acquire) != seq; ++i) {
    if (i % 64) {
      relax();
      continue;
    }
    if (Clock::now() >= deadline)
      throw std::runtime_error("timed out: the first rank of call " + std::to_string(seq) + " did not write it");
    sched_yield();
  }
  std::memcpy(out, s + 2, n);
  return false;
}

void ShmExchange::gather(uint64_t seq, int64_t* all, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (int r = 0; r < size_; ++r) {
    int64_t* s = slot(r, seq);
    awaitRank(r, deadline, "reached", seq, [&] {
      uint64_t at = word(s).load(std::memory_order_acquire);
      if (at > seq) throw std::runtime_error("rank " + std::to_string(r) + " is already past call " + std::to_string(seq));
      return at == seq;
    });
    std::memcpy(all + ptrdiff_t(r) * width_, s + 1, sizeof(int64_t) * size_t(width_));
  }
}

void ShmExchange::recordMismatch(uint64_t seq, const int64_t* all) {
  int64_t* s = record(seq);
  uint64_t c = word(s).load();
  while (c < seq)
    if (word(s).compare_exchange_weak(c, seq)) {
      std::memcpy(s + 2, all, sizeof(int64_t) * size_t(size_) * size_t(width_));
      word(s + 1).store(seq, std::memory_order_release);
      return;
    }
  // Another rank that differs records the same rows.
}

bool ShmExchange::mismatch(uint64_t seq, int64_t* all, std::chrono::milliseconds timeout) {
  awaitResolved(seq, Clock::now() + timeout);
  int64_t* s = record(seq);
  if (word(s + 1).load(std::memory_order_acquire) != seq) return false;
  std::memcpy(all, s + 2, sizeof(int64_t) * size_t(size_) * size_t(width_));
  return true;
}

void ShmExchange::awaitResolved(uint64_t seq, Clock::time_point deadline) {
  for (int r = 0; r < size_; ++r)
    awaitRank(r, deadline, "compared", seq, [&] { return block(r).resolved.load() >= seq; });
}

template <class Ready>
void ShmExchange::awaitRank(int r, Clock::time_point deadline, const char* verb, uint64_t seq, Ready ready) {
  Block& b = block(r);
  auto start = Clock::now();
  auto who = [&] { return "rank " + std::to_string(r) + " (pid " + std::to_string(b.pid) + ")"; };
  auto what = [&] { return std::string(verb) + " call " + std::to_string(seq); };
  for (unsigned i = 0;; ++i) {
    uint32_t gen = b.gen.load();
    if (ready()) return;
    if (b.closed.load()) throw std::runtime_error(who() + " left the group before it " + what());
    if (i % 64) {
      relax();
      continue;
    }
    auto now = Clock::now();
    if (now - start < kSpin) continue;
    if (now - start < kYield) {
      sched_yield();
      continue;
    }
    if (now >= deadline) throw std::runtime_error("timed out: " + who() + " has not " + what());
    if (exited(r)) throw std::runtime_error(who() + " exited before it " + what());
    b.waiters.fetch_add(1);
    if (!ready() && !b.closed.load())
      futexWait(&b.gen, gen, std::min<Clock::duration>(kSleepSlice, deadline - now));
    b.waiters.fetch_sub(1);
  }
}

}  // namespace tcltorch
