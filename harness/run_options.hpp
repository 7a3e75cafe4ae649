// `ipcperf run`'s options: the raw text CLI11 collected (RunArgs) and its resolution into
// RunOptions against the suite's defaults, with one clear UsageError line for every bad value.
// Separate from main.cpp so that the resolution is unit-tested.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli.hpp"

namespace ipcperf {

// Raw option text, parsed after CLI11 so that every error names the value and what is allowed.
struct RunArgs {
  std::string suite = "quick", backends, workloads, sizes, messages, duration, warmup, cpus,
              capacity, wait, seed, sample_every = "64", rate = "10k,100k", min_time,
              inject_delay, inject_stall;
  int reps = 0;
  double timeout = 60;
  bool no_floor = false;
  std::string out, csv, hgrm;
  bool quiet = false;
  bool wide = false;
  std::string reference;
  // The backends' own options (registry.hpp: backend_options()) by flag, as given.
  std::map<std::string, std::string, std::less<>> backend_params;
  // The options given on the command line ("--sizes", ...): the others take the suite's value.
  std::set<std::string, std::less<>> given;
};

// Resolves the arguments against the suite's defaults and the registries. Throws UsageError.
RunOptions resolve_run_options(const RunArgs& a, const std::vector<std::string>& argv);

}  // namespace ipcperf
