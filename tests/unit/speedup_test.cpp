// The reference speedup: per-round paired ratios, their median and its order-statistic 95 % CI
// on samples with known answers (stats/speedup.hpp), and the matching of each case with the
// reference backend's (runner.hpp: add_speedups).
#include "stats/speedup.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "runner.hpp"
#include "stats/summary.hpp"

namespace ipcperf {
namespace {

// Repetitions 0..n-1 with these values.
std::vector<RepValue> reps_of(const std::vector<double>& values) {
  std::vector<RepValue> v;
  for (size_t i = 0; i < values.size(); ++i) v.push_back({static_cast<int>(i), values[i]});
  return v;
}

TEST(PairedSpeedup, ATimeIsDividedIntoTheReferenceAndARateByIt) {
  // A round trip of 100 ns against the reference's 250 ns: 2.5 times faster.
  const auto lat = paired_speedup(reps_of({100, 100, 100, 100, 100, 100}),
                                  reps_of({250, 250, 250, 250, 250, 250}), Better::kLower);
  EXPECT_DOUBLE_EQ(lat.median, 2.5);
  EXPECT_EQ(lat.n, 6);
  // 300 msg/s against the reference's 100 msg/s: 3 times faster; the other way round, slower.
  const auto rate =
      paired_speedup(reps_of({300, 300, 300}), reps_of({100, 100, 100}), Better::kHigher);
  EXPECT_DOUBLE_EQ(rate.median, 3.0);
  const auto slower =
      paired_speedup(reps_of({300, 300, 300}), reps_of({100, 100, 100}), Better::kLower);
  EXPECT_DOUBLE_EQ(slower.median, 1.0 / 3.0);
}

TEST(PairedSpeedup, MedianAndIntervalAreTheRatiosOrderStatistics) {
  // The reference takes 600 each round; x's times make the round ratios 3, 1, 6, 2, 5, 4.
  const std::vector<double> ratios = {3, 1, 6, 2, 5, 4};
  std::vector<double> x;
  for (double r : ratios) x.push_back(600 / r);
  const auto s = paired_speedup(reps_of(x), reps_of(std::vector<double>(6, 600)), Better::kLower);
  ASSERT_EQ(s.n, 6);
  // Even n: the two middle ratios (3 and 4) averaged geometrically.
  EXPECT_DOUBLE_EQ(s.median, std::sqrt(12.0));
  // n = 6: the interval is min..max, covering 1 - 2/2^6.
  ASSERT_TRUE(s.has_ci());
  EXPECT_DOUBLE_EQ(s.ci_low, 1);
  EXPECT_DOUBLE_EQ(s.ci_high, 6);
  EXPECT_DOUBLE_EQ(s.ci_level, 1 - 2.0 / 64);
  // The ratio of each round, in x's order.
  ASSERT_EQ(s.per_rep.size(), 6U);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(s.per_rep[i].first, static_cast<int>(i));
    EXPECT_DOUBLE_EQ(s.per_rep[i].second, ratios[i]);
  }

  // n = 10 (ratios 1..10 as rates): x(2)..x(9), the same ranks compute_stat uses.
  std::vector<double> xr, ref;
  for (int i = 10; i >= 1; --i) {
    xr.push_back(7.0 * i);
    ref.push_back(7.0);
  }
  const auto t = paired_speedup(reps_of(xr), reps_of(ref), Better::kHigher);
  const auto ranks = median_ci_ranks(10);
  ASSERT_TRUE(ranks.has_value());
  EXPECT_EQ(ranks->rank_low, 2);
  EXPECT_DOUBLE_EQ(t.median, std::sqrt(30.0));
  EXPECT_DOUBLE_EQ(t.ci_low, 2);
  EXPECT_DOUBLE_EQ(t.ci_high, 9);
  EXPECT_DOUBLE_EQ(t.ci_level, ranks->coverage);
}

TEST(PairedSpeedup, PairsAreFormedByRoundNotBySortedOrder) {
  // Round 0: x 10, ref 20 (ratio 2); round 1: x 40, ref 20 (0.5). Listed in another order, the
  // pairs are still by round: median 1. The ratio of medians (20 / 25) would say 0.8.
  const std::vector<RepValue> x = {{0, 10}, {1, 40}};
  const std::vector<RepValue> ref = {{1, 20}, {0, 20}};
  const auto s = paired_speedup(x, ref, Better::kLower);
  EXPECT_EQ(s.n, 2);
  EXPECT_DOUBLE_EQ(s.median, 1.0);
  EXPECT_FALSE(s.has_ci());
}

TEST(PairedSpeedup, UnequalCountsArePairedByTheRoundsBothHave) {
  // x passed rounds 0..6; the reference failed rounds 2 and 5 and has a round 7 x lacks.
  const std::vector<RepValue> x = {{0, 10}, {1, 10}, {2, 1}, {3, 10}, {4, 10}, {5, 1}, {6, 10}};
  const std::vector<RepValue> ref = {{0, 20}, {1, 30}, {3, 40}, {4, 50}, {6, 60}, {7, 1000}};
  const auto s = paired_speedup(x, ref, Better::kLower);
  ASSERT_EQ(s.n, 5);
  std::vector<int> rounds;
  for (const auto& [index, ratio] : s.per_rep) rounds.push_back(index);
  EXPECT_EQ(rounds, (std::vector<int>{0, 1, 3, 4, 6}));
  EXPECT_DOUBLE_EQ(s.median, 4.0);  // ratios 2, 3, 4, 5, 6
  EXPECT_FALSE(s.has_ci()) << "5 pairs are too few for a 95% interval";
  EXPECT_EQ(s.ci_low, 0);
  EXPECT_EQ(s.ci_high, 0);
}

TEST(PairedSpeedup, TooFewPairsGiveAMedianButNoInterval) {
  for (int n = 1; n < kMinRepsForMedianCi; ++n) {
    const auto s =
        paired_speedup(reps_of(std::vector<double>(static_cast<size_t>(n), 50)),
                       reps_of(std::vector<double>(static_cast<size_t>(n), 100)), Better::kLower);
    EXPECT_EQ(s.n, n);
    EXPECT_DOUBLE_EQ(s.median, 2.0);
    EXPECT_FALSE(s.has_ci()) << n;
  }
  const auto six = paired_speedup(reps_of(std::vector<double>(6, 50)),
                                  reps_of(std::vector<double>(6, 100)), Better::kLower);
  EXPECT_TRUE(six.has_ci());
}

TEST(PairedSpeedup, TheOtherWayRoundIsExactlyTheInverse) {
  const auto a = reps_of({110, 95, 130, 101, 87, 120, 99, 105});
  const auto b = reps_of({240, 260, 199, 251, 270, 230, 222, 245});
  const auto ab = paired_speedup(a, b, Better::kLower);
  const auto ba = paired_speedup(b, a, Better::kLower);
  EXPECT_NEAR(ab.median * ba.median, 1.0, 1e-12);
  EXPECT_NEAR(ab.ci_low * ba.ci_high, 1.0, 1e-12);
  EXPECT_NEAR(ab.ci_high * ba.ci_low, 1.0, 1e-12);
  // A time and its rate (1e9 / time) give the same speedup.
  std::vector<RepValue> ra = a, rb = b;
  for (auto& v : ra) v.value = 1e9 / v.value;
  for (auto& v : rb) v.value = 1e9 / v.value;
  EXPECT_NEAR(paired_speedup(ra, rb, Better::kHigher).median / ab.median, 1.0, 1e-12);
}

TEST(PairedSpeedup, FiguresNotMeasuredPairWithNothing) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto s = paired_speedup(reps_of({nan, 10, 0}), reps_of({20, 20, 20}), Better::kLower);
  EXPECT_EQ(s.n, 1);
  EXPECT_DOUBLE_EQ(s.median, 2.0);
  const auto none = paired_speedup(reps_of({10, 10}), {}, Better::kLower);
  EXPECT_FALSE(none.measured());
  EXPECT_NE(none.missing.find("no round"), std::string::npos) << none.missing;
}

// ---------------------------------------------------------------------------------------------
// add_speedups: which cases are compared with which

RepSample rep(int index, double real_ns, std::vector<uint64_t> latencies = {}) {
  RepSample s;
  s.rep_index = index;
  s.ok = true;
  s.real_ns = real_ns;
  s.items_per_second = 1e9 / real_ns;
  for (uint64_t v : latencies) s.latency.record(v);
  return s;
}

CaseResult make_case(const std::string& kind, const std::string& backend, size_t size,
                     std::vector<double> real_ns, std::string variant = "",
                     std::string wait = "spin") {
  CaseResult c;
  c.spec.kind = kind;
  c.spec.backend = backend;
  c.spec.family = "kernel";
  c.spec.size = size;
  c.spec.variant = std::move(variant);
  c.spec.wait = std::move(wait);
  c.spec.name = fmt::format("{}/{}{}/size:{}", kind, backend,
                            c.spec.variant.empty() ? "" : "/" + c.spec.variant, size);
  for (size_t i = 0; i < real_ns.size(); ++i)
    c.reps.push_back(rep(static_cast<int>(i), real_ns[i]));
  summarize(c);
  return c;
}

const CaseResult& named(const RunResult& r, const std::string& name) {
  for (const auto& c : r.cases) {
    if (c.spec.name == name) return c;
  }
  ADD_FAILURE() << "no case " << name;
  return r.cases.front();
}

TEST(AddSpeedups, EachCaseMeetsTheReferenceCaseOfItsWorkloadVariantAndSize) {
  RunResult r;
  CaseResult floor = make_case("floor-cacheline", "", 0, {50, 50, 50});
  floor.spec.name = "floor/cacheline";
  floor.spec.family = "floor";
  r.cases.push_back(floor);
  r.cases.push_back(make_case("pingpong", "pipe", 64, {1000, 1000, 1000}));
  r.cases.push_back(make_case("pingpong", "pipe", 4096, {4000, 4000, 4000}));
  r.cases.push_back(make_case("stream", "pipe", 64, {100, 100, 100}));
  r.cases.push_back(make_case("pingpong", "shm-spsc", 64, {100, 100, 100}));
  r.cases.push_back(make_case("pingpong", "shm-spsc", 4096, {400, 800, 400}));
  r.cases.push_back(make_case("stream", "shm-spsc", 64, {25, 25, 25}));
  r.cases.push_back(make_case("stream", "shm-spsc", 1024, {50, 50, 50}));  // pipe has no 1024
  add_speedups(r, "pipe", false);

  EXPECT_EQ(r.reference, "pipe");
  EXPECT_FALSE(named(r, "floor/cacheline").speedup.has_value());
  EXPECT_FALSE(named(r, "pingpong/pipe/size:64").speedup.has_value()) << "the reference itself";
  const auto& pp = *named(r, "pingpong/shm-spsc/size:64").speedup;
  EXPECT_EQ(pp.reference_case, "pingpong/pipe/size:64");
  EXPECT_DOUBLE_EQ(pp.median, 10.0);  // 1000 / 100: a round trip, ref / x
  EXPECT_EQ(pp.basis, "pipe's round trip / this case's");
  EXPECT_EQ(pp.n, 3);
  EXPECT_EQ(pp.rounds, 3);
  EXPECT_DOUBLE_EQ(named(r, "pingpong/shm-spsc/size:4096").speedup->median, 10.0);  // 10, 5, 10
  const auto& st = *named(r, "stream/shm-spsc/size:64").speedup;
  EXPECT_DOUBLE_EQ(st.median, 4.0);  // 40 M/s over 10 M/s: a rate, x / ref
  EXPECT_EQ(st.basis, "this case's msg/s / pipe's");
  const auto& missing = *named(r, "stream/shm-spsc/size:1024").speedup;
  EXPECT_FALSE(missing.measured());
  EXPECT_NE(missing.missing.find("pipe has no case"), std::string::npos) << missing.missing;
}

TEST(AddSpeedups, AFailedOrSkippedReferenceCaseGivesNoNumberAndSaysSo) {
  RunResult r;
  CaseResult failed = make_case("pingpong", "pipe", 64, {1000, 1000});
  for (auto& s : failed.reps) {
    s.ok = false;
    s.error = "peer gone";
  }
  summarize(failed);
  CaseResult skipped = make_case("pingpong", "pipe", 1 << 20, {});
  skipped.status = CaseStatus::kSkipped;
  skipped.message = "too large";
  r.cases = {failed, skipped, make_case("pingpong", "shm-spsc", 64, {100, 100}),
             make_case("pingpong", "shm-spsc", 1 << 20, {9000, 9000})};
  add_speedups(r, "pipe", false);
  const auto& f = *named(r, "pingpong/shm-spsc/size:64").speedup;
  EXPECT_FALSE(f.measured());
  EXPECT_NE(f.missing.find("pingpong/pipe/size:64 failed"), std::string::npos) << f.missing;
  const auto& s = *named(r, "pingpong/shm-spsc/size:1048576").speedup;
  EXPECT_FALSE(s.measured());
  EXPECT_NE(s.missing.find("was skipped"), std::string::npos) << s.missing;
}

TEST(AddSpeedups, APartlyFailedCaseIsPairedOverTheRoundsThatPassedInBoth) {
  RunResult r;
  CaseResult ref = make_case("pingpong", "pipe", 64, {1000, 2000, 3000, 4000});
  ref.reps[1].ok = false;
  summarize(ref);
  r.cases = {ref, make_case("pingpong", "shm-spsc", 64, {100, 100, 100, 100})};
  add_speedups(r, "pipe", false);
  const auto& s = *r.cases[1].speedup;
  EXPECT_EQ(s.n, 3);
  EXPECT_EQ(s.rounds, 4);
  EXPECT_DOUBLE_EQ(s.median, 30.0);  // 10, 30, 40
}

TEST(AddSpeedups, VariantsAndAGivenWaitAreMatched) {
  RunResult r;
  r.cases = {make_case("paced", "pipe", 64, {5000}, "rate:1000", "block"),
             make_case("paced", "pipe", 64, {9000}, "rate:2000", "block"),
             make_case("paced", "shm-spsc", 64, {300}, "rate:2000", "spin")};
  // Paced compares each repetition's one-way p50, not its mean (real_time).
  r.cases[1].reps[0].latency = Histogram(3);
  r.cases[2].reps[0].latency = Histogram(3);
  for (int i = 0; i < 100; ++i) {
    r.cases[1].reps[0].latency.record(1000);
    r.cases[2].reps[0].latency.record(100);
  }
  add_speedups(r, "pipe", false);  // each backend's own wait: compared
  const auto& s = *r.cases[2].speedup;
  EXPECT_EQ(s.reference_case, "paced/pipe/rate:2000/size:64");
  EXPECT_NEAR(s.median, 10.0, 10.0 * 1e-3);  // p50s 1000 / 100 within the histogram's 0.1 %
  EXPECT_EQ(s.basis, "pipe's one-way latency p50 / this case's");
  add_speedups(r, "pipe", true);  // --wait given: the waits must agree
  EXPECT_FALSE(r.cases[2].speedup->measured());
}

}  // namespace
}  // namespace ipcperf
