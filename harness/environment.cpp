#include "environment.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include "build_info.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf {

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// Parses a sysfs CPU list "0-3,8" into a set.
std::set<int> parse_cpu_list(const std::string& s) {
  std::set<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    auto dash = part.find('-');
    try {
      if (dash == std::string::npos) {
        out.insert(std::stoi(part));
      } else {
        for (int i = std::stoi(part.substr(0, dash)); i <= std::stoi(part.substr(dash + 1)); ++i)
          out.insert(i);
      }
    } catch (...) {
    }
  }
  return out;
}

std::string cpuinfo_field(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        return v;
      }
    }
  }
  return "";
}

std::string virtualization() {
  const std::string flags = cpuinfo_field("flags");
  if (flags.find(" hypervisor") == std::string::npos) return "none";
  std::string vendor = read_first_line("/sys/class/dmi/id/sys_vendor");
  std::string product = read_first_line("/sys/class/dmi/id/product_name");
  std::string s = "virtual machine (hypervisor flag set)";
  if (!vendor.empty() || !product.empty()) s += fmt::format("; DMI: {} {}", vendor, product);
  return s;
}

nlohmann::json caches() {
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) {
    const std::string base = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/", i);
    const std::string type = read_first_line(base + "type");
    if (type.empty()) break;
    std::string size = read_first_line(base + "size");
    long bytes = 0;
    try {
      bytes = std::stol(size);
      if (!size.empty() && size.back() == 'K') bytes *= 1024;
      if (!size.empty() && size.back() == 'M') bytes *= 1024 * 1024;
    } catch (...) {
    }
    const auto sharing = parse_cpu_list(read_first_line(base + "shared_cpu_list"));
    out.push_back({{"type", type == "Unified" ? "Unified" : type},
                   {"level", std::atoi(read_first_line(base + "level").c_str())},
                   {"size", bytes},
                   {"num_sharing", static_cast<int>(sharing.size())}});
  }
  return out;
}

std::string iso_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s = buf;
  if (s.size() > 5) s.insert(s.size() - 2, ":");  // +0000 -> +00:00, as Google Benchmark writes
  return s;
}

}  // namespace

bool smt_siblings(int a, int b) {
  if (a == b) return false;
  const auto sib = parse_cpu_list(read_first_line(
      fmt::format("/sys/devices/system/cpu/cpu{}/topology/thread_siblings_list", a)));
  return sib.count(b) != 0;
}

double measure_timer_cost_ns() {
  constexpr int kN = 200000;
  int64_t sink = 0;
  const int64_t t0 = now_ns();
  for (int i = 0; i < kN; ++i) sink += now_ns();
  const int64_t t1 = now_ns();
  asm volatile("" : : "r"(sink));
  return static_cast<double>(t1 - t0) / kN;
}

nlohmann::json collect_context(const RunOptions& opt) {
  nlohmann::json c;
  utsname u{};
  ::uname(&u);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  const std::string governor = read_first_line(fmt::format(
      "/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor", std::max(0, opt.cpus.cpu_a)));
  double mhz = 0;
  try {
    mhz = std::stod(cpuinfo_field("cpu MHz"));
  } catch (...) {
  }
  c["date"] = iso_date();
  c["host_name"] = host;
  c["executable"] = opt.command_line.empty() ? "ipcperf" : opt.command_line.front();
  c["num_cpus"] = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  c["mhz_per_cpu"] = static_cast<int>(mhz);
  c["cpu_scaling_enabled"] = !governor.empty() && governor != "performance";
  c["caches"] = caches();
  c["load_avg"] = {load[0], load[1], load[2]};
#ifdef NDEBUG
  c["library_build_type"] = "release";
#else
  c["library_build_type"] = "debug";
#endif
  c["ipcperf_version"] = build::kVersion;
  c["git_revision"] = build::kGitRevision;
  c["build_type"] = build::kBuildType;
  c["compiler"] = build::kCompiler;
  c["compiler_flags"] = build::kFlags;
  c["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  c["cpu_model"] = cpuinfo_field("model name");
  c["online_cpus"] = read_first_line("/sys/devices/system/cpu/online");
  c["cpus_pinned"] = opt.cpus.to_string();
  c["smt_siblings"] = opt.cpus.pinned && smt_siblings(opt.cpus.cpu_a, opt.cpus.cpu_b);
  c["virtualization"] = virtualization();
  c["governor"] = governor.empty() ? "unknown (no cpufreq in sysfs)" : governor;
  c["seed"] = opt.seed;
  c["suite"] = opt.suite;
  std::string cmd;
  for (const auto& a : opt.command_line) cmd += (cmd.empty() ? "" : " ") + a;
  c["command_line"] = cmd;
  c["timer"] = "clock_gettime(CLOCK_MONOTONIC) via vDSO";
  c["timer_cost_ns"] = measure_timer_cost_ns();
  c["latency_sampling"] = fmt::format("1 in {} round trips timed individually", opt.sample_every);
  c["reps"] = opt.reps;
  c["warmup_messages"] = opt.warmup;
  if (opt.messages != 0) {
    c["measured_messages"] = opt.messages;
  } else {
    c["measured_duration_s"] = static_cast<double>(opt.duration_ns) / 1e9;
  }
  return c;
}

std::vector<std::string> environment_warnings(const nlohmann::json& ctx, const RunOptions& opt) {
  std::vector<std::string> w;
  if (ctx.value("library_build_type", "") != "release") {
    w.push_back(
        "this is a debug build: numbers are meaningless; build with scripts/build.sh (release)");
  }
  if (ctx.value("smt_siblings", false)) {
    w.push_back(
        fmt::format("CPUs {} are SMT siblings of one core: they share L1/L2, so results "
                    "are not cross-core; pick CPUs on different cores with --cpus",
                    opt.cpus.to_string()));
  }
  if (allowed_cpus().size() < 2) {
    w.push_back(
        "fewer than two CPUs are available: both peers share one, spinning backends "
        "fall back to yield");
  }
  const std::string virt = ctx.value("virtualization", "none");
  if (virt != "none") {
    w.push_back(
        "running in a virtual machine: blocking wake-ups (futex, pipe, socket) include "
        "the hypervisor's IPI path and can be 5-10x slower than on bare metal");
  }
  if (ctx.value("cpu_scaling_enabled", false)) {
    w.push_back(
        fmt::format("CPU frequency governor is '{}': set 'performance' (cpupower "
                    "frequency-set -g performance) for stable numbers",
                    ctx.value("governor", "")));
  }
  if (ctx.contains("load_avg") && ctx["load_avg"].is_array() && !ctx["load_avg"].empty() &&
      ctx["load_avg"][0].get<double>() > 0.5 * static_cast<double>(ctx.value("num_cpus", 1))) {
    w.push_back(
        fmt::format("load average {:.2f} is high for {} CPUs: other work competes with "
                    "the peers",
                    ctx["load_avg"][0].get<double>(), ctx.value("num_cpus", 1)));
  }
  if (!opt.cpus.pinned) {
    w.push_back("--cpus none: the scheduler places and moves the peers; results vary more");
  }
  return w;
}

}  // namespace ipcperf
