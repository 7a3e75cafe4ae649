// A workload as the supervisor sees it: its name, the checks and case variants it adds to a plan,
// and what its peers' outcomes turn into (rate, latency, losses, offered/achieved rate). The
// runner loops over cases and calls these without knowing which workload runs. The loops that the
// peers run are in pingpong.hpp, stream.hpp and paced.hpp.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "results.hpp"
#include "stats/speedup.hpp"

namespace ipcperf {

// One case of a workload per offered rate (paced) or per sampling interval (pingpong with a
// list of them); `name_part` goes before /size: in the case name ("rate:100000").
struct CaseVariant {
  uint64_t rate = 0;
  uint32_t sample_every = 64;
  std::string name_part;
};

// What the reference speedup (--reference) compares of this workload: one figure per
// repetition (not finite: the repetition has none), which way is better, and its name in a
// sentence ("round trip": "pipe's round trip / this case's").
struct SpeedupMetric {
  Better better;
  double (*value)(const RepSample& s);
  std::string_view what;
};

struct WorkloadDef {
  Workload id;
  std::string_view name;
  std::string_view summary;  // one line for --help and docs
  // Plan time: refuses run options this workload cannot honour (UsageError, one line).
  void (*check)(const RunOptions& opt);
  // Plan time: the cases of this workload per backend and size.
  std::vector<CaseVariant> (*variants)(const RunOptions& opt);
  // Supervisor, after a repetition: the peers' outcomes (s.a, s.b) into the sample's metrics.
  // False, with s.error saying why, when the outcomes cannot be right.
  bool (*metrics)(const CaseSpec& spec, RepSample& s);
  // How the latency of a case with this sampling interval is sampled (JSON and the table's
  // notes); "" when this workload records none.
  std::string (*sampling)(uint32_t sample_every);
  // After all repetitions (may be null): what the case's rows say beyond the statistics.
  void (*finish)(CaseResult& c, const RunOptions& opt);
  SpeedupMetric speedup;
};

// The registered workloads, in the order of --help and the docs.
std::span<const WorkloadDef> workload_defs();
const WorkloadDef& workload_def(Workload w);
// throws UsageError naming the known workloads
Workload parse_workload(std::string_view s);

// Shared by the workloads' metrics: CPU of both peers per message, and messages verified.
void account_cpu_and_verified(RepSample& s);
// "1 in 64 round trips", "every round trip", "none (--sample-every 0)".
std::string round_trip_sampling(uint32_t sample_every);
// One-way workloads: A counts what it sent, B what arrived, verified and in order. Reliable
// backends must deliver exactly that; lossy ones (udp) report the difference as lost.
bool account_delivery(const CaseSpec& spec, RepSample& s);

}  // namespace ipcperf
