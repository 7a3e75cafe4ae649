// The reference speedup (--reference): a case against the reference backend's case of the same
// workload, variant and size, from repetitions paired by round. Rounds run repetition r of every
// case once (plan.hpp), so repetition r of both cases ran in the same stretch of time and a
// drift of the machine between rounds moves both alike; the ratio of each pair cancels it.
#pragma once

#include <span>
#include <string_view>

#include "results.hpp"

namespace ipcperf {

// Which way a workload's figure is better: a time (lower: the speedup is ref / x) or a rate
// (higher: x / ref). Either way a speedup above 1 means faster than the reference.
enum class Better { kLower, kHigher };

// One repetition's figure; a value that is not finite or not above zero was not measured and
// pairs with nothing.
struct RepValue {
  int rep_index = 0;
  double value = 0;
};

// The speedup of x over ref from the repetitions with the same rep_index in both (the rounds in
// which both passed; after failures that is the intersection of their indices): each pair's
// ratio, their median, and the median's distribution-free 95 % CI, the order statistics of the
// ratios that compute_stat gives any metric (stats/summary.hpp; none below 6 pairs). The median
// is taken of the ratios' logarithms, so with an even n the two middle ratios are averaged
// geometrically: x over ref is then exactly the inverse of ref over x, and a latency and its
// rate give the same speedup. Fills n, median, the CI and per_rep (in x's order), and `missing`
// when no pair exists; the caller sets reference_case, basis and rounds.
Speedup paired_speedup(std::span<const RepValue> x, std::span<const RepValue> ref, Better better);

// The method, as the JSON context records it and docs/method.md explains it.
inline constexpr std::string_view kSpeedupMethod =
    "median of per-round paired ratios (repetition r of both cases ran in round r; pairs by "
    "rep_index over the repetitions that passed in both); ref/x for times (pingpong round trip, "
    "paced one-way latency p50), x/ref for rates (stream items_per_second); >1 = faster than the "
    "reference; 95% CI: distribution-free order statistics of the ratios (binomial rule, as for "
    "the median of any metric; none below 6 pairs)";

}  // namespace ipcperf
