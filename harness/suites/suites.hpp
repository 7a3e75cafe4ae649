// Suite definitions: named sets of defaults for `ipcperf run --suite NAME`. Options given on the
// command line override the suite's values.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ipcperf {

struct Suite {
  std::string_view name;
  std::string_view description;
  std::vector<std::string_view> backends;  // {"all"}: every registered cross-process backend
  std::vector<std::string_view> workloads;
  std::vector<size_t> sizes;
  int reps;
  int64_t duration_ns;  // measured phase per repetition
  uint64_t warmup;      // messages
};

std::span<const Suite> suites();
const Suite* find_suite(std::string_view name);  // nullptr when unknown

}  // namespace ipcperf
