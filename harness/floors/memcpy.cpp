// floor/memcpy/size:N: single-core memcpy of N bytes on CPU A (hot buffers), in the supervisor.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

#include <sched.h>

#include <fmt/format.h>

#include "floors/floor.hpp"
#include "ipcperf/wait.hpp"
#include "workloads/common.hpp"

namespace ipcperf {

namespace {

// Copies `size` bytes repeatedly for about `duration_ns` on `cpu` (-1: where we are), in the
// calling process; fills real_ns (per copy) and bytes_per_second.
RepSample measure_memcpy(size_t size, int cpu, int64_t duration_ns) {
  cpu_set_t old;
  CPU_ZERO(&old);
  const bool restore = ::sched_getaffinity(0, sizeof old, &old) == 0;
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0)
      throw_errno(fmt::format("sched_setaffinity({})", cpu));
  }
  // Page-aligned source, destination 1 KiB past a page boundary: the same alignment every
  // repetition (malloc'd neighbours made 64-byte copies bimodal, 2.5 vs 19 ns) and no 4K aliasing
  // between the loads and the stores.
  const size_t span = (size + 4095) / 4096 * 4096;
  auto* mem = static_cast<std::byte*>(std::aligned_alloc(4096, 2 * span + 4096));
  if (mem == nullptr) throw std::bad_alloc();
  std::byte* src_ptr = mem;
  std::byte* dst_ptr = mem + span + 1024;
  std::memset(src_ptr, 0x5a, size);
  std::memset(dst_ptr, 0, size);
  struct Free {
    void* p;
    ~Free() { std::free(p); }
  } release_mem{mem};
  std::span<std::byte> src(src_ptr, size), dst(dst_ptr, size);
  // Warm both buffers, then copy in batches between two clock reads.
  uint64_t batch = std::max<uint64_t>(1, (1 << 20) / size);
  for (uint64_t i = 0; i < batch; ++i) {
    std::memcpy(dst.data(), src.data(), size);
    asm volatile("" : : "r"(dst.data()) : "memory");  // the copy must happen
  }
  RepSample s;
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  uint64_t copies = 0;
  int64_t t = t0;
  do {
    for (uint64_t i = 0; i < batch; ++i) {
      std::memcpy(dst.data(), src.data(), size);
      asm volatile("" : : "r"(dst.data()) : "memory");
    }
    copies += batch;
    t = now_ns();
  } while (t - t0 < duration_ns);
  PeerOutcome o;
  Usage::now().store_delta(u0, o);
  if (restore) ::sched_setaffinity(0, sizeof old, &old);
  const double elapsed = static_cast<double>(t - t0);
  s.ok = true;
  s.messages = copies;
  s.real_ns = elapsed / static_cast<double>(copies);
  s.cpu_ns = static_cast<double>(o.cpu_user_ns + o.cpu_sys_ns) / static_cast<double>(copies);
  s.items_per_second = static_cast<double>(copies) / (elapsed / 1e9);
  s.bytes_per_second = s.items_per_second * static_cast<double>(size);
  s.a = o;
  return s;
}

class Memcpy final : public Floor {
 public:
  [[nodiscard]] const FloorInfo& info() const override {
    static const FloorInfo i{"memcpy", "one memcpy of the message size on one CPU", false};
    return i;
  }
  [[nodiscard]] std::vector<PlannedCase> plan(const RunOptions& opt) const override {
    std::vector<size_t> sizes = opt.sizes;
    std::sort(sizes.begin(), sizes.end());
    std::vector<PlannedCase> rows;
    for (size_t s : sizes) rows.push_back(row(s, true));
    return rows;
  }
  [[nodiscard]] RepSample run(const PlannedCase& pc, const RunOptions& opt) const override {
    // As long as a case's measured phase, within 1 ms .. 100 ms (50 ms when bounded by count).
    const int64_t d =
        std::min<int64_t>(opt.messages != 0 ? 50'000'000 : opt.duration_ns, 100'000'000);
    return measure_memcpy(pc.spec.size, opt.cpus.pinned ? opt.cpus.cpu_a : -1,
                          std::max<int64_t>(d, 1'000'000));
  }
};

}  // namespace

const Floor& memcpy_floor() {
  static const Memcpy f;
  return f;
}

}  // namespace ipcperf
