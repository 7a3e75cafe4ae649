// tcp: a TCP connection over loopback (127.0.0.1). The supervisor binds port 0 (the kernel picks
// a free port from net.ipv4.ip_local_port_range) and listens (backlog 16); B inherits the
// listening socket and accept()s, A connects to the port named in the spec; the two prove to each
// other with the case's token that they are the peers (sockets.hpp: any local user can connect
// to the port, and B drops and counts such connections). The supervisor closes
// its copy of the listener right after spawning the peers and B closes its own after accept, so
// no listening socket outlives the connection; the side that closes first keeps a TIME_WAIT entry
// (ss -tan) for 60 s, which is TCP's protocol, not a leak, and holds no descriptor.
//
// Messages are framed (4-byte length prefix): one write(2) and usually one read(2) per message.
// TCP_NODELAY is on unless the backend's option --tcp-nodelay is 0 (Nagle's algorithm back on;
// the case is then named .../nodelay:0/...).
// Capacity: by default (0) the buffers are left to the kernel's autotuning (net.ipv4.tcp_wmem /
// tcp_rmem), as an untouched TCP socket has them; --capacity sets SO_SNDBUF and SO_RCVBUF, which
// fixes them (autotuning off). With a fixed buffer of the unix sockets' default size (212992),
// a stream of 4 KiB messages ran ~3.5x slower than autotuned here (docs/backends/tcp.md).
// Waits: block (default), spin (O_NONBLOCK after the connection is made). Peer death: EOF or
// ECONNRESET on read, EPIPE / ECONNRESET on write.
#pragma once
#include <charconv>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/framed_fds.hpp"
#include "ipcperf/socket_buffers.hpp"
#include "ipcperf/sockets.hpp"

namespace ipcperf::backends::tcp {

constexpr size_t kMaxTcpMessage = 16 * 1024 * 1024;  // framing caps nothing; the suite does

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

inline Fd tcp_socket() {
  return Fd(check_errno("socket(AF_INET, SOCK_STREAM)",
                        [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
}

// Before listen/connect: the receive buffer decides the window scale offered in the SYN, and an
// accepted socket inherits both buffers from its listener.
inline void size_buffers(int fd, size_t capacity) {
  if (capacity == 0) return;  // autotuned
  set_socket_buffer(fd, SockBuf::kSend, capacity, "tcp");
  set_socket_buffer(fd, SockBuf::kRecv, capacity, "tcp");
}

inline void set_nodelay(int fd, bool on) {
  const int v = on ? 1 : 0;
  check_errno(fmt::format("setsockopt(TCP_NODELAY, {})", v),
              [&] { return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v); });
}

// "<listening fd>:<port>:<token>" (the token in hex: sockets.hpp, peer authentication).
struct Spec {
  int listen_fd = -1;
  uint16_t port = 0;
  Token token{};
  static Spec parse(std::string_view s) {
    Spec sp;
    const size_t colon = s.find(':');
    const size_t colon2 = colon == std::string_view::npos ? colon : s.find(':', colon + 1);
    if (colon2 == std::string_view::npos ||
        std::from_chars(s.data(), s.data() + colon, sp.listen_fd).ec != std::errc{} ||
        std::from_chars(s.data() + colon + 1, s.data() + colon2, sp.port).ptr !=
            s.data() + colon2 ||
        sp.port == 0) {
      throw std::runtime_error(fmt::format("tcp: bad channel spec '{}'", s));
    }
    sp.token = parse_token("tcp", s.substr(colon2 + 1));
    return sp;
  }
};

// --tcp-nodelay 1|0: TCP_NODELAY on the connected socket (default on).
inline constexpr BackendOption kNodelay{
    "tcp-nodelay", "tcp: 1 = TCP_NODELAY (default), 0 = Nagle's algorithm on (case .../nodelay:0)",
    "1", "nodelay"};
inline constexpr BackendOption kOptions[] = {kNodelay};

struct Tcp {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "tcp",
        "TCP over loopback 127.0.0.1 (ephemeral port, TCP_NODELAY), 4-byte length-prefixed frames",
        Family::kKernel,
        0,  // the kernel's autotuning; see the top of the file
        WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
        Wait::kBlock,
        false,
        kOptions};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return kMaxTcpMessage; }
  static void check(const ChannelOptions& o) {
    if (o.capacity != 0) check_socket_capacity("tcp", o.capacity, true);
  }
  static Endpoints prepare(const ChannelOptions& o) {
    Endpoints ep;
    Fd& l = ep.owned.emplace_back(tcp_socket());
    size_buffers(l.get(), o.capacity);
    sockaddr_in addr = loopback(0);
    check_errno("bind(127.0.0.1:0)", [&] {
      return ::bind(l.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    });
    socklen_t len = sizeof addr;
    check_errno("getsockname(tcp)",
                [&] { return ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&addr), &len); });
    // Room for a few strangers' connections besides the peer's (B drops them: accept_peer).
    check_errno("listen(tcp)",
                [&] { return ::listen(l.get(), static_cast<int>(kMaxPendingConnections)); });
    const uint16_t port = ntohs(addr.sin_port);
    ep.spec = fmt::format("{}:{}:{}", l.get(), port, token_hex(random_token()));
    ep.inherit_b = {l.get()};
    ep.objects.push_back(fmt::format("tcp listener 127.0.0.1:{}", port));
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept { ep.close_all(); }

  // send() and recv() are FramedFds's (non-virtual: the hot loop calls them directly).
  class Channel : public FramedFds {
   public:
    Channel(std::string_view spec_text, Role role, const ChannelOptions& o) {
      const Spec spec = Spec::parse(spec_text);
      Fd fd;
      if (role == Role::kB) {
        fd = accept_peer(Fd(spec.listen_fd), spec.token, "tcp", refused_);
        // Inherited from the listener (tcp_create_openreq_child copies the socket); checked,
        // not assumed.
        const auto want = static_cast<int>(2 * o.capacity);
        if (o.capacity != 0 && (socket_buffer(fd.get(), SockBuf::kSend) != want ||
                                socket_buffer(fd.get(), SockBuf::kRecv) != want)) {
          size_buffers(fd.get(), o.capacity);
        }
      } else {
        fd = tcp_socket();
        size_buffers(fd.get(), o.capacity);
        const sockaddr_in addr = loopback(spec.port);
        connect_or_gone(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr, "tcp",
                        fmt::format("127.0.0.1:{}", spec.port));
        present_token(fd.get(), spec.token, "tcp");
      }
      set_nodelay(fd.get(), o.flag(kNodelay));
      start(std::move(fd), o.wait == Wait::kSpin, "tcp");
    }

    // Connections to the case's port that were not the peer's (B; 0 at A).
    [[nodiscard]] uint64_t refused() const noexcept { return refused_; }

   private:
    uint64_t refused_ = 0;
  };
};

}  // namespace ipcperf::backends::tcp
