#include "peer.hpp"

#include <signal.h>

#include <fmt/format.h>

#include "floors/floor.hpp"
#include "ipcperf/sys.hpp"
#include "protocol.hpp"
#include "registry.hpp"

namespace ipcperf {

namespace {

// Runs the job: a floor's peer side, or the backend's channel with the job's workload (A and B
// as two threads for role AB). Returns the outcomes to report.
std::vector<PeerOutcome> run_job(PeerJob& job) {
  if (const Floor* floor = find_floor(job.part)) return {floor->run_peer(job)};
  auto backend = make_backend(job.part);
  if (!backend) throw ProtocolError(fmt::format("job: unknown backend '{}'", job.part));
  job.options.max_message = job.size;
  if (job.peer == PeerRole::kAB) {
    PeerOutcome b;
    PeerOutcome a = backend->run_peer(job, &b);
    return {std::move(a), std::move(b)};
  }
  return {backend->run_peer(job, nullptr)};
}

}  // namespace

int peer_main(int ctl) {
  ::signal(SIGPIPE, SIG_IGN);  // a dead peer must be an EPIPE error, not a silent death
  std::string who = "?";
  try {
    const ControlMessage first = receive_control(ctl);
    if (first.kind != ControlKind::kJob) {
      throw ProtocolError(fmt::format("expected JOB from the supervisor, got {}",
                                      to_string(first.kind)));
    }
    PeerJob job = decode_job(first.body);
    who = job.peer == PeerRole::kAB ? "A+B" : std::string(to_string(job.peer));
    job.ready = [ctl] {
      send_control(ctl, {ControlKind::kReady, ""});
      const ControlMessage go = receive_control(ctl);
      if (go.kind != ControlKind::kGo) {
        throw ProtocolError(
            fmt::format("expected GO from the supervisor, got {}", to_string(go.kind)));
      }
    };
    send_control(ctl, {ControlKind::kResult, encode_result(run_job(job))});
    return 0;
  } catch (const std::exception& e) {
    // GONE: this peer failed because the other one went away (the supervisor then reports the
    // other one's failure as the cause); ERROR: this peer failed on its own.
    const bool gone = dynamic_cast<const PeerGone*>(&e) != nullptr;
    try {
      send_control(ctl, {gone ? ControlKind::kGone : ControlKind::kError,
                         fmt::format("peer {}: {}", who, e.what())});
    } catch (...) {
      fmt::print(stderr, "peer {}: {}\n", who, e.what());
    }
    return 1;
  }
}

}  // namespace ipcperf
