#include "peer.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include "floor.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {

std::string_view to_string(Workload w) {
  switch (w) {
    case Workload::kPingpong:
      return "pingpong";
    case Workload::kStream:
      return "stream";
    case Workload::kPaced:
      return "paced";
  }
  return "?";
}

Workload parse_workload(std::string_view s) {
  if (s == "pingpong") return Workload::kPingpong;
  if (s == "stream") return Workload::kStream;
  if (s == "paced") return Workload::kPaced;
  throw UsageError(
      fmt::format("--workloads: unknown workload '{}' (known: pingpong, stream, paced)", s));
}

nlohmann::json histogram_to_json(const Histogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& b : h.buckets()) buckets.push_back({b.lo, b.count});
  return {{"digits", h.significant_digits()},
          {"count", h.count()},
          {"min", h.min()},
          {"max", h.max()},
          {"sum", h.sum()},
          {"buckets", buckets}};
}

Histogram histogram_from_json(const nlohmann::json& j) {
  Histogram h(j.at("digits").get<int>());
  for (const auto& b : j.at("buckets"))
    h.add_bucket(b.at(0).get<uint64_t>(), b.at(1).get<uint64_t>());
  h.restore_extremes(j.at("min").get<uint64_t>(), j.at("max").get<uint64_t>(),
                     j.at("sum").get<double>());
  return h;
}

nlohmann::json outcome_to_json(const PeerOutcome& o) {
  return {{"messages", o.messages},
          {"bytes", o.bytes},
          {"elapsed_ns", o.elapsed_ns},
          {"verified", o.verified},
          {"lost", o.lost},
          {"max_lag_ns", o.max_lag_ns},
          {"sample_every", o.sample_every},
          {"cpu_user_ns", o.cpu_user_ns},
          {"cpu_sys_ns", o.cpu_sys_ns},
          {"ctx_voluntary", o.ctx_voluntary},
          {"ctx_involuntary", o.ctx_involuntary},
          {"latency", histogram_to_json(o.latency)}};
}

PeerOutcome outcome_from_json(const nlohmann::json& j) {
  PeerOutcome o;
  o.messages = j.at("messages").get<uint64_t>();
  o.bytes = j.at("bytes").get<uint64_t>();
  o.elapsed_ns = j.at("elapsed_ns").get<int64_t>();
  o.verified = j.at("verified").get<uint64_t>();
  o.lost = j.at("lost").get<uint64_t>();
  o.max_lag_ns = j.at("max_lag_ns").get<int64_t>();
  o.sample_every = j.at("sample_every").get<uint32_t>();
  o.cpu_user_ns = j.at("cpu_user_ns").get<int64_t>();
  o.cpu_sys_ns = j.at("cpu_sys_ns").get<int64_t>();
  o.ctx_voluntary = j.at("ctx_voluntary").get<int64_t>();
  o.ctx_involuntary = j.at("ctx_involuntary").get<int64_t>();
  o.latency = histogram_from_json(j.at("latency"));
  return o;
}

std::vector<std::string> peer_command_line(const std::string& backend, const PeerJob& job) {
  return {"peer",
          "--backend",
          backend,
          "--role",
          std::string(to_string(job.role)),
          "--spec",
          job.spec,
          "--workload",
          std::string(to_string(job.workload)),
          "--size",
          std::to_string(job.size),
          "--warmup",
          std::to_string(job.warmup),
          "--messages",
          std::to_string(job.messages),
          "--duration-ns",
          std::to_string(job.duration_ns),
          "--sample-every",
          std::to_string(job.sample_every),
          "--capacity",
          std::to_string(job.options.capacity),
          "--wait",
          std::string(to_string(job.options.wait)),
          "--tcp-nodelay",
          job.options.tcp_nodelay ? "1" : "0",
          "--sample-auto",
          job.sample_auto ? "1" : "0",
          "--rate",
          std::to_string(job.rate),
          "--min-time-ns",
          std::to_string(job.min_time_ns),
          "--inject-delay-ns",
          std::to_string(job.inject_delay_ns),
          "--inject-stall-ns",
          std::to_string(job.inject_stall_ns)};
}

std::vector<std::string> peer_command_line_in_process(const std::string& backend,
                                                      const PeerJob& job, int cpu_a, int cpu_b) {
  auto args = peer_command_line(backend, job);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--role") args[i + 1] = "AB";
  }
  args.insert(args.end(), {"--cpu-a", std::to_string(cpu_a), "--cpu-b", std::to_string(cpu_b)});
  return args;
}

namespace {

void send_line(int fd, const std::string& line) {
  std::string s = line;
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  s += '\n';
  write_full(fd, s.data(), s.size(), "control socket");
}

// Blocks until the supervisor's GO.
void wait_go(int fd) {
  std::string line;
  char c = 0;
  while (read_full(fd, &c, 1, "control socket")) {
    if (c == '\n') break;
    line += c;
  }
  if (line != "GO")
    throw std::runtime_error(fmt::format("expected GO from the supervisor, got '{}'", line));
}

}  // namespace

int peer_main(PeerArgs& args) {
  ::signal(SIGPIPE, SIG_IGN);  // a dead peer must be an EPIPE error, not a silent death
  const int ctl = args.control_fd;
  try {
    args.job.ready = [ctl] {
      send_line(ctl, "READY");
      wait_go(ctl);
    };
    PeerOutcome out;
    if (args.both) {
      auto backend = make_backend(args.backend);
      if (!backend) throw std::runtime_error(fmt::format("unknown backend '{}'", args.backend));
      args.job.options.max_message = args.job.size;
      PeerJob a = args.job, b = args.job;
      a.role = Role::kA;
      b.role = Role::kB;
      b.ready = nullptr;  // thread A reports READY once both threads have opened the channel
      PeerOutcome out_b;
      backend->run_threads(a, b, args.cpu_a, args.cpu_b, out, out_b);
      send_line(
          ctl,
          "RESULT " +
              nlohmann::json{{"a", outcome_to_json(out)}, {"b", outcome_to_json(out_b)}}.dump());
      return 0;
    }
    if (args.backend == "floor-cacheline") {
      out = run_floor_cacheline_peer(args.job);
    } else {
      auto backend = make_backend(args.backend);
      if (!backend) throw std::runtime_error(fmt::format("unknown backend '{}'", args.backend));
      args.job.options.max_message = args.job.size;
      out = backend->run_peer(args.job);
    }
    send_line(ctl, "RESULT " + outcome_to_json(out).dump());
    return 0;
  } catch (const std::exception& e) {
    // GONE: this peer failed because the other one went away (the supervisor then reports the
    // other one's failure as the cause); ERROR: this peer failed on its own.
    const bool gone = dynamic_cast<const PeerGone*>(&e) != nullptr;
    try {
      send_line(ctl, fmt::format("{} peer {}: {}", gone ? "GONE" : "ERROR",
                                 args.both ? "A+B" : to_string(args.job.role), e.what()));
    } catch (...) {
      fmt::print(stderr, "peer {}: {}\n", to_string(args.job.role), e.what());
    }
    return 1;
  }
}

}  // namespace ipcperf
