// uds-dgram: two AF_UNIX SOCK_DGRAM sockets bound to a.sock / b.sock in a private directory and
// connected to each other, created by the supervisor and inherited by the peers (A gets a.sock,
// B b.sock). A message is one datagram: no framing, the kernel keeps the boundaries.
// Hot path: one send(2) and one recv(2) per message; the kernel copies the message into an skb
// charged to the sender's send buffer, queues it on the receiver, and copies it out on recv.
// Waits: block (the default: the kernel sleeps, with 100 ms SO_RCVTIMEO/SO_SNDTIMEO after which
// the peer's liveness is looked at), spin (MSG_DONTWAIT, busy retry).
// Peer death: datagram sockets give no EOF, so the peer's pid comes from a hello when the channel
// opens; a send to a closed peer fails at once with ECONNREFUSED.
#pragma once
#include <algorithm>
#include <climits>
#include <cstring>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/liveness.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/socket_buffers.hpp"
#include "ipcperf/sockets.hpp"

namespace ipcperf::backends::uds_dgram {

// unix_dgram_sendmsg() refuses (EMSGSIZE) a datagram longer than sk_sndbuf - 32; measured on
// this machine: with SO_SNDBUF reading 212992, 212960 bytes go, 212961 do not.
constexpr size_t kSendBufSlack = 32;
// A datagram is one skb: up to MAX_SKB_FRAGS (17) pages of fragments and a linear part from one
// kmalloc, at most 4 MiB less 320 bytes of skb_shared_info. Measured here (x86-64, 4 KiB pages)
// with a 32 MiB SO_SNDBUFFORCE: 4263616 bytes go, 4263617 fail with ENOBUFS.
constexpr size_t kLargestDatagram = 4 * 1024 * 1024 - 320 + 17 * 4096;

// The directory is the part of the spec after the two descriptors.
inline std::string dir_of(std::string_view spec) {
  const size_t c1 = spec.find(',');
  const size_t c2 = c1 == std::string_view::npos ? c1 : spec.find(',', c1 + 1);
  return c2 == std::string_view::npos ? std::string() : std::string(spec.substr(c2 + 1));
}

struct UdsDgram {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "uds-dgram",
        "AF_UNIX datagram socket pair bound in a private directory, connected; one datagram per "
        "message",
        Family::kKernel,
        default_socket_capacity(),  // leaves the kernel's default send buffer (wmem_default)
        WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
        Wait::kBlock};
    return i;
  }
  // capacity is what SO_SNDBUF is asked for, as for every socket backend (socket_buffers.hpp);
  // the kernel keeps twice that, and a datagram must fit the doubled buffer less 32 bytes.
  static size_t sndbuf(const ChannelOptions& o) { return 2 * o.capacity; }
  static size_t max_message(const ChannelOptions& o) {
    return std::min(kLargestDatagram, sndbuf(o) > kSendBufSlack ? sndbuf(o) - kSendBufSlack : 0);
  }
  static void check_size(const ChannelOptions& o) {
    if (o.max_message <= max_message(o)) return;
    if (o.max_message > kLargestDatagram) {
      throw UsageError(fmt::format(
          "uds-dgram: message size {} exceeds the maximum of {} bytes (the largest skb the kernel "
          "builds for one datagram: a 4 MiB kmalloc plus 17 page fragments)",
          o.max_message, kLargestDatagram));
    }
    throw UsageError(fmt::format(
        "uds-dgram: message size {} exceeds the maximum of {} bytes with capacity {} (a "
        "datagram must fit the send buffer, twice the capacity, less {} bytes: give a capacity of "
        "{} or more)",
        o.max_message, max_message(o), o.capacity, kSendBufSlack,
        (o.max_message + kSendBufSlack + 1) / 2));
  }
  static void check(const ChannelOptions& o) {
    check_socket_capacity("uds-dgram", o.capacity, /*recv_too=*/false);
  }

  static Endpoints prepare(const ChannelOptions& o) {
    Endpoints ep;
    const std::string dir = make_private_dir();
    try {
      const std::string path[2] = {dir + "/a.sock", dir + "/b.sock"};
      int fd[2];
      for (int i = 0; i < 2; ++i) {
        fd[i] = check_errno("socket(AF_UNIX, SOCK_DGRAM)",
                            [] { return ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
        ep.owned.emplace_back(fd[i]);
        const sockaddr_un a = unix_address("uds-dgram", path[i]);
        check_errno(fmt::format("bind(\"{}\")", path[i]),
                    [&] { return ::bind(fd[i], reinterpret_cast<const sockaddr*>(&a), sizeof a); });
        ep.objects.push_back(path[i]);
        // Only the owner may connect or send to it (the directory is 0700 as well).
        check_errno(fmt::format("chmod(\"{}\", 0600)", path[i]),
                    [&] { return ::chmod(path[i].c_str(), 0600); });
        // Unix datagrams are charged to the sender until read; SO_RCVBUF plays no part.
        set_socket_buffer(fd[i], SockBuf::kSend, o.capacity, "uds-dgram");
      }
      // Connected both ways: send() needs no address (no path lookup per message), and each
      // socket accepts datagrams from its peer only. A connected pair is also exempt from
      // net.unix.max_dgram_qlen, so the send buffer alone bounds what is in flight.
      for (int i = 0; i < 2; ++i) {
        const sockaddr_un a = unix_address("uds-dgram", path[1 - i]);
        check_errno(fmt::format("connect(\"{}\")", path[1 - i]), [&] {
          return ::connect(fd[i], reinterpret_cast<const sockaddr*>(&a), sizeof a);
        });
      }
      ep.objects.push_back(dir);
      ep.spec = fmt::format("{},{},{}", fd[0], fd[1], dir);
      ep.inherit_a = {fd[0]};
      ep.inherit_b = {fd[1]};
    } catch (...) {
      ep.close_all();
      remove_private_dir(dir);
      throw;
    }
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept {
    ep.close_all();
    if (const std::string dir = dir_of(ep.spec); !dir.empty()) remove_private_dir(dir);
  }

  class Channel : DatagramEnd {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : DatagramEnd("uds-dgram", spec, role, o.wait) {
      // Blocking calls return after this long so that a dead peer is noticed (spin mode passes
      // MSG_DONTWAIT and uses them only for the hello).
      const timeval tv{0, static_cast<suseconds_t>(kLivenessTimeoutNs / 1000)};
      for (int opt : {SO_RCVTIMEO, SO_SNDTIMEO}) {
        check_errno("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)",
                    [&] { return ::setsockopt(fd_.get(), SOL_SOCKET, opt, &tv, sizeof tv); });
      }
      const pid_t peer = exchange_hello(
          "uds-dgram",
          [&](std::span<const std::byte> h) {
            check_errno("send(uds-dgram hello)",
                        [&] { return ::send(fd_.get(), h.data(), h.size(), MSG_NOSIGNAL); });
          },
          [&](std::span<std::byte> buf) -> long {
            const ssize_t n =
                retry_eintr([&] { return ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC); });
            if (n >= 0) return n;
            if (errno == EAGAIN) return -1;
            throw_errno("recv(uds-dgram hello)");
          });
      watch_.watch(peer);
    }

    void send(std::span<const std::byte> m) {
      for (;;) {
        // A datagram goes whole or not at all.
        if (::send(fd_.get(), m.data(), m.size(), send_flags_) >= 0) [[likely]] {
          return;
        }
        if (!wait_more("sending")) throw watch_.gone("sending");
      }
    }

    size_t recv(std::span<std::byte> b) {
      for (;;) {
        const ssize_t n = ::recv(fd_.get(), b.data(), b.size(), recv_flags_);
        if (n >= 0) [[likely]] {
          return received(n, b.size());
        }
        if (!wait_more("receiving")) {
          // The peer may have sent just before it died: one last look.
          const ssize_t last = ::recv(fd_.get(), b.data(), b.size(), recv_flags_ | MSG_DONTWAIT);
          if (last >= 0) return received(last, b.size());
          throw watch_.gone("receiving");
        }
      }
    }

   private:
    static size_t received(ssize_t n, size_t cap) {
      if (static_cast<size_t>(n) > cap) [[unlikely]] {
        throw std::runtime_error(fmt::format(
            "uds-dgram: a {}-byte datagram arrived for a {}-byte buffer (truncated)", n, cap));
      }
      return static_cast<size_t>(n);
    }

    // After a failed send/recv: true to try again, false when the peer has exited; throws on
    // errors. Kept out of line: the hot path is the system call and one branch.
    [[gnu::cold]] [[gnu::noinline]] bool wait_more(const char* doing) {
      const int err = errno;
      switch (err) {
        case EINTR:
          return true;
        case EAGAIN:
          // spin: nothing there (or the send buffer is full); block: a 100 ms timeout passed.
          return spin_ ? watch_.spin_tick() : watch_.alive();
        case ENOBUFS:
          throw SystemError(err, fmt::format("uds-dgram: {}", doing),
                            "the kernel could not allocate the datagram's buffer (large datagrams "
                            "need physically contiguous memory)");
        case ECONNREFUSED:  // the peer's socket is closed (the first send after it went)
        case ENOTCONN:      // ... and every send after that
        case ECONNRESET:
        case EPIPE:
          throw PeerGone(fmt::format("uds-dgram: the peer's socket is closed ({}) while {}",
                                     errno_name(err), doing));
        default:
          throw SystemError(err, fmt::format("uds-dgram: {}", doing));
      }
    }
  };
};

}  // namespace ipcperf::backends::uds_dgram
