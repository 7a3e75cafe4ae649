// Statistics over repetitions: compute_stat on known data, summarize's handling of failed
// repetitions and histograms, and the sample counts behind each percentile.
#include "stats/summary.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace ipcperf {
namespace {

TEST(ComputeStat, OddCount) {
  const std::vector<double> xs{3, 1, 2};
  const Stat s = compute_stat(xs);
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_DOUBLE_EQ(s.median, 2.0);
  EXPECT_DOUBLE_EQ(s.stddev, 1.0);  // sample stddev: sqrt((1 + 0 + 1) / (3 - 1))
  EXPECT_DOUBLE_EQ(s.cv, 0.5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 3.0);
  EXPECT_EQ(xs, (std::vector<double>{3, 1, 2}));  // the input is not reordered
}

TEST(ComputeStat, EvenCountAveragesTheMiddleTwo) {
  const std::vector<double> xs{4, 1, 3, 2};
  const Stat s = compute_stat(xs);
  EXPECT_EQ(s.n, 4);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(s.cv, std::sqrt(5.0 / 3.0) / 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 4.0);
}

TEST(ComputeStat, SingleValueHasNoSpread) {
  const std::vector<double> xs{7};
  const Stat s = compute_stat(xs);
  EXPECT_EQ(s.n, 1);
  EXPECT_DOUBLE_EQ(s.mean, 7.0);
  EXPECT_DOUBLE_EQ(s.median, 7.0);
  EXPECT_DOUBLE_EQ(s.min, 7.0);
  EXPECT_DOUBLE_EQ(s.max, 7.0);
  EXPECT_EQ(s.stddev, 0.0);
  EXPECT_EQ(s.cv, 0.0);
}

TEST(ComputeStat, EmptyIsAllZero) {
  const Stat s = compute_stat({});
  EXPECT_EQ(s.n, 0);
  EXPECT_EQ(s.mean, 0.0);
  EXPECT_EQ(s.median, 0.0);
  EXPECT_EQ(s.stddev, 0.0);
  EXPECT_EQ(s.cv, 0.0);
  EXPECT_EQ(s.min, 0.0);
  EXPECT_EQ(s.max, 0.0);
}

TEST(ComputeStat, ZeroMeanGivesZeroCv) {
  const std::vector<double> xs{-1, 1};
  const Stat s = compute_stat(xs);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(2.0));
  EXPECT_EQ(s.cv, 0.0);
}

TEST(ComputeStat, NearlyEqualValuesKeepTheirSpread) {
  // One-pass variance would cancel here; the two-pass form keeps it.
  const std::vector<double> xs{1e9 + 1, 1e9 + 2, 1e9 + 3};
  EXPECT_NEAR(compute_stat(xs).stddev, 1.0, 1e-6);
}

RepSample rep(int index, double real_ns, const std::vector<uint64_t>& latencies = {}) {
  RepSample r;
  r.rep_index = index;
  r.ok = true;
  r.messages = 1000;
  r.real_ns = real_ns;
  r.cpu_ns = real_ns * 2;
  r.items_per_second = 1e9 / real_ns;
  r.bytes_per_second = 64e9 / real_ns;
  for (uint64_t v : latencies) r.latency.record(v);
  return r;
}

RepSample failed(int index, std::string error) {
  RepSample r = rep(index, 1.0, {1, 1, 1});  // whatever it measured must not count
  r.ok = false;
  r.error = std::move(error);
  return r;
}

TEST(Summarize, AllRepetitionsOk) {
  CaseResult c;
  c.reps = {rep(0, 100, {100, 200}), rep(1, 300, {300}), rep(2, 200, {400, 500, 600})};
  summarize(c);
  EXPECT_EQ(c.status, CaseStatus::kOk);
  EXPECT_TRUE(c.message.empty());
  EXPECT_EQ(c.real_ns.n, 3);
  EXPECT_DOUBLE_EQ(c.real_ns.median, 200.0);
  EXPECT_DOUBLE_EQ(c.cpu_ns.median, 400.0);
  EXPECT_DOUBLE_EQ(c.items_per_second.median, 1e9 / 200);
  EXPECT_DOUBLE_EQ(c.bytes_per_second.max, 64e9 / 100);
  EXPECT_EQ(c.latency.count(), 6U);
  EXPECT_EQ(c.latency.min(), 100U);
  EXPECT_EQ(c.latency.max(), 600U);
  EXPECT_EQ(c.reps.size(), 3U);

  summarize(c);  // again: the merged histogram starts afresh
  EXPECT_EQ(c.latency.count(), 6U);
}

TEST(Summarize, FailedRepetitionFailsTheCaseAndIsLeftOut) {
  CaseResult c;
  c.reps = {rep(0, 100, {100}), failed(1, "recv: peer gone"), rep(2, 300, {300}),
            failed(3, "second failure")};
  summarize(c);
  EXPECT_EQ(c.status, CaseStatus::kFailed);
  EXPECT_EQ(c.message, "recv: peer gone");
  EXPECT_EQ(c.real_ns.n, 2);
  EXPECT_DOUBLE_EQ(c.real_ns.median, 200.0);
  EXPECT_DOUBLE_EQ(c.real_ns.min, 100.0);
  EXPECT_EQ(c.latency.count(), 2U);
  EXPECT_EQ(c.latency.min(), 100U);
  EXPECT_EQ(c.reps.size(), 4U);  // the failed repetitions stay for the reporters
}

TEST(Summarize, FailureWithoutTextStillSaysWhichRepetition) {
  CaseResult c;
  c.reps = {failed(4, "")};
  summarize(c);
  EXPECT_EQ(c.status, CaseStatus::kFailed);
  EXPECT_NE(c.message.find('4'), std::string::npos) << c.message;
  EXPECT_EQ(c.real_ns.n, 0);
}

TEST(Summarize, SkippedStaysSkipped) {
  CaseResult c;
  c.status = CaseStatus::kSkipped;
  c.message = "backend not built";
  summarize(c);
  EXPECT_EQ(c.status, CaseStatus::kSkipped);
  EXPECT_EQ(c.message, "backend not built");
  EXPECT_EQ(c.real_ns.n, 0);

  c.reps = {failed(0, "boom")};
  summarize(c);
  EXPECT_EQ(c.status, CaseStatus::kSkipped);
  EXPECT_EQ(c.message, "backend not built");
}

// Ranks of the distribution-free 95 % CI of the median: the textbook values (e.g. Conover,
// Practical Nonparametric Statistics, table A3; Hollander & Wolfe), with the exact coverage
// 1 - 2 P(B <= l - 1), B ~ Binomial(n, 1/2).
TEST(MedianCi, TextbookRanks) {
  EXPECT_FALSE(median_ci_ranks(1).has_value());
  EXPECT_FALSE(median_ci_ranks(2).has_value());
  // n = 5: even [min, max] covers only 1 - 2/32 = 93.75 %: no 95 % interval.
  EXPECT_FALSE(median_ci_ranks(5).has_value());
  struct Expected {
    int n, low, high;
    double coverage;
  };
  for (const auto& e : {
           Expected{6, 1, 6, 1.0 - 2.0 * 1 / 64},             // 96.9 %
           Expected{10, 2, 9, 1.0 - 2.0 * 11 / 1024},         // P(B<=1) = 11/1024: 97.9 %
           Expected{15, 4, 12, 1.0 - 2.0 * 576 / 32768},      // P(B<=3) = 576/32768: 96.5 %
           Expected{20, 6, 15, 1.0 - 2.0 * 21700 / 1048576},  // P(B<=5): 95.9 %
           Expected{100, 40, 61, 0.0},                        // 40th and 61st
       }) {
    const auto ci = median_ci_ranks(e.n);
    ASSERT_TRUE(ci.has_value()) << e.n;
    EXPECT_EQ(ci->rank_low, e.low) << e.n;
    EXPECT_EQ(ci->rank_high, e.high) << e.n;
    if (e.coverage > 0) {
      EXPECT_NEAR(ci->coverage, e.coverage, 1e-12) << e.n;
    }
    EXPECT_GE(ci->coverage, 0.95) << e.n;
  }
}

TEST(MedianCi, NarrowestIntervalThatStillCovers) {
  // One rank further in would fall below 95 %, for every n: the interval is the narrowest.
  for (int n = 6; n <= 300; ++n) {
    const auto ci = median_ci_ranks(n);
    ASSERT_TRUE(ci.has_value()) << n;
    EXPECT_EQ(ci->rank_high, n + 1 - ci->rank_low);
    EXPECT_GE(ci->coverage, 0.95) << n;
    const auto tighter = median_ci_ranks(n, ci->coverage + 1e-9);
    if (tighter) {
      EXPECT_LT(tighter->rank_low, ci->rank_low) << n;
    }
  }
  // Large n (2^-n underflows a double): close to the normal approximation n/2 -+ 0.98 sqrt(n).
  const auto big = median_ci_ranks(5000);
  ASSERT_TRUE(big.has_value());
  EXPECT_NEAR(big->rank_low, 2500 - 0.98 * std::sqrt(5000.0), 2);
  EXPECT_NEAR(big->coverage, 0.95, 0.005);
  // A lower confidence needs fewer samples: 90 % from n = 5 on ([min, max] covers 93.75 %).
  EXPECT_TRUE(median_ci_ranks(5, 0.90).has_value());
}

TEST(ComputeStat, MedianCiFromOrderStatistics) {
  // 1..10 shuffled: the CI is x(2)..x(9) = 2..9.
  const std::vector<double> ten{7, 3, 10, 1, 5, 9, 2, 8, 6, 4};
  const Stat s = compute_stat(ten);
  ASSERT_TRUE(s.has_ci());
  EXPECT_EQ(s.ci_rank_low, 2);
  EXPECT_EQ(s.ci_rank_high, 9);
  EXPECT_EQ(s.ci_low, 2.0);
  EXPECT_EQ(s.ci_high, 9.0);
  EXPECT_NEAR(s.ci_level, 1.0 - 22.0 / 1024, 1e-12);
  EXPECT_LE(s.ci_low, s.median);
  EXPECT_GE(s.ci_high, s.median);

  // 20 values 100, 101, ..., 119: x(6)..x(15) = 105..114.
  std::vector<double> twenty;
  for (int i = 19; i >= 0; --i) twenty.push_back(100 + i);
  const Stat t = compute_stat(twenty);
  EXPECT_EQ(t.ci_low, 105.0);
  EXPECT_EQ(t.ci_high, 114.0);

  // n = 5: no interval is invented.
  const std::vector<double> five{1, 2, 3, 4, 5};
  const Stat f = compute_stat(five);
  EXPECT_FALSE(f.has_ci());
  EXPECT_EQ(f.ci_low, 0.0);
  EXPECT_EQ(f.ci_high, 0.0);
}

TEST(Stability, StableRowHasNoAdvice) {
  const std::vector<double> xs{100, 101, 99, 100, 102};  // CV about 1 %
  const Stability st = assess_stability(compute_stat(xs));
  EXPECT_FALSE(st.unstable);
  EXPECT_TRUE(st.advice.empty());
}

TEST(Stability, SuggestedRepsFromTheNormalApproximationBelowSixReps) {
  const std::vector<double> xs{100, 110, 95, 125, 100};
  const Stat s = compute_stat(xs);
  ASSERT_GT(s.cv, kUnstableCv);
  ASSERT_FALSE(s.has_ci());
  const Stability st = assess_stability(s);
  EXPECT_TRUE(st.unstable);
  const double h = 1.96 * std::sqrt(std::acos(-1.0) / 2) * s.cv / std::sqrt(5.0);
  EXPECT_NEAR(st.ci_half_width, h, 1e-9);
  const int n = static_cast<int>(std::ceil(5 * (h / 0.05) * (h / 0.05)));
  EXPECT_EQ(st.suggested_reps, n);
  EXPECT_NE(st.advice.find(fmt::format("raise --reps to {}", n)), std::string::npos) << st.advice;
  EXPECT_NE(st.advice.find(fmt::format("CV {:.1f}%", 100 * s.cv)), std::string::npos) << st.advice;
  EXPECT_NE(st.advice.find("--cpus"), std::string::npos) << st.advice;
  EXPECT_NE(st.advice.find("no 95% CI"), std::string::npos) << st.advice;
}

TEST(Stability, SuggestedRepsFromTheCiWidth) {
  // 10 reps: CI x(2)..x(9) = 95..115 around a median of 105: h = 10/105.
  const std::vector<double> xs{90, 95, 100, 102, 104, 106, 108, 110, 115, 130};
  const Stat s = compute_stat(xs);
  ASSERT_TRUE(s.has_ci());
  const Stability st = assess_stability(s);
  ASSERT_TRUE(st.unstable);
  const double h = (115.0 - 95.0) / (2 * 105.0);
  EXPECT_NEAR(st.ci_half_width, h, 1e-12);
  EXPECT_EQ(st.suggested_reps, static_cast<int>(std::ceil(10 * (h / 0.05) * (h / 0.05))));  // 37
  EXPECT_NE(st.advice.find(fmt::format("raise --reps to {}", st.suggested_reps)), std::string::npos)
      << st.advice;
}

TEST(Stability, OutliersWithANarrowCiAskForQuietCpusNotReps) {
  // 20 tight repetitions and two far outliers: CV above 5 %, but the median's CI is narrow.
  std::vector<double> xs;
  for (int i = 0; i < 20; ++i) xs.push_back(100 + (i % 3));
  xs.push_back(200);
  xs.push_back(210);
  const Stability st = assess_stability(compute_stat(xs));
  ASSERT_TRUE(st.unstable);
  EXPECT_LE(st.suggested_reps, 22);
  EXPECT_NE(st.advice.find("will not help"), std::string::npos) << st.advice;
}

TEST(Stability, VeryNoisyRowsAskToReduceNoiseFirst) {
  const std::vector<double> xs{100, 300, 50, 500, 120};
  const Stability st = assess_stability(compute_stat(xs));
  ASSERT_TRUE(st.unstable);
  EXPECT_GT(st.suggested_reps, kMaxSuggestedReps);
  EXPECT_NE(st.advice.find("reduce noise"), std::string::npos) << st.advice;
}

TEST(Summarize, FlagsUnstableCases) {
  CaseResult c;
  c.reps = {rep(0, 100), rep(1, 140), rep(2, 100), rep(3, 101), rep(4, 99)};
  summarize(c);
  EXPECT_TRUE(c.unstable);
  EXPECT_FALSE(c.advice.empty());
  c.reps[1] = rep(1, 100);
  summarize(c);
  EXPECT_FALSE(c.unstable);
  EXPECT_TRUE(c.advice.empty());
}

TEST(MinSamplesFor, TenOverOneMinusP) {
  EXPECT_EQ(min_samples_for(0.0), 10U);
  EXPECT_EQ(min_samples_for(0.5), 20U);
  EXPECT_EQ(min_samples_for(0.75), 40U);
  EXPECT_EQ(min_samples_for(0.9), 100U);
  EXPECT_EQ(min_samples_for(0.95), 200U);
  EXPECT_EQ(min_samples_for(0.99), 1000U);
  EXPECT_EQ(min_samples_for(0.999), 10000U);
  EXPECT_EQ(min_samples_for(0.9999), 100000U);
  EXPECT_EQ(min_samples_for(0.99999), 1000000U);
  EXPECT_EQ(min_samples_for(0.3), 15U);  // 14.29 rounds up
  EXPECT_EQ(min_samples_for(1.0), std::numeric_limits<uint64_t>::max());
}

}  // namespace
}  // namespace ipcperf
