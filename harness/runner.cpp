#include "runner.hpp"

#include <fmt/format.h>

#include "floor.hpp"
#include "launcher.hpp"
#include "peer.hpp"
#include "stats/summary.hpp"

namespace ipcperf {

namespace {

PeerJob make_job(const PlannedCase& pc, const RunOptions& opt, Role role, const std::string& spec) {
  PeerJob job;
  job.role = role;
  job.spec = spec;
  job.options = pc.options;
  job.workload = pc.workload;
  job.size = pc.spec.size;
  job.warmup = opt.warmup;
  job.messages = opt.messages;
  job.duration_ns = opt.messages != 0 ? 0 : opt.duration_ns;
  job.sample_every = pc.kind == CaseKind::kWorkload ? pc.sample_every : opt.sample_every;
  job.sample_auto = opt.sample_auto && pc.kind == CaseKind::kWorkload;
  job.rate = pc.rate;
  job.min_time_ns = opt.messages != 0 ? opt.min_time_ns : 0;
  job.inject_delay_ns = opt.inject_delay_ns;
  job.inject_stall_ns = opt.inject_stall_ns;
  return job;
}

// One-way workloads (stream, paced): A counts what it sent, B what arrived, verified and in
// order. Reliable backends must deliver exactly that; lossy ones (udp) report the difference as
// lost. False (with s.error set) when the counts cannot be right.
bool account_delivery(const PlannedCase& pc, RepSample& s) {
  if (pc.spec.lossy) {
    if (s.b.messages > s.a.messages) {
      s.error = fmt::format("peer B received {} measured messages, more than the {} A sent",
                            s.b.messages, s.a.messages);
      return false;
    }
    s.sent = s.a.messages;
    s.lost = s.a.messages - s.b.messages;
  } else if (s.b.messages != s.a.messages) {
    s.error = fmt::format("peer B received {} measured messages, peer A sent {}", s.b.messages,
                          s.a.messages);
    return false;
  }
  return true;
}

// Spawns A and B on the prepared endpoints and turns their reports into a sample.
RepSample run_pair(const PlannedCase& pc, const RunOptions& opt, const std::string& backend_arg,
                   Endpoints& ep, int rep_index) {
  RepSample s;
  s.rep_index = rep_index;
  std::vector<PeerLaunch> peers(2);
  for (int i = 0; i < 2; ++i) {
    const Role role = i == 0 ? Role::kA : Role::kB;
    peers[static_cast<size_t>(i)].label = std::string(to_string(role));
    peers[static_cast<size_t>(i)].args =
        peer_command_line(backend_arg, make_job(pc, opt, role, ep.spec));
    peers[static_cast<size_t>(i)].cpu =
        opt.cpus.pinned ? (i == 0 ? opt.cpus.cpu_a : opt.cpus.cpu_b) : -1;
    peers[static_cast<size_t>(i)].inherit = role == Role::kA ? ep.inherit_a : ep.inherit_b;
  }
  if (pc.spec.in_process) {
    // One peer process; its two threads are the endpoints, pinned to the two CPUs.
    PeerLaunch one;
    one.label = "A+B";
    one.args = peer_command_line_in_process(backend_arg, make_job(pc, opt, Role::kA, ep.spec),
                                            opt.cpus.pinned ? opt.cpus.cpu_a : -1,
                                            opt.cpus.pinned ? opt.cpus.cpu_b : -1);
    peers = {one};
  }
  auto reports = run_peers(peers, opt.timeout_s, &ep);
  // Report the peer that failed first, not the one stopped because of it.
  for (bool secondary : {false, true}) {
    for (auto& r : reports) {
      if (!r.error.empty() && r.secondary == secondary) {
        s.error = r.error;
        return s;
      }
    }
  }
  try {
    if (pc.spec.in_process) {
      s.a = outcome_from_json(reports[0].result->at("a"));
      s.b = outcome_from_json(reports[0].result->at("b"));
    } else {
      s.a = outcome_from_json(*reports[0].result);
      s.b = outcome_from_json(*reports[1].result);
    }
  } catch (const std::exception& e) {
    s.error = fmt::format("unreadable peer result: {}", e.what());
    return s;
  }
  const auto cpu_total =
      static_cast<double>(s.a.cpu_user_ns + s.a.cpu_sys_ns + s.b.cpu_user_ns + s.b.cpu_sys_ns);
  if (pc.kind == CaseKind::kWorkload && pc.workload == Workload::kPaced) {
    if (!account_delivery(pc, s)) return s;
    if (s.a.messages < 2 || s.a.elapsed_ns <= 0 || s.b.messages == 0) {
      s.error = "paced: fewer than 2 measured messages; raise --messages or --duration";
      return s;
    }
    // One-way latency of every delivered message from its intended send time (B's histogram);
    // real_time is its mean, the rates are A's achieved send rate and B's delivered rate.
    s.messages = s.b.messages;
    s.latency = std::move(s.b.latency);
    s.b.latency = Histogram(3);
    s.real_ns = s.latency.mean();
    s.achieved_rate =
        static_cast<double>(s.a.messages - 1) / (static_cast<double>(s.a.elapsed_ns) / 1e9);
    s.max_lag_ns = s.a.max_lag_ns;
    s.items_per_second = s.b.elapsed_ns > 0 ? static_cast<double>(s.b.messages - 1) /
                                                  (static_cast<double>(s.b.elapsed_ns) / 1e9)
                                            : 0.0;
    s.bytes_per_second = s.items_per_second * static_cast<double>(pc.spec.size);
    s.cpu_ns = cpu_total / static_cast<double>(s.messages);
    s.verified = s.a.verified + s.b.verified;
    s.ok = true;
    return s;
  }
  if (pc.kind == CaseKind::kFloorCacheline || pc.workload == Workload::kPingpong) {
    // A times the round trips; B must have echoed exactly as many (lossy: at least as many, as
    // an echo can be lost on its way back).
    if (pc.spec.lossy) {
      s.sent = s.a.messages + s.a.lost;
      s.lost = s.a.lost;
      if (s.a.messages == 0) {
        s.error = fmt::format("pingpong: all {} round trips lost", s.sent);
        return s;
      }
    } else if (pc.kind == CaseKind::kWorkload && s.b.messages != s.a.messages) {
      s.error = fmt::format("peer B echoed {} measured messages, peer A sent {}", s.b.messages,
                            s.a.messages);
      return s;
    }
    s.messages = s.a.messages;
    const double el = static_cast<double>(s.a.elapsed_ns);
    s.real_ns = el / static_cast<double>(s.messages);
    s.items_per_second = static_cast<double>(s.messages) / (el / 1e9);
    // A round trip carries the message both ways.
    s.bytes_per_second = s.items_per_second * 2.0 * static_cast<double>(pc.spec.size);
    s.cpu_ns = cpu_total / static_cast<double>(s.messages);
    s.latency = std::move(s.a.latency);  // the peers' copies are not kept twice
    s.a.latency = Histogram(3);
  } else {
    if (!account_delivery(pc, s)) return s;
    if (s.b.messages < 2 || s.b.elapsed_ns <= 0) {
      s.error = pc.spec.lossy ? fmt::format(
                                    "stream: {} of {} measured messages arrived; at least "
                                    "2 are needed for a rate",
                                    s.b.messages, s.a.messages)
                              : "stream: fewer than 2 measured messages; raise --messages or "
                                "--duration";
      return s;
    }
    // Receiver's view, first to last measured message: (count - 1) intervals.
    s.messages = s.b.messages;
    const double intervals = static_cast<double>(s.messages - 1);
    const double el = static_cast<double>(s.b.elapsed_ns);
    s.real_ns = el / intervals;
    s.items_per_second = intervals / (el / 1e9);
    s.bytes_per_second = s.items_per_second * static_cast<double>(pc.spec.size);
    s.cpu_ns = cpu_total / static_cast<double>(s.messages);
  }
  s.verified = s.a.verified + s.b.verified;
  s.ok = true;
  return s;
}

}  // namespace

RepSample run_repetition(const PlannedCase& pc, const RunOptions& opt, int rep_index) {
  RepSample s;
  s.rep_index = rep_index;
  try {
    if (pc.kind == CaseKind::kFloorMemcpy) {
      const int64_t d =
          std::min<int64_t>(opt.messages != 0 ? 50'000'000 : opt.duration_ns, 100'000'000);
      s = measure_memcpy(pc.spec.size, opt.cpus.pinned ? opt.cpus.cpu_a : -1,
                         std::max<int64_t>(d, 1'000'000));
      s.rep_index = rep_index;
      return s;
    }
    if (pc.kind == CaseKind::kFloorCacheline) {
      Endpoints ep = prepare_floor_cacheline();
      try {
        PlannedCase fc = pc;
        fc.options.wait = Wait::kSpin;
        s = run_pair(fc, opt, "floor-cacheline", ep, rep_index);
      } catch (...) {
        cleanup_floor_cacheline(ep);
        throw;
      }
      cleanup_floor_cacheline(ep);
      return s;
    }
    auto backend = make_backend(pc.spec.backend);
    Endpoints ep = backend->prepare(pc.options);
    try {
      s = run_pair(pc, opt, pc.spec.backend, ep, rep_index);
    } catch (...) {
      backend->cleanup(ep);
      throw;
    }
    backend->cleanup(ep);
  } catch (const std::exception& e) {
    s.ok = false;
    s.error = e.what();
  }
  return s;
}

RunResult run_plan(const Plan& plan, const RunOptions& opt,
                   const std::function<void(const Progress&)>& progress) {
  RunResult r;
  r.warnings = plan.warnings;
  for (const auto& pc : plan.cases) {
    CaseResult c;
    c.spec = pc.spec;
    if (!pc.skip_reason.empty()) {
      c.status = CaseStatus::kSkipped;
      c.message = pc.skip_reason;
    }
    // Latency is sampled where round trips are timed: pingpong and the cache-line floor; paced
    // records every message's one-way latency.
    const bool round_trips = pc.kind == CaseKind::kFloorCacheline ||
                             (pc.kind == CaseKind::kWorkload && pc.workload == Workload::kPingpong);
    if (pc.kind == CaseKind::kWorkload && pc.workload == Workload::kPaced) {
      c.sampling = "every message, one-way from its intended send time";
    } else if (round_trips && pc.kind == CaseKind::kWorkload && pc.sample_every == 0) {
      c.sampling = "none (--sample-every 0)";
    } else if (round_trips) {
      const uint32_t every = pc.kind == CaseKind::kWorkload ? pc.sample_every : opt.sample_every;
      c.sampling = every == 1 ? "every round trip" : fmt::format("1 in {} round trips", every);
    }
    r.cases.push_back(std::move(c));
  }
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
  for (auto& c : r.cases) {
    if (c.status != CaseStatus::kSkipped) summarize(c);
    for (const auto& rep : c.reps) {
      if (!rep.ok) continue;
      c.sent += rep.sent;
      c.lost += rep.lost;
      if (c.spec.rate != 0 && (c.achieved_rate_min == 0 || rep.achieved_rate < c.achieved_rate_min))
        c.achieved_rate_min = rep.achieved_rate;
    }
    // Automatic sampling: say what the peers chose (every round trip when they were slow).
    if (opt.sample_auto && c.spec.kind == "pingpong") {
      for (const auto& rep : c.reps) {
        if (rep.ok && rep.a.sample_every == 1) {
          c.sampling = "every round trip (automatic: round trips of 5 us or more)";
          break;
        }
      }
    }
  }
  return r;
}

}  // namespace ipcperf
