// A lock-free single-producer/single-consumer ring of variable-size messages that lives in one
// caller-provided memory region: POSIX shared memory between processes (shm-spsc) or heap memory
// between threads (thread-spsc). The region holds integers and bytes only, never pointers, so
// every process may map it at a different address.
//
// Region layout (capacity C, a power of two):
//
//   line 0   head: the consumer's published position (absolute bytes), written by the
//            consumer every cap/8 bytes and when it finds the ring empty (every record in
//            block mode)
//   line 1   consumer_sleeping: futex word, the consumer sleeps waiting for data (block wait)
//   line 2   producer_sleeping: futex word, the producer sleeps waiting for space (block wait)
//   line 3   magic, capacity, pid[2], closed[2] (written at open and close)
//   line 4+  data[C]: records, 8-byte aligned
//
// A record is an 8-byte header word followed by the message bytes, padded to 8:
//
//   header = valid(1) | tag(31) | length(32)
//
// where tag is the low 31 bits of (record position / 8), and length 0xFFFFFFFF marks a wrap
// (the rest of the buffer is skipped, the next record starts at offset 0).
//
// Why this layout: the consumer polls the header word *inside the slot* the message lives in, so
// a small message and its ready mark travel between the cores in one cache line; the consumer
// never reads the producer's position at all. The producer reads the consumer's position only
// when its cached copy says the ring is full (the cached-index design). Against the design where
// the consumer polls the producer's index (two line transfers per message) this saves one line
// transfer per direction; docs/method.md has the measurement.
//
// Rigour: before the producer publishes a record, it writes 0 into the header word that follows
// it (reserved space), so the word the consumer polls next holds either 0 or that record's
// header, never stale payload bytes of an earlier lap that might look like a header.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <sched.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/sys.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf {

class SpscRing {
 public:
  static constexpr size_t kLine = 64;
  static constexpr size_t kMinCapacity = 256;
  static constexpr size_t kMaxCapacity = size_t{1} << 30;
  static constexpr uint64_t kMagic = 0x7370'7363'7269'6e67ULL;  // "spscring"
  static constexpr uint32_t kWrapLength = 0xFFFFFFFFU;

  enum class Side : uint8_t { kProducer = 0, kConsumer = 1 };

  struct alignas(kLine) Control {
    // Written by the consumer (see try_recv for when); read by the producer only when its cached
    // copy says the ring is full.
    alignas(kLine) std::atomic<uint64_t> head{0};
    alignas(kLine) std::atomic<uint32_t> consumer_sleeping{0};
    alignas(kLine) std::atomic<uint32_t> producer_sleeping{0};
    alignas(kLine) uint64_t magic = 0;
    uint64_t capacity = 0;
    std::atomic<int32_t> pid[2] = {0, 0};
    std::atomic<uint32_t> closed[2] = {0, 0};
  };
  static_assert(std::atomic<uint64_t>::is_always_lock_free);
  static_assert(std::atomic<uint32_t>::is_always_lock_free);
  static_assert(std::atomic<int32_t>::is_always_lock_free);
  static_assert(sizeof(Control) == 4 * kLine);

  // Bytes of region needed for a ring of `capacity` data bytes.
  static constexpr size_t region_size(size_t capacity) { return sizeof(Control) + capacity; }

  // The largest message a ring of `capacity` bytes carries: a record and the reserved next header
  // must fit in half the ring, so that a message always fits on one side of a wrap.
  static constexpr size_t max_message(size_t capacity) { return capacity / 2 - 16; }

  static bool valid_capacity(size_t c) {
    return c >= kMinCapacity && c <= kMaxCapacity && (c & (c - 1)) == 0;
  }
  // UsageError naming the backend unless valid_capacity(c).
  static void check_capacity(std::string_view backend, size_t c) {
    if (!valid_capacity(c)) {
      throw UsageError(
          fmt::format("{}: capacity {} is not allowed: it must be a power of two between {} and "
                      "{} bytes",
                      backend, c, kMinCapacity, kMaxCapacity));
    }
  }
  // Bytes one ring takes in a region holding several, rounded up to whole pages.
  static constexpr size_t region_stride(size_t capacity) {
    constexpr size_t kPage = 4096;
    return (region_size(capacity) + kPage - 1) & ~(kPage - 1);
  }

  // Creator (supervisor or test): initialises the region. Both sides start at start_position
  // (a multiple of 8; tests use it to place records at every offset and near tag wrap-around).
  static void init(void* region, size_t capacity, uint64_t start_position = 0) {
    auto* c = new (region) Control();
    c->capacity = capacity;
    c->magic = kMagic;
    c->head.store(start_position & ~uint64_t{7}, std::memory_order_relaxed);
    std::memset(static_cast<std::byte*>(region) + sizeof(Control), 0, capacity);
  }

  SpscRing() = default;
  // Attaches to an initialised region as one side. `wait` says how this side waits.
  SpscRing(void* region, size_t region_bytes, Side side, Wait wait) : side_(side), wait_(wait) {
    ctl_ = static_cast<Control*>(region);
    if (region_bytes < sizeof(Control) || ctl_->magic != kMagic ||
        region_size(ctl_->capacity) > region_bytes || !valid_capacity(ctl_->capacity)) {
      throw std::runtime_error("spsc ring: the region is not an initialised ring");
    }
    data_ = static_cast<std::byte*>(region) + sizeof(Control);
    cap_ = ctl_->capacity;
    mask_ = cap_ - 1;
    // Both sides start where the consumer stands (0 unless init() said otherwise).
    pos_ = ctl_->head.load(std::memory_order_acquire);
    cached_head_ = pos_;
    published_ = pos_;
    // Pairs with nothing: the pid is only read for liveness checks, late values are fine.
    ctl_->pid[static_cast<int>(side)].store(static_cast<int32_t>(::getpid()),
                                            std::memory_order_relaxed);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  SpscRing(SpscRing&& o) noexcept { *this = std::move(o); }
  SpscRing& operator=(SpscRing&& o) noexcept {
    ctl_ = o.ctl_;
    data_ = o.data_;
    cap_ = o.cap_;
    mask_ = o.mask_;
    pos_ = o.pos_;
    cached_head_ = o.cached_head_;
    published_ = o.published_;
    side_ = o.side_;
    wait_ = o.wait_;
    o.ctl_ = nullptr;
    return *this;
  }
  ~SpscRing() { close(); }

  // Marks this side closed: the peer's pending wait ends with PeerGone (after draining what was
  // already sent, for a consumer).
  void close() noexcept {
    if (ctl_ == nullptr) return;
    // Release pairs with the acquire in peer_gone(): records sent before closing stay readable.
    ctl_->closed[static_cast<int>(side_)].store(1, std::memory_order_release);
    Control* c = ctl_;
    ctl_ = nullptr;
    futex_wake(&c->consumer_sleeping, 1);
    futex_wake(&c->producer_sleeping, 1);
  }

  [[nodiscard]] size_t capacity() const noexcept { return cap_; }
  [[nodiscard]] size_t max_message() const noexcept { return max_message(cap_); }

  // ---- producer ----------------------------------------------------------------------------

  // Appends one message if there is room now; false when the ring is full.
  bool try_send(std::span<const std::byte> msg) noexcept {
    const size_t rec = record_bytes(msg.size());
    uint64_t at = pos_;
    size_t off = at & mask_;
    const bool wrap = off + rec > cap_;
    const uint64_t need = (wrap ? (cap_ - off) : 0) + rec + 8;  // + the reserved next header
    if (at + need - cached_head_ > cap_) {
      // Acquire pairs with the release store of head in try_recv(): the consumer has finished
      // reading the bytes we are about to overwrite.
      cached_head_ = ctl_->head.load(std::memory_order_acquire);
      if (at + need - cached_head_ > cap_) return false;
    }
    if (wrap) {
      // Pre-clear the header word at offset 0 (where the record goes), then publish the wrap
      // marker; the release pairs with the consumer's acquire load of this header.
      header_at(0).store(0, std::memory_order_relaxed);
      header_at(off).store(make_header(at, kWrapLength), std::memory_order_release);
      at += cap_ - off;
      off = 0;
    }
    std::memcpy(data_ + off + 8, msg.data(), msg.size());
    // The next header word must read 0 (not ready) before this record becomes visible.
    header_at((off + rec) & mask_).store(0, std::memory_order_relaxed);
    // Release pairs with the consumer's acquire load of this header word: message bytes and the
    // cleared next header are visible once the header is.
    header_at(off).store(make_header(at, static_cast<uint32_t>(msg.size())),
                         std::memory_order_release);
    pos_ = at + rec;
    if (wait_ == Wait::kBlock) wake_consumer();
    return true;
  }

  // Appends one message, waiting while the ring is full. Throws PeerGone when the consumer has
  // closed or died.
  void send(std::span<const std::byte> msg) {
    if (try_send(msg)) [[likely]]
      return;
    wait_until([&] { return try_send(msg); }, ctl_->producer_sleeping, Side::kConsumer,
               /*drain_first=*/false);
  }

  // ---- consumer ----------------------------------------------------------------------------

  // Copies the next message into buf and returns its size; returns -1 when the ring is empty.
  // A message larger than buf is a contract violation: throws std::length_error.
  int64_t try_recv(std::span<std::byte> buf) {
    for (;;) {
      const size_t off = pos_ & mask_;
      // Acquire pairs with the producer's release store of this header word.
      const uint64_t h = header_at(off).load(std::memory_order_acquire);
      if ((h >> 32) != tag_of(pos_)) {
        // Nothing to read: we are about to wait, so let a polling producer see the space.
        if (published_ != pos_) publish_head();
        return -1;
      }
      const auto len = static_cast<uint32_t>(h);
      if (len == kWrapLength) {
        pos_ += cap_ - off;
        continue;
      }
      if (len > buf.size()) throw std::length_error("spsc ring: message larger than buffer");
      std::memcpy(buf.data(), data_ + off + 8, len);
      pos_ += record_bytes(len);
      // Publishing head after every record would bounce its line whenever a streaming producer
      // runs into a full ring. Spin/yield producers poll, so we publish every cap/8 bytes and
      // whenever we find the ring empty (below); a blocking producer sleeps and must
      // see every record freed (Dekker with producer_sleeping), so block mode publishes each one.
      if (wait_ == Wait::kBlock) {
        publish_head();
        wake_producer();
      } else if (pos_ - published_ >= cap_ / 8) [[unlikely]] {
        publish_head();
      }
      return len;
    }
  }

  // Receives one message, waiting while the ring is empty. Throws PeerGone when the producer has
  // closed or died and everything it sent has been received.
  size_t recv(std::span<std::byte> buf) {
    int64_t n = try_recv(buf);
    if (n >= 0) [[likely]] {
      ++streak_;
      return static_cast<size_t>(n);
    }
    if (streak_ >= kStreamStreak && wait_ != Wait::kBlock) {
      // A stream has caught up with its producer; step back so that we do not poll the line it
      // is writing (see kBackoffPolls).
      streak_ = 0;
      for (int p = 0; p < kBackoffPolls; ++p) {
        for (int i = 0; i < kBackoffPauses; ++i) cpu_relax();
        if ((n = try_recv(buf)) >= 0) return static_cast<size_t>(n);
      }
    }
    streak_ = 0;
    wait_until([&] { return (n = try_recv(buf)) >= 0; }, ctl_->consumer_sleeping, Side::kProducer,
               /*drain_first=*/true);
    return static_cast<size_t>(n);
  }

 private:
  static constexpr size_t record_bytes(size_t len) noexcept { return (8 + len + 7) & ~size_t{7}; }
  static constexpr uint64_t tag_of(uint64_t pos) noexcept {
    return 0x8000'0000ULL | ((pos >> 3) & 0x7FFF'FFFFULL);
  }
  static constexpr uint64_t make_header(uint64_t pos, uint32_t len) noexcept {
    return (tag_of(pos) << 32) | len;
  }
  std::atomic_ref<uint64_t> header_at(size_t off) const noexcept {
    return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(data_ + off));
  }

  void publish_head() noexcept {
    // Release pairs with the producer's acquire load of head: we are done with these bytes.
    ctl_->head.store(pos_, std::memory_order_release);
    published_ = pos_;
  }

  void wake_consumer() noexcept {
    // Dekker with the consumer: we stored the header, it stored consumer_sleeping; the fence
    // makes sure one of us sees the other's store (pairs with the fence in wait_until()).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (ctl_->consumer_sleeping.load(std::memory_order_relaxed) != 0) {
      ctl_->consumer_sleeping.store(0, std::memory_order_relaxed);
      futex_wake(&ctl_->consumer_sleeping, 1);
    }
  }
  void wake_producer() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // as in wake_consumer()
    if (ctl_->producer_sleeping.load(std::memory_order_relaxed) != 0) {
      ctl_->producer_sleeping.store(0, std::memory_order_relaxed);
      futex_wake(&ctl_->producer_sleeping, 1);
    }
  }

  // True when the other side has closed or its process has exited.
  bool peer_gone(Side peer) {
    // Acquire pairs with the release in close().
    if (ctl_->closed[static_cast<int>(peer)].load(std::memory_order_acquire) != 0) return true;
    const int32_t pid = ctl_->pid[static_cast<int>(peer)].load(std::memory_order_relaxed);
    if (pid != 0 && pid != watch_.pid()) watch_.watch(pid);
    return !watch_.alive();
  }

  // The slow path shared by send and recv: poll `ready` with this side's wait strategy, checking
  // every so often that the peer still exists.
  template <class Ready>
  void wait_until(Ready&& ready, std::atomic<uint32_t>& sleeping, Side peer, bool drain_first) {
    uint32_t polls = 0;
    for (;;) {
      if (wait_ == Wait::kBlock) {
        // Announce that we sleep, then look once more (the fence pairs with wake_*()).
        sleeping.store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (ready()) {
          sleeping.store(0, std::memory_order_relaxed);
          return;
        }
        futex_wait(&sleeping, 1, 20'000'000);  // 20 ms: bounded, so peer death is noticed
        sleeping.store(0, std::memory_order_relaxed);
        polls = kLivenessEvery - 1;  // check liveness after every sleep
      } else if (wait_ == Wait::kYield) {
        ::sched_yield();
      } else {
        cpu_relax();
      }
      if (ready()) return;
      if (++polls % kLivenessEvery == 0 && peer_gone(peer)) {
        // The peer may have sent its last records just before closing: take them first.
        if (drain_first && ready()) return;
        throw PeerGone(peer == Side::kProducer ? "the sending peer has gone (closed or exited)"
                                               : "the receiving peer has gone (closed or exited)");
      }
    }
  }

  static constexpr uint32_t kLivenessEvery = 1U << 14;
  // Stream back-off. A consumer that keeps up with its producer polls the very cache line the
  // producer is writing: every message then costs a line round trip (the producer's store misses,
  // our next load misses), and the pair settles at about one floor/cacheline per message. After
  // kStreamStreak receives in a row that found a message at once (a stream, not a ping-pong:
  // there every receive waits), an empty ring makes the consumer look only every kBackoffPauses
  // pauses, kBackoffPolls times, before it polls tightly again; the producer gets a few lines
  // ahead and the consumer then reads finished lines. Measured on the reference VM (stream 64 B,
  // same run): 61 -> 39 ns per message; pingpong unchanged (its receives always wait, so the
  // streak never builds). The price: a message that arrives just after a saturated stream caught
  // up waits up to one back-off step, 64 pauses (1.7 us on the reference EPYC, whose pause takes
  // 27 ns; Intel cores since Skylake take about as long, older ones a tenth).
  static constexpr uint32_t kStreamStreak = 8;
  static constexpr int kBackoffPolls = 8;
  static constexpr int kBackoffPauses = 64;

  Control* ctl_ = nullptr;
  std::byte* data_ = nullptr;
  size_t cap_ = 0;
  size_t mask_ = 0;
  uint64_t pos_ = 0;          // producer: next write position; consumer: next read position
  uint64_t cached_head_ = 0;  // producer: last seen consumer position
  uint64_t published_ = 0;    // consumer: last position stored into head
  Side side_ = Side::kProducer;
  Wait wait_ = Wait::kSpin;
  uint32_t streak_ = 0;  // consumer: receives in a row that found a message without waiting
  ProcessWatch watch_;
};

}  // namespace ipcperf
