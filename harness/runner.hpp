// Runs a plan: every (case, repetition) in the plan's shuffled order, each repetition a fresh
// set of processes; collects RepSamples, summarises, and returns the RunResult.
#pragma once

#include <functional>

#include "plan.hpp"
#include "results.hpp"

namespace ipcperf {

// The job each peer of a planned case runs (role A, B; AB for in-process backends).
PeerJob make_job(const PlannedCase& pc, const RunOptions& opt, PeerRole peer,
                 const std::string& spec);

// Spawns the case's peers (A and B, or one AB peer for an in-process backend) on the prepared
// endpoints and waits for them. Returns a sample whose a and b hold the peers' outcomes, or whose
// error says why the case failed (the peer that failed first, not the one stopped because of
// it). The metrics are not derived yet (WorkloadDef::metrics).
RepSample launch_case(const PlannedCase& pc, const RunOptions& opt, Endpoints& ep);

// Runs one repetition of a planned case. Never throws for failures of the case itself: they are
// recorded in the sample (ok = false, error = why). Objects are always cleaned up.
RepSample run_repetition(const PlannedCase& pc, const RunOptions& opt, int rep_index);

// Runs the whole plan. `progress` (may be empty) is called before each repetition.
struct Progress {
  int done, total;
  const PlannedCase* current;
  int rep;
};
// With opt.reference, also sets the reference and every case's speedup (add_speedups).
RunResult run_plan(const Plan& plan, const RunOptions& opt,
                   const std::function<void(const Progress&)>& progress);

// --reference: gives every measured case of another backend its speedup over the reference
// backend's case of the same workload, variant (rate, sampling) and size, and the same wait
// when `match_wait` (the run's --wait set one for all; else each backend waits its default way),
// from the repetitions paired by round (stats/speedup.hpp) of the workload's figure
// (WorkloadDef::speedup). Where that case is missing, skipped or failed in every repetition,
// the speedup says so instead of giving a number. The reference's own cases and the floors get
// none.
void add_speedups(RunResult& r, const std::string& reference, bool match_wait);

}  // namespace ipcperf
