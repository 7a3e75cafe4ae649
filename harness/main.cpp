// ipcperf: benchmarks Linux inter-process communication between supervised processes.
//   ipcperf run ...     the supervisor: plans, launches peers, reports
//   ipcperf list        the backends and floors, their limits on this machine
//   ipcperf env         the machine as a run sees it, and the warnings with what to do
//   ipcperf clean       removes IPC objects left by ipcperf processes that died
//   ipcperf peer ...    (hidden) one process of a case, spawned by `run` (protocol.hpp)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "build_info.hpp"
#include "environment.hpp"
#include "floors/floor.hpp"
#include "ipcperf/message.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/wait.hpp"
#include "launcher.hpp"
#include "output_file.hpp"
#include "peer.hpp"
#include "plan.hpp"
#include "registry.hpp"
#include "reporters/hgrm_reporter.hpp"
#include "reporters/reporter.hpp"
#include "reporters/units.hpp"
#include "run_options.hpp"
#include "runner.hpp"

namespace ipcperf {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

bool show_progress(const RunOptions& o) {
  const char* ci = std::getenv("CI");
  return !o.quiet && ::isatty(2) && (ci == nullptr || std::string_view(ci) != "true");
}

// A 20-cell bar, then the count, the case and the ETA from the mean time per repetition so far
// (the order is shuffled, so the mean is representative early on). TTY only.
std::function<void(const Progress&)> progress_bar(bool enabled) {
  if (!enabled) return {};
  const int64_t start = now_ns();
  return [start](const Progress& p) {
    std::string eta;
    if (p.done > 0) {
      const double per = static_cast<double>(now_ns() - start) / p.done;
      eta = fmt::format(" ETA {:.0f} s", per * (p.total - p.done) / 1e9);
    }
    constexpr int kCells = 20;
    const int filled = p.total > 0 ? p.done * kCells / p.total : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kCells - filled), '.');
    fmt::print(stderr, "\r\x1b[K[{}] {:>{}}/{} {} rep {}{}", bar, p.done + 1,
               std::to_string(p.total).size(), p.total, p.current->spec.name, p.rep + 1, eta);
  };
}

// Writes one output file with `write`, atomically (output_file.hpp); false (and a line on
// stderr saying why, the old file left as it was) when it could not.
template <class Write>
bool write_output(const std::string& path, const RunOptions& opt, Write&& write) {
  if (path.empty()) return true;
  std::ostringstream text;
  write(text);
  if (const std::string error = write_file_atomically(path, text.str()); !error.empty()) {
    fmt::print(stderr, "ipcperf: could not write {}: {}\n", path, error);
    return false;
  }
  if (!opt.quiet) fmt::print(stderr, "ipcperf: wrote {}\n", path);
  return true;
}

// The table on stdout, then the files; the exit code of the run.
int report(const RunResult& result, const RunOptions& opt) {
  if (!opt.quiet) {
    write_table(result, std::cout, {.color = ::isatty(1) != 0, .wide = opt.wide});
    std::cout.flush();
  }
  if (!write_output(opt.out_json, opt, [&](std::ostream& f) { write_json(result, f); }) ||
      !write_output(opt.out_csv, opt, [&](std::ostream& f) { write_csv(result, f); })) {
    return kExitFailed;
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
  // A run whose every backend case was skipped (e.g. --sizes 1G: no backend takes it) measured
  // nothing: say so, and do not exit 0.
  const bool any_case =
      std::any_of(result.cases.begin(), result.cases.end(),
                  [](const CaseResult& c) { return c.spec.family != kFloorFamily; });
  const bool measured = std::any_of(result.cases.begin(), result.cases.end(), [](const auto& c) {
    return c.spec.family != kFloorFamily && c.status == CaseStatus::kOk;
  });
  if (any_case && !measured) {
    fmt::print(
        stderr,
        "ipcperf: nothing was measured: every case was skipped (the table and the JSON say why)\n");
    return kExitFailed;
  }
  return kExitOk;
}

int cmd_run(const RunArgs& a, const std::vector<std::string>& argv) {
  const RunOptions opt = resolve_run_options(a, argv);
  const Plan plan = build_plan(opt);
  install_interrupt_handler();
  const SweepReport swept = sweep_stale_objects(ObjectRoots::of_this_machine());
  if (!swept.error.empty()) {
    // Out of descriptors before the first case: every case needs more than the sweep did.
    fmt::print(stderr, "ipcperf: error: {}\n", swept.error);
    return kExitFailed;
  }
  if (!opt.quiet) {
    for (const auto& removed : swept.removed)
      fmt::print(stderr, "ipcperf: removed a stale object of a dead run: {}\n", removed);
    for (const auto& left : swept.left_alone)
      fmt::print(stderr, "ipcperf: left alone (named like ours, not ours): {}\n", left);
  }
  RunResult result;
  result.context = collect_context(opt);
  result.warnings = environment_warnings(result.context, opt);
  result.warnings.insert(result.warnings.end(), plan.warnings.begin(), plan.warnings.end());
  if (!opt.quiet) {
    for (const auto& w : result.warnings) fmt::print(stderr, "warning: {}\n", w);
  }
  const bool progress = show_progress(opt);
  RunResult ran = run_plan(plan, opt, progress_bar(progress));
  if (progress) fmt::print(stderr, "\r\x1b[K");
  result.cases = std::move(ran.cases);
  result.reference = std::move(ran.reference);
  return report(result, opt);
}

// Prints rows as columns two spaces apart, the last column unpadded.
void print_columns(const std::vector<std::vector<std::string>>& t) {
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
}

nlohmann::json backend_rows() {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : registry()) {
    auto b = e.make();
    const BackendInfo& i = b->info();
    ChannelOptions o = b->resolve({});
    o.wait = i.default_wait;
    std::string unavailable;
    try {
      b->check(o);
    } catch (const std::exception& ex) {
      unavailable = ex.what();
    }
    nlohmann::json options = nlohmann::json::array();
    for (const BackendOption& opt : i.options) {
      options.push_back({{"flag", opt.flag}, {"default", opt.default_value}, {"help", opt.help}});
    }
    rows.push_back({{"name", i.name},
                    {"family", to_string(i.family)},
                    {"max_message_bytes", b->max_message_size(o)},
                    {"default_capacity_bytes", i.default_capacity},
                    {"waits", i.waits.to_string()},
                    {"default_wait", to_string(i.default_wait)},
                    {"summary", i.summary},
                    {"options", options},
                    {"available", unavailable.empty()},
                    {"unavailable_reason", unavailable}});
  }
  return rows;
}

int cmd_list(bool json) {
  const nlohmann::json rows = backend_rows();
  nlohmann::json floor_rows = nlohmann::json::array();
  for (const Floor* f : floors()) {
    floor_rows.push_back(
        {{"name", fmt::format("floor/{}", f->info().name)}, {"summary", f->info().summary}});
  }
  if (json) {  // the backends, as before the floors were listed (a stable schema)
    std::cout << rows.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> t = {
      {"backend", "family", "max message", "capacity", "wait (default first)", "semantics"}};
  for (const auto& r : rows) {
    const std::string default_wait = r["default_wait"].get<std::string>();
    std::string waits = default_wait;
    for (const auto& w : split_list(r["waits"].get<std::string>(), "waits")) {
      if (w != default_wait) waits += "," + w;
    }
    std::string semantics = r["summary"].get<std::string>();
    for (const auto& o : r["options"])
      semantics += fmt::format(" [--{}]", o["flag"].get<std::string>());
    if (!r["available"].get<bool>())
      semantics += " [unavailable: " + r["unavailable_reason"].get<std::string>() + "]";
    t.push_back({r["name"].get<std::string>(), r["family"].get<std::string>(),
                 format_size(r["max_message_bytes"].get<size_t>()),
                 // 0: the kernel sizes the buffers (tcp's autotuning)
                 r["default_capacity_bytes"].get<size_t>() == 0
                     ? std::string("auto")
                     : format_size(r["default_capacity_bytes"].get<size_t>()),
                 waits, semantics});
  }
  print_columns(t);
  std::cout << "\nmax message and capacity are per direction, on this machine with the default "
               "--capacity; sizes above the maximum are refused before a run starts.\n\n";
  std::vector<std::vector<std::string>> f = {{"floor", "measures"}};
  for (const auto& r : floor_rows)
    f.push_back({r["name"].get<std::string>(), r["summary"].get<std::string>()});
  print_columns(f);
  std::cout << "\nThe floors run in every run next to the cases (--no-floor skips them); they are "
               "not backends and not part of --backends all.\n";
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
  const SweepReport swept = sweep_stale_objects(ObjectRoots::of_this_machine());
  for (const auto& r : swept.removed) fmt::print("removed {}\n", r);
  for (const auto& l : swept.left_alone) fmt::print("left alone {}\n", l);
  fmt::print("{} stale object{} removed (objects of live ipcperf processes are kept){}\n",
             swept.removed.size(), swept.removed.size() == 1 ? "" : "s",
             swept.left_alone.empty()
                 ? ""
                 : fmt::format("; {} named like ours but not made by this user's ipcperf, left "
                               "alone",
                               swept.left_alone.size()));
  if (!swept.error.empty()) {
    fmt::print(
        stderr,
        "ipcperf: error: clean could not look at everything (what it did not reach is kept): {}\n",
        swept.error);
    return kExitFailed;
  }
  return kExitOk;
}

std::string resolve_self() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

CLI::App* add_run_command(CLI::App& app, RunArgs& ra) {
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
  run->add_flag("--wide", ra.wide,
                "Show every column of the table (default: the columns that fit 100)");
  run->add_option("--reference", ra.reference,
                  "Compare every other backend with this one (a backend of --backends): "
                  "speedup_vs_BACKEND per case, >1 = faster; median of per-round paired ratios "
                  "with a 95% CI (column ×ref, a summary line per workload and size)");
  // The backends' own options (tcp's --tcp-nodelay ...), as each backend declares them.
  for (const BackendOption& o : backend_options()) {
    run->add_option(fmt::format("--{}", o.flag), ra.backend_params[std::string(o.flag)],
                    std::string(o.help));
  }

  return run;
}

// The options of `ipcperf run` that were on the command line (the rest take the suite's value).
std::set<std::string, std::less<>> given_options(const CLI::App& run) {
  std::set<std::string, std::less<>> given;
  for (const CLI::Option* o : run.get_options()) {
    if (o->count() > 0) given.insert(o->get_name());
  }
  return given;
}

struct Commands {
  RunArgs run_args;
  bool list_json = false, env_json = false;
  std::string env_cpus;
  int control_fd = -1;
  CLI::App *run = nullptr, *list = nullptr, *env = nullptr, *clean = nullptr, *peer = nullptr;
};

void add_commands(CLI::App& app, Commands& c) {
  c.run = add_run_command(app, c.run_args);
  c.list = app.add_subcommand(
      "list", "List the backends and floors, their limits on this machine and semantics");
  c.list->add_flag("--json", c.list_json, "Print JSON instead of a table");
  c.env = app.add_subcommand(
      "env", "Show the machine as a run sees it (CPU, pinning, SMT, NUMA, governor, VM, ...)");
  c.env->add_flag("--json", c.env_json, "Print JSON instead of text");
  c.env->add_option("--cpus", c.env_cpus,
                    "CPUs of peers A,B to check (default: the first two allowed); none = unpinned");
  c.clean =
      app.add_subcommand("clean", "Remove IPC objects left behind by ipcperf processes that died");
  // Hidden: spawned by run; the job comes over the control descriptor (protocol.hpp).
  c.peer = app.add_subcommand("peer", "internal: one process of a case");
  c.peer->group("");
  c.peer->add_option("--control-fd", c.control_fd)->required();
}

int dispatch(const Commands& c, const std::vector<std::string>& args) {
  if (*c.run) {
    RunArgs a = c.run_args;
    a.given = given_options(*c.run);
    return cmd_run(a, args);
  }
  if (*c.list) return cmd_list(c.list_json);
  if (*c.env) return cmd_env(c.env_json, c.env_cpus, c.env->count("--cpus") > 0);
  if (*c.clean) return cmd_clean();
  if (*c.peer) return peer_main(c.control_fd);
  return kExitUsage;
}

int real_main(int argc, char** argv) {
  set_self_exe(resolve_self());
  const std::vector<std::string> args(argv, argv + argc);
  CLI::App app{
      "ipcperf: benchmarks Linux IPC (shared memory vs message passing) between pairs of "
      "real, pinned processes; every message verified."};
  app.set_version_flag("--version", fmt::format("ipcperf {} ({}, {} build)", build::kVersion,
                                                build::kGitRevision, build::kBuildType));
  app.require_subcommand(1);
  app.footer(
      "Run 'ipcperf SUBCOMMAND --help' for the options of each. Docs: README.md, docs/method.md");
  Commands commands;
  add_commands(app, commands);
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
    return dispatch(commands, args);
  } catch (const UsageError& e) {
    fmt::print(stderr, "ipcperf: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ipcperf: error: {}\n", e.what());
    return kExitFailed;
  }
}

}  // namespace
}  // namespace ipcperf

int main(int argc, char** argv) { return ipcperf::real_main(argc, argv); }
