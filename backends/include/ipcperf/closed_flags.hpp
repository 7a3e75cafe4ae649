// The in-process backends' "this side has closed" flags, one per side on its own cache line.
// A side's Channel destructor sets its flag (release); the other side's peer_gone() reads it
// (acquire): what a side enqueued before closing is visible to the peer that sees the flag,
// which drains it before reporting PeerGone.
#pragma once

#include <atomic>
#include <cstdint>

namespace ipcperf {

class ClosedFlags {
 public:
  void close(int side) { flags_[side].flag.store(1, std::memory_order_release); }
  [[nodiscard]] bool closed(int side) const {
    return flags_[side].flag.load(std::memory_order_acquire) != 0;
  }

 private:
  struct alignas(64) Flag {
    std::atomic<uint32_t> flag{0};
  };
  Flag flags_[2];
};

}  // namespace ipcperf
