// The environment a result was produced in: Google Benchmark's context fields plus ipcperf's
// (CPU model, microcode, pinning, SMT, NUMA, governor, boost, virtualisation, idle driver,
// isolation, kernel, build, revision, timer), and the warnings that say what to do about what
// would skew the numbers. Whatever cannot be read is recorded as "unknown", never guessed.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace ipcperf {

// Where the environment is read from: the live /proc and /sys, or a fake tree (tests).
struct EnvironmentSource {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::optional<std::vector<int>> allowed_cpus;  // default: this process's CPU affinity
};

// The machine as a run pinned to `cpus` would see it (what `ipcperf env` prints).
nlohmann::json collect_environment(const Placement& cpus, const EnvironmentSource& src = {});

// collect_environment for opt.cpus plus the run's own fields (seed, suite, command line, ...).
nlohmann::json collect_context(const RunOptions& opt);

// The backend registry as the JSON context's "backends": name, family, in_process, lossy, in
// registry order (the reports' order and colours come from it).
nlohmann::json registry_context();

// One sentence each, ending with what to do; printed once before the table.
std::vector<std::string> environment_warnings(const nlohmann::json& ctx, const RunOptions& opt);

// `ipcperf env` as text: sections of "label  value" lines, then the warnings.
void write_environment(const nlohmann::json& env, const std::vector<std::string>& warnings,
                       std::ostream& os);

// Cost of one clock read (clock_gettime(CLOCK_MONOTONIC) through the vDSO), measured now.
double measure_timer_cost_ns();

// "cpuN" siblings from sysfs: true when a and b are hardware threads of one core.
bool smt_siblings(int a, int b);

// "0-3,8" <-> {0,1,2,3,8}, as sysfs writes CPU lists.
std::vector<int> parse_cpu_list(const std::string& s);
std::string format_cpu_list(const std::vector<int>& cpus);

}  // namespace ipcperf
