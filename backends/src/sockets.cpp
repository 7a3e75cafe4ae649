#include "ipcperf/sockets.hpp"

#include <cerrno>

#include <fmt/format.h>

namespace ipcperf {

sockaddr_un unix_address(std::string_view backend, const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= kSunPath) {
    throw UsageError(fmt::format(
        "{}: socket path \"{}\" has {} bytes, more than the {} of sun_path; set TMPDIR (or "
        "XDG_RUNTIME_DIR) to a shorter directory",
        backend, path, path.size(), kSunPath - 1));
  }
  path.copy(a.sun_path, path.size());
  return a;
}

Fd accept_one(Fd listener, std::string_view backend) {
  return Fd(check_errno(fmt::format("accept4({})", backend),
                        [&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC); }));
}

void connect_or_gone(int fd, const sockaddr* addr, socklen_t len, std::string_view backend,
                     std::string_view where) {
  if (retry_eintr([&] { return ::connect(fd, addr, len); }) == 0) return;
  if (errno == ECONNREFUSED || errno == ENOENT) {
    throw PeerGone(
        fmt::format("{}: connect({}): nobody listens ({})", backend, where, errno_name(errno)));
  }
  throw_errno(fmt::format("connect({})", where));
}

}  // namespace ipcperf
