// The hidden `ipcperf peer` role: one endpoint of a case, spawned by the supervisor. It attaches
// to the prepared objects, reports READY, waits for GO, runs the workload and reports its
// PeerOutcome (or an error) over the control socket.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "workloads/job.hpp"

namespace ipcperf {

struct PeerArgs {
  std::string backend;  // backend name, or "floor-cacheline"
  PeerJob job;
  int control_fd = -1;
  // In-process backends: this one peer runs A and B as threads pinned to these CPUs.
  bool both = false;
  int cpu_a = -1, cpu_b = -1;
};

// Runs the peer; returns the process exit code.
int peer_main(PeerArgs& args);

// The command-line arguments that make `ipcperf peer` run `job` (without --control-fd).
std::vector<std::string> peer_command_line(const std::string& backend, const PeerJob& job);
// The same for an in-process backend: one peer, role AB, its two threads on cpu_a / cpu_b.
std::vector<std::string> peer_command_line_in_process(const std::string& backend,
                                                      const PeerJob& job, int cpu_a, int cpu_b);

nlohmann::json outcome_to_json(const PeerOutcome& o);
PeerOutcome outcome_from_json(const nlohmann::json& j);
nlohmann::json histogram_to_json(const Histogram& h);
Histogram histogram_from_json(const nlohmann::json& j);

}  // namespace ipcperf
