// prepare() and cleanup() of the shared-memory backends (shm-spsc, shm-mutex, shm-boost-spsc):
// one fresh POSIX shared-memory object per pair, named by make_object_name(), initialised by the
// supervisor before any peer exists, unlinked at cleanup.
#pragma once

#include <cstddef>
#include <string>

#include "ipcperf/backend.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/shm.hpp"

namespace ipcperf {

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
