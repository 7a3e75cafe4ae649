#include "plan.hpp"

#include <algorithm>
#include <random>
#include <set>

#include <fmt/format.h>

#include "ipcperf/message.hpp"

namespace ipcperf {

std::string case_name(Workload w, std::string_view backend, Wait wait, Wait default_wait,
                      size_t size) {
  if (wait != default_wait) {
    return fmt::format("{}/{}/wait:{}/size:{}", to_string(w), backend, to_string(wait), size);
  }
  return fmt::format("{}/{}/size:{}", to_string(w), backend, size);
}

Plan build_plan(const RunOptions& opt) {
  Plan plan;
  if (opt.reps < 1) {
    throw UsageError(fmt::format("--reps: {} is not allowed: at least 1 repetition", opt.reps));
  }
  if (opt.backends.empty()) throw UsageError("--backends: no backend given");
  if (opt.workloads.empty()) throw UsageError("--workloads: no workload given");
  if (opt.sizes.empty()) throw UsageError("--sizes: no size given");
  if (opt.messages == 0 && opt.duration_ns <= 0) {
    throw UsageError("--messages / --duration: the measured phase needs a bound above zero");
  }
  for (uint32_t every : opt.sample_everys) {
    if ((every & (every - 1)) != 0) {
      throw UsageError(
          fmt::format("--sample-every: {} is not allowed: a power of two (1 = every "
                      "round trip, 0 = none)",
                      every));
    }
  }
  const bool paced = std::find(opt.workloads.begin(), opt.workloads.end(), Workload::kPaced) !=
                     opt.workloads.end();
  if (paced) {
    if (opt.rates.empty()) throw UsageError("--rate: no rate given for the paced workload");
    for (size_t s : opt.sizes) {
      if (s < kPacedMinSize) {
        throw UsageError(fmt::format(
            "--sizes: {} bytes is too small for the paced workload: the minimum is {} bytes "
            "(the header and the 8-byte intended send time)",
            s, kPacedMinSize));
      }
    }
  }
  if (!(opt.timeout_s > 0)) {
    throw UsageError(
        fmt::format("--timeout: {} is not allowed: seconds above zero", opt.timeout_s));
  }
  for (size_t s : opt.sizes) {
    if (s < kMinMessageSize) {
      throw UsageError(fmt::format(
          "--sizes: {} bytes is too small: the minimum is {} bytes (every message carries its "
          "8-byte sequence number, 4-byte size and 4-byte flags)",
          s, kMinMessageSize));
    }
  }

  std::set<std::string> seen;
  int family = 0;
  auto add = [&](PlannedCase pc) {
    if (!seen.insert(pc.spec.name).second) return;  // duplicates in the lists
    pc.spec.family_index = family++;
    plan.cases.push_back(std::move(pc));
  };

  if (opt.floor) {
    PlannedCase c;
    c.kind = CaseKind::kFloorCacheline;
    c.spec = {"floor/cacheline", "floor-cacheline", "", "floor", 64, "spin", 0, 0};
    if (opt.cpus.same_core()) {
      c.skip_reason = "both peers on one CPU: a cache line does not travel between cores";
    } else if (!opt.cpus.pinned) {
      c.skip_reason = "--cpus none: the floor needs two pinned CPUs";
    }
    add(std::move(c));
  }

  for (const auto& name : opt.backends) {
    auto backend = make_backend(name);
    if (!backend) {
      throw UsageError(
          fmt::format("--backends: unknown backend '{}' (known: {}; see 'ipcperf list')", name,
                      fmt::join(backend_names(), ", ")));
    }
    const BackendInfo& info = backend->info();
    ChannelOptions co;
    co.capacity = opt.capacity;
    co.wait = opt.wait.value_or(info.default_wait);
    co.tcp_nodelay = opt.tcp_nodelay;
    co = backend->resolve(co);
    if (opt.cpus.same_core() && co.wait == Wait::kSpin && info.family != Family::kInProcess) {
      plan.warnings.push_back(fmt::format(
          "{}: both peers share CPU {} and would spin against each other; using --wait yield "
          "instead (pass --wait block to sleep)",
          name, opt.cpus.cpu_a));
      co.wait = Wait::kYield;
      if (!info.waits.has(co.wait)) co.wait = info.default_wait;
    }
    for (Workload w : opt.workloads) {
      // Paced cases exist once per offered rate; the others once.
      const std::vector<uint64_t> rates =
          w == Workload::kPaced ? opt.rates : std::vector<uint64_t>{0};
      // Pingpong once per sampling interval when several are asked for.
      const bool per_sampling = w == Workload::kPingpong && opt.sample_everys.size() > 1;
      const std::vector<uint32_t> everys =
          per_sampling ? opt.sample_everys : std::vector<uint32_t>{opt.sample_every};
      for (uint32_t every : everys)
        for (uint64_t rate : rates)
          for (size_t size : opt.sizes) {
            PlannedCase c;
            c.workload = w;
            c.rate = rate;
            c.sample_every = every;
            c.options = co;
            c.options.max_message = size;
            c.spec.name = case_name(w, name, co.wait, info.default_wait, size);
            if (per_sampling) {
              c.spec.name.insert(c.spec.name.rfind("/size:"), fmt::format("/sample:{}", every));
            }
            if (rate != 0) {
              c.spec.name.insert(c.spec.name.rfind("/size:"), fmt::format("/rate:{}", rate));
              c.spec.rate = rate;
            }
            if (name == "tcp" && !co.tcp_nodelay) {
              // pingpong/tcp/nodelay:0/size:64: Nagle on is a different case, never mixed up.
              c.spec.name.insert(c.spec.name.rfind("/size:"), "/nodelay:0");
            }
            c.spec.lossy = info.lossy;
            c.spec.in_process = info.family == Family::kInProcess;
            c.spec.kind = std::string(to_string(w));
            c.spec.backend = name;
            c.spec.family = std::string(to_string(info.family));
            c.spec.size = size;
            c.spec.wait = std::string(to_string(co.wait));
            c.spec.capacity = co.capacity;
            try {
              backend->check(c.options);
            } catch (const UsageError& e) {
              // A size, capacity or wait the backend cannot honour is an error when the user named
              // the backend; in a suite or 'all' it is a skipped row with the reason.
              if (opt.backends_explicit) throw;
              c.skip_reason = e.what();
            } catch (const Unsupported& e) {
              c.skip_reason = e.what();
            }
            add(std::move(c));
          }
    }
  }

  if (opt.floor) {
    std::vector<size_t> sizes = opt.sizes;
    std::sort(sizes.begin(), sizes.end());
    for (size_t s : sizes) {
      PlannedCase c;
      c.kind = CaseKind::kFloorMemcpy;
      c.spec = {fmt::format("floor/memcpy/size:{}", s), "floor-memcpy", "", "floor", s, "", 0, 0};
      add(std::move(c));
    }
  }

  for (int ci = 0; ci < static_cast<int>(plan.cases.size()); ++ci) {
    if (!plan.cases[static_cast<size_t>(ci)].skip_reason.empty()) continue;
    for (int r = 0; r < opt.reps; ++r) plan.order.emplace_back(ci, r);
  }
  std::mt19937_64 rng(opt.seed);
  std::shuffle(plan.order.begin(), plan.order.end(), rng);
  return plan;
}

}  // namespace ipcperf
