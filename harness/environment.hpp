// The environment a result was produced in: Google Benchmark's context fields plus ipcperf's
// (CPU model, pinning, SMT, governor, virtualisation, kernel, build, revision, timer), and the
// warnings that say what to do about what would skew the numbers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace ipcperf {

nlohmann::json collect_context(const RunOptions& opt);
std::vector<std::string> environment_warnings(const nlohmann::json& ctx, const RunOptions& opt);

// Cost of one clock read (clock_gettime(CLOCK_MONOTONIC) through the vDSO), measured now.
double measure_timer_cost_ns();

// "cpuN" siblings from sysfs: true when a and b are hardware threads of one core.
bool smt_siblings(int a, int b);

}  // namespace ipcperf
