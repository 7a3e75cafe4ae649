// The latency histogram against exact order statistics: exact below 2^M, bounded relative error
// above, merge equivalent to recording everything in one.
#include "stats/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace ipcperf {
namespace {

// The value Histogram::quantile promises to approximate: the ceil(q * n)-th smallest sample.
uint64_t exact_quantile(const std::vector<uint64_t>& sorted, double q) {
  const auto n = static_cast<uint64_t>(sorted.size());
  if (q <= 0) return sorted.front();
  if (q >= 1) return sorted.back();
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<uint64_t>(rank, 1, n);
  return sorted[rank - 1];
}

// Log-uniform over 1 ns .. 1 h: every bucket width the histogram has gets exercised.
std::vector<uint64_t> log_uniform(uint32_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(
      0.0, std::log(static_cast<double>(Histogram::kMaxValue)));
  std::vector<uint64_t> out(n);
  for (auto& v : out) {
    v = std::clamp<uint64_t>(static_cast<uint64_t>(std::llround(std::exp(exponent(rng)))), 1,
                             Histogram::kMaxValue);
  }
  return out;
}

constexpr double kQuantiles[] = {0.0,  0.001, 0.01, 0.1,   0.25,   0.5,
                                 0.75, 0.9,   0.99, 0.999, 0.9999, 1.0};

TEST(Histogram, ValuesBelowTwoToTheMAreExact) {
  Histogram h(3);
  for (uint64_t v = 0; v < 2048; ++v) {
    EXPECT_EQ(h.index_of(v), v);
    const auto [lo, hi] = h.bucket_range(h.index_of(v));
    EXPECT_EQ(lo, v);
    EXPECT_EQ(hi, v);
  }
  std::vector<uint64_t> values;
  for (uint64_t v = 1; v < 2048; ++v) {
    h.record(v);
    values.push_back(v);
  }
  for (double q : kQuantiles) {
    EXPECT_EQ(h.quantile(q), static_cast<double>(exact_quantile(values, q))) << "q = " << q;
  }
  for (uint64_t v : {1ULL, 2ULL, 100ULL, 1023ULL, 1024ULL, 2047ULL}) {
    Histogram single(3);
    single.record(v);
    EXPECT_EQ(single.quantile(0.5), static_cast<double>(v));
  }
}

TEST(Histogram, QuantilesWithinRelativeErrorOfExact) {
  for (uint32_t seed : {1U, 2U, 3U, 42U, 20240601U}) {
    auto values = log_uniform(seed, 20000);
    Histogram h(3);
    for (uint64_t v : values) h.record(v);
    std::sort(values.begin(), values.end());
    for (double q : kQuantiles) {
      const auto exact = static_cast<double>(exact_quantile(values, q));
      EXPECT_LE(std::fabs(h.quantile(q) - exact), exact * h.relative_error())
          << "seed " << seed << ", q = " << q << ", exact " << exact;
    }
  }
}

TEST(Histogram, RelativeErrorMatchesSignificantDigits) {
  for (int digits = 1; digits <= 5; ++digits) {
    Histogram h(digits);
    EXPECT_EQ(h.significant_digits(), digits);
    EXPECT_LE(h.relative_error(), std::pow(10.0, -digits));
  }
  EXPECT_THROW(Histogram(0), std::invalid_argument);
  EXPECT_THROW(Histogram(6), std::invalid_argument);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  const auto values = log_uniform(7, 30000);
  Histogram all(3);
  Histogram parts[3] = {Histogram(3), Histogram(3), Histogram(3)};
  for (size_t i = 0; i < values.size(); ++i) {
    all.record(values[i]);
    parts[i % 3].record(values[i]);
  }
  Histogram merged(3);
  for (const auto& p : parts) merged.merge(p);

  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  // The sums are added in another order, so they may differ in the last bits.
  EXPECT_NEAR(merged.mean(), all.mean(), all.mean() * 1e-12);
  const auto a = all.buckets();
  const auto m = merged.buckets();
  ASSERT_EQ(m.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(m[i].lo, a[i].lo);
    EXPECT_EQ(m[i].hi, a[i].hi);
    EXPECT_EQ(m[i].count, a[i].count);
  }
  for (double q : kQuantiles) EXPECT_EQ(merged.quantile(q), all.quantile(q)) << "q = " << q;

  Histogram empty(3);
  merged.merge(empty);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_THROW(merged.merge(Histogram(2)), std::invalid_argument);
}

TEST(Histogram, CountMinMaxMean) {
  Histogram h(3);
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.min(), 0U);
  EXPECT_EQ(h.max(), 0U);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.quantile(0.5), 0.0);
  EXPECT_TRUE(h.buckets().empty());

  h.record(5);
  h.record(10);
  h.record(15);
  EXPECT_EQ(h.count(), 3U);
  EXPECT_EQ(h.min(), 5U);
  EXPECT_EQ(h.max(), 15U);
  EXPECT_DOUBLE_EQ(h.mean(), 10.0);

  h.record(1'000'000, 4);  // a count of 4 weighs like four records
  EXPECT_EQ(h.count(), 7U);
  EXPECT_EQ(h.max(), 1'000'000U);
  EXPECT_DOUBLE_EQ(h.mean(), (30.0 + 4'000'000.0) / 7.0);

  Histogram clamped(3);
  clamped.record(Histogram::kMaxValue * 2);
  EXPECT_EQ(clamped.count(), 1U);
  EXPECT_EQ(clamped.max(), Histogram::kMaxValue);
}

TEST(Histogram, IndexAndBucketRangeRoundTrip) {
  Histogram h(3);
  std::vector<uint64_t> values = log_uniform(11, 50000);
  for (int bit = 0; bit < 42; ++bit) {
    const uint64_t p = uint64_t{1} << bit;
    for (uint64_t v : {p - 1, p, p + 1}) {
      if (v <= Histogram::kMaxValue) values.push_back(v);
    }
  }
  values.push_back(Histogram::kMaxValue);
  for (uint64_t v : values) {
    const size_t i = h.index_of(v);
    const auto [lo, hi] = h.bucket_range(i);
    ASSERT_LE(lo, v) << v;
    ASSERT_GE(hi, v) << v;
    EXPECT_EQ(h.index_of(lo), i);
    EXPECT_EQ(h.index_of(hi), i);
    // The bucket is narrow enough for the promised relative error.
    EXPECT_LE(static_cast<double>(hi - lo + 1),
              std::max(1.0, static_cast<double>(lo) * h.relative_error()));
  }
  // Buckets tile the value range without gaps or overlaps.
  const size_t top = h.index_of(Histogram::kMaxValue);
  for (size_t i = 0; i < top; ++i) {
    ASSERT_EQ(h.bucket_range(i + 1).first, h.bucket_range(i).second + 1) << "bucket " << i;
  }
}

TEST(Histogram, RebuildsFromBuckets) {
  const auto values = log_uniform(5, 5000);
  Histogram h(3);
  for (uint64_t v : values) h.record(v);
  Histogram rebuilt(3);
  for (const auto& b : h.buckets()) rebuilt.add_bucket(b.lo, b.count);
  rebuilt.restore_extremes(h.min(), h.max(), h.sum());
  EXPECT_EQ(rebuilt.count(), h.count());
  EXPECT_EQ(rebuilt.min(), h.min());
  EXPECT_EQ(rebuilt.max(), h.max());
  EXPECT_DOUBLE_EQ(rebuilt.mean(), h.mean());
  for (double q : kQuantiles) EXPECT_EQ(rebuilt.quantile(q), h.quantile(q)) << "q = " << q;
}

}  // namespace
}  // namespace ipcperf
