// Statistics over repetitions: median, mean, stddev, CV, min, max of each metric, over the
// repetitions that passed, with a nonparametric 95 % confidence interval of the median; latency
// histograms merged across repetitions; rows whose repetitions disagree flagged with advice.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "results.hpp"

namespace ipcperf {

// Order statistics of xs (empty -> all zero, n = 0). stddev is the sample standard deviation
// (n - 1), cv = stddev / mean (as Google Benchmark computes it). The median's 95 % confidence
// interval is filled where n allows one (median_ci_ranks).
Stat compute_stat(std::span<const double> xs);

// A distribution-free confidence interval of the median of n samples: the order statistics
// x(rank_low) <= median <= x(rank_high), 1-based, rank_high = n + 1 - rank_low. The number of
// samples below the true median is Binomial(n, 1/2), so [x(l), x(n+1-l)] covers it with
// probability 1 - 2 P(B <= l - 1); rank_low is the largest l whose coverage is still at least
// `confidence` (the narrowest such interval), coverage that exact probability.
// No interval exists when even [min, max] covers less (1 - 2^(1-n) < confidence: n < 6 at 95 %).
struct MedianCi {
  int rank_low = 0, rank_high = 0;
  double coverage = 0;
};
std::optional<MedianCi> median_ci_ranks(int n, double confidence = 0.95);
inline constexpr int kMinRepsForMedianCi = 6;  // at 95 %

// A row is unstable when the CV of its per-repetition times exceeds this.
inline constexpr double kUnstableCv = 0.05;
// The suggested --reps aim at a 95 % CI of the median within +-5 % of it.
inline constexpr double kTargetCiHalfWidth = 0.05;
// Beyond this many repetitions, the advice is to reduce noise rather than to repeat.
inline constexpr int kMaxSuggestedReps = 50;

// What to do about a row's spread. The rule: h = the median's 95 % CI half-width relative to the
// median (from the interval when n >= 6, else the normal approximation 1.96 * 1.2533 * CV /
// sqrt(n), the median's standard error being 1.2533 sigma / sqrt(n)); a CI narrows as
// 1 / sqrt(n), so suggested_reps = ceil(n * (h / 5 %)^2), at least 6.
struct Stability {
  bool unstable = false;
  double ci_half_width = 0;  // h, relative
  int suggested_reps = 0;
  std::string advice;  // empty when stable
};
Stability assess_stability(const Stat& real_ns);

// Fills the Stat fields and the merged histogram of c from c.reps, and c.unstable/c.advice; sets
// status kFailed (with the first failing repetition's error as message) when any repetition
// failed.
void summarize(CaseResult& c);

// Minimum samples behind a percentile p: 10 / (1 - p), so nobody quotes p99.99 from 1000 samples.
uint64_t min_samples_for(double p);

}  // namespace ipcperf
