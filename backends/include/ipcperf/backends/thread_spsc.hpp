// thread-spsc: the same lock-free SPSC ring as shm-spsc (spsc_ring.hpp), one per direction, but
// between two threads of one process in ordinary heap memory. The difference between the two rows
// is what crossing a process boundary costs a user-space queue (on this machine: nothing but the
// page-table setup, since the cache-coherence traffic is the same), and the row is the ceiling the
// cross-process mechanisms are read against.
#pragma once
#include <cstdlib>
#include <new>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/spsc_ring.hpp"

namespace ipcperf::backends::thread_spsc {

constexpr size_t kPage = 4096;
constexpr size_t ring_stride(size_t capacity) { return SpscRing::region_stride(capacity); }

struct ThreadSpsc {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "thread-spsc",
        "in-process reference: shm-spsc's lock-free ring between two threads (heap memory)",
        Family::kInProcess,
        256 * 1024,
        WaitSet{}.add(Wait::kSpin).add(Wait::kYield).add(Wait::kBlock),
        Wait::kSpin};
    return i;
  }
  static size_t max_message(const ChannelOptions& o) { return SpscRing::max_message(o.capacity); }
  static void check(const ChannelOptions& o) {
    SpscRing::check_capacity("thread-spsc", o.capacity);
  }

  // Both rings, page-aligned like the shared-memory object of shm-spsc.
  class Shared {
   public:
    explicit Shared(const ChannelOptions& o) : stride_(ring_stride(o.capacity)) {
      mem_ = static_cast<std::byte*>(std::aligned_alloc(kPage, 2 * stride_));
      if (mem_ == nullptr) throw std::bad_alloc();
      SpscRing::init(mem_, o.capacity);
      SpscRing::init(mem_ + stride_, o.capacity);
    }
    ~Shared() { std::free(mem_); }
    Shared(const Shared&) = delete;
    Shared& operator=(const Shared&) = delete;
    [[nodiscard]] std::byte* ring(int i) const { return mem_ + static_cast<size_t>(i) * stride_; }
    [[nodiscard]] size_t stride() const { return stride_; }

   private:
    size_t stride_;
    std::byte* mem_;
  };

  class Channel {
   public:
    Channel(Shared& sh, Role role, const ChannelOptions& o) {
      const bool a = role == Role::kA;
      tx_ = SpscRing(sh.ring(a ? 0 : 1), sh.stride(), SpscRing::Side::kProducer, o.wait);
      rx_ = SpscRing(sh.ring(a ? 1 : 0), sh.stride(), SpscRing::Side::kConsumer, o.wait);
    }
    // ~SpscRing marks both rings closed for this side: the other thread's wait ends in PeerGone.
    void send(std::span<const std::byte> m) { tx_.send(m); }
    size_t recv(std::span<std::byte> b) { return rx_.recv(b); }

   private:
    SpscRing tx_, rx_;
  };
};

}  // namespace ipcperf::backends::thread_spsc
