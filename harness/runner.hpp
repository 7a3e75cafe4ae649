// Runs a plan: every (case, repetition) in the plan's shuffled order, each repetition a fresh
// pair of processes; collects RepSamples, summarises, and returns the RunResult.
#pragma once

#include "plan.hpp"
#include "results.hpp"

namespace ipcperf {

// Runs one repetition of a planned case. Never throws for failures of the case itself: they are
// recorded in the sample (ok = false, error = why). Objects are always cleaned up.
RepSample run_repetition(const PlannedCase& pc, const RunOptions& opt, int rep_index);

// Runs the whole plan. `progress` (may be empty) is called before each repetition.
struct Progress {
  int done, total;
  const PlannedCase* current;
  int rep;
};
RunResult run_plan(const Plan& plan, const RunOptions& opt,
                   const std::function<void(const Progress&)>& progress);

}  // namespace ipcperf
