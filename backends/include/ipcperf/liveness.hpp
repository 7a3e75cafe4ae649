// Peer liveness for transports that say nothing when the other side dies: datagram sockets (no
// EOF), message queues (they outlive every process that opened them). Each endpoint learns the
// other's pid from a hello exchanged when the channel opens, and then looks at that process
// (ProcessWatch: one poll(2) on a pidfd) only when a wait has already been long -- after a timed
// out blocking call, or every kSpinPollsPerCheck empty polls -- never once per message.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/message.hpp"
#include "ipcperf/sys.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf {

// How long a blocking call sleeps before the peer's liveness is looked at.
inline constexpr int64_t kLivenessTimeoutNs = 100'000'000;
// Busy-polling endpoints look at the peer after this many empty polls (~tens of microseconds).
inline constexpr uint32_t kSpinPollsPerCheck = 4096;
// The hello must arrive within this time of the channel being opened; the peers are started
// together, so only a peer that died before attaching makes the wait this long.
inline constexpr int64_t kHelloDeadlineNs = 60'000'000'000;

// The hello: 8 bytes, shorter than any measured message (kMinMessageSize), so a transport that
// may repeat it (udp) can tell a late hello from a message on the data path.
//   u32 magic, i32 pid, (udp only) the sender's handshake state in the top byte of the magic.
inline constexpr size_t kHelloSize = 8;
static_assert(kHelloSize < kMinMessageSize);

struct Hello {
  static constexpr uint32_t kMagic = 0x0065'6c68;  // "hle" + state byte
  pid_t pid = 0;
  uint8_t state = 0;  // transport-defined (udp: handshake progress); 0 elsewhere

  [[nodiscard]] std::array<std::byte, kHelloSize> encode() const noexcept {
    std::array<std::byte, kHelloSize> b{};
    const uint32_t m = kMagic | (uint32_t{state} << 24);
    const auto p = static_cast<int32_t>(pid);
    std::memcpy(b.data(), &m, 4);
    std::memcpy(b.data() + 4, &p, 4);
    return b;
  }
  // nullopt when b is not a hello.
  static std::optional<Hello> decode(std::span<const std::byte> b) noexcept {
    if (b.size() != kHelloSize) return std::nullopt;
    uint32_t m = 0;
    int32_t p = 0;
    std::memcpy(&m, b.data(), 4);
    std::memcpy(&p, b.data() + 4, 4);
    if ((m & 0x00ff'ffffU) != kMagic || p <= 0) return std::nullopt;
    return Hello{static_cast<pid_t>(p), static_cast<uint8_t>(m >> 24)};
  }
  static Hello mine(uint8_t state = 0) noexcept { return Hello{::getpid(), state}; }
};

// Watches the peer process once its pid is known.
class PeerWatch {
 public:
  explicit PeerWatch(std::string_view what) : what_(what) {}

  void watch(pid_t pid) { watch_.watch(pid); }
  [[nodiscard]] pid_t pid() const noexcept { return watch_.pid(); }
  [[nodiscard]] bool alive() const noexcept { return watch_.alive(); }

  // For a busy-polling loop: call once per empty poll. False when a periodic look found the peer
  // gone (the caller then tries once more, since the peer may have sent just before it died,
  // and throws gone()).
  bool spin_tick() noexcept {
    cpu_relax();
    if (++polls_ < kSpinPollsPerCheck) [[likely]] {
      return true;
    }
    polls_ = 0;
    return alive();
  }

  [[nodiscard]] PeerGone gone(std::string_view doing) const {
    return PeerGone(
        fmt::format("{}: the peer (pid {}) has exited while {}", what_, watch_.pid(), doing));
  }

 private:
  std::string what_;
  ProcessWatch watch_;
  uint32_t polls_ = 0;
};

// CLOCK_REALTIME deadline `ns` from now, for the *timed* System V / POSIX calls that take one.
inline timespec realtime_deadline(int64_t ns) noexcept {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
  t.tv_nsec += static_cast<long>(ns % 1'000'000'000);
  if (t.tv_nsec >= 1'000'000'000) {
    t.tv_nsec -= 1'000'000'000;
    ++t.tv_sec;
  }
  return t;
}

// Sends our hello with send_hello(), then waits for the peer's: try_recv(buf) receives one message,
// copies at most buf.size() bytes of it into buf and returns its full size, or -1 when nothing
// came within its own short wait. Returns the peer's pid. A message that is not a hello before
// the peer's hello is a protocol error (each direction keeps order, and a peer says hello first).
template <class SendHello, class TryRecv>
pid_t exchange_hello(std::string_view what, SendHello&& send_hello, TryRecv&& try_recv) {
  send_hello(Hello::mine().encode());
  const int64_t deadline = now_ns() + kHelloDeadlineNs;
  std::array<std::byte, kMinMessageSize> buf{};
  for (;;) {
    const long n = try_recv(std::span<std::byte>(buf));
    if (n >= 0) {
      const size_t got = std::min(static_cast<size_t>(n), buf.size());
      if (auto h = Hello::decode({buf.data(), got})) return h->pid;
      throw std::runtime_error(fmt::format(
          "{}: expected the peer's hello when opening the channel, got {} bytes", what, n));
    }
    if (now_ns() > deadline) {
      throw PeerGone(fmt::format("{}: the peer did not open the channel within {} s", what,
                                 kHelloDeadlineNs / 1'000'000'000));
    }
  }
}

}  // namespace ipcperf
