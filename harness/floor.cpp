#include "floor.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include <sched.h>

#include <fmt/format.h>

#include "ipcperf/shm.hpp"
#include "ipcperf/wait.hpp"
#include "workloads/workloads.hpp"

namespace ipcperf {

namespace {
constexpr size_t kRegion = 4096;
constexpr uint64_t kStop = ~uint64_t{0};
}  // namespace

Endpoints prepare_floor_cacheline() {
  Endpoints ep;
  ep.spec = make_object_name();
  ShmRegion r = ShmRegion::create(ep.spec, kRegion);
  ep.objects.push_back("/dev/shm/" + ep.spec);
  new (r.data()) std::atomic<uint64_t>(0);
  return ep;
}

void cleanup_floor_cacheline(Endpoints& ep) noexcept {
  if (!ep.spec.empty()) ShmRegion::unlink(ep.spec);
}

PeerOutcome run_floor_cacheline_peer(const PeerJob& job) {
  ShmRegion region = ShmRegion::open(job.spec);
  auto* word = static_cast<std::atomic<uint64_t>*>(region.data());
  PeerOutcome out;
  if (job.ready) job.ready();
  if (job.role == Role::kB) {
    // Echo: turn every odd value v into v + 1, until A says stop. The acquire/release pair with
    // A's accesses; the line moves to this core for the load and stays for the store.
    uint64_t last = 0;
    Usage u0{};
    for (;;) {
      const uint64_t v = word->load(std::memory_order_acquire);
      if (v == kStop) break;
      if ((v & 1) != 0 && v != last) {
        word->store(v + 1, std::memory_order_release);
        last = v;
        if (++out.verified == job.warmup + 1) u0 = Usage::now();  // measured phase starts
      } else {
        cpu_relax();
      }
    }
    Usage::now().store_delta(u0, out);
    out.messages = out.verified - std::min(out.verified, job.warmup);
    return out;
  }
  // A: store an odd value, wait for B's even answer. One round trip = the line to B and back.
  uint64_t v = 1;
  auto round_trip = [&] {
    word->store(v, std::memory_order_release);
    while (word->load(std::memory_order_acquire) != v + 1) cpu_relax();
    v += 2;
  };
  for (uint64_t i = 0; i < job.warmup; ++i) round_trip();
  const uint64_t mask = job.sample_every - 1;
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  detail::PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    last = end.last(i);
    if ((i & mask) == 0) {
      const int64_t s = now_ns();
      round_trip();
      out.latency.record(static_cast<uint64_t>(now_ns() - s));
    } else {
      round_trip();
    }
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  word->store(kStop, std::memory_order_release);
  out.messages = i;
  out.verified = job.warmup + i;
  return out;
}

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

}  // namespace ipcperf
