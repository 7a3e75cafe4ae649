// shm-spsc: two lock-free SPSC rings (one per direction) in one POSIX shared-memory object.
// Hot path: memcpy into the ring, one release store of the record header; the receiver polls
// that header word (spin / yield) or sleeps on a futex (block). No system call per message
// except futex wake/wait in block mode when the other side sleeps.
#pragma once
#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/shm.hpp"
#include "ipcperf/shm_endpoints.hpp"
#include "ipcperf/spsc_ring.hpp"

namespace ipcperf::backends::shm_spsc {

constexpr size_t ring_stride(size_t capacity) { return SpscRing::region_stride(capacity); }

struct ShmSpsc {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "shm-spsc",
        "lock-free SPSC ring per direction in POSIX shm; receiver polls the slot header",
        Family::kSharedMemory,
        256 * 1024,
        WaitSet{}.add(Wait::kSpin).add(Wait::kYield).add(Wait::kBlock),
        Wait::kSpin};
    return i;
  }
  static size_t max_message(const ChannelOptions& o) { return SpscRing::max_message(o.capacity); }
  static void check(const ChannelOptions& o) { SpscRing::check_capacity("shm-spsc", o.capacity); }

  static Endpoints prepare(const ChannelOptions& o) {
    const size_t stride = ring_stride(o.capacity);
    return create_shm_endpoints(2 * stride, [&](std::byte* base) {
      SpscRing::init(base, o.capacity);
      SpscRing::init(base + stride, o.capacity);
    });
  }
  static void cleanup(Endpoints& ep) noexcept { unlink_shm_endpoints(ep); }

  class Channel {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : region_(ShmRegion::open(spec)) {
      const size_t stride = ring_stride(o.capacity);
      if (region_.size() != 2 * stride) {
        throw std::runtime_error(fmt::format("shm-spsc: /{} has {} bytes, expected {}", spec,
                                             region_.size(), 2 * stride));
      }
      auto* base = static_cast<std::byte*>(region_.data());
      void* ab = base;           // A -> B
      void* ba = base + stride;  // B -> A
      const bool a = role == Role::kA;
      tx_ = SpscRing(a ? ab : ba, stride, SpscRing::Side::kProducer, o.wait);
      rx_ = SpscRing(a ? ba : ab, stride, SpscRing::Side::kConsumer, o.wait);
    }
    void send(std::span<const std::byte> m) { tx_.send(m); }
    size_t recv(std::span<std::byte> b) { return rx_.recv(b); }

   private:
    ShmRegion region_;  // declared first: destroyed after the rings have marked themselves closed
    SpscRing tx_, rx_;
  };
};

}  // namespace ipcperf::backends::shm_spsc
