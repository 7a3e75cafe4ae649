#include "ipcperf/pinning.hpp"

#include <pthread.h>
#include <sched.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  return cpus;
}

void pin_this_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  check_errnum(fmt::format("pthread_setaffinity_np(CPU {})", cpu),
               ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set));
}

}  // namespace ipcperf
