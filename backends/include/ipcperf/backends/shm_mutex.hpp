// shm-mutex: the classic bounded buffer. One POSIX shared-memory object holds a byte ring per
// direction; each ring is guarded by a process-shared robust pthread mutex with two
// process-shared condition variables (not-empty for the consumer, not-full for the producer).
// Records are a 4-byte length prefix and the message bytes, written whole under the mutex; a
// record may wrap around the ring end (copied in two parts).
//
// Hot path (block, the default): lock, memcpy into / out of the ring, unlock; a
// pthread_cond_signal only when the other side counted itself as waiting (futex wake), else no
// system call at all while neither side has to wait.
//
// Peer death: a peer that dies holding the mutex makes the next lock return EOWNERDEAD (robust
// mutex) and we throw PeerGone; a peer that dies while we wait on a condition variable is noticed
// after at most kWaitSlice (pthread_cond_timedwait on CLOCK_MONOTONIC, then a pidfd check of the
// pid it stored in the header); a peer that closes its channel sets its closed flag and
// broadcasts, so an orderly end is seen at once.
#pragma once
#include <algorithm>
#include <cstring>
#include <ctime>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/shm.hpp"
#include "ipcperf/shm_endpoints.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf::backends::shm_mutex {

constexpr size_t kLine = kCacheLine;
constexpr size_t kPrefix = 4;  // u32 length of the record's message
constexpr size_t kMinCapacity = 256;
constexpr size_t kMaxCapacity = size_t{1} << 30;
constexpr uint64_t kMagic = 0x7368'6d2d'6d75'7478ULL;  // "shm-mutx"
constexpr int64_t kWaitSlice = 50'000'000;             // ns: a condvar wait ends this often
constexpr uint32_t kLivenessEvery = 1U << 14;          // spin/yield: empty polls between checks

// closed[side] is set by a side's Channel destructor under each ring's mutex (which orders it
// with the waits that read it under the same mutex).
using Header = ShmPairHeader;

// One direction. Every field below the condvars is guarded by `mutex`; `used` is atomic only so
// that a spinning side may peek at it without the mutex (a hint: it re-checks under the mutex).
struct alignas(kLine) Ring {
  pthread_mutex_t mutex;
  pthread_cond_t not_empty;        // the consumer waits here for a record
  pthread_cond_t not_full;         // the producer waits here for space
  uint64_t read_off = 0;           // where the next record starts, in [0, capacity)
  uint64_t write_off = 0;          // where the next record goes, in [0, capacity)
  std::atomic<uint64_t> used{0};   // bytes of records in the ring
  uint32_t consumers_waiting = 0;  // in pthread_cond_timedwait(not_empty) right now
  uint32_t producers_waiting = 0;  // in pthread_cond_timedwait(not_full) right now
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<int32_t>::is_always_lock_free);

// Region: Header | Ring A->B | data A->B | Ring B->A | data B->A, each part on its own lines.
constexpr size_t ring_stride(size_t capacity) {
  return round_up(sizeof(Ring), kLine) + round_up(capacity, kLine);
}
constexpr size_t ring_offset(size_t capacity, int direction) {
  return sizeof(Header) + static_cast<size_t>(direction) * ring_stride(capacity);
}
constexpr size_t region_bytes(size_t capacity) {
  return round_up(sizeof(Header) + 2 * ring_stride(capacity), 4096);
}

inline void init_ring(Ring* r) {
  new (r) Ring();
  pthread_mutexattr_t ma;
  check_errnum("pthread_mutexattr_init", ::pthread_mutexattr_init(&ma));
  check_errnum("pthread_mutexattr_setpshared",
               ::pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
  // Robust: a peer that dies holding the mutex makes our next lock return EOWNERDEAD instead of
  // blocking forever.
  check_errnum("pthread_mutexattr_setrobust",
               ::pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST));
  check_errnum("pthread_mutex_init", ::pthread_mutex_init(&r->mutex, &ma));
  ::pthread_mutexattr_destroy(&ma);

  pthread_condattr_t ca;
  check_errnum("pthread_condattr_init", ::pthread_condattr_init(&ca));
  check_errnum("pthread_condattr_setpshared",
               ::pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
  // Timeouts on CLOCK_MONOTONIC: a wall-clock step must not stretch or cut a wait slice.
  check_errnum("pthread_condattr_setclock", ::pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
  check_errnum("pthread_cond_init(not_empty)", ::pthread_cond_init(&r->not_empty, &ca));
  check_errnum("pthread_cond_init(not_full)", ::pthread_cond_init(&r->not_full, &ca));
  ::pthread_condattr_destroy(&ca);
}

[[noreturn]] inline void throw_owner_dead(pthread_mutex_t* m) {
  // We own the mutex now; mark it consistent so that the ring stays usable for an orderly
  // shutdown, release it, and report the death: the record the peer was writing or reading may
  // be half done, so the channel cannot go on.
  ::pthread_mutex_consistent(m);
  ::pthread_mutex_unlock(m);
  throw PeerGone("shm-mutex: the peer died while holding the ring's mutex (EOWNERDEAD)");
}

// Locks a ring's robust mutex for one scope.
class Lock {
 public:
  explicit Lock(pthread_mutex_t* m) : m_(m) { lock(); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock() {
    if (held_) ::pthread_mutex_unlock(m_);
  }
  void lock() {
    const int rc = ::pthread_mutex_lock(m_);
    if (rc == EOWNERDEAD) [[unlikely]]
      throw_owner_dead(m_);
    if (rc == ENOTRECOVERABLE) [[unlikely]]
      throw PeerGone("shm-mutex: the ring's mutex is unrecoverable (a peer died holding it)");
    check_errnum("pthread_mutex_lock", rc);
    held_ = true;
  }
  void unlock() {
    held_ = false;
    ::pthread_mutex_unlock(m_);
  }
  // pthread_cond_timedwait for at most kWaitSlice: 0 when signalled (or spuriously woken),
  // ETIMEDOUT, or EOWNERDEAD (the mutex is held then; the caller reports the death).
  int wait(pthread_cond_t* cv) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const int64_t ns = ts.tv_nsec + kWaitSlice;
    ts.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    const int rc = ::pthread_cond_timedwait(cv, m_, &ts);
    if (rc != 0 && rc != ETIMEDOUT && rc != EOWNERDEAD)
      throw SystemError(rc, "pthread_cond_timedwait");
    return rc;
  }
  // After EOWNERDEAD from wait(): see throw_owner_dead().
  [[noreturn]] void owner_dead() {
    held_ = false;
    throw_owner_dead(m_);
  }

 private:
  pthread_mutex_t* m_;
  bool held_ = false;
};

struct ShmMutex {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "shm-mutex",
        "byte ring per direction in POSIX shm, robust pshared mutex + two condition variables",
        Family::kSharedMemory,
        256 * 1024,
        WaitSet{}.add(Wait::kSpin).add(Wait::kYield).add(Wait::kBlock),
        Wait::kBlock};
    return i;
  }
  // A record is written whole, so the largest one is the whole ring.
  static size_t max_message(const ChannelOptions& o) {
    return o.capacity > kPrefix ? o.capacity - kPrefix : 0;
  }
  static void check(const ChannelOptions& o) {
    if (o.capacity < kMinCapacity || o.capacity > kMaxCapacity) {
      throw UsageError(
          fmt::format("shm-mutex: capacity {} is not allowed: the ring of each direction holds "
                      "between {} and {} bytes",
                      o.capacity, kMinCapacity, kMaxCapacity));
    }
  }
  static Endpoints prepare(const ChannelOptions& o) {
    return create_shm_endpoints(region_bytes(o.capacity), [&](std::byte* base) {
      auto* h = new (base) Header();
      h->capacity = o.capacity;
      for (int d = 0; d < 2; ++d)
        init_ring(reinterpret_cast<Ring*>(base + ring_offset(o.capacity, d)));
      // The magic last: a region is valid once it is fully initialised.
      h->magic = kMagic;
    });
  }
  // Nothing to destroy first: glibc's pshared mutexes and condvars own no resources outside the
  // shared words.
  static void cleanup(Endpoints& ep) noexcept { unlink_shm_endpoints(ep); }

  class Channel {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : region_(ShmRegion::open(spec)), me_(role == Role::kA ? 0 : 1), wait_(o.wait) {
      auto* base = static_cast<std::byte*>(region_.data());
      hdr_ = reinterpret_cast<Header*>(base);
      if (region_.size() < sizeof(Header) || hdr_->magic != kMagic ||
          hdr_->capacity != o.capacity || region_.size() != region_bytes(hdr_->capacity)) {
        throw std::runtime_error(
            fmt::format("shm-mutex: /{} is not a ring pair of capacity {}", spec, o.capacity));
      }
      cap_ = hdr_->capacity;
      // Direction 0 is A->B: A sends on 0 and receives on 1.
      tx_ = reinterpret_cast<Ring*>(base + ring_offset(cap_, me_));
      rx_ = reinterpret_cast<Ring*>(base + ring_offset(cap_, 1 - me_));
      tx_data_ = reinterpret_cast<std::byte*>(tx_) + round_up(sizeof(Ring), kLine);
      rx_data_ = reinterpret_cast<std::byte*>(rx_) + round_up(sizeof(Ring), kLine);
      hdr_->pid[me_].store(static_cast<int32_t>(::getpid()), std::memory_order_relaxed);
    }
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    ~Channel() {
      // Orderly close: set our flag under each ring's mutex and wake whoever waits, so the peer's
      // pending wait ends now (after draining, for a consumer) instead of after a wait slice.
      for (Ring* r : {tx_, rx_}) {
        try {
          Lock l(&r->mutex);
          hdr_->closed[me_].store(1, std::memory_order_relaxed);  // ordered by the mutex
          if (r->consumers_waiting != 0) ::pthread_cond_broadcast(&r->not_empty);
          if (r->producers_waiting != 0) ::pthread_cond_broadcast(&r->not_full);
        } catch (...) {
          hdr_->closed[me_].store(1, std::memory_order_relaxed);  // the peer is gone anyway
        }
      }
    }

    void send(std::span<const std::byte> m) {
      const size_t rec = kPrefix + m.size();
      Lock l(&tx_->mutex);
      if (cap_ - tx_->used.load(std::memory_order_relaxed) < rec) [[unlikely]]
        wait_for_space(l, rec);
      const auto len = static_cast<uint32_t>(m.size());
      uint64_t off = copy_in(tx_->write_off, &len, kPrefix);
      tx_->write_off = copy_in(off, m.data(), m.size());
      tx_->used.store(tx_->used.load(std::memory_order_relaxed) + rec, std::memory_order_relaxed);
      const bool wake = tx_->consumers_waiting != 0;
      l.unlock();
      // After the unlock, so the woken consumer does not run into a held mutex. Safe: a waiter
      // counted itself under the mutex and pthread_cond_timedwait released it atomically, so it
      // is registered on the condvar before we could take the mutex and see its count.
      if (wake) ::pthread_cond_signal(&tx_->not_empty);
    }

    size_t recv(std::span<std::byte> buf) {
      Lock l(&rx_->mutex);
      if (rx_->used.load(std::memory_order_relaxed) == 0) [[unlikely]]
        wait_for_record(l);
      uint32_t len = 0;
      uint64_t off = copy_out(rx_->read_off, &len, kPrefix);
      if (len > buf.size()) throw std::length_error("shm-mutex: message larger than the buffer");
      rx_->read_off = copy_out(off, buf.data(), len);
      rx_->used.store(rx_->used.load(std::memory_order_relaxed) - (kPrefix + len),
                      std::memory_order_relaxed);
      const bool wake = rx_->producers_waiting != 0;
      l.unlock();
      if (wake) ::pthread_cond_signal(&rx_->not_full);  // as in send()
      return len;
    }

   private:
    // Copies n bytes into the tx ring at off, in two parts across the end; returns the new offset.
    uint64_t copy_in(uint64_t off, const void* src, size_t n) const noexcept {
      const size_t first = std::min<size_t>(n, cap_ - off);
      std::memcpy(tx_data_ + off, src, first);
      std::memcpy(tx_data_, static_cast<const std::byte*>(src) + first, n - first);
      off += n;
      return off >= cap_ ? off - cap_ : off;
    }
    uint64_t copy_out(uint64_t off, void* dst, size_t n) const noexcept {
      const size_t first = std::min<size_t>(n, cap_ - off);
      std::memcpy(dst, rx_data_ + off, first);
      std::memcpy(static_cast<std::byte*>(dst) + first, rx_data_, n - first);
      off += n;
      return off >= cap_ ? off - cap_ : off;
    }

    // True when the peer closed its channel or its process has exited. Called with the mutex
    // held for the closed flag (set under the same mutex).
    bool peer_gone() {
      if (hdr_->closed[1 - me_].load(std::memory_order_relaxed) != 0) return true;
      const int32_t pid = hdr_->pid[1 - me_].load(std::memory_order_relaxed);
      if (pid != 0 && pid != watch_.pid()) watch_.watch(pid);
      return !watch_.alive();
    }

    // Producer: returns with the mutex held and at least `rec` bytes free.
    void wait_for_space(Lock& l, size_t rec) {
      wait(
          l, tx_->not_full, tx_->producers_waiting,
          [&] { return cap_ - tx_->used.load(std::memory_order_relaxed) >= rec; },
          "shm-mutex: the receiving peer has gone (closed or exited)");
    }
    // Consumer: returns with the mutex held and a record in the ring. A record the peer wrote
    // before it went is still delivered: gone is only checked while the ring is empty.
    void wait_for_record(Lock& l) {
      wait(
          l, rx_->not_empty, rx_->consumers_waiting,
          [&] { return rx_->used.load(std::memory_order_relaxed) != 0; },
          "shm-mutex: the sending peer has gone (closed or exited)");
    }

    template <class Ready>
    void wait(Lock& l, pthread_cond_t& cv, uint32_t& waiting, Ready&& ready, const char* gone) {
      if (wait_ == Wait::kBlock) {
        while (!ready()) {
          if (hdr_->closed[1 - me_].load(std::memory_order_relaxed) != 0) throw PeerGone(gone);
          ++waiting;
          const int rc = l.wait(&cv);
          --waiting;
          if (rc == EOWNERDEAD) l.owner_dead();
          // Only a wait slice that ended without a signal costs a liveness check (one poll(2)
          // on the peer's pidfd).
          if (rc == ETIMEDOUT && !ready() && peer_gone()) throw PeerGone(gone);
        }
        return;
      }
      // spin / yield: poll without the mutex (taking it on every poll would keep stealing it
      // from the side doing the work) and take it once the ring looks ready.
      l.unlock();
      for (uint32_t polls = 1;; ++polls) {
        if (wait_ == Wait::kYield) {
          ::sched_yield();
        } else {
          cpu_relax();
        }
        if (ready() || polls % kLivenessEvery == 0) {
          l.lock();
          if (ready()) return;
          if (polls % kLivenessEvery == 0 && peer_gone()) throw PeerGone(gone);
          l.unlock();
        }
      }
    }

    ShmRegion region_;
    Header* hdr_ = nullptr;
    Ring* tx_ = nullptr;
    Ring* rx_ = nullptr;
    std::byte* tx_data_ = nullptr;
    std::byte* rx_data_ = nullptr;
    size_t cap_ = 0;
    int me_;
    Wait wait_;
    ProcessWatch watch_;
  };
};

// Fault injection for the tests: attaches to a prepared region as `role`, takes the mutex of the
// ring `role` sends on, and exits while holding it (as a peer killed inside send() would).
[[noreturn]] inline void die_holding_lock(std::string_view spec, Role role) {
  ShmRegion region = ShmRegion::open(spec);
  auto* base = static_cast<std::byte*>(region.data());
  const auto* h = reinterpret_cast<Header*>(base);
  auto* r = reinterpret_cast<Ring*>(base + ring_offset(h->capacity, role == Role::kA ? 0 : 1));
  reinterpret_cast<Header*>(base)->pid[role == Role::kA ? 0 : 1].store(
      static_cast<int32_t>(::getpid()), std::memory_order_relaxed);
  ::pthread_mutex_lock(&r->mutex);
  ::_exit(0);
}

}  // namespace ipcperf::backends::shm_mutex
