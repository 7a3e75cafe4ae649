// paced in the supervisor: one-way latency of every delivered message from its intended send
// time, the achieved send rate and the delivered rate.
#include <cmath>

#include <fmt/format.h>

#include "stats/summary.hpp"
#include "workloads/workload.hpp"

namespace ipcperf {

namespace {

void check(const RunOptions& opt) {
  if (opt.rates.empty()) throw UsageError("--rate: no rate given for the paced workload");
  require_min_size(opt.sizes, kPacedMinSize, " for the paced workload",
                   "the header and the 8-byte intended send time");
}

std::vector<CaseVariant> variants(const RunOptions& opt) {
  std::vector<CaseVariant> v;
  for (uint64_t rate : opt.rates) v.push_back({rate, opt.sample_every, fmt::format("rate:{}", rate)});
  return v;
}

bool metrics(const CaseSpec& spec, RepSample& s) {
  if (!account_delivery(spec, s)) return false;
  if (s.a.messages < 2 || s.a.elapsed_ns <= 0 || s.b.messages == 0) {
    s.error = "paced: fewer than 2 measured messages; raise --messages or --duration";
    return false;
  }
  // B's histogram; real_time is its mean, the rates are A's achieved send rate and B's
  // delivered rate.
  s.messages = s.b.messages;
  s.latency = std::move(s.b.latency);
  s.b.latency = Histogram(3);
  s.real_ns = s.latency.mean();
  s.achieved_rate =
      static_cast<double>(s.a.messages - 1) / (static_cast<double>(s.a.elapsed_ns) / 1e9);
  s.max_lag_ns = s.a.max_lag_ns;
  s.items_per_second = s.b.elapsed_ns > 0 ? static_cast<double>(s.b.messages - 1) /
                                                (static_cast<double>(s.b.elapsed_ns) / 1e9)
                                          : 0.0;
  s.bytes_per_second = s.items_per_second * static_cast<double>(spec.size);
  account_cpu_and_verified(s);
  return true;
}

// The lowest achieved rate of a passing repetition: below 95 % of the offered rate the case is
// flagged (CaseResult::rate_not_kept).
void finish(CaseResult& c, const RunOptions&) {
  for (const auto& rep : c.reps) {
    if (rep.ok && (c.achieved_rate_min == 0 || rep.achieved_rate < c.achieved_rate_min))
      c.achieved_rate_min = rep.achieved_rate;
  }
}

// The reference speedup compares the median one-way latency of each repetition (the mean,
// real_time, is dominated by a stall's backlog); a repetition with too few messages for a p50
// has none.
double one_way_p50(const RepSample& s) {
  if (s.latency.count() == 0 || s.latency.count() < min_samples_for(0.5)) return std::nan("");
  return s.latency.quantile(0.5);
}

}  // namespace

const WorkloadDef& paced_def() {
  static const WorkloadDef d{
      Workload::kPaced,
      "paced",
      "open loop: one-way latency of every message from its intended "
      "send time at --rate",
      check,
      variants,
      metrics,
      [](uint32_t) { return std::string("every message, one-way from its intended send time"); },
      finish,
      {Better::kLower, one_way_p50, "one-way latency p50"}};
  return d;
}

}  // namespace ipcperf
