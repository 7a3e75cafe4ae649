// thread-boost-spsc: the in-process reference for shm-boost-spsc. The same
// boost::lockfree::spsc_queue<uint8_t, capacity<256 KiB>> byte queue and framing
// (ipcperf/boost_byte_queue.hpp), one per direction, on the heap, between two threads of one
// process. Hot path as in shm-boost-spsc; peer "death" is the other Channel's destructor setting
// its closed flag.
#pragma once
#include <memory>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/boost_byte_queue.hpp"
#include "ipcperf/closed_flags.hpp"

namespace ipcperf::backends::thread_boost_spsc {

using boost_bytes::kCapacity;
using boost_bytes::Queue;

// Each queue on its own cache lines, away from the other direction's indices.
struct alignas(64) AlignedQueue {
  Queue q;
};

struct ThreadBoostSpsc {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "thread-boost-spsc",
        "boost::lockfree::spsc_queue byte queue per direction between two threads",
        Family::kInProcess,
        kCapacity,
        WaitSet{}.add(Wait::kSpin).add(Wait::kYield),
        Wait::kSpin};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return boost_bytes::kMaxMessage; }
  static void check(const ChannelOptions& o) {
    boost_bytes::check_capacity("thread-boost-spsc", o.capacity);
  }

  class Shared {
   public:
    explicit Shared(const ChannelOptions&)
        : queue_{std::make_unique<AlignedQueue>(), std::make_unique<AlignedQueue>()} {}
    Queue& queue(int direction) { return queue_[direction]->q; }
    ClosedFlags& closed() { return closed_; }

   private:
    std::unique_ptr<AlignedQueue> queue_[2];  // [0] A->B, [1] B->A
    ClosedFlags closed_;
  };

  class Channel {
   public:
    Channel(Shared& s, Role role, const ChannelOptions& o)
        : shared_(&s),
          me_(role == Role::kA ? 0 : 1),
          duplex_(s.queue(me_), s.queue(1 - me_), o, "thread-boost-spsc", Gone{this}) {}
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel() { shared_->closed().close(me_); }

    void send(std::span<const std::byte> m) { duplex_.send(m); }
    size_t recv(std::span<std::byte> b) { return duplex_.recv(b); }

   private:
    struct Gone {
      Channel* ch;
      bool operator()() const { return ch->shared_->closed().closed(1 - ch->me_); }
    };

    Shared* shared_;
    int me_;
    boost_bytes::Duplex<Gone> duplex_;
  };
};

}  // namespace ipcperf::backends::thread_boost_spsc
