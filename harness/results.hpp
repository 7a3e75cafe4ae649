// Plain data of a run: what the launcher measured, what the statistics derive, what reporters
// format. Reporters only format these structures; they compute nothing new.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol.hpp"
#include "stats/histogram.hpp"

namespace ipcperf {

// What a case is: one row family of the output.
struct CaseSpec {
  std::string name;      // "pingpong/shm-spsc/size:64", "floor/cacheline", "floor/memcpy/size:4096"
  std::string kind;      // "pingpong", "stream", "floor-cacheline", "floor-memcpy"
  std::string backend;   // "" for floor rows
  std::string family;    // "shared memory", "kernel", "in-process", "floor"
  size_t size = 0;       // bytes per message (0 for floor/cacheline)
  std::string wait;      // "spin", "yield", "block" ("" for memcpy)
  size_t capacity = 0;   // bytes per direction (0 when not applicable)
  int family_index = 0;  // position in the plan (Google Benchmark's family_index)
  bool lossy = false;    // the backend may drop messages (udp): loss is counted, not an error
  bool in_process = false;  // both endpoints are threads of one process (a reference row)
  uint64_t rate = 0;        // paced: the offered rate, messages per second
  // The workload's variant as it shows in the name ("rate:100000", "sample:0"; "" for none).
  std::string variant{};
  // A floor whose round trip bounds every pingpong of the run (floor/cacheline): the table's
  // ×floor divides by it.
  bool bounds_round_trips = false;
};

// One repetition: a fresh pair of processes (or, for floor/memcpy, one pinned measurement).
struct RepSample {
  int rep_index = 0;
  bool ok = false;
  std::string error;            // why it failed (empty when ok)
  uint64_t messages = 0;        // measured messages (round trips for pingpong)
  uint64_t verified = 0;        // messages received and verified by both peers, warm-up included
  double real_ns = 0;           // ns per message (per round trip for pingpong; per copy for memcpy)
  double cpu_ns = 0;            // CPU ns of both peers per message
  double items_per_second = 0;  // messages (round trips) per second
  double bytes_per_second = 0;
  // Lossy backends: messages (round trips) A sent in the measured phase, and how many of them
  // never arrived (stream) or got no reply within the loss timeout (pingpong).
  uint64_t sent = 0;
  uint64_t lost = 0;
  // Paced: the rate A achieved (first to last send) and the most a send started late.
  double achieved_rate = 0;
  int64_t max_lag_ns = 0;
  PeerOutcome a, b;      // raw peer reports (CPU, context switches, histograms)
  Histogram latency{3};  // sampled latencies of this repetition (pingpong: round trips)
};

// Order statistics of one metric over the repetitions that passed.
struct Stat {
  double mean = 0, median = 0, stddev = 0, cv = 0, min = 0, max = 0;
  int n = 0;
  // Nonparametric 95 % confidence interval of the median: the order statistics x(ci_rank_low)
  // and x(ci_rank_high) (1-based, binomial rule: stats/summary.hpp). ci_level is the interval's
  // exact coverage (>= 0.95); 0 when n is too small for a 95 % interval (n < 6): then there is
  // none, and ci_low/ci_high are 0.
  double ci_low = 0, ci_high = 0, ci_level = 0;
  int ci_rank_low = 0, ci_rank_high = 0;
  [[nodiscard]] bool has_ci() const { return ci_level > 0; }
};

// A case against the run's reference backend (--reference), from the repetitions of the two
// that ran in the same round (stats/speedup.hpp): above 1 the case was faster.
struct Speedup {
  std::string reference_case;  // the reference's case it was matched with ("" when none)
  std::string basis;           // what was divided: "pipe's round trip / this case's"
  // Why there is no number (no reference case, it failed or was skipped, no round in which
  // both passed); empty when n > 0.
  std::string missing;
  int n = 0;          // pairs: rounds in which both cases passed and have the figure
  int rounds = 0;     // repetitions this case ran (n < rounds: some were not paired)
  double median = 0;  // median of the per-round ratios
  // 95 % CI of that median (order statistics of the ratios); ci_level 0: none (n < 6).
  double ci_low = 0, ci_high = 0, ci_level = 0;
  std::vector<std::pair<int, double>> per_rep;  // (rep_index, ratio) of each pair
  [[nodiscard]] bool measured() const { return n > 0; }
  [[nodiscard]] bool has_ci() const { return ci_level > 0; }
};

enum class CaseStatus { kOk, kFailed, kSkipped };

struct CaseResult {
  CaseSpec spec;
  CaseStatus status = CaseStatus::kOk;
  std::string message;  // failure or skip reason (first failure's error when failed)
  std::vector<RepSample> reps;
  // Filled by summarize():
  Stat real_ns, cpu_ns, items_per_second, bytes_per_second;
  Histogram latency{3};         // all repetitions merged
  std::string sampling;         // how latency was sampled, e.g. "1 in 64 round trips"
  uint64_t sent = 0, lost = 0;  // lossy backends: totals over the repetitions that passed
  // Connections to the case's channel that were not a peer's, over the repetitions that passed
  // (tcp: another local process connected to the port first; it was closed unheard).
  uint64_t refused = 0;
  // The repetitions disagree (CV of real_ns above 5 %): `advice` says what to do about it, with
  // the --reps that would narrow the median's 95 % CI to +-5 % (stats/summary.hpp).
  bool unstable = false;
  std::string advice;
  // Paced: the lowest achieved rate of a passing repetition; below 95 % of the offered rate the
  // case is flagged (the sender could not keep the schedule: latencies include its backlog).
  double achieved_rate_min = 0;
  // --reference: this case against the reference backend's case of the same workload, variant
  // and size (empty for the reference's own cases, floors, and cases that measured nothing).
  std::optional<Speedup> speedup;
  [[nodiscard]] bool rate_not_kept() const {
    return spec.rate != 0 && achieved_rate_min < 0.95 * static_cast<double>(spec.rate);
  }
  [[nodiscard]] double loss_fraction() const {
    return sent == 0 ? 0.0 : static_cast<double>(lost) / static_cast<double>(sent);
  }
};

struct RunResult {
  nlohmann::json context;  // Google Benchmark context + ipcperf's fields (environment.hpp)
  std::vector<std::string> warnings;
  std::vector<CaseResult> cases;  // in plan order
  std::string reference;          // --reference: the backend every other one is compared with
  [[nodiscard]] bool all_ok() const {
    for (const auto& c : cases)
      if (c.status == CaseStatus::kFailed) return false;
    return true;
  }
};

}  // namespace ipcperf
