#include "environment.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include "build_info.hpp"
#include "ipcperf/wait.hpp"
#include "registry.hpp"

namespace ipcperf {

namespace {

constexpr const char* kUnknown = "unknown";
constexpr const char* kVarianceDoc = "docs/reducing-variance.md";

// The first line of a file, trailing whitespace removed; nullopt when it cannot be read.
std::optional<std::string> read_line(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::string s;
  std::getline(f, s);
  if (f.bad()) return std::nullopt;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.pop_back();
  return s;
}

std::string read_or_unknown(const std::string& path) { return read_line(path).value_or(kUnknown); }

std::string read_first_line(const std::string& path) { return read_line(path).value_or(""); }

// A value of /proc/cpuinfo (first CPU), or nullopt.
std::optional<std::string> cpuinfo_field(const EnvironmentSource& src, const std::string& key) {
  std::ifstream f(src.proc + "/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    // The key must be the whole name ("model" is not "model name").
    std::string name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (colon == std::string::npos || name != key) continue;
    auto v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }
  return std::nullopt;
}

std::string cpu_dir(const EnvironmentSource& src) { return src.sys + "/devices/system/cpu"; }

std::vector<int> affinity(const EnvironmentSource& src) {
  return src.allowed_cpus ? *src.allowed_cpus : allowed_cpus();
}

// SMT siblings of a CPU (itself included); nullopt when sysfs does not say.
std::optional<std::set<int>> siblings_of(const EnvironmentSource& src, int cpu) {
  auto s = read_line(fmt::format("{}/cpu{}/topology/thread_siblings_list", cpu_dir(src), cpu));
  if (!s || s->empty()) return std::nullopt;
  const auto v = parse_cpu_list(*s);
  return std::set<int>(v.begin(), v.end());
}

// NUMA node of a CPU: the node whose cpulist holds it; nullopt when sysfs has no nodes.
std::optional<int> numa_node_of(const EnvironmentSource& src, int cpu) {
  const auto online = read_line(src.sys + "/devices/system/node/online");
  if (!online) return std::nullopt;
  for (int node : parse_cpu_list(*online)) {
    const auto list =
        read_line(fmt::format("{}/devices/system/node/node{}/cpulist", src.sys, node));
    if (!list) continue;
    const auto cpus = parse_cpu_list(*list);
    if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) return node;
  }
  return std::nullopt;
}

nlohmann::json int_or_unknown(const std::optional<std::string>& s) {
  if (!s) return kUnknown;
  try {
    size_t used = 0;
    const int v = std::stoi(*s, &used);
    if (used == s->size()) return v;
  } catch (...) {
  }
  return kUnknown;
}

// A CPU list file where an empty file (or the kernel's "(null)") means none.
std::string cpu_list_or_none(const std::optional<std::string>& s) {
  if (!s) return kUnknown;
  if (s->empty() || *s == "(null)") return "none";
  return *s;
}

// A parameter of the kernel command line: its value, "none" when absent, "unknown" when
// /proc/cmdline cannot be read. Only these parameters are recorded, never the whole line.
std::string cmdline_param(const std::optional<std::string>& cmdline, const std::string& name) {
  if (!cmdline) return kUnknown;
  std::istringstream is(*cmdline);
  std::string value = "none";
  for (std::string tok; is >> tok;) {
    if (tok == "--") break;  // what follows goes to init
    if (tok.rfind(name + "=", 0) == 0) value = tok.substr(name.size() + 1);
    if (tok == name) value = "(set, no value)";
  }
  return value;
}

bool list_contains(const std::string& list, int cpu) {
  if (list == kUnknown || list == "none") return false;
  // isolcpus may carry flags ("domain,managed_irq,2-3"): the numbers are what counts.
  std::string numbers;
  std::stringstream ss(list);
  for (std::string part; std::getline(ss, part, ',');) {
    if (!part.empty() && std::isdigit(static_cast<unsigned char>(part.front())))
      numbers += (numbers.empty() ? "" : ",") + part;
  }
  const auto v = parse_cpu_list(numbers);
  return std::find(v.begin(), v.end(), cpu) != v.end();
}

// Boost/turbo state and where it was read: the generic cpufreq switch (acpi-cpufreq, amd-pstate),
// intel_pstate's no_turbo (inverted), or the first policy's own switch.
std::pair<std::string, std::string> boost_state(const EnvironmentSource& src) {
  const std::string generic = cpu_dir(src) + "/cpufreq/boost";
  if (auto v = read_line(generic); v && (*v == "0" || *v == "1"))
    return {*v == "1" ? "on" : "off", generic};
  const std::string no_turbo = cpu_dir(src) + "/intel_pstate/no_turbo";
  if (auto v = read_line(no_turbo); v && (*v == "0" || *v == "1"))
    return {*v == "0" ? "on" : "off", no_turbo};
  const std::string policy = cpu_dir(src) + "/cpufreq/policy0/boost";
  if (auto v = read_line(policy); v && (*v == "0" || *v == "1"))
    return {*v == "1" ? "on" : "off", policy};
  return {kUnknown, ""};
}

// Another allowed CPU for peer B on a different core than `a`, preferring a's NUMA node and
// package: "a,b"; "none" when every allowed CPU shares a's core; "unknown" without topology.
std::string suggest_cpus(const EnvironmentSource& src, int a, const std::vector<int>& allowed) {
  const auto sib = siblings_of(src, a);
  if (!sib) return kUnknown;
  const auto node = numa_node_of(src, a);
  const auto package =
      read_line(fmt::format("{}/cpu{}/topology/physical_package_id", cpu_dir(src), a));
  int best = -1, best_score = -1;
  for (int b : allowed) {
    if (b == a || sib->count(b) != 0) continue;
    if (!siblings_of(src, b)) continue;  // topology unknown: cannot vouch for it
    int score = 0;
    if (node && numa_node_of(src, b) == node) score += 2;
    if (package &&
        read_line(fmt::format("{}/cpu{}/topology/physical_package_id", cpu_dir(src), b)) == package)
      score += 1;
    if (score > best_score) {
      best = b;
      best_score = score;
    }
  }
  return best < 0 ? "none" : fmt::format("{},{}", a, best);
}

nlohmann::json pinned_cpu(const EnvironmentSource& src, const char* role, int cpu,
                          const std::string& isolated, const std::string& nohz_full) {
  const std::string topo = fmt::format("{}/cpu{}/topology/", cpu_dir(src), cpu);
  const auto node = numa_node_of(src, cpu);
  nlohmann::json j;
  j["role"] = role;
  j["cpu"] = cpu;
  j["core_id"] = int_or_unknown(read_line(topo + "core_id"));
  j["package_id"] = int_or_unknown(read_line(topo + "physical_package_id"));
  j["numa_node"] = node ? nlohmann::json(*node) : nlohmann::json(kUnknown);
  j["thread_siblings"] = read_or_unknown(topo + "thread_siblings_list");
  j["governor"] =
      read_or_unknown(fmt::format("{}/cpu{}/cpufreq/scaling_governor", cpu_dir(src), cpu));
  j["isolated"] = isolated == kUnknown ? nlohmann::json(kUnknown)
                                       : nlohmann::json(list_contains(isolated, cpu));
  j["nohz_full"] = nohz_full == kUnknown ? nlohmann::json(kUnknown)
                                         : nlohmann::json(list_contains(nohz_full, cpu));
  return j;
}

std::string virtualization(bool hypervisor, const std::string& vendor, const std::string& product) {
  if (!hypervisor) return "none";
  std::string s = "virtual machine (hypervisor flag set)";
  if (vendor != kUnknown || product != kUnknown) s += fmt::format("; DMI: {} {}", vendor, product);
  return s;
}

nlohmann::json caches(const EnvironmentSource& src) {
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) {
    const std::string base = fmt::format("{}/cpu0/cache/index{}/", cpu_dir(src), i);
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
    out.push_back({{"type", type},
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

std::string str(const nlohmann::json& ctx, const char* key) {
  const auto it = ctx.find(key);
  if (it == ctx.end()) return kUnknown;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& s) {
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
        const int hi = std::stoi(part.substr(dash + 1));
        for (int i = std::stoi(part.substr(0, dash)); i <= hi && i < 1 << 16; ++i) out.insert(i);
      }
    } catch (...) {
    }
  }
  return {out.begin(), out.end()};
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::vector<int> v(cpus);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += (out.empty() ? "" : ",") +
           (j == i ? fmt::format("{}", v[i]) : fmt::format("{}-{}", v[i], v[j]));
    i = j + 1;
  }
  return out;
}

bool smt_siblings(int a, int b) {
  if (a == b) return false;
  const auto sib = siblings_of(EnvironmentSource{}, a);
  return sib && sib->count(b) != 0;
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

namespace {

// The CPU: model, microcode, online and allowed CPUs, frequency, caches.
void add_cpu(nlohmann::json& c, const EnvironmentSource& src, const std::vector<int>& allowed) {
  c["cpu_model"] = cpuinfo_field(src, "model name").value_or(kUnknown);
  c["cpu_vendor"] = cpuinfo_field(src, "vendor_id").value_or(kUnknown);
  c["cpu_microcode"] = cpuinfo_field(src, "microcode").value_or(kUnknown);
  const auto online = read_line(cpu_dir(src) + "/online");
  c["online_cpus"] = online.value_or(kUnknown);
  c["num_cpus"] = online ? static_cast<int>(parse_cpu_list(*online).size())
                         : static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  c["allowed_cpus"] = allowed.empty() ? std::string(kUnknown) : format_cpu_list(allowed);
  c["allowed_cpu_count"] = static_cast<int>(allowed.size());
  // Google Benchmark's field; it writes 0 where the frequency is unknown, and so do we.
  double mhz = 0;
  try {
    mhz = std::stod(cpuinfo_field(src, "cpu MHz").value_or("0"));
  } catch (...) {
  }
  c["mhz_per_cpu"] = static_cast<int>(mhz);
  c["caches"] = caches(src);
}

// The CPUs a run pins (default: the first two allowed) and their topology.
void add_placement(nlohmann::json& c, const EnvironmentSource& src, const Placement& cpus,
                   const std::vector<int>& allowed, int cpu_a) {
  const std::string isolated = cpu_list_or_none(read_line(cpu_dir(src) + "/isolated"));
  const std::string nohz_full = cpu_list_or_none(read_line(cpu_dir(src) + "/nohz_full"));
  c["cpus_pinned"] = cpus.to_string();
  nlohmann::json pinned = nlohmann::json::array();
  if (cpus.pinned) {
    pinned.push_back(pinned_cpu(src, "A", cpus.cpu_a, isolated, nohz_full));
    if (cpus.cpu_b != cpus.cpu_a)
      pinned.push_back(pinned_cpu(src, "B", cpus.cpu_b, isolated, nohz_full));
  }
  c["pinned_cpus"] = pinned;
  const auto sib = cpus.pinned ? siblings_of(src, cpus.cpu_a) : std::nullopt;
  c["smt_siblings"] = cpus.pinned && cpus.cpu_a != cpus.cpu_b && sib && sib->count(cpus.cpu_b) != 0;
  c["smt"] = read_or_unknown(cpu_dir(src) + "/smt/control");
  c["numa_nodes"] = read_or_unknown(src.sys + "/devices/system/node/online");
  c["suggested_cpus"] = suggest_cpus(src, cpu_a, allowed);
}

// Frequency scaling: governor, driver, boost.
void add_frequency(nlohmann::json& c, const EnvironmentSource& src, int cpu_a) {
  const auto governor =
      read_line(fmt::format("{}/cpu{}/cpufreq/scaling_governor", cpu_dir(src), cpu_a));
  c["governor"] = governor.value_or(kUnknown);
  c["cpu_scaling_enabled"] = governor.has_value() && *governor != "performance";
  c["cpufreq_driver"] =
      read_or_unknown(fmt::format("{}/cpu{}/cpufreq/scaling_driver", cpu_dir(src), cpu_a));
  const auto [boost, boost_source] = boost_state(src);
  c["boost"] = boost;
  c["boost_source"] = boost_source.empty() ? std::string(kUnknown) : boost_source;
}

// Kernel, idle states, isolation, load.
void add_kernel(nlohmann::json& c, const EnvironmentSource& src, const utsname& u) {
  const std::string isolated = cpu_list_or_none(read_line(cpu_dir(src) + "/isolated"));
  const std::string nohz_full = cpu_list_or_none(read_line(cpu_dir(src) + "/nohz_full"));
  c["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  c["kernel_version"] = u.version;
  c["cpuidle_driver"] = read_or_unknown(cpu_dir(src) + "/cpuidle/current_driver");
  auto idle_gov = read_line(cpu_dir(src) + "/cpuidle/current_governor_ro");
  if (!idle_gov) idle_gov = read_line(cpu_dir(src) + "/cpuidle/current_governor");
  c["cpuidle_governor"] = idle_gov.value_or(kUnknown);
  c["isolated_cpus"] = isolated;
  c["nohz_full_cpus"] = nohz_full;
  const auto cmdline = read_line(src.proc + "/cmdline");
  c["cmdline_isolcpus"] = cmdline_param(cmdline, "isolcpus");
  c["cmdline_nohz_full"] = cmdline_param(cmdline, "nohz_full");
  c["cmdline_rcu_nocbs"] = cmdline_param(cmdline, "rcu_nocbs");
  c["cmdline_irqaffinity"] = cmdline_param(cmdline, "irqaffinity");
  double load[3] = {0, 0, 0};
  std::ifstream la(src.proc + "/loadavg");
  if (la >> load[0] >> load[1] >> load[2]) {
    c["load_avg"] = {load[0], load[1], load[2]};
  } else {
    c["load_avg"] = kUnknown;
  }
}

// Virtualisation: the hypervisor flag and the DMI vendor and product.
void add_virtualization(nlohmann::json& c, const EnvironmentSource& src) {
  const auto flags = cpuinfo_field(src, "flags");
  bool hypervisor = false;
  if (flags) {
    std::istringstream is(*flags);
    for (std::string f; is >> f;) hypervisor |= f == "hypervisor";
  }
  const std::string vendor = read_or_unknown(src.sys + "/class/dmi/id/sys_vendor");
  const std::string product = read_or_unknown(src.sys + "/class/dmi/id/product_name");
  c["hypervisor_flag"] = flags ? nlohmann::json(hypervisor) : nlohmann::json(kUnknown);
  c["dmi_sys_vendor"] = vendor;
  c["dmi_product_name"] = product;
  c["virtualization"] = flags ? virtualization(hypervisor, vendor, product) : kUnknown;
}

// The build and the timer.
void add_build(nlohmann::json& c) {
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

  c["timer"] = "clock_gettime(CLOCK_MONOTONIC) via vDSO";
  c["timer_cost_ns"] = measure_timer_cost_ns();
}

}  // namespace

nlohmann::json collect_environment(const Placement& cpus, const EnvironmentSource& src) {
  nlohmann::json c;
  utsname u{};
  ::uname(&u);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const auto allowed = affinity(src);
  const int cpu_a = cpus.pinned ? cpus.cpu_a : (allowed.empty() ? 0 : allowed.front());
  c["date"] = iso_date();
  c["host_name"] = host;
  add_cpu(c, src, allowed);
  add_placement(c, src, cpus, allowed, cpu_a);
  add_frequency(c, src, cpu_a);
  add_kernel(c, src, u);
  add_virtualization(c, src);
  add_build(c);
  return c;
}

nlohmann::json collect_context(const RunOptions& opt) {
  nlohmann::json c = collect_environment(opt.cpus);
  c["executable"] = opt.command_line.empty() ? "ipcperf" : opt.command_line.front();
  c["seed"] = opt.seed;
  c["suite"] = opt.suite;
  std::string cmd;
  for (const auto& a : opt.command_line) cmd += (cmd.empty() ? "" : " ") + a;
  c["command_line"] = cmd;
  c["latency_sampling"] =
      opt.sample_every == 0
          ? std::string("none (--sample-every 0): no round trip timed individually")
          : fmt::format("1 in {} round trips timed individually", opt.sample_every);
  c["reps"] = opt.reps;
  c["warmup_messages"] = opt.warmup;
  if (opt.messages != 0) {
    c["measured_messages"] = opt.messages;
  } else {
    c["measured_duration_s"] = static_cast<double>(opt.duration_ns) / 1e9;
  }
  // Faults injected by the self-check options: 0 = none. A run with any is not a measurement of
  // the backends (the table and the warnings say so too).
  c["injected_faults"] = {{"delay_ns", opt.inject_delay_ns}, {"stall_ns", opt.inject_stall_ns}};
  c["backends"] = registry_context();
  return c;
}

nlohmann::json registry_context() {
  // The registry in its order, with what the reports draw by: the charts give each backend the
  // colour of its position here, so one backend keeps its colour across files.
  nlohmann::json backends = nlohmann::json::array();
  for (const auto& e : registry()) {
    const BackendInfo& i = e.make()->info();
    backends.push_back({{"name", i.name},
                        {"family", to_string(i.family)},
                        {"in_process", i.family == Family::kInProcess},
                        {"lossy", i.lossy}});
  }
  return backends;
}

namespace {

// The build: a debug build's numbers are meaningless.
void warn_build(const nlohmann::json& ctx, std::vector<std::string>& w) {
  if (ctx.value("library_build_type", "") != "release") {
    w.push_back(
        "this is a debug build: its numbers are meaningless; build the release preset "
        "(scripts/build.sh, or cmake --preset release && cmake --build --preset release)");
  }
}

// The placement: SMT siblings, too few CPUs, two NUMA nodes.
void warn_placement(const nlohmann::json& ctx, const RunOptions& opt, std::vector<std::string>& w) {
  const std::string suggested = ctx.value("suggested_cpus", std::string(kUnknown));
  const bool have_suggestion = suggested != kUnknown && suggested != "none";
  if (ctx.value("smt_siblings", false)) {
    w.push_back(fmt::format(
        "CPUs {} are SMT siblings of one core: they share its L1/L2 and execution units, so "
        "results are not cross-core; {} ('ipcperf env' lists each CPU's siblings)",
        opt.cpus.to_string(),
        have_suggestion ? fmt::format("use --cpus {}, two different cores", suggested)
                        : std::string("pick CPUs on different cores with --cpus")));
  }
  if (ctx.value("allowed_cpu_count", 2) < 2) {
    w.push_back(
        "fewer than two CPUs are available: both peers share one, spinning backends fall back "
        "to yield; give ipcperf two CPUs (e.g. taskset -c 0,1, or a larger cgroup cpuset)");
  }
  if (opt.cpus.pinned && opt.cpus.cpu_a != opt.cpus.cpu_b && ctx.contains("pinned_cpus") &&
      ctx["pinned_cpus"].is_array() && ctx["pinned_cpus"].size() == 2) {
    const auto& a = ctx["pinned_cpus"][0]["numa_node"];
    const auto& b = ctx["pinned_cpus"][1]["numa_node"];
    if (a.is_number() && b.is_number() && a != b) {
      w.push_back(fmt::format(
          "CPUs {} are on NUMA nodes {} and {}: every message crosses the interconnect, which "
          "is not the usual intra-node figure; {}",
          opt.cpus.to_string(), a.dump(), b.dump(),
          have_suggestion ? fmt::format("use --cpus {} for one node", suggested)
                          : std::string("pick two CPUs of one node with --cpus")));
    }
  }
}

// The machine: a VM, frequency scaling, boost, load.
void warn_machine(const nlohmann::json& ctx, std::vector<std::string>& w) {
  const std::string virt = ctx.value("virtualization", "none");
  if (virt != "none" && virt != kUnknown) {
    w.push_back(fmt::format(
        "running in a virtual machine: blocking wake-ups (futex, pipe, socket) include the "
        "hypervisor's IPI path and can be 5-10x slower than on bare metal; compare blocking "
        "backends only with runs on the same kind of VM, or run on bare metal ({})",
        kVarianceDoc));
  }
  if (ctx.value("cpu_scaling_enabled", false)) {
    w.push_back(fmt::format(
        "CPU frequency governor is '{}': the clock follows the load, so the first messages "
        "run slower; set 'performance': sudo cpupower frequency-set -g performance (or: echo "
        "performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)",
        str(ctx, "governor")));
  }
  if (ctx.value("boost", "") == "on") {
    const std::string source = ctx.value("boost_source", "");
    const bool intel = source.find("intel_pstate/no_turbo") != std::string::npos;
    w.push_back(fmt::format(
        "turbo/boost is on: the clock then depends on temperature and on how many cores are "
        "busy, so repetitions drift; turn it off for repeatable numbers: echo {} | sudo tee {}",
        intel ? 1 : 0, source.empty() ? "/sys/devices/system/cpu/cpufreq/boost" : source));
  }
  if (ctx.contains("load_avg") && ctx["load_avg"].is_array() && !ctx["load_avg"].empty()) {
    const double load = ctx["load_avg"][0].get<double>();
    const int cpus = ctx.value("num_cpus", 1);
    if (load > 0.5 * static_cast<double>(cpus)) {
      w.push_back(fmt::format(
          "load average {:.2f} is high for {} CPUs: other work competes with the peers; stop "
          "it or wait for the load to drop (top shows what runs)",
          load, cpus));
    }
  }
}

// The run: unpinned peers, long runs on CPUs that are not isolated.
void warn_run(const nlohmann::json& ctx, const RunOptions& opt, std::vector<std::string>& w) {
  if (opt.inject_delay_ns > 0 || opt.inject_stall_ns > 0) {
    w.push_back(fmt::format(
        "this run injects faults (receiver delay {} ns per message, one stall of {} ns): its "
        "figures are a self-check of the measurement, not the backends' performance "
        "(context.injected_faults)",
        opt.inject_delay_ns, opt.inject_stall_ns));
  }
  if (!opt.cpus.pinned) {
    w.push_back(
        "--cpus none: the scheduler places and moves the peers, so results vary more; pin with "
        "--cpus A,B (the default pins the first two allowed CPUs)");
  }
  // Long runs: CPUs that are not isolated share their time with everything else.
  if (opt.cpus.pinned && opt.messages == 0 && opt.duration_ns > 0) {
    const double seconds =
        static_cast<double>(opt.duration_ns) / 1e9 * opt.reps *
        static_cast<double>(opt.backends.size() * opt.workloads.size() * opt.sizes.size());
    bool isolated = true;
    bool known =
        ctx.contains("pinned_cpus") && ctx["pinned_cpus"].is_array() && !ctx["pinned_cpus"].empty();
    if (known) {
      for (const auto& p : ctx["pinned_cpus"]) {
        known = known && p.value("isolated", nlohmann::json()).is_boolean();
        isolated = isolated && known && p["isolated"].get<bool>();
      }
    }
    if (seconds >= 60 && known && !isolated) {
      const std::string list = fmt::format("{},{}", opt.cpus.cpu_a, opt.cpus.cpu_b);
      w.push_back(fmt::format(
          "this run measures for about {:.0f} min on CPUs that are not isolated: other tasks, "
          "timer ticks and interrupts land on them; for long runs boot with isolcpus={} "
          "nohz_full={} rcu_nocbs={} ({})",
          seconds / 60, list, list, list, kVarianceDoc));
    }
  }
}

}  // namespace

std::vector<std::string> environment_warnings(const nlohmann::json& ctx, const RunOptions& opt) {
  std::vector<std::string> w;
  warn_build(ctx, w);
  warn_placement(ctx, opt, w);
  warn_machine(ctx, w);
  warn_run(ctx, opt, w);
  return w;
}

namespace {

// "  label                 value" lines under section titles.
struct EnvWriter {
  std::ostream& os;
  void section(const std::string& title) const { os << title << '\n'; }
  void line(const std::string& label, const std::string& value) const {
    os << fmt::format("  {:<22}{}\n", label, value);
  }
};

void write_cpu_and_placement(const nlohmann::json& env, const EnvWriter& out) {
  out.section("CPU");
  out.line("model", str(env, "cpu_model"));
  out.line("vendor", str(env, "cpu_vendor"));
  out.line("microcode", str(env, "cpu_microcode"));
  out.line("online CPUs", fmt::format("{} ({})", str(env, "online_cpus"), str(env, "num_cpus")));
  out.line("allowed CPUs", str(env, "allowed_cpus"));
  out.line("SMT", str(env, "smt"));
  out.line("NUMA nodes", str(env, "numa_nodes"));

  out.section(fmt::format("Placement (--cpus {})", str(env, "cpus_pinned")));
  if (env.contains("pinned_cpus") && env["pinned_cpus"].is_array() && !env["pinned_cpus"].empty()) {
    for (const auto& p : env["pinned_cpus"]) {
      out.line(fmt::format("CPU {} (peer {})", p["cpu"].dump(), p.value("role", "?")),
               fmt::format("core {}, package {}, NUMA node {}, siblings {}, governor {}, "
                           "isolated {}",
                           str(p, "core_id"), str(p, "package_id"), str(p, "numa_node"),
                           str(p, "thread_siblings"), str(p, "governor"), str(p, "isolated")));
    }
  } else {
    out.line("pinned", "no: the scheduler places the peers");
  }
  out.line("SMT siblings",
           env.value("smt_siblings", false) ? "yes: the two peers share one core" : "no");
  out.line("suggested --cpus", str(env, "suggested_cpus"));
}

void write_system(const nlohmann::json& env, const EnvWriter& out) {
  out.section("Frequency");
  out.line("governor", str(env, "governor"));
  out.line("cpufreq driver", str(env, "cpufreq_driver"));
  out.line("boost/turbo", str(env, "boost") + (str(env, "boost_source") == kUnknown
                                                   ? std::string()
                                                   : " (" + str(env, "boost_source") + ")"));
  out.line("MHz (cpuinfo)", str(env, "mhz_per_cpu"));

  out.section("Kernel");
  out.line("kernel", str(env, "kernel"));
  out.line("idle driver", fmt::format("{} (governor {})", str(env, "cpuidle_driver"),
                                      str(env, "cpuidle_governor")));
  out.line("isolated CPUs", fmt::format("{} (isolcpus: {})", str(env, "isolated_cpus"),
                                        str(env, "cmdline_isolcpus")));
  out.line("nohz_full CPUs", fmt::format("{} (nohz_full: {})", str(env, "nohz_full_cpus"),
                                         str(env, "cmdline_nohz_full")));
  out.line("rcu_nocbs", str(env, "cmdline_rcu_nocbs"));
  out.line("irqaffinity", str(env, "cmdline_irqaffinity"));
  if (env.contains("load_avg") && env["load_avg"].is_array() && env["load_avg"].size() == 3) {
    out.line("load average",
             fmt::format("{:.2f} {:.2f} {:.2f}", env["load_avg"][0].get<double>(),
                         env["load_avg"][1].get<double>(), env["load_avg"][2].get<double>()));
  } else {
    out.line("load average", kUnknown);
  }

  out.section("Virtualization");
  out.line("virtualization", str(env, "virtualization"));
  out.line("DMI vendor, product",
           fmt::format("{}, {}", str(env, "dmi_sys_vendor"), str(env, "dmi_product_name")));

  out.section("Build");
  out.line("ipcperf", fmt::format("{} (git {}, {} build)", str(env, "ipcperf_version"),
                                  str(env, "git_revision"), str(env, "build_type")));
  out.line("compiler", str(env, "compiler"));
  out.line("flags", str(env, "compiler_flags"));

  out.section("Timer");
  out.line("clock", str(env, "timer"));
  if (env.contains("timer_cost_ns") && env["timer_cost_ns"].is_number()) {
    out.line("cost", fmt::format("{:.1f} ns per read", env["timer_cost_ns"].get<double>()));
  }
}

}  // namespace

void write_environment(const nlohmann::json& env, const std::vector<std::string>& warnings,
                       std::ostream& os) {
  const EnvWriter out{os};
  write_cpu_and_placement(env, out);
  write_system(env, out);
  if (warnings.empty()) {
    os << "\nNo warnings: nothing found that would skew the numbers.\n";
  } else {
    os << "\nWarnings (what to do about each):\n";
    for (const auto& w : warnings) os << "  - " << w << '\n';
  }
  os << "More: " << kVarianceDoc << '\n';
}

}  // namespace ipcperf
