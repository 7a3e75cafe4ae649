// prepare() and cleanup() of the shared-memory backends (shm-spsc, shm-mutex, shm-boost-spsc):
// one fresh POSIX shared-memory object per pair, named by make_object_name(), initialised by the
// supervisor before any peer exists, unlinked at cleanup.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ipcperf/backend.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/shm.hpp"

namespace ipcperf {

constexpr size_t kCacheLine = 64;
constexpr size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// The first cache line of shm-mutex's and shm-boost-spsc's regions. magic and capacity are
// written once by the supervisor (prepare), pid and closed by each side at open and close; each
// backend says how its closed flags are ordered with its data.
struct alignas(kCacheLine) ShmPairHeader {
  uint64_t magic = 0;
  uint64_t capacity = 0;
  // Each side's pid, stored when it opens; read by the other side only to watch its liveness
  // (relaxed: a late value only delays the first check).
  std::atomic<int32_t> pid[2] = {0, 0};
  std::atomic<uint32_t> closed[2] = {0, 0};
};

// Creates the object with `bytes` zero bytes and calls init(base) on its mapping. The peers open
// it only after prepare() has returned, so init needs no atomics. If init throws, the object is
// unlinked before the exception goes on: a failed prepare leaves nothing behind.
template <class Init>
Endpoints create_shm_endpoints(size_t bytes, Init&& init) {
  Endpoints ep;
  ep.spec = make_object_name();
  ShmRegion r = ShmRegion::create(ep.spec, bytes);
  ep.objects.push_back("/dev/shm/" + ep.spec);
  try {
    init(static_cast<std::byte*>(r.data()));
  } catch (...) {
    ShmRegion::unlink(ep.spec);
    throw;
  }
  return ep;
}

// The peers may still be mapped: unlinking removes the name, the memory goes with the last
// mapping. Nothing else to destroy (what lives in the region owns nothing outside it).
inline void unlink_shm_endpoints(Endpoints& ep) noexcept {
  if (!ep.spec.empty()) ShmRegion::unlink(ep.spec);
}

}  // namespace ipcperf
