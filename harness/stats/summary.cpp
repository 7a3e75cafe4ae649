#include "stats/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace ipcperf {

Stat compute_stat(std::span<const double> xs) {
  Stat s;
  if (xs.empty()) return s;
  std::vector<double> v(xs.begin(), xs.end());
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.n = static_cast<int>(n);
  s.min = v.front();
  s.max = v.back();
  s.median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;

  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(n);
  if (n >= 2) {
    // Two passes (sum of squared deviations from the mean) rather than sum(x^2) - n*mean^2:
    // per-message times of a stable case agree to many digits, where the one-pass form cancels.
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(n - 1));
  }
  s.cv = s.mean == 0 ? 0.0 : s.stddev / s.mean;
  if (auto ci = median_ci_ranks(s.n)) {
    s.ci_rank_low = ci->rank_low;
    s.ci_rank_high = ci->rank_high;
    s.ci_low = v[static_cast<size_t>(ci->rank_low - 1)];
    s.ci_high = v[static_cast<size_t>(ci->rank_high - 1)];
    s.ci_level = ci->coverage;
  }
  return s;
}

std::optional<MedianCi> median_ci_ranks(int n, double confidence) {
  if (n < 1 || !(confidence > 0 && confidence < 1)) return std::nullopt;
  const double tail = (1.0 - confidence) / 2.0;
  // P(B <= k) for B ~ Binomial(n, 1/2), summed term by term in log space (2^-n underflows a
  // double beyond n = 1074). The tolerance keeps a tail that equals the bound to rounding inside.
  const double log_half_pow_n = static_cast<double>(n) * std::log(0.5);
  const double log_n_fact = std::lgamma(static_cast<double>(n) + 1.0);
  double cdf = 0;
  MedianCi best;
  for (int l = 1; 2 * l <= n; ++l) {
    const int k = l - 1;  // [x(l), x(n+1-l)] misses the median when B <= l - 1 or B >= n + 1 - l
    cdf += std::exp(log_n_fact - std::lgamma(k + 1.0) -
                    std::lgamma(static_cast<double>(n - k) + 1.0) + log_half_pow_n);
    if (cdf > tail * (1.0 + 1e-9)) break;
    best = {l, n + 1 - l, 1.0 - 2.0 * cdf};
  }
  if (best.rank_low == 0) return std::nullopt;
  return best;
}

Stability assess_stability(const Stat& real_ns) {
  Stability st;
  const Stat& s = real_ns;
  if (s.n < 2 || !(s.cv > kUnstableCv) || !(s.median > 0)) return st;
  st.unstable = true;
  const double n = static_cast<double>(s.n);
  // 1.96 * sqrt(pi / 2): the normal 95 % quantile times the median's standard error in sigmas.
  constexpr double kNormalMedianCi = 1.96 * 1.2533141373155;
  st.ci_half_width = s.has_ci() ? (s.ci_high - s.ci_low) / (2.0 * s.median)
                                : kNormalMedianCi * s.cv / std::sqrt(n);
  const double ratio = st.ci_half_width / kTargetCiHalfWidth;
  const double needed = std::ceil(n * ratio * ratio - 1e-9);
  st.suggested_reps =
      static_cast<int>(std::clamp(needed, static_cast<double>(kMinRepsForMedianCi), 1e6));

  const std::string cv = fmt::format("CV {:.1f}%", 100.0 * s.cv);
  const std::string h = fmt::format("±{:.1f}%", 100.0 * st.ci_half_width);
  const std::string target = fmt::format("±{:.0f}%", 100.0 * kTargetCiHalfWidth);
  constexpr std::string_view kDoc = "docs/reducing-variance.md";
  if (st.suggested_reps > kMaxSuggestedReps) {
    st.advice = fmt::format(
        "{}: too noisy for more --reps to help ({} would need about {}): reduce noise first: "
        "quiet, non-sibling CPUs with --cpus, governor performance ({})",
        cv, target, st.suggested_reps, kDoc);
  } else if (st.suggested_reps <= s.n) {
    st.advice = fmt::format(
        "{}: more --reps will not help (the median's 95% CI is already {} at {} reps): outlying "
        "repetitions, so pick quiet CPUs with --cpus ({})",
        cv, h, s.n, kDoc);
  } else if (s.has_ci()) {
    st.advice = fmt::format(
        "{}: raise --reps to {} or pick quiet CPUs with --cpus: the median's 95% CI is {} at {} "
        "reps and narrows as 1/√reps, to {} at {} ({})",
        cv, st.suggested_reps, h, s.n, target, st.suggested_reps, kDoc);
  } else {
    st.advice = fmt::format(
        "{}: raise --reps to {} or pick quiet CPUs with --cpus: {} reps give no 95% CI of the "
        "median (that needs {}); estimated {} (2.46·CV/√reps), {} at {} ({})",
        cv, st.suggested_reps, s.n, kMinRepsForMedianCi, h, target, st.suggested_reps, kDoc);
  }
  return st;
}

void summarize(CaseResult& c) {
  std::vector<double> real, cpu, items, bytes;
  c.latency = Histogram(3);
  const RepSample* first_failure = nullptr;
  for (const auto& rep : c.reps) {
    if (!rep.ok) {
      if (first_failure == nullptr) first_failure = &rep;
      continue;
    }
    real.push_back(rep.real_ns);
    cpu.push_back(rep.cpu_ns);
    items.push_back(rep.items_per_second);
    bytes.push_back(rep.bytes_per_second);
    c.latency.merge(rep.latency);
  }
  c.real_ns = compute_stat(real);
  c.cpu_ns = compute_stat(cpu);
  c.items_per_second = compute_stat(items);
  c.bytes_per_second = compute_stat(bytes);
  const Stability st = assess_stability(c.real_ns);
  c.unstable = st.unstable;
  c.advice = st.advice;

  // A skip is decided before anything ran and says more than a failure would.
  if (first_failure != nullptr && c.status != CaseStatus::kSkipped) {
    c.status = CaseStatus::kFailed;
    c.message = first_failure->error.empty()
                    ? fmt::format("repetition {} failed", first_failure->rep_index)
                    : first_failure->error;
  }
}

uint64_t min_samples_for(double p) {
  if (!(p < 1.0)) return std::numeric_limits<uint64_t>::max();
  const double x = 10.0 / (1.0 - p);
  // 1 - p is rarely exact in binary (1 - 0.999 = 0.0010000000000000009), so 10 / (1 - p) lands a
  // hair off the integer it means, and ceil() of a hair above would ask for one sample too many.
  // The hair grows with x (the error of p divided by 1 - p): 1e-6 absolute is enough up to p99.99
  // but not at p99.999 (999999.9999935), hence the relative term.
  const double r = std::round(x);
  if (std::fabs(x - r) <= std::max(1e-6, x * 1e-9)) return static_cast<uint64_t>(std::llround(x));
  return static_cast<uint64_t>(std::ceil(x));
}

}  // namespace ipcperf
