// CPU affinity: which CPUs this process may use, and pinning a thread to one of them.
#pragma once

#include <vector>

namespace ipcperf {

// The CPUs this process may run on (its affinity mask), ascending; empty when unreadable.
std::vector<int> allowed_cpus();

// Pins the calling thread to `cpu`; -1 leaves it as it is. Throws SystemError.
void pin_this_thread(int cpu);

}  // namespace ipcperf
