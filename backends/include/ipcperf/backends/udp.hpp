// udp: two UDP/IPv4 sockets bound to 127.0.0.1 on ephemeral ports and connected to each other,
// created by the supervisor and inherited by the peers. A message is one datagram.
// Hot path: one send(2) and one recv(2) per message; the datagram crosses the loopback device
// (IP and UDP headers, checksum offloaded) and is copied in and out of an skb.
// LOSSY: a datagram that finds the receiver's buffer full is dropped by the kernel, and the sender
// is not told. recv() therefore returns 0 when nothing arrived within kLossTimeoutNs while the
// peer is alive (the workloads count the loss and go on), and send() never waits for the
// receiver. See docs/backends/udp.md.
// Waits: block (SO_RCVTIMEO = the loss timeout), spin (MSG_DONTWAIT).
#pragma once
#include <climits>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/liveness.hpp"
#include "ipcperf/socket_buffers.hpp"
#include "ipcperf/sockets.hpp"

namespace ipcperf::backends::udp {

// 65535 (IPv4 total length) - 20 (IP header) - 8 (UDP header). Loopback's MTU (65536) carries it
// unfragmented. The buffers do not lower it: a datagram is queued whenever the receive queue is
// not over its limit, whatever its own size (measured here: 65507 bytes through a 4608-byte
// SO_RCVBUF), so only later datagrams are dropped.
constexpr size_t kMaxUdpPayload = 65507;
// A datagram that has not come after this long is counted as lost (the lossy contract).
constexpr int64_t kLossTimeoutNs = 250'000'000;

// Handshake states carried in the hello (Hello::state).
constexpr uint8_t kHelloNeedPid = 0;  // "I do not know your pid yet"
constexpr uint8_t kHelloHavePid = 1;  // "I know your pid" (still in the handshake)
constexpr uint8_t kHelloAnswer = 2;   // "I know your pid; no answer needed"

struct Udp {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "udp",
        "UDP/IPv4 socket pair on 127.0.0.1, connected; lossy: a full receive buffer drops "
        "datagrams",
        Family::kKernel,
        default_socket_capacity(),  // leaves the kernel's default buffers (wmem_default)
        WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
        Wait::kBlock,
        /*lossy=*/true};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return kMaxUdpPayload; }
  static void check_size(const ChannelOptions& o) {
    if (o.max_message <= kMaxUdpPayload) return;
    throw UsageError(fmt::format(
        "udp: message size {} exceeds the maximum of {} bytes (an IPv4 datagram is at most 65535 "
        "bytes, less 20 of IP and 8 of UDP header)",
        o.max_message, kMaxUdpPayload));
  }
  // capacity is what SO_RCVBUF and SO_SNDBUF are asked for, as for every socket backend
  // (socket_buffers.hpp); the kernel keeps twice that. The receive buffer decides the drops.
  static void check(const ChannelOptions& o) {
    check_socket_capacity("udp", o.capacity, /*recv_too=*/true);
  }

  static Endpoints prepare(const ChannelOptions& o) {
    Endpoints ep;
    int fd[2];
    sockaddr_in addr[2]{};
    for (int i = 0; i < 2; ++i) {
      fd[i] = check_errno("socket(AF_INET, SOCK_DGRAM)",
                          [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
      ep.owned.emplace_back(fd[i]);
      addr[i].sin_family = AF_INET;
      addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr[i].sin_port = 0;  // ephemeral
      check_errno("bind(127.0.0.1:0)", [&] {
        return ::bind(fd[i], reinterpret_cast<const sockaddr*>(&addr[i]), sizeof addr[i]);
      });
      socklen_t len = sizeof addr[i];
      check_errno("getsockname", [&] {
        return ::getsockname(fd[i], reinterpret_cast<sockaddr*>(&addr[i]), &len);
      });
      set_socket_buffer(fd[i], SockBuf::kRecv, o.capacity, "udp");
      set_socket_buffer(fd[i], SockBuf::kSend, o.capacity, "udp");
    }
    // Connected both ways: send() needs no address, recv() takes datagrams from the peer only,
    // and the ICMP port-unreachable that answers a datagram to a closed peer becomes
    // ECONNREFUSED on this socket.
    for (int i = 0; i < 2; ++i) {
      check_errno("connect(127.0.0.1)", [&] {
        return ::connect(fd[i], reinterpret_cast<const sockaddr*>(&addr[1 - i]),
                         sizeof addr[1 - i]);
      });
    }
    ep.spec = fmt::format("{},{}", fd[0], fd[1]);
    ep.inherit_a = {fd[0]};
    ep.inherit_b = {fd[1]};
    ep.objects.push_back(fmt::format("udp 127.0.0.1:{} <-> 127.0.0.1:{}", ntohs(addr[0].sin_port),
                                     ntohs(addr[1].sin_port)));
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept { ep.close_all(); }

  class Channel : DatagramEnd {
   public:
    static constexpr bool kLossy = true;

    Channel(std::string_view spec, Role role, const ChannelOptions& o)
        : DatagramEnd("udp", spec, role, o.wait) {
      // Block mode: a recv that waits this long reports a loss (or the peer's death); spin mode
      // passes MSG_DONTWAIT and uses the timeouts only for the handshake.
      const timeval rcv{0, static_cast<suseconds_t>(kLossTimeoutNs / 1000)};
      const timeval snd{0, static_cast<suseconds_t>(kLivenessTimeoutNs / 1000)};
      check_errno("setsockopt(SO_RCVTIMEO)", [&] {
        return ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
      });
      check_errno("setsockopt(SO_SNDTIMEO)", [&] {
        return ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
      });
      handshake();
    }

    void send(std::span<const std::byte> m) {
      for (;;) {
        if (::send(fd_.get(), m.data(), m.size(), send_flags_) >= 0) [[likely]] {
          return;
        }
        if (!send_failed()) return;  // dropped before it left: a loss like any other
      }
    }

    // Returns 0 when no datagram came within the loss timeout and the peer is alive.
    size_t recv(std::span<std::byte> b) {
      RecvWait w;
      for (;;) {
        const ssize_t n =
            ::recv(fd_.get(), b.data(), b.size(), recv_flags_ | (w.last_look ? MSG_DONTWAIT : 0));
        if (n >= static_cast<ssize_t>(kMinMessageSize)) [[likely]] {
          return checked(n, b.size());
        }
        if (n >= 0) {
          if (late_hello({b.data(), std::min(static_cast<size_t>(n), b.size())})) continue;
          return checked(n, b.size());  // a short message: the workload's check reports it
        }
        if (nothing_came(w)) return 0;
      }
    }

   private:
    // Both sides repeat their hello every loss timeout until each knows the other's pid and
    // knows that the other knows its own: a hello, like any datagram, may be dropped.
    void handshake() {
      pid_t peer = 0;
      bool peer_has_mine = false;
      bool told = false;  // we have sent a hello saying that we know the peer's pid
      const int64_t deadline = now_ns() + kHelloDeadlineNs;
      std::vector<std::byte> buf(kMaxUdpPayload);
      while (peer == 0 || !peer_has_mine) {
        if (now_ns() > deadline) {
          throw PeerGone(fmt::format("udp: the peer did not open the channel within {} s",
                                     kHelloDeadlineNs / 1'000'000'000));
        }
        send_hello(peer != 0 ? kHelloHavePid : kHelloNeedPid);
        told = told || peer != 0;
        // Take what came within one loss timeout (blocking, whatever the wait mode).
        for (;;) {
          const ssize_t n =
              retry_eintr([&] { return ::recv(fd_.get(), buf.data(), buf.size(), 0); });
          if (n < 0) {
            if (errno == EAGAIN) break;
            if (errno == ECONNREFUSED)
              throw PeerGone("udp: the peer's socket is closed (ECONNREFUSED)");
            throw_errno("recv(udp hello)");
          }
          if (auto h = Hello::decode({buf.data(), static_cast<size_t>(n)})) {
            peer = h->pid;
            peer_has_mine = peer_has_mine || h->state != kHelloNeedPid;
          } else if (peer != 0) {
            // Data: the peer finished its handshake, so it knows our pid. This first message is
            // dropped (counted lost); it can only happen when a hello of ours was lost.
            peer_has_mine = true;
          }
          // Done, or the peer's pid just learnt: tell the peer now, not after the timeout.
          if ((peer != 0 && peer_has_mine) || (peer != 0 && !told)) break;
        }
      }
      if (!told) send_hello(kHelloAnswer);
      watch_.watch(peer);
    }

    void send_hello(uint8_t state) {
      const auto h = Hello::mine(state).encode();
      if (retry_eintr([&] { return ::send(fd_.get(), h.data(), h.size(), MSG_NOSIGNAL); }) < 0) {
        if (errno == ECONNREFUSED)
          throw PeerGone("udp: the peer's socket is closed (ECONNREFUSED)");
        if (errno != EAGAIN && errno != ENOBUFS) throw_errno("send(udp hello)");
      }
    }

    // A hello that arrives once the channel is open: the peer is still in its handshake (our
    // last hello was lost) and needs an answer. True when it was one.
    [[gnu::cold]] [[gnu::noinline]] bool late_hello(std::span<const std::byte> d) {
      auto h = Hello::decode(d);
      if (!h) return false;
      if (h->state != kHelloAnswer) send_hello(kHelloAnswer);
      return true;
    }

    static size_t checked(ssize_t n, size_t cap) {
      if (static_cast<size_t>(n) > cap) [[unlikely]] {
        throw std::runtime_error(fmt::format(
            "udp: a {}-byte datagram arrived for a {}-byte buffer (truncated)", n, cap));
      }
      return static_cast<size_t>(n);
    }

    // The state of one recv() call's wait (spin: empty polls and when the wait began).
    struct RecvWait {
      uint32_t polls = 0;
      int64_t start = 0;
      bool last_look = false;  // the peer has gone: one non-blocking look, then PeerGone
    };

    // recv found nothing. False to try again; true when the loss timeout has passed with the
    // peer alive (recv reports a loss). Throws PeerGone when the peer has gone and a last look
    // found nothing (it may have sent just before it died).
    [[gnu::cold]] [[gnu::noinline]] bool nothing_came(RecvWait& w) {
      const int err = errno;
      if (err == EINTR) return false;
      if (err == ECONNREFUSED) {
        throw PeerGone("udp: the peer's socket is closed (ECONNREFUSED) while receiving");
      }
      if (err != EAGAIN) throw SystemError(err, "udp: receiving");
      if (w.last_look) throw watch_.gone("receiving");
      if (spin_) {
        // A clock read every kSpinPollsPerCheck empty polls, not per poll.
        cpu_relax();
        if (++w.polls < kSpinPollsPerCheck) return false;
        w.polls = 0;
        const int64_t t = now_ns();
        if (w.start == 0) w.start = t;
        if (t - w.start < kLossTimeoutNs && watch_.alive()) return false;
      }
      // Block: SO_RCVTIMEO (the loss timeout) has passed. Spin: as long has.
      if (watch_.alive()) return true;
      w.last_look = true;
      return false;
    }

    // send failed. True to try again, false when the datagram is to be counted lost.
    [[gnu::cold]] [[gnu::noinline]] bool send_failed() {
      const int err = errno;
      switch (err) {
        case EINTR:
          return true;
        case EAGAIN:
          // The send buffer is full (the loopback frees it at once, so this is rare): wait for
          // it as long as the peer lives -- never forever.
          if (spin_ ? watch_.spin_tick() : watch_.alive()) return true;
          throw watch_.gone("sending");
        case ENOBUFS:
          return false;
        case ECONNREFUSED:
          throw PeerGone("udp: the peer's socket is closed (ECONNREFUSED) while sending");
        default:
          throw SystemError(err, "udp: sending");
      }
    }
  };
};

}  // namespace ipcperf::backends::udp
