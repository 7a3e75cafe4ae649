// floor/cacheline: the round trip of one cache line bounced between the two pinned CPUs, in two
// processes through POSIX shared memory: no IPC mechanism can beat it. A stores an odd value and
// waits for B's even answer; B turns every odd value v into v + 1.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include <sched.h>

#include <fmt/format.h>

#include "floors/floor.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/shm.hpp"
#include "ipcperf/wait.hpp"
#include "runner.hpp"
#include "workloads/common.hpp"
#include "workloads/workload.hpp"

namespace ipcperf {

namespace {

constexpr size_t kRegion = 4096;
constexpr uint64_t kStop = ~uint64_t{0};

Endpoints prepare_word() {
  Endpoints ep;
  ep.spec = make_object_name();
  ShmRegion r = ShmRegion::create(ep.spec, kRegion);
  ep.objects.push_back("/dev/shm/" + ep.spec);
  new (r.data()) std::atomic<uint64_t>(0);
  return ep;
}

void cleanup_word(Endpoints& ep) noexcept {
  if (!ep.spec.empty()) ShmRegion::unlink(ep.spec);
}

PeerOutcome bounce(const PeerJob& job) {
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
  // A power of two; 0 = never (all bits set: i & mask is 0 only for i = 0, which is skipped).
  const uint64_t mask = job.sample_every == 0 ? ~uint64_t{0} : job.sample_every - 1;
  const bool sampling = job.sample_every != 0;
  if (sampling) out.latency.reserve();
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  detail::PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    last = end.last(i);
    if (sampling && (i & mask) == 0) {
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

class Cacheline final : public Floor {
 public:
  [[nodiscard]] const FloorInfo& info() const override {
    static const FloorInfo i{
        "cacheline", "one cache line bounced between the two CPUs, the hardware limit", true};
    return i;
  }
  [[nodiscard]] std::vector<PlannedCase> plan(const RunOptions& opt) const override {
    PlannedCase c = row(64, false);
    c.spec.wait = "spin";
    c.spec.bounds_round_trips = true;
    c.workload = &workload_def(Workload::kPingpong);
    c.sample_every = opt.sample_every;
    c.options.wait = Wait::kSpin;
    if (opt.cpus.same_core()) {
      c.skip_reason = "both peers on one CPU: a cache line does not travel between cores";
    } else if (!opt.cpus.pinned) {
      c.skip_reason = "--cpus none: the floor needs two pinned CPUs";
    }
    return {c};
  }
  [[nodiscard]] RepSample run(const PlannedCase& pc, const RunOptions& opt) const override {
    Endpoints ep = prepare_word();
    RepSample s;
    try {
      s = launch_case(pc, opt, ep);
    } catch (...) {
      cleanup_word(ep);
      throw;
    }
    cleanup_word(ep);
    // A round trip of the line is measured as a pingpong is: the same metrics and checks.
    if (s.error.empty()) s.ok = pc.workload->metrics(pc.spec, s);
    return s;
  }
  [[nodiscard]] PeerOutcome run_peer(const PeerJob& job) const override { return bounce(job); }
};

}  // namespace

const Floor& cacheline_floor() {
  static const Cacheline f;
  return f;
}

}  // namespace ipcperf
