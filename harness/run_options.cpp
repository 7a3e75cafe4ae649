#include "run_options.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/message.hpp"
#include "output_file.hpp"
#include "registry.hpp"
#include "suites/suites.hpp"
#include "workloads/workload.hpp"

namespace ipcperf {

namespace {

// The bounds of the numbers a run takes (a larger value is a typo, or would overflow a deadline
// or exhaust memory before anything is measured).
constexpr int kMaxReps = 100'000;
constexpr uint64_t kMaxWarmup = 1'000'000'000;
constexpr uint64_t kMaxSampleEvery = uint64_t{1} << 20;
constexpr double kMaxTimeoutS = 86'400;  // a day

// Checks that `path` can be written, without leaving a file behind.
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

const Suite& find_suite_or_throw(const std::string& name) {
  if (const Suite* suite = find_suite(name)) return *suite;
  std::string names;
  for (const auto& s : suites()) names += (names.empty() ? "" : ", ") + std::string(s.name);
  throw UsageError(fmt::format("--suite: unknown suite '{}' (known: {})", name, names));
}

// What runs: backends ("all" expands to the registry), workloads, sizes, rates.
void resolve_cases(const RunArgs& a, const Suite& suite, RunOptions& o) {
  auto given = [&](const char* name) { return a.given.count(name) > 0; };
  std::vector<std::string> backends;
  if (given("--backends")) {
    backends = split_list(a.backends, "--backends");
    o.backends_explicit = true;
  } else {
    for (auto b : suite.backends) backends.emplace_back(b);
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
    for (auto w : suite.workloads) o.workloads.push_back(parse_workload(w));
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
    o.sizes = suite.sizes;
  }
  for (const auto& r : split_list(a.rate, "--rate")) {
    o.rates.push_back(parse_count(r, "--rate"));
    if (o.rates.back() == 0 || o.rates.back() > 100'000'000) {
      throw UsageError(
          fmt::format("--rate: '{}' is not allowed: messages per second between 1 and 100M", r));
    }
  }
}

// How long and how each repetition measures: reps, count or time, warm-up, sampling, self-check.
void resolve_measurement(const RunArgs& a, const Suite& suite, RunOptions& o) {
  auto given = [&](const char* name) { return a.given.count(name) > 0; };
  o.reps = given("--reps") ? a.reps : suite.reps;
  if (o.reps < 1 || o.reps > kMaxReps) {
    throw UsageError(fmt::format("--reps: {} is out of range: 1 to {}", o.reps, kMaxReps));
  }
  o.duration_ns = suite.duration_ns;
  if (given("--messages")) {
    o.messages = parse_count(a.messages, "--messages");
    if (o.messages == 0)
      throw UsageError("--messages: 0 is not allowed: at least 1 measured message");
  }
  if (given("--duration")) {
    o.duration_ns = parse_duration_ns(a.duration, "--duration");
    if (o.duration_ns <= 0) throw UsageError("--duration: must be above zero, e.g. 0.5s");
  }
  if (given("--min-time")) {
    o.min_time_ns = parse_duration_ns(a.min_time, "--min-time");
    if (o.min_time_ns < 0) throw UsageError("--min-time: must not be negative");
  }
  o.warmup = given("--warmup") ? parse_count(a.warmup, "--warmup") : suite.warmup;
  if (o.warmup > kMaxWarmup) {
    throw UsageError(fmt::format("--warmup: {} is out of range: 0 to {}", o.warmup, kMaxWarmup));
  }
  o.sample_everys.clear();
  for (const auto& v : split_list(a.sample_every, "--sample-every")) {
    const uint64_t every = parse_count(v, "--sample-every");
    if (every > kMaxSampleEvery) {
      throw UsageError(
          fmt::format("--sample-every: '{}' is out of range: 0 (none) or a power of two up to {}",
                      v, kMaxSampleEvery));
    }
    o.sample_everys.push_back(static_cast<uint32_t>(every));
  }
  o.sample_every = o.sample_everys.front();
  o.sample_auto = !given("--sample-every");
  if (given("--inject-delay"))
    o.inject_delay_ns = parse_duration_ns(a.inject_delay, "--inject-delay");
  if (given("--inject-stall"))
    o.inject_stall_ns = parse_duration_ns(a.inject_stall, "--inject-stall");
  o.seed = given("--seed") ? parse_count(a.seed, "--seed") : std::random_device{}();
  o.timeout_s = a.timeout;
  if (!(o.timeout_s > 0) || o.timeout_s > kMaxTimeoutS) {  // also NaN and inf
    throw UsageError(fmt::format("--timeout: {} is out of range: seconds above 0, at most {}",
                                 a.timeout, kMaxTimeoutS));
  }
  o.floor = !a.no_floor;
}

// Where and with what the peers run: CPUs, capacity, wait, the backends' own options.
void resolve_channel(const RunArgs& a, RunOptions& o) {
  auto given = [&](const char* name) { return a.given.count(name) > 0; };
  o.cpus = given("--cpus") ? parse_cpus(a.cpus) : default_cpus();
  if (given("--capacity")) {
    o.capacity = parse_size(a.capacity, "--capacity");
    if (o.capacity == 0) throw UsageError("--capacity: 0 is not allowed: give bytes, e.g. 64K");
  }
  if (given("--wait")) o.wait = parse_wait(a.wait);
  for (const BackendOption& opt : backend_options()) {
    const auto it = a.backend_params.find(opt.flag);
    if (it == a.backend_params.end() || a.given.count(fmt::format("--{}", opt.flag)) == 0) continue;
    const std::string value = opt.normalize(it->second);
    if (value.empty()) {
      throw UsageError(
          fmt::format("--{}: '{}' is not allowed: {}", opt.flag, it->second, opt.allowed()));
    }
    o.backend_params[std::string(opt.flag)] = value;
  }
}

void resolve_outputs(const RunArgs& a, RunOptions& o) {
  o.out_json = a.out;
  o.out_csv = a.csv;
  o.out_hgrm = a.hgrm;
  o.quiet = a.quiet;
  o.wide = a.wide;
  o.reference = a.reference;
  check_output_path(o.out_json, "--out");
  check_output_path(o.out_csv, "--csv");
  check_writable_dir(o.out_hgrm, "--hgrm");
  if (!o.out_json.empty() && !o.out_csv.empty() &&
      std::filesystem::weakly_canonical(o.out_json) ==
          std::filesystem::weakly_canonical(o.out_csv)) {
    throw UsageError(fmt::format(
        "--out and --csv name the same file '{}': the CSV would replace the JSON", o.out_csv));
  }
}

}  // namespace

RunOptions resolve_run_options(const RunArgs& a, const std::vector<std::string>& argv) {
  RunOptions o;
  o.command_line = argv;
  const Suite& suite = find_suite_or_throw(a.suite);
  o.suite = a.suite;
  resolve_cases(a, suite, o);
  resolve_measurement(a, suite, o);
  resolve_channel(a, o);
  resolve_outputs(a, o);
  return o;
}

}  // namespace ipcperf
