#include "stats/speedup.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "stats/summary.hpp"

namespace ipcperf {

namespace {

bool measured(double v) { return std::isfinite(v) && v > 0; }

}  // namespace

Speedup paired_speedup(std::span<const RepValue> x, std::span<const RepValue> ref, Better better) {
  Speedup s;
  std::map<int, double> by_round;
  for (const RepValue& r : ref) {
    if (measured(r.value)) by_round[r.rep_index] = r.value;
  }
  std::vector<double> ratios;
  for (const RepValue& v : x) {
    const auto it = by_round.find(v.rep_index);
    if (!measured(v.value) || it == by_round.end()) continue;
    const double ratio = better == Better::kLower ? it->second / v.value : v.value / it->second;
    s.per_rep.emplace_back(v.rep_index, ratio);
    ratios.push_back(ratio);
  }
  if (ratios.empty()) {
    s.missing = "no round in which both cases passed";
    return s;
  }
  std::sort(ratios.begin(), ratios.end());
  const size_t n = ratios.size();
  s.n = static_cast<int>(n);
  // The median of the logarithms: an even n's two middle ratios averaged geometrically.
  s.median = n % 2 == 1 ? ratios[n / 2] : std::sqrt(ratios[n / 2 - 1] * ratios[n / 2]);
  if (const auto ci = median_ci_ranks(s.n)) {
    s.ci_low = ratios[static_cast<size_t>(ci->rank_low - 1)];
    s.ci_high = ratios[static_cast<size_t>(ci->rank_high - 1)];
    s.ci_level = ci->coverage;
  }
  return s;
}

}  // namespace ipcperf
