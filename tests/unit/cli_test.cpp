// Option parsing: accepted spellings and the one-line errors for bad values.
#include "cli.hpp"

#include <gtest/gtest.h>

#include "plan.hpp"
#include "support/error_text.hpp"

namespace ipcperf {
namespace {

template <class F>
std::string usage_error(F&& f) {
  return testing_support::error_text<UsageError>(f);
}

TEST(Cli, Sizes) {
  EXPECT_EQ(parse_size("64", "--sizes"), 64U);
  EXPECT_EQ(parse_size("4K", "--sizes"), 4096U);
  EXPECT_EQ(parse_size("4k", "--sizes"), 4096U);
  EXPECT_EQ(parse_size("1M", "--sizes"), 1048576U);
  EXPECT_NE(usage_error([] { parse_size("12x", "--sizes"); }).find("'12x'"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_size("", "--sizes"); }), "");
  EXPECT_NE(usage_error([] { parse_size("-5", "--sizes"); }), "");
}

TEST(Cli, Counts) {
  EXPECT_EQ(parse_count("100", "--messages"), 100U);
  EXPECT_EQ(parse_count("100k", "--messages"), 100000U);
  EXPECT_EQ(parse_count("2M", "--messages"), 2000000U);
  EXPECT_NE(usage_error([] { parse_count("1.5", "--messages"); }).find("--messages"),
            std::string::npos);
}

TEST(Cli, Durations) {
  EXPECT_EQ(parse_duration_ns("2", "--duration"), 2'000'000'000);
  EXPECT_EQ(parse_duration_ns("0.5s", "--duration"), 500'000'000);
  EXPECT_EQ(parse_duration_ns("200ms", "--duration"), 200'000'000);
  EXPECT_EQ(parse_duration_ns("20us", "--duration"), 20'000);
  EXPECT_NE(usage_error([] { parse_duration_ns("soon", "--duration"); }).find("'soon'"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_duration_ns("-1", "--duration"); }), "");
}

TEST(Cli, Lists) {
  EXPECT_EQ(split_list("a,b , c", "--x"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NE(usage_error([] { split_list("a,,b", "--x"); }).find("empty item"), std::string::npos);
  EXPECT_NE(usage_error([] { split_list("", "--x"); }), "");
}

TEST(Cli, Cpus) {
  EXPECT_FALSE(parse_cpus("none").pinned);
  const auto allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  const auto p = parse_cpus(std::to_string(allowed[0]) + "," + std::to_string(allowed[0]));
  EXPECT_TRUE(p.same_core());
  EXPECT_NE(usage_error([] { parse_cpus("0,4000"); }).find("4000"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_cpus("0"); }), "");
  EXPECT_NE(usage_error([] { parse_cpus("a,b"); }), "");
}

RunOptions small_options() {
  RunOptions o;
  o.backends = {"shm-spsc", "pipe"};
  o.backends_explicit = true;
  o.workloads = {Workload::kPingpong, Workload::kStream};
  o.sizes = {64, 4096};
  o.reps = 3;
  o.duration_ns = 1'000'000;
  o.cpus = default_cpus();
  o.seed = 1;
  return o;
}

TEST(Plan, NamesRowsAndInterleavesRepetitions) {
  const Plan p = build_plan(small_options());
  std::vector<std::string> names;
  for (const auto& c : p.cases) names.push_back(c.spec.name);
  for (const char* want :
       {"pingpong/shm-spsc/size:64", "stream/pipe/size:4096", "floor/memcpy/size:64"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  size_t runnable = 0;
  for (const auto& c : p.cases) runnable += c.skip_reason.empty() ? 1 : 0;
  EXPECT_EQ(p.order.size(), runnable * 3);
  // The same seed gives the same order; another seed another one.
  EXPECT_EQ(build_plan(small_options()).order, p.order);
  auto o = small_options();
  o.seed = 2;
  EXPECT_NE(build_plan(o).order, p.order);
}

TEST(Plan, RepetitionsRunInRoundsOfEveryCase) {
  const Plan p = build_plan(small_options());
  std::vector<int> runnable;
  for (int i = 0; i < static_cast<int>(p.cases.size()); ++i) {
    if (p.cases[static_cast<size_t>(i)].skip_reason.empty()) runnable.push_back(i);
  }
  ASSERT_EQ(p.order.size(), runnable.size() * 3);
  // Round r is one block holding repetition r of every case once, so repetition r of two cases
  // ran in the same stretch of time (what the reference speedup pairs).
  std::vector<std::vector<int>> rounds(3);
  for (size_t k = 0; k < p.order.size(); ++k) {
    const auto [ci, rep] = p.order[k];
    EXPECT_EQ(static_cast<size_t>(rep), k / runnable.size()) << "position " << k;
    rounds[static_cast<size_t>(rep)].push_back(ci);
  }
  for (auto& round : rounds) {
    std::vector<int> first = round;
    std::sort(round.begin(), round.end());
    EXPECT_EQ(round, runnable);
    round = first;
  }
  // Each round is shuffled on its own.
  EXPECT_TRUE(rounds[0] != rounds[1] || rounds[1] != rounds[2]);
}

TEST(Plan, BadInputIsRefusedWithTheValue) {
  auto o = small_options();
  o.backends = {"carrier-pigeon"};
  EXPECT_NE(usage_error([&] { build_plan(o); }).find("carrier-pigeon"), std::string::npos);
  o = small_options();
  o.sizes = {8};
  EXPECT_NE(usage_error([&] { build_plan(o); }).find("8 bytes"), std::string::npos);
  o = small_options();
  o.reps = 0;
  EXPECT_NE(usage_error([&] { build_plan(o); }).find("--reps"), std::string::npos);
  o = small_options();
  o.sizes = {64 * 1024 * 1024};
  const std::string e = usage_error([&] { build_plan(o); });
  EXPECT_NE(e.find("shm-spsc"), std::string::npos) << e;
  EXPECT_NE(e.find("67108864"), std::string::npos) << e;
  o = small_options();
  o.wait = Wait::kYield;  // pipe cannot yield
  EXPECT_NE(usage_error([&] { build_plan(o); }).find("pipe"), std::string::npos);
}

TEST(Plan, TheReferenceMustBeABackendOfTheRun) {
  auto o = small_options();
  o.reference = "carrier-pigeon";
  std::string e = usage_error([&] { build_plan(o); });
  EXPECT_NE(e.find("--reference: unknown backend 'carrier-pigeon'"), std::string::npos) << e;
  o.reference = "tcp";  // registered, but not among --backends shm-spsc,pipe
  e = usage_error([&] { build_plan(o); });
  EXPECT_NE(e.find("--reference: 'tcp' is not one of this run's backends (shm-spsc,pipe)"),
            std::string::npos)
      << e;
  o.reference = "pipe";
  EXPECT_NO_THROW(build_plan(o));
}

TEST(Plan, TooLargeSizeIsSkippedWhenTheBackendWasNotNamed) {
  auto o = small_options();
  o.backends_explicit = false;  // as with 'all' or a suite
  o.sizes = {64, 1024 * 1024};
  const Plan p = build_plan(o);
  bool skipped = false;
  for (const auto& c : p.cases) {
    if (c.spec.name == "pingpong/shm-spsc/size:1048576") skipped = !c.skip_reason.empty();
  }
  EXPECT_TRUE(skipped);
}

TEST(Plan, SpinningOnOneCoreFallsBackToYieldWithAWarning) {
  auto o = small_options();
  const int cpu = allowed_cpus().front();
  o.cpus = parse_cpus(std::to_string(cpu) + "," + std::to_string(cpu));
  const Plan p = build_plan(o);
  ASSERT_FALSE(p.warnings.empty());
  for (const auto& c : p.cases) {
    if (c.spec.backend == "shm-spsc") {
      EXPECT_EQ(c.options.wait, Wait::kYield) << c.spec.name;
    }
    if (c.spec.name == "floor/cacheline") {
      EXPECT_FALSE(c.skip_reason.empty());
    }
  }
}

}  // namespace
}  // namespace ipcperf
