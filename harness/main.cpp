// ipcperf: benchmarks Linux inter-process communication between supervised pairs of processes.
//   ipcperf run ...     the supervisor: plans, launches peers, reports
//   ipcperf list        the backends and their limits on this machine
//   ipcperf env         the machine as a run sees it, and the warnings with what to do
//   ipcperf clean       removes IPC objects left by ipcperf processes that died
//   ipcperf peer ...    (hidden) one endpoint, spawned by `run`
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "build_info.hpp"
#include "cli.hpp"
#include "environment.hpp"
#include "ipcperf/message.hpp"
#include "ipcperf/wait.hpp"
#include "launcher.hpp"
#include "peer.hpp"
#include "plan.hpp"
#include "reporters/hgrm_reporter.hpp"
#include "reporters/reporter.hpp"
#include "reporters/units.hpp"
#include "runner.hpp"
#include "suites/suites.hpp"

namespace ipcperf {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Raw option text, parsed after CLI11 so that every error names the value and what is allowed.
struct RunArgs {
  std::string suite = "quick", backends, workloads, sizes, messages, duration, warmup, cpus,
              capacity, wait, seed, sample_every = "64", tcp_nodelay = "1", rate = "10k,100k",
              min_time, inject_delay, inject_stall;
  int reps = 0;
  double timeout = 60;
  bool no_floor = false;
  std::string out, csv, hgrm;
  bool quiet = false;
};

// Checks that `path` can be written, without leaving a file behind.
void check_writable(const std::string& path, std::string_view option) {
  if (path.empty()) return;
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  std::ofstream f(path, std::ios::app);
  if (!f) {
    throw UsageError(fmt::format("{}: cannot write '{}': {}", option, path, std::strerror(errno)));
  }
  f.close();
  if (!existed) std::remove(path.c_str());
}

// Checks that `dir` is (or can be created as) a writable directory, without creating it.
void check_writable_dir(const std::string& dir, std::string_view option) {
  if (dir.empty()) return;
  std::filesystem::path p = std::filesystem::absolute(dir);
  while (!std::filesystem::exists(p) && p.has_parent_path() && p != p.parent_path())
    p = p.parent_path();
  if (!std::filesystem::is_directory(p) || ::access(p.c_str(), W_OK) != 0) {
    throw UsageError(
        fmt::format("{}: cannot write into '{}': {}", option, dir,
                    std::filesystem::is_directory(p) ? std::strerror(errno) : "not a directory"));
  }
}

RunOptions resolve_run_options(const RunArgs& a, CLI::App& run,
                               const std::vector<std::string>& argv) {
  RunOptions o;
  o.command_line = argv;
  const Suite* suite = find_suite(a.suite);
  if (suite == nullptr) {
    std::string names;
    for (const auto& s : suites()) names += (names.empty() ? "" : ", ") + std::string(s.name);
    throw UsageError(fmt::format("--suite: unknown suite '{}' (known: {})", a.suite, names));
  }
  o.suite = a.suite;
  auto given = [&](const char* name) { return run.count(name) > 0; };

  // Backends: the suite's list; "all" expands to every registered backend.
  std::vector<std::string> backends;
  if (given("--backends")) {
    backends = split_list(a.backends, "--backends");
    o.backends_explicit = true;
  } else {
    for (auto b : suite->backends) backends.emplace_back(b);
  }
  for (const auto& b : backends) {
    if (b == "all") {
      o.backends_explicit = false;
      for (const auto& n : backend_names()) o.backends.push_back(n);
    } else {
      o.backends.push_back(b);
    }
  }
  if (given("--workloads")) {
    for (const auto& w : split_list(a.workloads, "--workloads"))
      o.workloads.push_back(parse_workload(w));
  } else {
    for (auto w : suite->workloads) o.workloads.push_back(parse_workload(w));
  }
  if (given("--sizes")) {
    for (const auto& s : split_list(a.sizes, "--sizes")) {
      o.sizes.push_back(parse_size(s, "--sizes"));
      if (o.sizes.back() == 0) {
        throw UsageError(fmt::format(
            "--sizes: '{}' is not allowed: a message has at least {} bytes", s, kMinMessageSize));
      }
    }
  } else {
    o.sizes = suite->sizes;
  }
  for (const auto& r : split_list(a.rate, "--rate")) {
    o.rates.push_back(parse_count(r, "--rate"));
    if (o.rates.back() == 0 || o.rates.back() > 100'000'000) {
      throw UsageError(
          fmt::format("--rate: '{}' is not allowed: messages per second between 1 and 100M", r));
    }
  }
  if (given("--min-time")) {
    o.min_time_ns = parse_duration_ns(a.min_time, "--min-time");
    if (o.min_time_ns < 0) throw UsageError("--min-time: must not be negative");
  }
  if (given("--inject-delay"))
    o.inject_delay_ns = parse_duration_ns(a.inject_delay, "--inject-delay");
  if (given("--inject-stall"))
    o.inject_stall_ns = parse_duration_ns(a.inject_stall, "--inject-stall");
  o.reps = given("--reps") ? a.reps : suite->reps;
  o.duration_ns = suite->duration_ns;
  if (given("--messages")) {
    o.messages = parse_count(a.messages, "--messages");
    if (o.messages == 0)
      throw UsageError("--messages: 0 is not allowed: at least 1 measured message");
  }
  if (given("--duration")) {
    o.duration_ns = parse_duration_ns(a.duration, "--duration");
    if (o.duration_ns <= 0) throw UsageError("--duration: must be above zero, e.g. 0.5s");
  }
  o.warmup = given("--warmup") ? parse_count(a.warmup, "--warmup") : suite->warmup;
  o.sample_everys.clear();
  for (const auto& v : split_list(a.sample_every, "--sample-every"))
    o.sample_everys.push_back(static_cast<uint32_t>(parse_count(v, "--sample-every")));
  o.sample_every = o.sample_everys.front();
  o.sample_auto = !given("--sample-every");
  o.cpus = given("--cpus") ? parse_cpus(a.cpus) : default_cpus();
  if (given("--capacity")) {
    o.capacity = parse_size(a.capacity, "--capacity");
    if (o.capacity == 0) throw UsageError("--capacity: 0 is not allowed: give bytes, e.g. 64K");
  }
  if (given("--wait")) o.wait = parse_wait(a.wait);
  if (a.tcp_nodelay == "1" || a.tcp_nodelay == "on" || a.tcp_nodelay == "true") {
    o.tcp_nodelay = true;
  } else if (a.tcp_nodelay == "0" || a.tcp_nodelay == "off" || a.tcp_nodelay == "false") {
    o.tcp_nodelay = false;
  } else {
    throw UsageError(
        fmt::format("--tcp-nodelay: '{}' is not allowed: 1 (default) or 0", a.tcp_nodelay));
  }
  if (given("--seed")) {
    o.seed = parse_count(a.seed, "--seed");
  } else {
    o.seed = std::random_device{}();
  }
  o.timeout_s = a.timeout;
  o.floor = !a.no_floor;
  o.out_json = a.out;
  o.out_csv = a.csv;
  o.quiet = a.quiet;
  check_writable(o.out_json, "--out");
  check_writable(o.out_csv, "--csv");
  o.out_hgrm = a.hgrm;
  check_writable_dir(o.out_hgrm, "--hgrm");
  return o;
}

bool show_progress(const RunOptions& o) {
  const char* ci = std::getenv("CI");
  return !o.quiet && ::isatty(2) && (ci == nullptr || std::string_view(ci) != "true");
}

int cmd_run(const RunArgs& a, CLI::App& run, const std::vector<std::string>& argv) {
  RunOptions opt = resolve_run_options(a, run, argv);
  Plan plan = build_plan(opt);
  install_interrupt_handler();

  for (const auto& removed : sweep_stale_objects()) {
    fmt::print(stderr, "ipcperf: removed a stale object of a dead run: {}\n", removed);
  }
  RunResult result;
  result.context = collect_context(opt);
  auto warnings = environment_warnings(result.context, opt);
  warnings.insert(warnings.end(), plan.warnings.begin(), plan.warnings.end());
  if (!opt.quiet) {
    for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", w);
  }

  const bool progress = show_progress(opt);
  const int64_t start = now_ns();
  auto on_progress = [&](const Progress& p) {
    if (!progress) return;
    std::string eta;
    if (p.done > 0) {
      const double per = static_cast<double>(now_ns() - start) / p.done;
      eta = fmt::format(" ETA {:.0f} s", per * (p.total - p.done) / 1e9);
    }
    // A 20-cell bar, then the count, the case and the ETA from the mean time per repetition so
    // far (the order is shuffled, so the mean is representative early on).
    constexpr int kCells = 20;
    const int filled = p.total > 0 ? p.done * kCells / p.total : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kCells - filled), '.');
    fmt::print(stderr, "\r\x1b[K[{}] {:>{}}/{} {} rep {}{}", bar, p.done + 1,
               std::to_string(p.total).size(), p.total, p.current->spec.name, p.rep + 1, eta);
  };
  RunResult ran = run_plan(plan, opt, on_progress);
  if (progress) fmt::print(stderr, "\r\x1b[K");
  result.cases = std::move(ran.cases);
  result.warnings = warnings;

  if (!opt.quiet) {
    write_table(result, std::cout, ::isatty(1) != 0);
    std::cout.flush();
  }
  if (!opt.out_json.empty()) {
    std::ofstream f(opt.out_json);
    write_json(result, f);
    if (!f) {
      fmt::print(stderr, "ipcperf: could not write {}\n", opt.out_json);
      return kExitFailed;
    }
    if (!opt.quiet) fmt::print(stderr, "ipcperf: wrote {}\n", opt.out_json);
  }
  if (!opt.out_csv.empty()) {
    std::ofstream f(opt.out_csv);
    write_csv(result, f);
    if (!f) {
      fmt::print(stderr, "ipcperf: could not write {}\n", opt.out_csv);
      return kExitFailed;
    }
    if (!opt.quiet) fmt::print(stderr, "ipcperf: wrote {}\n", opt.out_csv);
  }
  if (!opt.out_hgrm.empty()) {
    const auto files = write_hgrm_files(result, opt.out_hgrm);
    if (!opt.quiet) {
      fmt::print(stderr, "ipcperf: wrote {} .hgrm file{} into {}\n", files.size(),
                 files.size() == 1 ? "" : "s", opt.out_hgrm);
    }
  }
  if (interrupted()) {
    fmt::print(stderr, "ipcperf: interrupted; every IPC object created was removed\n");
    return 128 + interrupt_signal();
  }
  int failed = 0;
  for (const auto& c : result.cases) failed += c.status == CaseStatus::kFailed ? 1 : 0;
  if (failed > 0) {
    fmt::print(stderr, "ipcperf: {} case{} failed (see the table)\n", failed,
               failed == 1 ? "" : "s");
    return kExitFailed;
  }
  return kExitOk;
}

int cmd_list(bool json) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : registry()) {
    auto b = e.make();
    const BackendInfo& i = b->info();
    ChannelOptions o = b->resolve({});
    std::string unavailable;
    try {
      b->check(o);
    } catch (const std::exception& ex) {
      unavailable = ex.what();
    }
    rows.push_back({{"name", i.name},
                    {"family", to_string(i.family)},
                    {"max_message_bytes", b->max_message_size(o)},
                    {"default_capacity_bytes", i.default_capacity},
                    {"waits", i.waits.to_string()},
                    {"default_wait", to_string(i.default_wait)},
                    {"summary", i.summary},
                    {"available", unavailable.empty()},
                    {"unavailable_reason", unavailable}});
  }
  if (json) {
    std::cout << rows.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> t = {
      {"backend", "family", "max message", "capacity", "wait (default first)", "semantics"}};
  for (const auto& r : rows) {
    std::string waits = r["default_wait"].get<std::string>();
    for (const auto& w : split_list(r["waits"].get<std::string>(), "waits")) {
      if (w != waits.substr(0, waits.find(','))) waits += "," + w;
    }
    t.push_back({r["name"].get<std::string>(), r["family"].get<std::string>(),
                 format_size(r["max_message_bytes"].get<size_t>()),
                 // 0: the kernel sizes the buffers (tcp's autotuning)
                 r["default_capacity_bytes"].get<size_t>() == 0
                     ? std::string("auto")
                     : format_size(r["default_capacity_bytes"].get<size_t>()),
                 waits,
                 r["summary"].get<std::string>() +
                     (r["available"].get<bool>()
                          ? ""
                          : " [unavailable: " + r["unavailable_reason"].get<std::string>() + "]")});
  }
  std::vector<size_t> w(t[0].size(), 0);
  for (const auto& row : t)
    for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], row[c].size());
  for (const auto& row : t) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], w[c]);
    }
    std::cout << line << "\n";
  }
  std::cout << "\nmax message and capacity are per direction, on this machine with the default "
               "--capacity; sizes above the maximum are refused before a run starts.\n";
  return kExitOk;
}

int cmd_env(bool json, const std::string& cpus_arg, bool cpus_given) {
  const Placement cpus = cpus_given ? parse_cpus(cpus_arg) : default_cpus();
  const nlohmann::json env = collect_environment(cpus);
  RunOptions o;  // no run planned: only the machine's warnings
  o.cpus = cpus;
  const auto warnings = environment_warnings(env, o);
  if (json) {
    nlohmann::json j = env;
    j["warnings"] = warnings;
    std::cout << j.dump(2) << "\n";
  } else {
    write_environment(env, warnings, std::cout);
  }
  return kExitOk;
}

int cmd_clean() {
  auto removed = sweep_stale_objects();
  for (const auto& r : removed) fmt::print("removed {}\n", r);
  fmt::print("{} stale object{} removed (objects of live ipcperf processes are kept)\n",
             removed.size(), removed.size() == 1 ? "" : "s");
  return kExitOk;
}

std::string resolve_self() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

int real_main(int argc, char** argv) {
  set_self_exe(resolve_self());
  std::vector<std::string> args(argv, argv + argc);

  CLI::App app{
      "ipcperf: benchmarks Linux IPC (shared memory vs message passing) between pairs of "
      "real, pinned processes; every message verified."};
  app.set_version_flag("--version", fmt::format("ipcperf {} ({}, {} build)", build::kVersion,
                                                build::kGitRevision, build::kBuildType));
  app.require_subcommand(1);
  app.footer(
      "Run 'ipcperf SUBCOMMAND --help' for the options of each. Docs: README.md, docs/method.md");

  // ---- run ----
  RunArgs ra;
  CLI::App* run = app.add_subcommand("run", "Run a benchmark suite and report (table, JSON, CSV)");
  run->add_option("--suite", ra.suite, "Defaults to start from: quick (default), ci, paper");
  run->add_option("--backends", ra.backends,
                  "Comma list of backends, or 'all' (see 'ipcperf list')");
  run->add_option("--workloads", ra.workloads,
                  "Comma list: pingpong (round trip), stream (throughput), paced (open-loop "
                  "one-way latency at --rate)");
  run->add_option("--rate", ra.rate,
                  "paced: comma list of offered rates in messages/s, k/M suffixes (default "
                  "10k,100k)");
  run->add_option("--sizes", ra.sizes,
                  "Comma list of message sizes in bytes; K/M suffixes (x1024), min 16");
  run->add_option("--reps", ra.reps,
                  "Repetitions per case, each a fresh pair of processes (quick: 6, the fewest that "
                  "give the median a 95% CI)");
  auto* msgs =
      run->add_option("--messages", ra.messages, "Measured messages per repetition (k/M suffixes)");
  auto* dur = run->add_option("--duration", ra.duration,
                              "Measured time per repetition, e.g. 0.5s, 200ms (default 0.2s)");
  msgs->excludes(dur);
  run->add_option("--min-time", ra.min_time,
                  "With --messages: each measured phase lasts at least this long (e.g. 0.1s)");
  run->add_option("--inject-delay", ra.inject_delay,
                  "Self-check: the receiver busy-waits this long per message (e.g. 20us)");
  run->add_option("--inject-stall", ra.inject_stall,
                  "Self-check: the receiver stalls once, halfway through each phase (e.g. 5ms)");
  run->add_option("--warmup", ra.warmup,
                  "Warm-up messages before the measured phase (default 1000)");
  run->add_option(
      "--cpus", ra.cpus,
      "CPUs of peers A,B (default: first two allowed); 0,0 = one core; none = unpinned");
  run->add_option("--capacity", ra.capacity,
                  "Buffer bytes per direction (K/M suffixes; default per backend)");
  run->add_option("--wait", ra.wait,
                  "How endpoints wait: spin, yield or block (default per backend)");
  run->add_option("--tcp-nodelay", ra.tcp_nodelay,
                  "tcp: 1 = TCP_NODELAY (default), 0 = Nagle's algorithm on (case .../nodelay:0)");
  run->add_option("--seed", ra.seed,
                  "Seed of the randomised case order (default random; recorded)");
  run->add_option("--timeout", ra.timeout,
                  "Seconds a repetition may take before its peers are killed (default 60)");
  run->add_option("--sample-every", ra.sample_every,
                  "Time 1 round trip in N for latency percentiles (power of two; default 64; 0 = "
                  "none); a list (64,0) runs pingpong once per value, side by side");
  run->add_flag("--no-floor", ra.no_floor,
                "Skip the hardware-floor rows (cache-line round trip, memcpy)");
  run->add_option("--out", ra.out, "Write Google-Benchmark-compatible JSON to this file");
  run->add_option("--csv", ra.csv, "Write CSV to this file");
  run->add_option(
      "--hgrm", ra.hgrm,
      "Write each latency histogram as HdrHistogram .hgrm text (µs) into this directory");
  run->add_flag("--quiet", ra.quiet, "No progress, warnings or table (errors and files only)");

  // ---- list ----
  bool list_json = false;
  CLI::App* list =
      app.add_subcommand("list", "List the backends, their limits on this machine and semantics");
  list->add_flag("--json", list_json, "Print JSON instead of a table");

  // ---- env ----
  bool env_json = false;
  std::string env_cpus;
  CLI::App* env = app.add_subcommand(
      "env", "Show the machine as a run sees it (CPU, pinning, SMT, NUMA, governor, VM, ...)");
  env->add_flag("--json", env_json, "Print JSON instead of text");
  env->add_option("--cpus", env_cpus,
                  "CPUs of peers A,B to check (default: the first two allowed); none = unpinned");

  CLI::App* clean =
      app.add_subcommand("clean", "Remove IPC objects left behind by ipcperf processes that died");

  // ---- peer (hidden: spawned by run) ----
  PeerArgs pa;
  std::string role, workload, wait = "spin";
  CLI::App* peer = app.add_subcommand("peer", "internal: one endpoint of a case");
  peer->group("");
  peer->add_option("--backend", pa.backend)->required();
  peer->add_option("--role", role)->required();
  peer->add_option("--spec", pa.job.spec)->required();
  peer->add_option("--workload", workload)->required();
  peer->add_option("--size", pa.job.size)->required();
  peer->add_option("--warmup", pa.job.warmup);
  peer->add_option("--messages", pa.job.messages);
  peer->add_option("--duration-ns", pa.job.duration_ns);
  peer->add_option("--sample-every", pa.job.sample_every);
  peer->add_option("--capacity", pa.job.options.capacity);
  peer->add_option("--wait", wait);
  peer->add_option("--control-fd", pa.control_fd)->required();
  int peer_nodelay = 1;
  peer->add_option("--tcp-nodelay", peer_nodelay);
  peer->add_option("--cpu-a", pa.cpu_a);
  peer->add_option("--rate", pa.job.rate);
  peer->add_option("--sample-auto", pa.job.sample_auto);
  peer->add_option("--min-time-ns", pa.job.min_time_ns);
  peer->add_option("--inject-delay-ns", pa.job.inject_delay_ns);
  peer->add_option("--inject-stall-ns", pa.job.inject_stall_ns);
  peer->add_option("--cpu-b", pa.cpu_b);

  if (argc > 1 && argv[1][0] != '-') {
    const std::string_view cmd = argv[1];
    if (cmd != "run" && cmd != "list" && cmd != "env" && cmd != "clean" && cmd != "peer") {
      fmt::print(
          stderr,
          "ipcperf: unknown command '{}' (commands: run, list, env, clean; see 'ipcperf --help')\n",
          cmd);
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "ipcperf: {}\nRun 'ipcperf --help' or 'ipcperf SUBCOMMAND --help'.\n",
               e.what());
    return kExitUsage;
  }

  try {
    if (*run) return cmd_run(ra, *run, args);
    if (*list) return cmd_list(list_json);
    if (*env) return cmd_env(env_json, env_cpus, env->count("--cpus") > 0);
    if (*clean) return cmd_clean();
    if (*peer) {
      pa.both = role == "AB";
      pa.job.role = role == "A" || pa.both ? Role::kA : Role::kB;
      pa.job.options.tcp_nodelay = peer_nodelay != 0;
      pa.job.workload =
          pa.backend == "floor-cacheline" ? Workload::kPingpong : parse_workload(workload);
      pa.job.options.wait = parse_wait(wait);
      return peer_main(pa);
    }
  } catch (const UsageError& e) {
    fmt::print(stderr, "ipcperf: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ipcperf: error: {}\n", e.what());
    return kExitFailed;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace ipcperf

int main(int argc, char** argv) { return ipcperf::real_main(argc, argv); }
