// Socket plumbing shared by the socket backends (uds-stream, uds-seqpacket, uds-dgram, tcp, udp):
// an AF_UNIX address that refuses a path sun_path cannot hold, the one connection a listener ever
// accepts, a connect whose refusal means that the peer has gone, and what a datagram channel
// holds.
#pragma once

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
