// The environment on a fake /proc and /sys: every field read from where it lives, "unknown"
// for whatever is missing (nothing guessed), the CPU-pair suggestion, and the warnings, each of
// which carries what to do.
#include "environment.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace ipcperf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Env : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("ipcperf-env-test-{}-{}", ::getpid(), n_++);
    fs::create_directories(root_ / "proc");
    fs::create_directories(root_ / "sys");
    src_.proc = (root_ / "proc").string();
    src_.sys = (root_ / "sys").string();
    src_.allowed_cpus = std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7};
  }
  void TearDown() override { fs::remove_all(root_); }

  void put(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  // 8 CPUs: NUMA node 0 = 0-3, node 1 = 4-7; SMT pairs {0,1} {2,3} {4,5} {6,7}; an Intel CPU
  // in a QEMU guest with powersave, turbo on, 6-7 isolated, a high load.
  void fake_machine() {
    put("proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\n"
        "model name\t: Intel(R) Xeon(R) Test CPU @ 2.10GHz\nmicrocode\t: 0x5003604\n"
        "cpu MHz\t\t: 2100.000\nflags\t\t: fpu vme tsc hypervisor avx2\n\n"
        "processor\t: 1\nvendor_id\t: GenuineIntel\n");
    put("proc/cmdline",
        "BOOT_IMAGE=/vmlinuz root=UUID=1234 ro isolcpus=managed_irq,6-7 nohz_full=6-7 "
        "rcu_nocbs=6-7 quiet -- init_secret=1\n");
    put("proc/loadavg", "9.50 3.00 1.00 2/300 1234\n");
    const std::string cpu = "sys/devices/system/cpu/";
    put(cpu + "online", "0-7\n");
    put(cpu + "isolated", "6-7\n");
    put(cpu + "nohz_full", "6-7\n");
    put(cpu + "smt/control", "on\n");
    put(cpu + "intel_pstate/no_turbo", "0\n");
    put(cpu + "cpuidle/current_driver", "intel_idle\n");
    put(cpu + "cpuidle/current_governor_ro", "menu\n");
    for (int i = 0; i < 8; ++i) {
      const std::string c = fmt::format("{}cpu{}/", cpu, i);
      put(c + "topology/thread_siblings_list", fmt::format("{}-{}\n", i & ~1, i | 1));
      put(c + "topology/core_id", fmt::format("{}\n", i / 2));
      put(c + "topology/physical_package_id", fmt::format("{}\n", i / 4));
      put(c + "cpufreq/scaling_governor", "powersave\n");
      put(c + "cpufreq/scaling_driver", "intel_pstate\n");
    }
    put("sys/devices/system/node/online", "0-1\n");
    put("sys/devices/system/node/node0/cpulist", "0-3\n");
    put("sys/devices/system/node/node1/cpulist", "4-7\n");
    put("sys/class/dmi/id/sys_vendor", "QEMU\n");
    put("sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n");
  }

  static Placement pin(int a, int b) { return Placement{true, a, b}; }

  fs::path root_;
  EnvironmentSource src_;
  static inline int n_ = 0;
};

bool any_has(const std::vector<std::string>& ws, const std::string& needle) {
  for (const auto& w : ws) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(Env, FakeMachineFieldByField) {
  fake_machine();
  const json e = collect_environment(pin(0, 1), src_);
  EXPECT_EQ(e["cpu_model"], "Intel(R) Xeon(R) Test CPU @ 2.10GHz");
  EXPECT_EQ(e["cpu_vendor"], "GenuineIntel");
  EXPECT_EQ(e["cpu_microcode"], "0x5003604");
  EXPECT_EQ(e["online_cpus"], "0-7");
  EXPECT_EQ(e["num_cpus"], 8);
  EXPECT_EQ(e["allowed_cpus"], "0-7");
  EXPECT_EQ(e["mhz_per_cpu"], 2100);
  EXPECT_EQ(e["cpus_pinned"], "0,1");
  ASSERT_EQ(e["pinned_cpus"].size(), 2U);
  EXPECT_EQ(e["pinned_cpus"][1]["cpu"], 1);
  EXPECT_EQ(e["pinned_cpus"][1]["role"], "B");
  EXPECT_EQ(e["pinned_cpus"][1]["core_id"], 0);
  EXPECT_EQ(e["pinned_cpus"][1]["package_id"], 0);
  EXPECT_EQ(e["pinned_cpus"][1]["numa_node"], 0);
  EXPECT_EQ(e["pinned_cpus"][1]["thread_siblings"], "0-1");
  EXPECT_EQ(e["pinned_cpus"][1]["isolated"], false);
  EXPECT_EQ(e["smt_siblings"], true);
  EXPECT_EQ(e["smt"], "on");
  EXPECT_EQ(e["numa_nodes"], "0-1");
  EXPECT_EQ(e["suggested_cpus"], "0,2");  // another core of the same node
  EXPECT_EQ(e["governor"], "powersave");
  EXPECT_EQ(e["cpu_scaling_enabled"], true);
  EXPECT_EQ(e["cpufreq_driver"], "intel_pstate");
  EXPECT_EQ(e["boost"], "on");  // no_turbo = 0
  EXPECT_NE(e["boost_source"].get<std::string>().find("intel_pstate/no_turbo"), std::string::npos);
  EXPECT_EQ(e["cpuidle_driver"], "intel_idle");
  EXPECT_EQ(e["cpuidle_governor"], "menu");
  EXPECT_EQ(e["isolated_cpus"], "6-7");
  EXPECT_EQ(e["nohz_full_cpus"], "6-7");
  EXPECT_EQ(e["cmdline_isolcpus"], "managed_irq,6-7");
  EXPECT_EQ(e["cmdline_nohz_full"], "6-7");
  EXPECT_EQ(e["cmdline_rcu_nocbs"], "6-7");
  EXPECT_EQ(e["cmdline_irqaffinity"], "none");
  EXPECT_EQ(e["load_avg"], json({9.5, 3.0, 1.0}));
  EXPECT_EQ(e["hypervisor_flag"], true);
  EXPECT_EQ(e["dmi_sys_vendor"], "QEMU");
  EXPECT_NE(e["virtualization"].get<std::string>().find("QEMU"), std::string::npos);
  EXPECT_GT(e["timer_cost_ns"].get<double>(), 0);
  for (const char* key : {"kernel", "compiler", "compiler_flags", "build_type", "git_revision",
                          "library_build_type", "timer", "caches", "date", "host_name"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }
  // Only the named parameters of the kernel command line are kept, never the line itself.
  EXPECT_EQ(e.dump().find("UUID"), std::string::npos);
  EXPECT_EQ(e.dump().find("init_secret"), std::string::npos);

  // Isolated CPUs are recognised as such, also through isolcpus' flags.
  const json iso = collect_environment(pin(6, 7), src_);
  EXPECT_EQ(iso["pinned_cpus"][0]["isolated"], true);
  EXPECT_EQ(iso["pinned_cpus"][0]["nohz_full"], true);
  EXPECT_EQ(iso["suggested_cpus"], "6,4");  // 6's node is 4-7, 7 is its sibling
}

TEST_F(Env, MissingFilesAreUnknownNotGuessed) {
  const json e = collect_environment(pin(0, 1), src_);  // an empty /proc and /sys
  for (const char* key : {"cpu_model",
                          "cpu_vendor",
                          "cpu_microcode",
                          "online_cpus",
                          "smt",
                          "numa_nodes",
                          "suggested_cpus",
                          "governor",
                          "cpufreq_driver",
                          "boost",
                          "boost_source",
                          "cpuidle_driver",
                          "cpuidle_governor",
                          "isolated_cpus",
                          "nohz_full_cpus",
                          "cmdline_isolcpus",
                          "cmdline_nohz_full",
                          "cmdline_rcu_nocbs",
                          "load_avg",
                          "hypervisor_flag",
                          "dmi_sys_vendor",
                          "dmi_product_name",
                          "virtualization"}) {
    EXPECT_EQ(e[key], "unknown") << key;
  }
  for (const char* key : {"core_id", "package_id", "numa_node", "thread_siblings", "governor",
                          "isolated", "nohz_full"}) {
    EXPECT_EQ(e["pinned_cpus"][0][key], "unknown") << key;
  }
  EXPECT_EQ(e["smt_siblings"], false);
  EXPECT_EQ(e["cpu_scaling_enabled"], false);
  EXPECT_EQ(e["mhz_per_cpu"], 0);  // Google Benchmark's "not known"

  // Nothing unknown turns into a warning.
  RunOptions o;
  o.cpus = pin(0, 1);
  o.duration_ns = 60'000'000'000;
  o.reps = 10;
  o.backends = {"pipe"};
  o.workloads = {Workload::kPingpong};
  o.sizes = {64};
  const auto ws = environment_warnings(e, o);
  for (const auto& w : ws) {
    EXPECT_TRUE(w.starts_with("this is a debug build"))
        << "only a debug build of the test may warn: " << w;
  }
}

TEST_F(Env, EveryWarningSaysWhatToDo) {
  fake_machine();
  RunOptions o;
  o.cpus = pin(0, 1);
  o.backends = {"shm-spsc", "pipe"};
  o.workloads = {Workload::kPingpong, Workload::kStream};
  o.sizes = {64, 4096, 65536};
  o.reps = 5;
  o.duration_ns = 1'000'000'000;  // 2 x 2 x 3 x 5 x 1 s = 1 min
  json e = collect_environment(o.cpus, src_);
  e["library_build_type"] = "debug";
  const auto ws = environment_warnings(e, o);
  EXPECT_TRUE(any_has(ws, "cmake --preset release")) << "debug build";
  EXPECT_TRUE(any_has(ws, "SMT siblings")) << "siblings";
  EXPECT_TRUE(any_has(ws, "use --cpus 0,2")) << "which CPUs instead";
  EXPECT_TRUE(any_has(ws, "cpupower frequency-set -g performance")) << "governor";
  EXPECT_TRUE(any_has(ws, "scaling_governor")) << "governor, sysfs way";
  EXPECT_TRUE(any_has(ws, "echo 1 | sudo tee")) << "intel turbo off";
  EXPECT_TRUE(any_has(ws, "intel_pstate/no_turbo"));
  EXPECT_TRUE(any_has(ws, "virtual machine")) << "VM";
  EXPECT_TRUE(any_has(ws, "hypervisor's IPI path"));
  EXPECT_TRUE(any_has(ws, "load average 9.50")) << "load";
  EXPECT_TRUE(any_has(ws, "isolcpus=0,1 nohz_full=0,1 rcu_nocbs=0,1")) << "long run";
  for (const auto& w : ws) {
    // A fix is named: a command, an option, a file or an action.
    const bool fix = w.find("--cpus") != std::string::npos || w.find("sudo") != std::string::npos ||
                     w.find("docs/") != std::string::npos || w.find("cmake") != std::string::npos ||
                     w.find("stop it") != std::string::npos;
    EXPECT_TRUE(fix) << w;
  }

  // The generic boost switch is turned off with 0.
  put("sys/devices/system/cpu/cpufreq/boost", "1\n");
  const auto generic = environment_warnings(collect_environment(o.cpus, src_), o);
  EXPECT_TRUE(any_has(generic, "echo 0 | sudo tee")) << "generic boost";
  EXPECT_TRUE(any_has(generic, "cpufreq/boost"));

  // Different NUMA nodes: said, with a pair on one node.
  o.cpus = pin(0, 4);
  const auto numa = environment_warnings(collect_environment(o.cpus, src_), o);
  EXPECT_TRUE(any_has(numa, "NUMA nodes 0 and 1")) << fmt::format("{}", numa.size());
  EXPECT_TRUE(any_has(numa, "use --cpus 0,2 for one node"));
  EXPECT_FALSE(any_has(numa, "SMT siblings"));

  // A quiet machine: performance governor, turbo off, bare metal, isolated CPUs, low load.
  for (int i = 0; i < 8; ++i) {
    put(fmt::format("sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor", i), "performance\n");
  }
  put("sys/devices/system/cpu/cpufreq/boost", "0\n");
  put("proc/cpuinfo", "model name\t: Test\nflags\t\t: fpu tsc\n");
  put("proc/loadavg", "0.01 0.02 0.03 1/100 1\n");
  o.cpus = pin(6, 4);
  put("sys/devices/system/cpu/isolated", "4,6\n");
  put("sys/devices/system/node/node1/cpulist", "4-7\n");
  const json quiet = collect_environment(o.cpus, src_);
  const auto none = environment_warnings(quiet, o);
  for (const auto& w : none) EXPECT_TRUE(w.starts_with("this is a debug build")) << w;
}

TEST_F(Env, TextOutputHasEverySection) {
  fake_machine();
  const json e = collect_environment(pin(0, 1), src_);
  std::ostringstream os;
  write_environment(e, {"a warning; do this"}, os);
  const std::string text = os.str();
  for (const char* s : {"CPU\n",
                        "Placement (--cpus 0,1)",
                        "Frequency",
                        "Kernel",
                        "Virtualization",
                        "Build",
                        "Timer",
                        "microcode",
                        "0x5003604",
                        "CPU 1 (peer B)",
                        "NUMA node 0",
                        "suggested --cpus      0,2",
                        "powersave",
                        "intel_idle",
                        "6-7 (isolcpus: managed_irq,6-7)",
                        "9.50 3.00 1.00",
                        "QEMU",
                        "ns per read",
                        "  - a warning; do this",
                        "docs/reducing-variance.md"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  }
}

TEST(CpuList, ParseAndFormat) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list(""), std::vector<int>{});
  EXPECT_EQ(format_cpu_list({8, 0, 1, 2, 3, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({5}), "5");
  EXPECT_EQ(format_cpu_list({}), "");
}

TEST(EnvLive, ThisMachine) {
  const json e = collect_environment(default_cpus());
  for (const char* key :
       {"cpu_model", "cpu_microcode", "online_cpus", "pinned_cpus", "smt_siblings", "governor",
        "boost", "kernel", "virtualization", "cpuidle_driver", "isolated_cpus", "cmdline_isolcpus",
        "load_avg", "compiler", "build_type", "git_revision", "timer_cost_ns"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }
  EXPECT_GT(e["timer_cost_ns"].get<double>(), 0);
}

}  // namespace
}  // namespace ipcperf
