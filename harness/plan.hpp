// The plan: every case of a run (workload x backend x size, plus the hardware floors' rows) with
// its resolved channel options, checked before any process starts, and the randomised
// interleaved order of (case, repetition) pairs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "results.hpp"

namespace ipcperf {

class Floor;
struct WorkloadDef;

struct PlannedCase {
  CaseSpec spec;
  std::string part;                      // what the peers run: a backend's or floor's part name
  const WorkloadDef* workload = nullptr;  // the loop the peers run (null: a floor of its own)
  const Floor* floor = nullptr;          // a floor row: the floor measures it (null: a backend)
  uint64_t rate = 0;                     // paced: offered messages per second
  uint32_t sample_every = 64;            // pingpong: one round trip in this many timed (0: none)
  bool sample_auto = false;              // time every round trip when they are slow (job.hpp)
  ChannelOptions options;                // resolved (capacity, wait, max_message, params)
  std::string skip_reason;               // non-empty: reported as skipped, never run
};

struct Plan {
  std::vector<PlannedCase> cases;
  // (case index, repetition index) in rounds: round r holds repetition r of every case that
  // runs, once, in an order shuffled by the seed for each round.
  std::vector<std::pair<int, int>> order;
  std::vector<std::string> warnings;
};

// Validates the options against the registries and builds the plan. Throws UsageError for bad
// input (unknown names, sizes out of range, unsupported wait or capacity).
Plan build_plan(const RunOptions& opt);

// Case name: WORKLOAD/BACKEND[/wait:W when not the backend's default][/PARTS...]/size:BYTES
std::string case_name(Workload w, std::string_view backend, Wait wait, Wait default_wait,
                      size_t size);

}  // namespace ipcperf
