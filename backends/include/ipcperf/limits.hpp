// Reading the kernel's limits: /proc/sys numbers and this process's capabilities (a limit such as
// fs.mqueue.msg_max binds unless the process holds CAP_SYS_RESOURCE, whatever its uid; a root in
// a container often lacks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <linux/capability.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

// The first number in a /proc file, or nullopt when it cannot be read.
inline std::optional<long long> read_proc_number(const std::string& path) {
  std::ifstream f(path);
  long long v = 0;
  if (f >> v) return v;
  return std::nullopt;
}

// True when the effective capability set holds `cap` (a CAP_* number from linux/capability.h).
inline bool has_capability(int cap) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      const uint64_t bits = std::stoull(line.substr(7), nullptr, 16);
      return ((bits >> cap) & 1U) != 0;
    }
  }
  return false;
}

// /proc/sys/fs/pipe-max-size (1 MiB when unreadable, the kernel's default).
inline size_t pipe_max_size() {
  return static_cast<size_t>(read_proc_number("/proc/sys/fs/pipe-max-size").value_or(1 << 20));
}

// F_SETPIPE_SZ rounds up to a power-of-two number of pages: any other value would silently become
// a different capacity, so it is refused; above pipe-max-size only CAP_SYS_RESOURCE may go.
inline void check_pipe_capacity(std::string_view backend, size_t capacity) {
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t limit = pipe_max_size();
  const size_t pages = capacity / page;
  const bool pow2 = capacity % page == 0 && (pages & (pages - 1)) == 0;
  if (capacity < page || !pow2 || (capacity > limit && !has_capability(CAP_SYS_RESOURCE))) {
    throw UsageError(fmt::format(
        "{}: capacity {} is not allowed: a pipe buffer is a power-of-two number of {}-byte "
        "pages between {} and {} bytes (/proc/sys/fs/pipe-max-size; raise it with sysctl -w "
        "fs.pipe-max-size=N)",
        backend, capacity, page, page, limit));
  }
}

}  // namespace ipcperf
