// The plan: every case of a run (workload x backend x size, plus the hardware-floor rows) with
// its resolved channel options, checked before any process starts, and the randomised
// interleaved order of (case, repetition) pairs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "results.hpp"

namespace ipcperf {

enum class CaseKind { kWorkload, kFloorCacheline, kFloorMemcpy };

struct PlannedCase {
  CaseSpec spec;
  CaseKind kind = CaseKind::kWorkload;
  Workload workload = Workload::kPingpong;
  uint64_t rate = 0;           // paced: offered messages per second
  uint32_t sample_every = 64;  // pingpong: one round trip in this many timed (0: none)
  ChannelOptions options;      // resolved (capacity, wait, max_message)
  std::string skip_reason;     // non-empty: reported as skipped, never run
};

struct Plan {
  std::vector<PlannedCase> cases;
  std::vector<std::pair<int, int>> order;  // (case index, repetition index), shuffled by seed
  std::vector<std::string> warnings;
};

// Validates the options against the registry and builds the plan. Throws UsageError for bad
// input (unknown names, sizes out of range, unsupported wait or capacity).
Plan build_plan(const RunOptions& opt);

// Case name: WORKLOAD/BACKEND[/wait:W when not the backend's default]/size:BYTES
std::string case_name(Workload w, std::string_view backend, Wait wait, Wait default_wait,
                      size_t size);

}  // namespace ipcperf
