#include "ipcperf/socket_buffers.hpp"

#include <climits>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <sys/socket.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {

constexpr int kCapNetAdmin = 12;  // linux/capability.h

size_t read_sysctl(const char* path, size_t fallback) {
  std::ifstream f(path);
  size_t v = 0;
  return (f >> v) ? v : fallback;
}

const char* sysctl_path(SockBuf which) {
  return which == SockBuf::kSend ? "/proc/sys/net/core/wmem_max" : "/proc/sys/net/core/rmem_max";
}

const char* opt_name(SockBuf which, bool force) {
  if (which == SockBuf::kSend) return force ? "SO_SNDBUFFORCE" : "SO_SNDBUF";
  return force ? "SO_RCVBUFFORCE" : "SO_RCVBUF";
}

// The kernel keeps the doubled value in an int.
constexpr size_t kForceLimit = INT_MAX / 2;

}  // namespace

size_t default_socket_capacity() {
  // Read once: info() of the socket backends is a static.
  static const size_t v = read_sysctl("/proc/sys/net/core/wmem_default", 212992) / 2;
  return v;
}

size_t socket_buffer_limit(SockBuf which) { return read_sysctl(sysctl_path(which), 212992); }

bool has_cap_net_admin() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      std::istringstream in(line.substr(7));
      unsigned long long caps = 0;
      in >> std::hex >> caps;
      return ((caps >> kCapNetAdmin) & 1U) != 0;
    }
  }
  return false;
}

void check_socket_capacity(std::string_view backend, size_t capacity, bool recv_too) {
  if (capacity < kMinSocketCapacity) {
    throw UsageError(fmt::format(
        "{}: capacity {} is not allowed: a socket buffer of less than {} bytes is not honoured",
        backend, capacity, kMinSocketCapacity));
  }
  const bool admin = has_cap_net_admin();
  for (SockBuf which : {SockBuf::kSend, SockBuf::kRecv}) {
    if (which == SockBuf::kRecv && !recv_too) continue;
    const size_t limit = socket_buffer_limit(which);
    if (capacity <= limit) continue;
    if (!admin) {
      throw UsageError(fmt::format(
          "{}: capacity {} exceeds the {} limit of {} bytes ({}; CAP_NET_ADMIN may exceed it "
          "with {}); the kernel would clamp it silently, so it is refused",
          backend, capacity, opt_name(which, false), limit, sysctl_path(which),
          opt_name(which, true)));
    }
    if (capacity > kForceLimit) {
      throw UsageError(fmt::format("{}: capacity {} exceeds the largest socket buffer, {} bytes",
                                   backend, capacity, kForceLimit));
    }
  }
}

int socket_buffer(int fd, SockBuf which) {
  int v = 0;
  socklen_t len = sizeof v;
  check_errno(fmt::format("getsockopt({})", opt_name(which, false)), [&] {
    return ::getsockopt(fd, SOL_SOCKET, which == SockBuf::kSend ? SO_SNDBUF : SO_RCVBUF, &v, &len);
  });
  return v;
}

int set_socket_buffer(int fd, SockBuf which, size_t capacity, std::string_view what) {
  const bool force = capacity > socket_buffer_limit(which);
  int opt = 0;
  if (which == SockBuf::kSend) {
    opt = force ? SO_SNDBUFFORCE : SO_SNDBUF;
  } else {
    opt = force ? SO_RCVBUFFORCE : SO_RCVBUF;
  }
  const int v = static_cast<int>(capacity);
  check_errno(fmt::format("setsockopt({}, {}, {})", what, opt_name(which, force), capacity),
              [&] { return ::setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v); });
  const int got = socket_buffer(fd, which);
  if (static_cast<size_t>(got) != 2 * capacity) {
    throw std::runtime_error(
        fmt::format("{}: asked for {} = {}, the kernel reports {} instead of {} (clamped by {}?)",
                    what, opt_name(which, force), capacity, got, 2 * capacity, sysctl_path(which)));
  }
  return got;
}

}  // namespace ipcperf
