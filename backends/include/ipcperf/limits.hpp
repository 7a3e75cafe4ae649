// Reading the kernel's limits: /proc/sys numbers and this process's capabilities (a limit such as
// fs.mqueue.msg_max binds unless the process holds CAP_SYS_RESOURCE, whatever its uid; a root in
// a container often lacks it).
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

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

}  // namespace ipcperf
