// Boost.Lockfree's spsc_queue used as a byte queue that carries length-prefixed frames: the
// framing shared by shm-boost-spsc (the queues in POSIX shared memory) and thread-boost-spsc (the
// queues on the heap, between two threads).
//
// The queue is boost::lockfree::spsc_queue<uint8_t, capacity<kCapacity>>: the capacity is a
// template argument, so the ring storage is inline in the object (no allocator, no pointer).
// A frame is a 4-byte length and the message. The producer copies prefix+message into a staging
// buffer and pushes the whole frame with one bulk push(const T*, size) once write_available()
// says it fits (the consumer never sees half a frame then); a frame larger than the staging
// buffer (that is, than the queue) goes as the prefix and then chunks, each pushed as space frees.
// The consumer pops the prefix, then the message straight into the caller's buffer
// (pop(T*, size)), waiting for the rest if it has only part of it.
//
// Why the queue may live in shared memory and be used from two processes (Boost does not promise
// this; it holds for this layout, and the static_asserts below check each premise):
//  - with a compile-time capacity the object is two indices and the inline array, nothing else:
//    no pointer, no allocator, so it works at any mapping address;
//  - the indices are std::atomic<size_t> (Boost.Lockfree picks <atomic> with GCC >= 4.8 in C++11
//    and later) and lock-free, and lock-free atomics are address-free ([atomics.lockfree]/5:
//    "should also be address-free ... usable for communication between processes");
//  - uint8_t is trivial, so push/pop are plain copies and the destructor does nothing: a process
//    that never runs it (killed, or a mere attacher) leaks nothing.
// It is not a standard-layout type (the indices sit in a base class, the storage in the derived
// one), which does not matter: every process uses the same compiled layout, and only the creator
// constructs it (placement new).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <sched.h>

#include <boost/lockfree/spsc_queue.hpp>
#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/sys.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf::boost_bytes {

// Bytes per direction, fixed at compile time (the --capacity this backend accepts).
inline constexpr size_t kCapacity = 256 * 1024;
// Frames larger than the queue travel in chunks; the 4-byte prefix and the harness's buffers
// bound the message size (the same limit as the other stream transports).
inline constexpr size_t kMaxMessage = 16 * 1024 * 1024;
inline constexpr size_t kPrefix = 4;
// spin/yield: empty polls between two checks whether the peer has gone.
inline constexpr uint32_t kLivenessEvery = 1U << 14;

using Queue = boost::lockfree::spsc_queue<uint8_t, boost::lockfree::capacity<kCapacity>>;

// The capacity is compiled in: any other --capacity is refused, naming the backend.
inline void check_capacity(std::string_view backend, size_t capacity) {
  if (capacity != kCapacity) {
    throw UsageError(
        fmt::format("{}: capacity {} is not allowed: the queue's capacity is a template argument, "
                    "compiled as {} bytes (boost_bytes::kCapacity)",
                    backend, capacity, kCapacity));
  }
}

static_assert(std::is_same_v<boost::lockfree::detail::atomic<size_t>, std::atomic<size_t>>,
              "Boost.Lockfree must use std::atomic for its indices");
static_assert(std::atomic<size_t>::is_always_lock_free,
              "lock-free (hence address-free) indices are what makes cross-process use sound");
static_assert(sizeof(Queue) >= kCapacity + 1 && sizeof(Queue) <= kCapacity + 1 + 3 * 64,
              "the ring storage must be inline: two padded indices plus capacity+1 bytes");
static_assert(std::is_trivially_destructible_v<Queue>,
              "nothing to destroy: a killed process leaks nothing, attachers never destruct");
static_assert(std::is_trivially_copyable_v<uint8_t>);
static_assert(kMaxMessage <= UINT32_MAX);

// Spins (cpu_relax) or yields (sched_yield) between empty polls and, every kLivenessEvery
// polls, asks `gone()` whether the peer has gone. Returns true once it has.
template <class Gone>
class Poller {
 public:
  Poller(Wait wait, Gone gone) : yield_(wait == Wait::kYield), gone_(std::move(gone)) {}
  bool idle() {
    if (yield_) {
      ::sched_yield();
    } else {
      cpu_relax();
    }
    return ++polls_ % kLivenessEvery == 0 && gone_();
  }

 private:
  bool yield_;
  uint32_t polls_ = 0;
  Gone gone_;
};

// The producer side of one queue.
class Writer {
 public:
  // max_message sizes the staging buffer (0: the largest frame that fits the queue).
  Writer(Queue& q, size_t max_message, std::string_view what)
      : q_(&q),
        what_(what),
        staging_(std::min(max_message == 0 ? kCapacity : max_message + kPrefix, kCapacity)) {}

  template <class Idle>
  void send(std::span<const std::byte> m, Idle& idle) {
    const auto len = static_cast<uint32_t>(m.size());
    const size_t frame = kPrefix + m.size();
    if (frame <= staging_.size()) [[likely]] {
      std::memcpy(staging_.data(), &len, kPrefix);
      std::memcpy(staging_.data() + kPrefix, m.data(), m.size());
      while (q_->write_available() < frame) {
        if (idle.idle()) throw_gone();
      }
      // All of it: only this thread adds to the queue, so the space seen above stays free.
      q_->push(staging_.data(), frame);
      return;
    }
    // Larger than the queue: the prefix whole, then the message as space frees.
    while (q_->write_available() < kPrefix) {
      if (idle.idle()) throw_gone();
    }
    q_->push(reinterpret_cast<const uint8_t*>(&len), kPrefix);
    const auto* p = reinterpret_cast<const uint8_t*>(m.data());
    size_t left = m.size();
    while (left > 0) {
      const size_t n = q_->push(p, left);
      p += n;
      left -= n;
      if (n == 0 && idle.idle()) throw_gone();
    }
  }

 private:
  [[noreturn]] void throw_gone() const {
    throw PeerGone(what_ + ": the receiving peer has gone (closed or exited)");
  }

  Queue* q_ = nullptr;
  std::string what_;
  std::vector<uint8_t> staging_;
};

// The consumer side of one queue.
class Reader {
 public:
  Reader(Queue& q, std::string_view what) : q_(&q), what_(what) {}

  template <class Idle>
  size_t recv(std::span<std::byte> buf, Idle& idle) {
    uint32_t len = 0;
    auto* hdr = reinterpret_cast<uint8_t*>(&len);
    size_t got = q_->pop(hdr, kPrefix);
    if (got != kPrefix) [[unlikely]]
      wait_pop(hdr, kPrefix, got, idle, false);
    if (len > buf.size()) {
      throw std::length_error(
          fmt::format("{}: frame of {} bytes exceeds the {}-byte buffer", what_, len, buf.size()));
    }
    auto* dst = reinterpret_cast<uint8_t*>(buf.data());
    got = q_->pop(dst, len);
    if (got != len) [[unlikely]]
      wait_pop(dst, len, got, idle, true);
    return len;
  }

 private:
  // Pops until n bytes are in p. What the peer pushed before it went is still delivered.
  template <class Idle>
  void wait_pop(uint8_t* p, size_t n, size_t got, Idle& idle, bool in_message) {
    while (got < n) {
      const size_t k = q_->pop(p + got, n - got);
      got += k;
      if (k == 0 && idle.idle()) {
        got += q_->pop(p + got, n - got);
        if (got == n) return;
        if (in_message || got > 0) {
          throw PeerGone(
              fmt::format("{}: the sending peer has gone in the middle of a message", what_));
        }
        throw PeerGone(what_ + ": the sending peer has gone (closed or exited)");
      }
    }
  }

  Queue* q_ = nullptr;
  std::string what_;
};

// One side of a queue pair: pushes on `tx`, pops from `rx`, polling with the channel's wait
// strategy and asking `gone()` every kLivenessEvery empty polls whether the peer has gone. Both
// boost backends' Channels are this plus how they find their queues and watch their peer.
template <class Gone>
class Duplex {
 public:
  Duplex(Queue& tx, Queue& rx, const ChannelOptions& o, std::string_view what, Gone gone)
      : wait_(o.wait), gone_(gone), writer_(tx, o.max_message, what), reader_(rx, what) {}

  void send(std::span<const std::byte> m) {
    Poller<Gone> idle{wait_, gone_};
    writer_.send(m, idle);
  }
  size_t recv(std::span<std::byte> b) {
    Poller<Gone> idle{wait_, gone_};
    return reader_.recv(b, idle);
  }

 private:
  Wait wait_;
  Gone gone_;
  Writer writer_;
  Reader reader_;
};

}  // namespace ipcperf::boost_bytes
