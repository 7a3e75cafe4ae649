// thread-moodycamel: in-process reference built on Cameron Desrochers' single-producer/
// single-consumer queues (Debian libreaderwriterqueue-dev), one per direction, between two
// threads of one process.
//
// Queue: moodycamel::ReaderWriterQueue (the SPSC one; ConcurrentQueue is MPMC and would pay for
// producers we do not have) for spin/yield, preallocated to --capacity and used only through its
// non-allocating calls (try_emplace, peek, pop); with --wait block its blocking sibling
// moodycamel::BlockingReaderWriterCircularBuffer (a fixed ring plus two lightweight semaphores,
// which spin briefly and then sleep on a futex), through wait_enqueue_timed / wait_dequeue_timed
// so that a closed peer is noticed after at most one kWaitSliceUs.
//
// Element: a 64-byte cell (one cache line, aligned as one). The queues move typed elements, not
// bytes, so a message is spread over consecutive cells: the first holds the u32 length and the
// first 60 message bytes, each following cell 64 more (a 64-byte message takes 2 cells, 4 KiB
// takes 65). Putting the length in the first data cell instead of a cell of its own saves one
// enqueue/dequeue per message for messages up to 60 bytes and costs nothing for the others.
// The producer constructs each cell in place from the message (try_emplace: one copy); the
// consumer copies each out of the queue's slot (peek, then pop: one copy). The blocking buffer
// has no emplace or peek, so there a cell is built on the stack and moved in/out (one more copy
// of 64 bytes per cell: its API's cost).
// Capacity: --capacity / 64 cells; a message larger than that is streamed cell by cell as the
// consumer frees slots.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>

#include <sched.h>

#include <fmt/format.h>
#include <readerwriterqueue/readerwritercircularbuffer.h>
#include <readerwriterqueue/readerwriterqueue.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/closed_flags.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf::backends::thread_moodycamel {

constexpr size_t kCell = 64;
constexpr size_t kPrefix = 4;
constexpr size_t kFirstPayload = kCell - kPrefix;
constexpr size_t kMinCapacity = 256;
constexpr size_t kMaxCapacity = size_t{1} << 30;
constexpr size_t kMaxMessage = 16 * 1024 * 1024;  // as the other stream transports
constexpr uint32_t kLivenessEvery = 1U << 14;     // spin/yield: empty polls between checks
constexpr int64_t kWaitSliceUs = 50'000;          // block: a timed wait ends this often

struct alignas(kCell) Cell {
  std::byte b[kCell];
  Cell() = default;  // left uninitialised: the queues construct into raw storage
  // The first cell of a message: its length and up to kFirstPayload bytes.
  Cell(uint32_t len, const std::byte* src, size_t n) noexcept {
    std::memcpy(b, &len, kPrefix);
    std::memcpy(b + kPrefix, src, n);
  }
  // A following cell: up to kCell bytes.
  Cell(const std::byte* src, size_t n) noexcept { std::memcpy(b, src, n); }
};
static_assert(sizeof(Cell) == kCell && std::is_trivially_copyable_v<Cell>);

using PollQueue = moodycamel::ReaderWriterQueue<Cell>;
using BlockQueue = moodycamel::BlockingReaderWriterCircularBuffer<Cell>;

struct ThreadMoodycamel {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "thread-moodycamel",
        "moodycamel SPSC queue of 64-byte cells per direction between two threads",
        Family::kInProcess,
        256 * 1024,
        WaitSet{}.add(Wait::kSpin).add(Wait::kYield).add(Wait::kBlock),
        Wait::kSpin};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return kMaxMessage; }
  static void check(const ChannelOptions& o) {
    if (o.capacity < kMinCapacity || o.capacity > kMaxCapacity || o.capacity % kCell != 0) {
      throw UsageError(fmt::format(
          "thread-moodycamel: capacity {} is not allowed: it must be a multiple of the {}-byte "
          "cell between {} and {} bytes",
          o.capacity, kCell, kMinCapacity, kMaxCapacity));
    }
  }

  class Shared {
   public:
    explicit Shared(const ChannelOptions& o) {
      const size_t cells = o.capacity / kCell;
      for (int d = 0; d < 2; ++d) {
        if (o.wait == Wait::kBlock) {
          block_[d] = std::make_unique<BlockQueue>(cells);
        } else {
          poll_[d] = std::make_unique<PollQueue>(cells);
        }
      }
    }
    PollQueue* poll(int direction) { return poll_[direction].get(); }
    BlockQueue* block(int direction) { return block_[direction].get(); }
    ClosedFlags& closed() { return closed_; }

   private:
    std::unique_ptr<PollQueue> poll_[2];  // [0] A->B, [1] B->A
    std::unique_ptr<BlockQueue> block_[2];
    ClosedFlags closed_;
  };

  class Channel {
   public:
    Channel(Shared& s, Role role, const ChannelOptions& o)
        : shared_(&s), me_(role == Role::kA ? 0 : 1), wait_(o.wait) {
      ptx_ = s.poll(me_);
      prx_ = s.poll(1 - me_);
      btx_ = s.block(me_);
      brx_ = s.block(1 - me_);
      if ((wait_ == Wait::kBlock) != (btx_ != nullptr)) {
        throw std::logic_error("thread-moodycamel: the queues were made for another --wait");
      }
    }
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel() { shared_->closed().close(me_); }

    void send(std::span<const std::byte> m) {
      const auto len = static_cast<uint32_t>(m.size());
      const std::byte* p = m.data();
      size_t n = std::min(m.size(), kFirstPayload);
      put(len, p, n);
      for (size_t off = n; off < m.size(); off += kCell) {
        put(p + off, std::min(kCell, m.size() - off));
      }
    }

    size_t recv(std::span<std::byte> buf) {
      uint32_t len = 0;
      take(false, [&](const Cell& c) {
        std::memcpy(&len, c.b, kPrefix);
        if (len > buf.size()) {
          throw std::length_error(
              fmt::format("thread-moodycamel: message of {} bytes exceeds the {}-byte buffer", len,
                          buf.size()));
        }
        std::memcpy(buf.data(), c.b + kPrefix, std::min<size_t>(len, kFirstPayload));
      });
      for (size_t off = kFirstPayload; off < len; off += kCell) {
        take(true, [&](const Cell& c) {
          std::memcpy(buf.data() + off, c.b, std::min<size_t>(kCell, len - off));
        });
      }
      return len;
    }

   private:
    // Enqueues one cell built from args, waiting while the queue is full.
    template <class... Args>
    void put(Args... args) {
      if (ptx_ != nullptr) [[likely]] {
        if (ptx_->try_emplace(args...)) [[likely]]
          return;
        uint32_t polls = 0;
        while (!ptx_->try_emplace(args...)) {
          if (idle(polls) && peer_closed()) throw_gone(false, false);
        }
        return;
      }
      Cell c(args...);
      while (!btx_->wait_enqueue_timed(std::move(c), kWaitSliceUs)) {
        if (peer_closed()) throw_gone(false, false);
      }
    }

    // Dequeues one cell and hands it to f, waiting while the queue is empty.
    template <class F>
    void take(bool in_message, F&& f) {
      if (prx_ != nullptr) [[likely]] {
        Cell* c = prx_->peek();
        if (c == nullptr) [[unlikely]] {
          uint32_t polls = 0;
          while ((c = prx_->peek()) == nullptr) {
            if (idle(polls) && peer_closed()) {
              // The peer may have sent its last cells just before closing: take them first.
              if ((c = prx_->peek()) != nullptr) break;
              throw_gone(true, in_message);
            }
          }
        }
        f(*c);
        prx_->pop();
        return;
      }
      Cell c;
      while (!brx_->wait_dequeue_timed(c, kWaitSliceUs)) {
        if (peer_closed()) {
          if (brx_->try_dequeue(c)) break;
          throw_gone(true, in_message);
        }
      }
      f(c);
    }

    // Spins or yields once; true every kLivenessEvery calls (time to look at the peer).
    bool idle(uint32_t& polls) const {
      if (wait_ == Wait::kYield) {
        ::sched_yield();
      } else {
        cpu_relax();
      }
      return ++polls % kLivenessEvery == 0;
    }
    bool peer_closed() const { return shared_->closed().closed(1 - me_); }
    [[noreturn]] static void throw_gone(bool receiving, bool in_message) {
      if (in_message) {
        throw PeerGone("thread-moodycamel: the sending peer has gone in the middle of a message");
      }
      throw PeerGone(receiving ? "thread-moodycamel: the sending peer has gone (closed)"
                               : "thread-moodycamel: the receiving peer has gone (closed)");
    }

    Shared* shared_;
    int me_;
    Wait wait_;
    PollQueue* ptx_ = nullptr;
    PollQueue* prx_ = nullptr;
    BlockQueue* btx_ = nullptr;
    BlockQueue* brx_ = nullptr;
  };
};

}  // namespace ipcperf::backends::thread_moodycamel
