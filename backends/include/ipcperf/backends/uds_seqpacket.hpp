// uds-seqpacket: socketpair(AF_UNIX, SOCK_SEQPACKET) created by the supervisor, one end inherited
// by each peer. The kernel keeps message boundaries, so there is no framing: one send(2) and one
// recv(2) per message, each copying the bytes once (sender -> skb, skb -> receiver).
//
// A record is one skb and must fit the sender's socket buffer: unix_dgram_sendmsg refuses
// len > sk_sndbuf - 32 with EMSGSIZE, and sk_sndbuf is twice the SO_SNDBUF asked for. The skb
// itself is a kmalloc'ed linear part (at most KMALLOC_MAX_SIZE, 4 MiB, less the 320-byte
// skb_shared_info) plus up to MAX_SKB_FRAGS (17) page fragments, which caps a record at
// 4 MiB - 320 + 17 * 4096 = 4263616 bytes on x86-64 whatever the buffer (ENOBUFS above). Both
// found by experiment on Linux 6.18 and read in net/unix/af_unix.c
// (docs/backends/uds-seqpacket.md). max_message() asks the kernel for the doubled buffer on a
// scratch socket pair, so the clamping rules are the kernel's own.
//
// A record longer than the receive buffer would be truncated silently by recv(2); recv is called
// with MSG_TRUNC, which makes it return the record's real length, and a longer record is an error.
// Waits: block (default), spin (MSG_DONTWAIT, busy retry of EAGAIN). Peer death: recv returns 0
// (EOF: records are never empty here), send fails with EPIPE (MSG_NOSIGNAL).
#pragma once
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/socket_buffers.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf::backends::uds_seqpacket {

constexpr size_t kRecordOverhead = 32;  // af_unix.c: len > sk->sk_sndbuf - 32 -> EMSGSIZE

inline size_t largest_skb() {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  constexpr size_t kKmallocMax = size_t{4} << 20;  // PAGE_SIZE << MAX_PAGE_ORDER (10)
  constexpr size_t kSharedInfo = 320;              // SKB_DATA_ALIGN(sizeof(skb_shared_info))
  constexpr size_t kMaxSkbFrags = 17;
  return kKmallocMax - kSharedInfo + kMaxSkbFrags * page;
}

inline void make_pair(int sv[2]) {
  check_errno("socketpair(AF_UNIX, SOCK_SEQPACKET)",
              [&] { return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv); });
}

// The send buffer the kernel gives for `capacity` (doubled, clamped as the caller may be),
// measured once per capacity on a scratch pair.
inline size_t sndbuf_for(size_t capacity) {
  static std::mutex m;
  static std::unordered_map<size_t, size_t> cache;
  std::lock_guard lock(m);
  if (auto it = cache.find(capacity); it != cache.end()) return it->second;
  int sv[2];
  make_pair(sv);
  Fd a(sv[0]), b(sv[1]);
  int v = static_cast<int>(std::min<size_t>(capacity, INT32_MAX / 2));
  const bool force = capacity > socket_buffer_limit(SockBuf::kSend) && has_cap_net_admin();
  // A refused value leaves the default: check() reports the capacity problem itself.
  ::setsockopt(a.get(), SOL_SOCKET, force ? SO_SNDBUFFORCE : SO_SNDBUF, &v, sizeof v);
  const size_t got = static_cast<size_t>(socket_buffer(a.get(), SockBuf::kSend));
  cache.emplace(capacity, got);
  return got;
}

struct UdsSeqpacket {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "uds-seqpacket",
        "socketpair(AF_UNIX, SOCK_SEQPACKET): one record per message, boundaries kept by the "
        "kernel",
        Family::kKernel,
        default_socket_capacity(),
        WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
        Wait::kBlock};
    return i;
  }
  static size_t max_message(const ChannelOptions& o) {
    return std::min(sndbuf_for(o.capacity) - kRecordOverhead, largest_skb());
  }
  static void check(const ChannelOptions& o) {
    // Only the sender's SO_SNDBUF bounds a unix datagram socket's queue (its records are charged
    // to the sender until read); SO_RCVBUF plays no part.
    check_socket_capacity("uds-seqpacket", o.capacity, false);
  }
  static Endpoints prepare(const ChannelOptions& o) {
    Endpoints ep;
    int sv[2];
    make_pair(sv);
    ep.owned.emplace_back(sv[0]);
    ep.owned.emplace_back(sv[1]);
    // Each end sends in one direction: size both send buffers here, before anything is queued.
    for (int fd : sv) set_socket_buffer(fd, SockBuf::kSend, o.capacity, "uds-seqpacket");
    ep.spec = fmt::format("{},{}", sv[0], sv[1]);
    ep.inherit_a = {sv[0]};
    ep.inherit_b = {sv[1]};
    ep.objects.push_back(fmt::format("socketpair fds {}", ep.spec));
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept { ep.close_all(); }

  class Channel {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : flags_(o.wait == Wait::kSpin ? MSG_DONTWAIT : 0) {
      const auto [a, b] = spec_ints<2>("uds-seqpacket", spec);
      fd_ = Fd(role == Role::kA ? a : b);
      // For the error message only: the limit of this very socket.
      max_ =
          std::min(static_cast<size_t>(socket_buffer(fd_.get(), SockBuf::kSend)) - kRecordOverhead,
                   largest_skb());
    }

    void send(std::span<const std::byte> m) {
      for (;;) {
        const ssize_t w = ::send(fd_.get(), m.data(), m.size(), flags_ | MSG_NOSIGNAL);
        if (w >= 0) [[likely]] {
          // A record goes whole or not at all.
          if (static_cast<size_t>(w) != m.size()) [[unlikely]] {
            throw std::runtime_error(
                fmt::format("uds-seqpacket: send of a {}-byte record sent {} bytes", m.size(), w));
          }
          return;
        }
        if (errno == EAGAIN && flags_ != 0) {
          cpu_relax();
          continue;
        }
        if (errno == EINTR) continue;
        if (errno == EPIPE || errno == ECONNRESET) {
          throw PeerGone(
              fmt::format("uds-seqpacket: the receiving peer has gone ({})", errno_name(errno)));
        }
        if (errno == EMSGSIZE || errno == ENOBUFS) {
          throw_errno(fmt::format("send(uds-seqpacket, {} bytes)", m.size()),
                      fmt::format("the limit with this capacity is {} bytes", max_));
        }
        throw_errno(fmt::format("send(uds-seqpacket, {} bytes)", m.size()));
      }
    }

    size_t recv(std::span<std::byte> buf) {
      for (;;) {
        // MSG_TRUNC: the return value is the record's length even when it did not fit.
        const ssize_t r = ::recv(fd_.get(), buf.data(), buf.size(), flags_ | MSG_TRUNC);
        if (r > 0) [[likely]] {
          if (static_cast<size_t>(r) > buf.size()) [[unlikely]] {
            throw std::runtime_error(
                fmt::format("uds-seqpacket: a {}-byte record was truncated to the {}-byte "
                            "buffer (the rest is lost)",
                            r, buf.size()));
          }
          return static_cast<size_t>(r);
        }
        if (r == 0) throw PeerGone("uds-seqpacket: the sending peer has closed");
        if (errno == EAGAIN && flags_ != 0) {
          cpu_relax();
          continue;
        }
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) throw PeerGone("uds-seqpacket: the sending peer has gone");
        throw_errno("recv(uds-seqpacket)");
      }
    }

   private:
    int flags_;
    size_t max_ = 0;
    Fd fd_;
  };
};

}  // namespace ipcperf::backends::uds_seqpacket
