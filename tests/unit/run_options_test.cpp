// resolve_run_options: the suite's defaults, what the command line overrides, "all", the
// backends' own options, and one clear UsageError for each bad value.
#include "run_options.hpp"

#include <gtest/gtest.h>

#include "registry.hpp"

namespace ipcperf {
namespace {

RunArgs args(std::initializer_list<std::pair<const char*, std::string>> given) {
  RunArgs a;
  for (const auto& [opt, value] : given) {
    a.given.insert(opt);
    const std::string_view o = opt;
    if (o == "--backends") a.backends = value;
    if (o == "--workloads") a.workloads = value;
    if (o == "--sizes") a.sizes = value;
    if (o == "--messages") a.messages = value;
    if (o == "--duration") a.duration = value;
    if (o == "--sample-every") a.sample_every = value;
    if (o == "--capacity") a.capacity = value;
    if (o == "--wait") a.wait = value;
    if (o == "--seed") a.seed = value;
    if (o == "--suite") a.suite = value;
    if (o == "--rate") a.rate = value;
    if (o == "--reps") a.reps = std::stoi(value);
    if (o == "--warmup") a.warmup = value;
    if (o == "--timeout") a.timeout = std::stod(value);
    if (o.substr(0, 2) == "--" && o.find("nodelay") != std::string_view::npos)
      a.backend_params[std::string(o.substr(2))] = value;
  }
  return a;
}

std::string usage_error(const RunArgs& a) {
  try {
    resolve_run_options(a, {"ipcperf", "run"});
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(RunOptions, TheQuickSuiteIsTheDefault) {
  const RunOptions o = resolve_run_options(args({}), {"ipcperf", "run"});
  EXPECT_EQ(o.suite, "quick");
  EXPECT_EQ(o.backends, (std::vector<std::string>{"shm-spsc", "shm-mutex", "pipe", "uds-stream",
                                                  "thread-spsc"}));
  EXPECT_FALSE(o.backends_explicit);
  EXPECT_EQ(o.workloads, (std::vector<Workload>{Workload::kPingpong, Workload::kStream}));
  EXPECT_EQ(o.sizes, (std::vector<size_t>{64, 4096, 65536}));
  EXPECT_EQ(o.reps, 6);
  EXPECT_EQ(o.duration_ns, 200'000'000);
  EXPECT_EQ(o.messages, 0U);
  EXPECT_TRUE(o.sample_auto);
  EXPECT_TRUE(o.backend_params.empty());
  EXPECT_EQ(o.command_line, (std::vector<std::string>{"ipcperf", "run"}));
}

TEST(RunOptions, GivenOptionsOverrideTheSuite) {
  const RunOptions o = resolve_run_options(args({{"--suite", "ci"},
                                                 {"--backends", "pipe,tcp"},
                                                 {"--workloads", "paced"},
                                                 {"--sizes", "64,4K"},
                                                 {"--messages", "10k"},
                                                 {"--sample-every", "8,0"},
                                                 {"--capacity", "64K"},
                                                 {"--wait", "spin"},
                                                 {"--seed", "42"},
                                                 {"--rate", "1k,2M"},
                                                 {"--reps", "7"}}),
                                           {});
  EXPECT_EQ(o.suite, "ci");
  EXPECT_EQ(o.backends, (std::vector<std::string>{"pipe", "tcp"}));
  EXPECT_TRUE(o.backends_explicit);
  EXPECT_EQ(o.workloads, (std::vector<Workload>{Workload::kPaced}));
  EXPECT_EQ(o.sizes, (std::vector<size_t>{64, 4096}));
  EXPECT_EQ(o.messages, 10000U);
  EXPECT_EQ(o.sample_everys, (std::vector<uint32_t>{8, 0}));
  EXPECT_EQ(o.sample_every, 8U);
  EXPECT_FALSE(o.sample_auto);
  EXPECT_EQ(o.capacity, 65536U);
  ASSERT_TRUE(o.wait.has_value());
  EXPECT_EQ(*o.wait, Wait::kSpin);
  EXPECT_EQ(o.seed, 42U);
  EXPECT_EQ(o.rates, (std::vector<uint64_t>{1000, 2000000}));
  EXPECT_EQ(o.reps, 7);
  EXPECT_EQ(o.warmup, 5000U);  // still the ci suite's
}

TEST(RunOptions, AllIsEveryRegisteredBackendAndNotExplicit) {
  const RunOptions o = resolve_run_options(args({{"--backends", "all"}}), {});
  EXPECT_EQ(o.backends, backend_names());
  EXPECT_FALSE(o.backends_explicit);
}

TEST(RunOptions, BackendOptionsAreNormalisedAndOnlyKeptWhenGiven) {
  RunArgs a = args({{"--tcp-nodelay", "off"}});
  EXPECT_EQ(resolve_run_options(a, {}).backend_params.at("tcp-nodelay"), "0");
  a = args({{"--tcp-nodelay", "true"}});
  EXPECT_EQ(resolve_run_options(a, {}).backend_params.at("tcp-nodelay"), "1");
  a = RunArgs{};
  a.backend_params["tcp-nodelay"] = "0";  // CLI11 default-constructs it; not on the line
  EXPECT_TRUE(resolve_run_options(a, {}).backend_params.empty());
}

TEST(RunOptions, BadValuesAreOneClearLine) {
  EXPECT_EQ(usage_error(args({{"--tcp-nodelay", "maybe"}})),
            "--tcp-nodelay: 'maybe' is not allowed: 1 (default) or 0");
  EXPECT_NE(usage_error(args({{"--suite", "huge"}}))
                .find("unknown suite 'huge' (known: quick, ci, "
                      "paper)"),
            std::string::npos);
  EXPECT_NE(usage_error(args({{"--workloads", "farm9"}})).find("unknown workload 'farm9'"),
            std::string::npos);
  EXPECT_NE(usage_error(args({{"--sizes", "0"}})).find("at least 16 bytes"), std::string::npos);
  EXPECT_NE(usage_error(args({{"--messages", "0"}})).find("--messages: 0"), std::string::npos);
  EXPECT_NE(usage_error(args({{"--duration", "0s"}})).find("--duration"), std::string::npos);
  EXPECT_NE(usage_error(args({{"--capacity", "0"}})).find("--capacity: 0"), std::string::npos);
  EXPECT_NE(usage_error(args({{"--wait", "nap"}})).find("'nap'"), std::string::npos);
  EXPECT_NE(usage_error(args({{"--rate", "0"}})).find("between 1 and 100M"), std::string::npos);
  EXPECT_NE(usage_error(args({{"--rate", "200M"}})).find("between 1 and 100M"), std::string::npos);
}

// Numbers out of range: one line with the limit, never a silent wrap (4294967296 once became 0)
// or an overflowing deadline.
TEST(RunOptions, NumbersOutOfRangeSayTheLimit) {
  struct Bad {
    const char* option;
    std::string value, says;
  };
  const std::vector<Bad> bad = {
      {"--sample-every", "4294967296", "--sample-every: '4294967296' is out of range"},
      {"--sample-every", "4294967360", "up to 1048576"},
      {"--reps", "2000000000", "--reps: 2000000000 is out of range: 1 to 100000"},
      {"--reps", "0", "--reps: 0 is out of range"},
      {"--timeout", "inf", "--timeout: inf is out of range"},
      {"--timeout", "1e10", "at most 86400"},
      {"--timeout", "nan", "--timeout"},
      {"--warmup", "2000M", "--warmup: 2000000000 is out of range: 0 to 1000000000"},
  };
  for (const auto& b : bad) {
    const std::string e = usage_error(args({{b.option, b.value}}));
    EXPECT_NE(e.find(b.says), std::string::npos) << b.option << " " << b.value << ": " << e;
  }
  EXPECT_EQ(usage_error(args({{"--sample-every", "1048576"},
                              {"--reps", "100000"},
                              {"--timeout", "86400"},
                              {"--warmup", "1000M"}})),
            "")
      << "the limits themselves are allowed";
}

}  // namespace
}  // namespace ipcperf
