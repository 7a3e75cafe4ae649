// Socket plumbing shared by the socket backends (uds-stream, uds-seqpacket, uds-dgram, tcp): an
// AF_UNIX address that refuses a path sun_path cannot hold, the one connection a listener ever
// accepts, and a connect whose refusal means that the peer has gone.
#pragma once

#include <string>
#include <string_view>

#include <sys/socket.h>
#include <sys/un.h>

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

}  // namespace ipcperf
