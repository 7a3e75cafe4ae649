// Google Benchmark's JSON schema, so that its compare.py (and anything else that reads Google
// Benchmark output) accepts our files: per case, one "iteration" row per repetition, then the
// aggregate rows <name>_mean/_median/_stddev/_cv over the repetitions that passed. Everything
// ipcperf adds is an extra key, which those tools ignore.
#include <algorithm>
#include <array>
#include <cmath>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "reporters/reporter.hpp"
#include "stats/speedup.hpp"
#include "stats/summary.hpp"

namespace ipcperf {
namespace {

// Built in insertion order so that a file reads like Google Benchmark's (name first); to_json
// converts to the sorted nlohmann::json its callers expect.
using Row = nlohmann::ordered_json;

// NaN and infinity are not JSON (nlohmann would write null, which Python reads as None and then
// fails on arithmetic); a value that is not finite was not measured.
double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

struct PercentileKey {
  double p;
  const char* key;
};
constexpr std::array<PercentileKey, 5> kPercentiles{{
    {0.5, "p50_ns"},
    {0.9, "p90_ns"},
    {0.99, "p99_ns"},
    {0.999, "p999_ns"},
    {0.9999, "p9999_ns"},
}};

void add_latency_counters(Row& row, const Histogram& h) {
  if (h.count() == 0) return;
  row["latency_samples"] = h.count();
  for (const auto& [p, key] : kPercentiles) {
    if (h.count() >= min_samples_for(p)) row[key] = finite_or_zero(h.quantile(p));
  }
  row["max_ns"] = h.max();
  row["min_ns"] = h.min();
  row["mean_ns"] = finite_or_zero(h.mean());
}

// Google Benchmark's identity fields, in its order.
Row head(const CaseResult& c, std::string_view name, std::string_view run_type) {
  Row row;
  row["name"] = name;
  row["family_index"] = c.spec.family_index;
  row["per_family_instance_index"] = 0;
  row["run_name"] = c.spec.name;
  row["run_type"] = run_type;
  row["repetitions"] = c.reps.size();
  return row;
}

// ipcperf's description of the case, on every row so that each row stands on its own.
void add_description(Row& row, const CaseSpec& s) {
  row["size_bytes"] = s.size;
  row["capacity_bytes"] = s.capacity;
  row["backend"] = s.backend;
  row["workload"] = s.kind;
  row["family"] = s.family;
  row["wait"] = s.wait;
  if (s.in_process) row["in_process"] = true;
  if (s.lossy) row["lossy"] = true;
  if (s.rate != 0) row["offered_rate"] = s.rate;
}

// CPU cost per measured message of each peer (user + system, and system alone) and context
// switches of both peers per message: a spinning backend's price next to its speed.
struct CpuCost {
  double cpu_a = 0, cpu_b = 0, sys_a = 0, sys_b = 0, ctx = 0;
};
CpuCost cpu_cost(const RepSample& rep) {
  CpuCost c;
  if (rep.messages == 0) return c;
  const auto n = static_cast<double>(rep.messages);
  c.cpu_a = static_cast<double>(rep.a.cpu_user_ns + rep.a.cpu_sys_ns) / n;
  c.cpu_b = static_cast<double>(rep.b.cpu_user_ns + rep.b.cpu_sys_ns) / n;
  c.sys_a = static_cast<double>(rep.a.cpu_sys_ns) / n;
  c.sys_b = static_cast<double>(rep.b.cpu_sys_ns) / n;
  c.ctx = static_cast<double>(rep.a.ctx_voluntary + rep.a.ctx_involuntary + rep.b.ctx_voluntary +
                              rep.b.ctx_involuntary) /
          n;
  return c;
}
void add_cpu_cost(Row& row, const CpuCost& c) {
  row["cpu_ns_per_msg_a"] = finite_or_zero(c.cpu_a);
  row["cpu_ns_per_msg_b"] = finite_or_zero(c.cpu_b);
  row["sys_ns_per_msg_a"] = finite_or_zero(c.sys_a);
  row["sys_ns_per_msg_b"] = finite_or_zero(c.sys_b);
  row["ctx_switches_per_msg"] = finite_or_zero(c.ctx);
}
// The median over the repetitions that passed, field by field.
CpuCost median_cpu_cost(const CaseResult& c) {
  std::vector<CpuCost> v;
  for (const auto& r : c.reps)
    if (r.ok) v.push_back(cpu_cost(r));
  CpuCost m;
  if (v.empty()) return m;
  auto med = [&](double CpuCost::*f) {
    std::vector<double> x;
    for (const auto& e : v) x.push_back(e.*f);
    std::sort(x.begin(), x.end());
    const size_t k = x.size();
    return k % 2 == 1 ? x[k / 2] : (x[k / 2 - 1] + x[k / 2]) / 2;
  };
  m.cpu_a = med(&CpuCost::cpu_a);
  m.cpu_b = med(&CpuCost::cpu_b);
  m.sys_a = med(&CpuCost::sys_a);
  m.sys_b = med(&CpuCost::sys_b);
  m.ctx = med(&CpuCost::ctx);
  return m;
}

Row error_row(const CaseResult& c, int repetition_index, const std::string& message) {
  Row row = head(c, c.spec.name, "iteration");
  row["repetition_index"] = repetition_index;
  row["threads"] = 1;
  row["error_occurred"] = true;
  row["error_message"] = message;
  // Times are written (as zeros) although nothing was measured, as Google Benchmark does for its
  // own error rows: compare.py reads real_time of every iteration row (for its geomean) and
  // time_unit of every row whose name it compares, and stops with a KeyError where one is missing.
  row["iterations"] = 0;
  row["real_time"] = 0.0;
  row["cpu_time"] = 0.0;
  row["time_unit"] = "ns";
  add_description(row, c.spec);
  return row;
}

Row iteration_row(const CaseResult& c, const RepSample& rep) {
  Row row = head(c, c.spec.name, "iteration");
  row["repetition_index"] = rep.rep_index;
  row["threads"] = 1;
  row["iterations"] = rep.messages;
  row["real_time"] = finite_or_zero(rep.real_ns);
  row["cpu_time"] = finite_or_zero(rep.cpu_ns);
  row["time_unit"] = "ns";
  row["items_per_second"] = finite_or_zero(rep.items_per_second);
  row["bytes_per_second"] = finite_or_zero(rep.bytes_per_second);
  row["verified_messages"] = rep.verified;
  row["cpu_user_ns_a"] = rep.a.cpu_user_ns;
  row["cpu_user_ns_b"] = rep.b.cpu_user_ns;
  row["cpu_sys_ns_a"] = rep.a.cpu_sys_ns;
  row["cpu_sys_ns_b"] = rep.b.cpu_sys_ns;
  row["ctx_switches"] =
      rep.a.ctx_voluntary + rep.a.ctx_involuntary + rep.b.ctx_voluntary + rep.b.ctx_involuntary;
  add_cpu_cost(row, cpu_cost(rep));
  if (c.spec.rate != 0) {
    row["achieved_rate"] = finite_or_zero(rep.achieved_rate);
    row["max_send_lag_ns"] = rep.max_lag_ns;
  }
  if (rep.a.refused + rep.b.refused != 0) {
    row["refused_connections"] = rep.a.refused + rep.b.refused;
  }
  if (c.spec.lossy) {
    row["sent_messages"] = rep.sent;
    row["lost_messages"] = rep.lost;
    row["loss_pct"] =
        rep.sent == 0 ? 0.0 : 100.0 * static_cast<double>(rep.lost) / static_cast<double>(rep.sent);
  }
  add_latency_counters(row, rep.latency);
  add_description(row, c.spec);
  return row;
}

struct Aggregate {
  const char* name;
  const char* unit;
  double Stat::*field;
};
constexpr std::array<Aggregate, 4> kAggregates{{
    {"mean", "time", &Stat::mean},
    {"median", "time", &Stat::median},
    {"stddev", "time", &Stat::stddev},
    {"cv", "percentage", &Stat::cv},
}};

// The median's nonparametric 95 % CI (stats/summary.hpp) where the repetitions allow one, and the
// advice for a row whose repetitions disagree.
void add_median_ci(Row& row, const CaseResult& c) {
  if (c.real_ns.has_ci()) {
    row["median_ci_low_ns"] = finite_or_zero(c.real_ns.ci_low);
    row["median_ci_high_ns"] = finite_or_zero(c.real_ns.ci_high);
    row["median_ci_level"] = c.real_ns.ci_level;
  } else {
    row["median_ci_note"] =
        fmt::format("n too small: {} repetitions; a 95% CI of the median needs at least {}",
                    c.real_ns.n, kMinRepsForMedianCi);
  }
  if (c.items_per_second.has_ci()) {
    row["items_per_second_ci_low"] = finite_or_zero(c.items_per_second.ci_low);
    row["items_per_second_ci_high"] = finite_or_zero(c.items_per_second.ci_high);
  }
  if (c.unstable) {
    row["unstable"] = true;
    row["advice"] = c.advice;
  }
}

// --reference: the speedup over the reference's case (stats/speedup.hpp) as speedup_vs_<ref>,
// with its 95 % CI where n allows one, or the note that says why there is no number or interval.
void add_speedup(Row& row, const Speedup& s, const std::string& reference) {
  const std::string key = "speedup_vs_" + reference;
  if (!s.reference_case.empty()) row[key + "_case"] = s.reference_case;
  if (!s.measured()) {
    row[key + "_note"] = "no number: " + s.missing;
    return;
  }
  row[key] = finite_or_zero(s.median);
  if (s.has_ci()) {
    row[key + "_ci_low"] = finite_or_zero(s.ci_low);
    row[key + "_ci_high"] = finite_or_zero(s.ci_high);
    row[key + "_ci_level"] = s.ci_level;
  }
  row[key + "_n"] = s.n;
  row[key + "_basis"] = s.basis;
  std::string note;
  if (s.n < s.rounds) {
    note = fmt::format("paired by rep_index: {} of {} rounds had both passing", s.n, s.rounds);
  }
  if (!s.has_ci()) {
    note += fmt::format("{}no interval: n = {} < {}", note.empty() ? "" : "; ", s.n,
                        kMinRepsForMedianCi);
  }
  if (!note.empty()) row[key + "_note"] = note;
}

// A repetition's own paired ratio, where it was paired.
void add_rep_speedup(Row& row, const CaseResult& c, int rep_index, const std::string& reference) {
  if (!c.speedup) return;
  for (const auto& [index, ratio] : c.speedup->per_rep) {
    if (index == rep_index) row["speedup_vs_" + reference] = finite_or_zero(ratio);
  }
}

Row aggregate_row(const CaseResult& c, const Aggregate& agg, size_t ok_reps,
                  const std::string& reference) {
  Row row = head(c, c.spec.name + "_" + agg.name, "aggregate");
  row["threads"] = 1;
  row["aggregate_name"] = agg.name;
  row["aggregate_unit"] = agg.unit;
  // As in Google Benchmark: an aggregate is computed over repetitions, not iterations.
  row["iterations"] = ok_reps;
  row["real_time"] = finite_or_zero(c.real_ns.*agg.field);
  row["cpu_time"] = finite_or_zero(c.cpu_ns.*agg.field);
  // Google Benchmark gives a percentage aggregate no time_unit; compare.py then leaves the _cv
  // rows out instead of printing a fraction as if it were nanoseconds.
  if (std::string_view(agg.unit) == "time") row["time_unit"] = "ns";
  row["items_per_second"] = finite_or_zero(c.items_per_second.*agg.field);
  row["bytes_per_second"] = finite_or_zero(c.bytes_per_second.*agg.field);
  if (std::string_view(agg.name) == "median") add_cpu_cost(row, median_cpu_cost(c));
  if (std::string_view(agg.name) == "median" && c.spec.rate != 0) {
    row["achieved_rate"] = finite_or_zero(c.achieved_rate_min);  // the lowest repetition's
    if (c.rate_not_kept()) row["rate_not_kept"] = true;
  }
  if (std::string_view(agg.name) == "median" && c.spec.lossy) {
    // Loss over all repetitions that passed (not a median of per-repetition percentages).
    row["sent_messages"] = c.sent;
    row["lost_messages"] = c.lost;
    row["loss_pct"] = 100.0 * c.loss_fraction();
  }
  if (std::string_view(agg.name) == "median" && c.refused != 0) {
    row["refused_connections"] = c.refused;  // over the repetitions that passed
  }
  if (std::string_view(agg.name) == "median") add_median_ci(row, c);
  if (std::string_view(agg.name) == "median" && c.speedup && !reference.empty()) {
    add_speedup(row, *c.speedup, reference);
  }
  if (std::string_view(agg.name) == "median" && c.latency.count() > 0) {
    add_latency_counters(row, c.latency);
    row["latency_sampling"] = c.sampling;
    Row buckets = Row::array();
    for (const auto& b : c.latency.buckets()) buckets.push_back({b.lo, b.hi, b.count});
    row["latency_histogram"] = std::move(buckets);
    row["latency_histogram_digits"] = c.latency.significant_digits();
  }
  add_description(row, c.spec);
  return row;
}

void add_case_rows(Row& rows, const CaseResult& c, const std::string& reference) {
  if (c.reps.empty()) {
    if (c.status == CaseStatus::kSkipped) rows.push_back(error_row(c, 0, "skipped: " + c.message));
    // A case that failed before its first repetition (e.g. prepare) must still show up.
    if (c.status == CaseStatus::kFailed) rows.push_back(error_row(c, 0, c.message));
    return;
  }
  for (const auto& rep : c.reps) {
    if (rep.ok) {
      rows.push_back(iteration_row(c, rep));
      if (!reference.empty()) add_rep_speedup(rows.back(), c, rep.rep_index, reference);
    } else {
      rows.push_back(error_row(c, rep.rep_index, rep.error.empty() ? "failed" : rep.error));
    }
  }
  const auto ok_reps = static_cast<size_t>(
      std::count_if(c.reps.begin(), c.reps.end(), [](const RepSample& r) { return r.ok; }));
  if (ok_reps == 0) return;
  for (const auto& agg : kAggregates) rows.push_back(aggregate_row(c, agg, ok_reps, reference));
}

Row build(const RunResult& r) {
  Row out;
  out["context"] = r.context.is_object() ? Row(r.context) : Row::object();
  out["context"]["warnings"] = r.warnings;
  if (!r.reference.empty()) {
    out["context"]["reference"] = r.reference;
    out["context"]["reference_method"] = kSpeedupMethod;
  }
  Row rows = Row::array();
  for (const auto& c : r.cases) add_case_rows(rows, c, r.reference);
  out["benchmarks"] = std::move(rows);
  return out;
}

}  // namespace

nlohmann::json to_json(const RunResult& r) {
  // Not `return {build(r)};`: a braced json is a one-element array.
  return nlohmann::json(build(r));  // NOLINT(modernize-return-braced-init-list)
}

void write_json(const RunResult& r, std::ostream& os) {
  // Error messages quote system text that need not be UTF-8; replace bad bytes rather than throw.
  os << build(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

}  // namespace ipcperf
