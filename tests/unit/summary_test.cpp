// Statistics over repetitions: compute_stat on known data, summarize's handling of failed
// repetitions and histograms, and the sample counts behind each percentile.
#include "stats/summary.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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
