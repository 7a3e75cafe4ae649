// Command-line values: the parsed options of `ipcperf run`, and the parsers for sizes, counts,
// durations and lists. Every parser throws UsageError with one line naming the value and what
// is allowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipcperf/backend.hpp"
#include "ipcperf/pinning.hpp"
#include <map>

#include "protocol.hpp"

namespace ipcperf {

// "64", "4K", "64k", "1M" -> bytes (K = 1024, M = 1024^2, G = 1024^3).
size_t parse_size(std::string_view s, std::string_view option);
// "100000", "100k", "2M" -> count (k = 1000, M = 10^6: counts are decimal).
uint64_t parse_count(std::string_view s, std::string_view option);
// "2", "2s", "500ms", "250us", "0.5" -> nanoseconds (a bare number is seconds).
int64_t parse_duration_ns(std::string_view s, std::string_view option);
// Throws UsageError for the first of `sizes` below `min` bytes, saying `why` that is the minimum.
void require_min_size(const std::vector<size_t>& sizes, size_t min, std::string_view what,
                      std::string_view why);
// "a,b,c" -> {"a","b","c"}; empty items are an error.
std::vector<std::string> split_list(std::string_view s, std::string_view option);

// CPU placement of the two peers.
struct Placement {
  bool pinned = true;  // false: --cpus none, the scheduler decides
  int cpu_a = -1;
  int cpu_b = -1;
  [[nodiscard]] bool same_core() const { return pinned && cpu_a == cpu_b; }
  [[nodiscard]] std::string to_string() const;  // "0,1" or "none"
};
// "A,B" or "none"; checks that the CPUs are ones this process may run on.
Placement parse_cpus(std::string_view s);
// The first two CPUs this process may run on (or the only one, twice).
Placement default_cpus();

struct RunOptions {
  std::string suite = "quick";
  std::vector<std::string> backends;
  bool backends_explicit = false;  // named by the user (a too-large size is then an error)
  std::vector<Workload> workloads;
  std::vector<size_t> sizes;
  int reps = 5;
  uint64_t messages = 0;  // 0: bounded by duration
  int64_t duration_ns = 0;
  uint64_t warmup = 1000;
  uint32_t sample_every = 64;  // the first of sample_everys
  // --sample-every 64,0: pingpong cases once per value (named .../sample:N/...), interleaved in
  // one run, so that what sampling costs is measured side by side.
  std::vector<uint32_t> sample_everys = {64};
  bool sample_auto = true;  // --sample-every not given: pingpong round trips >= 5 us all timed
  Placement cpus;
  size_t capacity = 0;          // 0: each backend's default
  std::optional<Wait> wait;     // empty: each backend's default
  // The backends' own options (BackendInfo::options) the user gave, by flag, canonical values.
  std::map<std::string, std::string, std::less<>> backend_params;
  std::vector<uint64_t> rates;  // paced: offered rates (messages per second)
  int64_t min_time_ns = 0;      // with --messages: each measured phase lasts at least this long
  int64_t inject_delay_ns = 0;  // self-check: receiver busy-waits this long per message
  int64_t inject_stall_ns = 0;  // self-check: receiver stalls once, halfway, for this long
  uint64_t seed = 0;
  double timeout_s = 60;
  bool floor = true;
  std::string out_json;
  std::string out_csv;
  std::string out_hgrm;  // directory for HdrHistogram .hgrm files (empty: none)
  bool quiet = false;
  bool wide = false;  // the table shows every column
  // --reference: the backend of this run every other one is compared with (speedup_vs_<name>);
  // empty: none.
  std::string reference;
  std::vector<std::string> command_line;
};

}  // namespace ipcperf
