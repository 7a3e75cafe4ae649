#include "stats/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
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
  return s;
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
