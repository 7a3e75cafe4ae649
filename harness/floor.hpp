// The hardware floor, measured in every run next to the backends:
//   floor/cacheline      round trip of one cache line bounced between the two pinned CPUs, in
//                        two processes through POSIX shared memory (no IPC mechanism can beat it)
//   floor/memcpy/size:N  single-core memcpy of N bytes on CPU A (hot buffers)
#pragma once

#include <string>

#include "ipcperf/backend.hpp"
#include "results.hpp"
#include "workloads/job.hpp"

namespace ipcperf {

Endpoints prepare_floor_cacheline();
void cleanup_floor_cacheline(Endpoints& ep) noexcept;
// The peer side (role A measures, B echoes); job.spec names the shm object.
PeerOutcome run_floor_cacheline_peer(const PeerJob& job);

// Copies `size` bytes repeatedly for about `duration_ns` on `cpu` (-1: where we are), in the
// calling process; fills real_ns (per copy) and bytes_per_second.
RepSample measure_memcpy(size_t size, int cpu, int64_t duration_ns);

}  // namespace ipcperf
