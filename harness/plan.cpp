#include "plan.hpp"

#include <algorithm>
#include <random>
#include <set>

#include <fmt/format.h>

#include "floors/floor.hpp"
#include "ipcperf/message.hpp"
#include "registry.hpp"
#include "workloads/workload.hpp"

namespace ipcperf {

std::string case_name(Workload w, std::string_view backend, Wait wait, Wait default_wait,
                      size_t size) {
  if (wait != default_wait) {
    return fmt::format("{}/{}/wait:{}/size:{}", to_string(w), backend, to_string(wait), size);
  }
  return fmt::format("{}/{}/size:{}", to_string(w), backend, size);
}

namespace {

// The options every plan needs, whatever runs.
void check_run_options(const RunOptions& opt) {
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
  if (!(opt.timeout_s > 0)) {
    throw UsageError(
        fmt::format("--timeout: {} is not allowed: seconds above zero", opt.timeout_s));
  }
  require_min_size(opt.sizes, kMinMessageSize, "",
                   "every message carries its 8-byte sequence number, 4-byte size and 4-byte "
                   "flags");
  for (Workload w : opt.workloads) workload_def(w).check(opt);
}

// The channel options of one backend in this run: capacity, wait, its own options.
ChannelOptions channel_options(const Backend& backend, const RunOptions& opt,
                               std::vector<std::string>& warnings) {
  const BackendInfo& info = backend.info();
  ChannelOptions co;
  co.capacity = opt.capacity;
  co.wait = opt.wait.value_or(info.default_wait);
  for (const BackendOption& o : info.options) {
    if (auto it = opt.backend_params.find(o.flag); it != opt.backend_params.end())
      co.params[std::string(o.flag)] = it->second;
  }
  co = backend.resolve(co);
  if (opt.cpus.same_core() && co.wait == Wait::kSpin && info.family != Family::kInProcess) {
    warnings.push_back(fmt::format(
        "{}: both peers share CPU {} and would spin against each other; using --wait yield "
        "instead (pass --wait block to sleep)",
        info.name, opt.cpus.cpu_a));
    co.wait = Wait::kYield;
    if (!info.waits.has(co.wait)) co.wait = info.default_wait;
  }
  return co;
}

// The name parts of a backend's own options whose value is not the default: /nodelay:0/.
std::string option_name_parts(const BackendInfo& info, const ChannelOptions& co) {
  std::string parts;
  for (const BackendOption& o : info.options) {
    if (co.param(o) != o.default_value) parts += fmt::format("/{}:{}", o.case_key, co.param(o));
  }
  return parts;
}

// One case of `backend` for a workload variant and a size; skipped with the reason when the
// backend cannot honour it and the user did not name the backend.
PlannedCase backend_case(const Backend& backend, const RunOptions& opt, const WorkloadDef& w,
                         const CaseVariant& v, const ChannelOptions& co, size_t size) {
  const BackendInfo& info = backend.info();
  PlannedCase c;
  c.part = std::string(info.name);
  c.workload = &w;
  c.rate = v.rate;
  c.sample_every = v.sample_every;
  c.sample_auto = opt.sample_auto;
  c.options = co;
  c.options.max_message = size;
  c.spec.name = case_name(w.id, info.name, co.wait, info.default_wait, size);
  const std::string parts =
      (v.name_part.empty() ? "" : "/" + v.name_part) + option_name_parts(info, co);
  c.spec.name.insert(c.spec.name.rfind("/size:"), parts);
  c.spec.rate = v.rate;
  c.spec.variant = v.name_part;
  c.spec.lossy = info.lossy;
  c.spec.in_process = info.family == Family::kInProcess;
  c.spec.kind = std::string(w.name);
  c.spec.backend = std::string(info.name);
  c.spec.family = std::string(to_string(info.family));
  c.spec.size = size;
  c.spec.wait = std::string(to_string(co.wait));
  c.spec.capacity = co.capacity;
  try {
    backend.check(c.options);
  } catch (const UsageError& e) {
    // A size, capacity or wait the backend cannot honour is an error when the user named the
    // backend; in a suite or 'all' it is a skipped row with the reason.
    if (opt.backends_explicit) throw;
    c.skip_reason = e.what();
  } catch (const Unsupported& e) {
    c.skip_reason = e.what();
  }
  return c;
}

std::unique_ptr<Backend> known_backend(const std::string& name) {
  auto backend = make_backend(name);
  if (!backend) {
    throw UsageError(fmt::format("--backends: unknown backend '{}' (known: {}; see 'ipcperf list')",
                                 name, fmt::join(backend_names(), ", ")));
  }
  return backend;
}

// --reference names a backend of this run (checked after --backends, so that an unknown name
// in both is reported as a --backends error).
void check_reference(const RunOptions& opt) {
  if (opt.reference.empty()) return;
  if (!make_backend(opt.reference)) {
    throw UsageError(
        fmt::format("--reference: unknown backend '{}' (known: {}; see 'ipcperf list')",
                    opt.reference, fmt::join(backend_names(), ", ")));
  }
  if (std::find(opt.backends.begin(), opt.backends.end(), opt.reference) == opt.backends.end()) {
    throw UsageError(fmt::format(
        "--reference: '{}' is not one of this run's backends ({}): add it to --backends",
        opt.reference, fmt::join(opt.backends, ",")));
  }
}

// Every (case, repetition) of the cases that run, in rounds: round r runs repetition r of every
// case once, in an order shuffled by the seed for each round (as Google Benchmark's random
// interleaving does). A drift of the machine then spreads over all cases, and repetition r of
// two cases ran in the same stretch of time: the reference speedup pairs them (runner.hpp).
void shuffle_order(Plan& plan, const RunOptions& opt) {
  std::vector<int> runnable;
  for (int ci = 0; ci < static_cast<int>(plan.cases.size()); ++ci) {
    if (plan.cases[static_cast<size_t>(ci)].skip_reason.empty()) runnable.push_back(ci);
  }
  std::mt19937_64 rng(opt.seed);
  for (int r = 0; r < opt.reps; ++r) {
    std::shuffle(runnable.begin(), runnable.end(), rng);
    for (int ci : runnable) plan.order.emplace_back(ci, r);
  }
}

}  // namespace

Plan build_plan(const RunOptions& opt) {
  check_run_options(opt);
  Plan plan;
  std::set<std::string> seen;
  int family = 0;
  auto add = [&](PlannedCase pc) {
    if (!seen.insert(pc.spec.name).second) return;  // duplicates in the lists
    pc.spec.family_index = family++;
    plan.cases.push_back(std::move(pc));
  };
  auto add_floors = [&](bool first) {
    if (!opt.floor) return;
    for (const Floor* f : floors()) {
      if (f->info().first != first) continue;
      for (auto& c : f->plan(opt)) add(std::move(c));
    }
  };

  add_floors(true);
  for (const auto& name : opt.backends) {
    const auto backend = known_backend(name);
    const ChannelOptions co = channel_options(*backend, opt, plan.warnings);
    for (Workload w : opt.workloads) {
      const WorkloadDef& def = workload_def(w);
      for (const CaseVariant& v : def.variants(opt))
        for (size_t size : opt.sizes) add(backend_case(*backend, opt, def, v, co, size));
    }
  }
  add_floors(false);
  check_reference(opt);
  shuffle_order(plan, opt);
  return plan;
}

}  // namespace ipcperf
