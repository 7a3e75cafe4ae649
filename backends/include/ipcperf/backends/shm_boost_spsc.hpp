// shm-boost-spsc: boost::lockfree::spsc_queue<uint8_t, capacity<256 KiB>> per direction, placed
// in one POSIX shared-memory object by the supervisor, carrying 4-byte length-prefixed frames
// (ipcperf/boost_byte_queue.hpp has the framing and why the queue is sound across processes).
// Hot path: a staging copy of prefix+message, write_available() and one bulk push (two index
// loads and a release store of write_index); the receiver pops the prefix, then the message into
// the caller's buffer (two pops). No system call; the receiver busy-polls the indices.
// Waits: spin (default), yield. Peer death: pids and closed flags in a header next to the queues,
// the peer's pidfd looked at every kLivenessEvery empty polls.
#pragma once
#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/boost_byte_queue.hpp"
#include "ipcperf/shm.hpp"
#include "ipcperf/shm_endpoints.hpp"

namespace ipcperf::backends::shm_boost_spsc {

using boost_bytes::kCapacity;
using boost_bytes::Queue;

constexpr uint64_t kMagic = 0x626f'6f73'7473'7073ULL;  // "boostsps"
constexpr size_t kLine = kCacheLine;
// closed[side]: release in the Channel destructor, acquire in peer_gone(): what a side pushed
// before closing is visible to the peer that sees it closed, which drains it before reporting
// PeerGone.
using Header = ShmPairHeader;

// Region: Header | Queue A->B | Queue B->A, each queue starting on its own cache line.
constexpr size_t kQueueStride = round_up(sizeof(Queue), kLine);
constexpr size_t queue_offset(int direction) {
  return sizeof(Header) + static_cast<size_t>(direction) * kQueueStride;
}
constexpr size_t kRegionBytes = round_up(sizeof(Header) + 2 * kQueueStride, 4096);

struct ShmBoostSpsc {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "shm-boost-spsc",
        "boost::lockfree::spsc_queue byte queue per direction in POSIX shm, length-prefixed",
        Family::kSharedMemory,
        kCapacity,
        WaitSet{}.add(Wait::kSpin).add(Wait::kYield),
        Wait::kSpin};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return boost_bytes::kMaxMessage; }
  static void check(const ChannelOptions& o) {
    boost_bytes::check_capacity("shm-boost-spsc", o.capacity);
  }

  static Endpoints prepare(const ChannelOptions&) {
    return create_shm_endpoints(kRegionBytes, [](std::byte* base) {
      auto* h = new (base) Header();
      h->capacity = kCapacity;
      new (base + queue_offset(0)) Queue();
      new (base + queue_offset(1)) Queue();
      h->magic = kMagic;
    });
  }
  // The queues are trivially destructible: unlinking is all there is to do.
  static void cleanup(Endpoints& ep) noexcept { unlink_shm_endpoints(ep); }

  class Channel {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : region_(ShmRegion::open(spec)),
          hdr_(checked_header(region_, spec)),
          me_(role == Role::kA ? 0 : 1),
          // Direction 0 is A->B: A pushes on 0 and pops from 1.
          duplex_(queue(me_), queue(1 - me_), o, "shm-boost-spsc", Gone{this}) {
      hdr_->pid[me_].store(static_cast<int32_t>(::getpid()), std::memory_order_relaxed);
    }
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel() { hdr_->closed[me_].store(1, std::memory_order_release); }

    void send(std::span<const std::byte> m) { duplex_.send(m); }
    size_t recv(std::span<std::byte> b) { return duplex_.recv(b); }

   private:
    struct Gone {
      Channel* ch;
      bool operator()() const { return ch->peer_gone(); }
    };
    static Header* checked_header(ShmRegion& r, std::string_view spec) {
      auto* h = static_cast<Header*>(r.data());
      if (r.size() != kRegionBytes || h->magic != kMagic || h->capacity != kCapacity) {
        throw std::runtime_error(
            fmt::format("shm-boost-spsc: /{} is not a queue pair of this build", spec));
      }
      return h;
    }
    Queue& queue(int direction) {
      return *reinterpret_cast<Queue*>(static_cast<std::byte*>(region_.data()) +
                                       queue_offset(direction));
    }
    bool peer_gone() {
      if (hdr_->closed[1 - me_].load(std::memory_order_acquire) != 0) return true;
      const int32_t pid = hdr_->pid[1 - me_].load(std::memory_order_relaxed);
      if (pid != 0 && pid != watch_.pid()) watch_.watch(pid);
      return !watch_.alive();
    }

    ShmRegion region_;  // declared first: unmapped after the destructor has marked us closed
    Header* hdr_;
    int me_;
    ProcessWatch watch_;
    boost_bytes::Duplex<Gone> duplex_;
  };
};

}  // namespace ipcperf::backends::shm_boost_spsc
