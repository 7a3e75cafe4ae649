// Socket plumbing shared by the socket backends (uds-stream, uds-seqpacket, uds-dgram, tcp, udp):
// an AF_UNIX address that refuses a path sun_path cannot hold, the one connection a listener ever
// accepts, a connect whose refusal means that the peer has gone, and what a datagram channel
// holds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>
#include <sys/un.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/liveness.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {

// sun_path's size, the terminating NUL included.
inline constexpr size_t kSunPath = sizeof(sockaddr_un{}.sun_path);

// `path` as an AF_UNIX address. Throws UsageError naming the backend when it does not fit.
sockaddr_un unix_address(std::string_view backend, const std::string& path);

// Accepts the one connection on `listener` and closes the listener, so that no second
// connection can be made. Throws SystemError.
Fd accept_one(Fd listener, std::string_view backend);

// ---- peer authentication (tcp) ------------------------------------------------------------------
// A listening TCP port on 127.0.0.1 can be connected to by every local user, and one that polls
// /proc/net/tcp can get in before the case's peer. So the supervisor draws a token per case
// (getrandom), and the token travels to both peers inside the channel spec, i.e. in their job on
// the inherited control socket (never on a command line). A sends it first thing after connect;
// B accepts connections until one presents it, closing and counting every other, and answers with
// the token, which A checks: so neither end talks to a stranger. (The uds backends need none: the
// socket file is 0600 in a 0700 directory, and the kernel checks that.)
inline constexpr size_t kTokenSize = 16;
using Token = std::array<std::byte, kTokenSize>;
// The most connections B holds while waiting for their token; past it, the oldest is dropped.
inline constexpr size_t kMaxPendingConnections = 16;

Token random_token();  // getrandom(2); throws SystemError
std::string token_hex(const Token& t);
// Throws std::runtime_error naming the backend unless `hex` is 2*kTokenSize hex digits.
Token parse_token(std::string_view backend, std::string_view hex);

// B: accepts connections on `listener` (non-blocking from here on) until one sends `token` as
// its first kTokenSize bytes, then answers with the token, closes the listener and returns that
// connection (blocking). Every other connection -- wrong bytes, EOF, still silent when more
// than kMaxPendingConnections wait or when the peer's came -- is closed and counted in `refused`.
// Throws PeerGone when none presented the token within kHelloDeadlineNs (the peer died before
// connecting).
Fd accept_peer(Fd listener, const Token& token, std::string_view backend, uint64_t& refused);

// A, on a connected blocking socket: sends `token` and checks that the answer is the token.
// Throws PeerGone when the other end closes first, std::runtime_error when it answers something
// else (not our peer), and PeerGone when no answer came within kHelloDeadlineNs.
void present_token(int fd, const Token& token, std::string_view backend);

// connect(fd, addr). A refused connection (ECONNREFUSED, or ENOENT for a socket file that is no
// longer there) means that nobody listens: the peer died and the supervisor closed its copy of
// the listener. Throws PeerGone then, SystemError otherwise; `where` names the address.
void connect_or_gone(int fd, const sockaddr* addr, socklen_t len, std::string_view backend,
                     std::string_view where);

// The datagram channels' (udp, uds-dgram) state: the socket of this role from the spec "a,b",
// the flags of its send/recv calls for the wait strategy (spin: MSG_DONTWAIT; MSG_TRUNC: recv
// returns the datagram's real length, so a short buffer is detected) and the watch on the peer.
class DatagramEnd {
 protected:
  DatagramEnd(std::string_view backend, std::string_view spec, Role role, Wait wait)
      : spin_(wait == Wait::kSpin),
        send_flags_(MSG_NOSIGNAL | (spin_ ? MSG_DONTWAIT : 0)),
        recv_flags_(MSG_TRUNC | (spin_ ? MSG_DONTWAIT : 0)),
        watch_(backend) {
    const auto [a, b] = spec_ints<2>(backend, spec);
    fd_ = Fd(role == Role::kA ? a : b);
  }

  bool spin_;
  int send_flags_, recv_flags_;
  Fd fd_;
  PeerWatch watch_;
};

}  // namespace ipcperf
