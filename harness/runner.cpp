#include "runner.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "floors/floor.hpp"
#include "launcher.hpp"
#include "registry.hpp"
#include "stats/speedup.hpp"
#include "stats/summary.hpp"
#include "workloads/workload.hpp"

namespace ipcperf {

PeerJob make_job(const PlannedCase& pc, const RunOptions& opt, PeerRole peer,
                 const std::string& spec) {
  PeerJob job;
  job.peer = peer;
  job.role = peer == PeerRole::kB ? Role::kB : Role::kA;
  job.part = pc.part;
  job.spec = spec;
  job.options = pc.options;
  job.workload = pc.workload != nullptr ? pc.workload->id : Workload::kPingpong;
  job.size = pc.spec.size;
  job.warmup = opt.warmup;
  job.messages = opt.messages;
  job.duration_ns = opt.messages != 0 ? 0 : opt.duration_ns;
  job.sample_every = pc.sample_every;
  job.sample_auto = pc.sample_auto;
  job.rate = pc.rate;
  job.min_time_ns = opt.messages != 0 ? opt.min_time_ns : 0;
  job.inject_delay_ns = opt.inject_delay_ns;
  job.inject_stall_ns = opt.inject_stall_ns;
  if (peer == PeerRole::kAB && opt.cpus.pinned) {
    job.cpu_a = opt.cpus.cpu_a;
    job.cpu_b = opt.cpus.cpu_b;
  }
  return job;
}

namespace {

// The processes of a case: A and B pinned to their CPUs, or one AB peer whose two threads pin
// themselves (in-process backends).
std::vector<PeerLaunch> case_peers(const PlannedCase& pc, const RunOptions& opt,
                                   const Endpoints& ep) {
  if (pc.spec.in_process) {
    return {{"A+B", make_job(pc, opt, PeerRole::kAB, ep.spec), -1, {}}};
  }
  std::vector<PeerLaunch> peers;
  for (PeerRole r : {PeerRole::kA, PeerRole::kB}) {
    const bool a = r == PeerRole::kA;
    peers.push_back({std::string(to_string(r)), make_job(pc, opt, r, ep.spec),
                     opt.cpus.pinned ? (a ? opt.cpus.cpu_a : opt.cpus.cpu_b) : -1,
                     a ? ep.inherit_a : ep.inherit_b});
  }
  return peers;
}

}  // namespace

RepSample launch_case(const PlannedCase& pc, const RunOptions& opt, Endpoints& ep) {
  RepSample s;
  const auto reports = run_peers(case_peers(pc, opt, ep), opt.timeout_s, &ep);
  if (const PeerReport* cause = first_failure(reports)) {
    s.error = cause->error;
    return s;
  }
  // One outcome per peer, or A and B from the one AB peer.
  std::vector<PeerOutcome> outcomes;
  for (const auto& r : reports) {
    for (const auto& o : r.outcomes) outcomes.push_back(o);
  }
  if (outcomes.size() != 2) {
    s.error = fmt::format("the peers reported {} outcomes, expected 2 (A and B)", outcomes.size());
    return s;
  }
  s.a = std::move(outcomes[0]);
  s.b = std::move(outcomes[1]);
  return s;
}

RepSample run_repetition(const PlannedCase& pc, const RunOptions& opt, int rep_index) {
  RepSample s;
  try {
    if (pc.floor != nullptr) {
      s = pc.floor->run(pc, opt);
    } else {
      auto backend = make_backend(pc.part);
      Endpoints ep = backend->prepare(pc.options);
      try {
        s = launch_case(pc, opt, ep);
      } catch (...) {
        backend->cleanup(ep);
        throw;
      }
      backend->cleanup(ep);
      if (s.error.empty()) s.ok = pc.workload->metrics(pc.spec, s);
    }
  } catch (const std::exception& e) {
    s.ok = false;
    s.error = e.what();
  }
  s.rep_index = rep_index;
  return s;
}

namespace {

CaseResult empty_result(const PlannedCase& pc) {
  CaseResult c;
  c.spec = pc.spec;
  if (!pc.skip_reason.empty()) {
    c.status = CaseStatus::kSkipped;
    c.message = pc.skip_reason;
  }
  // How latency is sampled: where round trips are timed (pingpong, the cache-line floor), and
  // every message's one-way latency for paced.
  if (pc.workload != nullptr) c.sampling = pc.workload->sampling(pc.sample_every);
  return c;
}

void finish_case(CaseResult& c, const PlannedCase& pc, const RunOptions& opt) {
  if (c.status != CaseStatus::kSkipped) summarize(c);
  for (const auto& rep : c.reps) {
    if (!rep.ok) continue;
    c.sent += rep.sent;
    c.lost += rep.lost;
    c.refused += rep.a.refused + rep.b.refused;
  }
  if (pc.workload != nullptr && pc.workload->finish != nullptr) pc.workload->finish(c, opt);
}

}  // namespace

RunResult run_plan(const Plan& plan, const RunOptions& opt,
                   const std::function<void(const Progress&)>& progress) {
  RunResult r;
  r.warnings = plan.warnings;
  for (const auto& pc : plan.cases) r.cases.push_back(empty_result(pc));
  std::vector<int> next_rep(plan.cases.size(), 0);
  int done = 0;
  for (const auto& [ci, unused_rep] : plan.order) {
    if (interrupted()) break;
    const auto idx = static_cast<size_t>(ci);
    const int rep = next_rep[idx]++;  // repetitions numbered in the order they ran
    if (progress) progress({done, static_cast<int>(plan.order.size()), &plan.cases[idx], rep});
    r.cases[idx].reps.push_back(run_repetition(plan.cases[idx], opt, rep));
    ++done;
  }
  for (size_t i = 0; i < r.cases.size(); ++i) finish_case(r.cases[i], plan.cases[i], opt);
  if (!opt.reference.empty()) add_speedups(r, opt.reference, opt.wait.has_value());
  return r;
}

namespace {

bool passed_any(const CaseResult& c) {
  return std::any_of(c.reps.begin(), c.reps.end(), [](const RepSample& s) { return s.ok; });
}

std::vector<RepValue> figures(const CaseResult& c, const SpeedupMetric& m) {
  std::vector<RepValue> v;
  for (const auto& rep : c.reps) {
    if (rep.ok) v.push_back({rep.rep_index, m.value(rep)});
  }
  return v;
}

Speedup speedup_of(const CaseResult& c, const CaseResult* ref, const std::string& reference) {
  const SpeedupMetric& m = workload_def(parse_workload(c.spec.kind)).speedup;
  Speedup s;
  s.rounds = static_cast<int>(c.reps.size());
  if (ref == nullptr) {
    s.missing =
        fmt::format("{} has no case of the same workload, variant, size and wait", reference);
    return s;
  }
  if (ref->status == CaseStatus::kSkipped) {
    s.missing = fmt::format("the reference case {} was skipped", ref->spec.name);
  } else if (!passed_any(*ref)) {
    s.missing = fmt::format("the reference case {} failed", ref->spec.name);
  } else {
    s = paired_speedup(figures(c, m), figures(*ref, m), m.better);
    s.rounds = static_cast<int>(c.reps.size());
  }
  s.reference_case = ref->spec.name;
  s.basis = m.better == Better::kLower ? fmt::format("{}'s {} / this case's", reference, m.what)
                                       : fmt::format("this case's {} / {}'s", m.what, reference);
  return s;
}

}  // namespace

void add_speedups(RunResult& r, const std::string& reference, bool match_wait) {
  r.reference = reference;
  auto same = [&](const CaseSpec& a, const CaseSpec& b) {
    return a.kind == b.kind && a.variant == b.variant && a.size == b.size &&
           (!match_wait || a.wait == b.wait);
  };
  for (auto& c : r.cases) {
    c.speedup.reset();
    if (c.spec.backend.empty() || c.spec.backend == reference) continue;
    if (c.status == CaseStatus::kSkipped || !passed_any(c)) continue;  // its row says why
    const CaseResult* ref = nullptr;
    for (const auto& o : r.cases) {
      if (o.spec.backend == reference && same(o.spec, c.spec)) ref = &o;
    }
    c.speedup = speedup_of(c, ref, reference);
  }
}

}  // namespace ipcperf
