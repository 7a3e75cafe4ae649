#include "suites/suites.hpp"

namespace ipcperf {

std::span<const Suite> suites() {
  static const Suite kSuites[] = {
      {"quick",
       "the default: shared memory vs message passing in about a minute (6 x 0.2 s per case; 6 "
       "repetitions are the fewest that give the median a 95 % confidence interval)",
       {"shm-spsc", "shm-mutex", "pipe", "uds-stream", "thread-spsc"},
       {"pingpong", "stream"},
       {64, 4096, 65536},
       6,
       200'000'000,
       1000},
      {"ci",
       "for regression gates: more repetitions, longer phases (10 x 0.5 s per case)",
       {"shm-spsc", "shm-mutex", "pipe", "uds-stream", "thread-spsc"},
       {"pingpong", "stream"},
       {64, 4096, 65536},
       10,
       500'000'000,
       5000},
      {"paper",
       "for publication: sizes 16 B..1 MiB, 15 x 1 s per case (tens of minutes)",
       {"all"},
       {"pingpong", "stream"},
       {16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576},
       15,
       1'000'000'000,
       10000},
  };
  return kSuites;
}

const Suite* find_suite(std::string_view name) {
  for (const auto& s : suites()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace ipcperf
