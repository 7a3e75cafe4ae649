// The peer protocol: what a peer process is asked to run (PeerJob), what it reports (PeerOutcome),
// and the control messages between the supervisor and each peer, with the one codec both sides
// use. Every peer is spawned as `ipcperf peer --control-fd N` with nothing else on its command
// line; the conversation on that descriptor (one message per line) is
//
//   supervisor -> peer   JOB <json>        the job, encode_job()
//   peer -> supervisor   READY             the channel is open; waits for GO
//   supervisor -> peer   GO                all peers are ready: start
//   peer -> supervisor   RESULT <json>     the outcomes, encode_result() (one, or A and B for AB)
//                      | ERROR <text>      this peer failed on its own
//                      | GONE <text>       this peer failed because another one went away
//
// Under an MPI launcher the same messages travel between ranks instead of over a socket.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipcperf/backend.hpp"
#include "stats/histogram.hpp"

namespace ipcperf {

// A control line or job that cannot be decoded: says what is wrong, never crashes.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Workload : uint8_t { kPingpong, kStream, kPaced };
std::string_view to_string(Workload w);

// Which process of a case this peer is: one end of a pair (A, B), both ends as two threads of one
// process (AB: in-process backends), or the coordinator / worker `worker` of `workers` (farm).
enum class PeerRole : uint8_t { kA, kB, kAB, kCoordinator, kWorker };
std::string_view to_string(PeerRole r);

// Paced messages carry their intended send time (CLOCK_MONOTONIC ns) in the first payload word,
// so they are at least this long.
inline constexpr size_t kPacedMinSize = 24;

// Round trips at least this long are all timed when sampling is automatic (see PeerJob).
inline constexpr int64_t kAutoSampleNs = 5'000;

struct PeerJob {
  PeerRole peer = PeerRole::kA;
  Role role = Role::kA;  // the channel end this process (or thread) drives
  std::string part;      // a backend name or a floor's name (floors.hpp)
  std::string spec;      // the backend's Endpoints::spec
  ChannelOptions options;
  Workload workload = Workload::kPingpong;
  size_t size = 64;            // bytes per message, header included
  uint64_t warmup = 1000;      // messages before the measured phase
  uint64_t messages = 0;       // measured messages; 0 = bounded by duration_ns instead
  int64_t duration_ns = 0;     // measured phase length when messages == 0
  uint32_t sample_every = 64;  // pingpong: one round trip in this many is timed on its own
                               // (0: none; the latency histogram stays empty)
  // pingpong: time every round trip instead when the warm-up's round trips take at least
  // kAutoSampleNs (two clock reads are then under 1 % of one); set unless --sample-every was given.
  bool sample_auto = false;
  uint64_t rate = 0;        // paced: messages per second A sends
  int64_t min_time_ns = 0;  // with `messages`: the measured phase lasts at least this long
  // Self-check of the measurement chain: the receiving side busy-waits this long per message
  // before it replies (pingpong), counts (stream) or timestamps (paced) it...
  int64_t inject_delay_ns = 0;
  // ...and once, halfway through the measured phase, for this long.
  int64_t inject_stall_ns = 0;
  int cpu_a = -1, cpu_b = -1;  // AB: the CPUs of the A and B threads (-1: not pinned)
  uint32_t worker = 0;         // kWorker: this worker's index among `workers`
  uint32_t workers = 0;        // kCoordinator / kWorker: how many workers the case has
  int rank = -1;               // under an MPI launcher: this process's rank (-1: none)
  // Not encoded: called once the channel is open; reports READY and blocks until GO.
  std::function<void()> ready;
};

struct PeerOutcome {
  uint64_t messages = 0;    // messages in the measured phase (round trips for pingpong)
  uint64_t bytes = 0;       // payload bytes in the measured phase (one direction)
  int64_t elapsed_ns = 0;   // measured phase: pingpong at A = all round trips; stream at B =
                            // first to last measured message
  uint64_t verified = 0;    // messages this peer received and verified, warm-up included
  uint64_t lost = 0;        // lossy backends: pingpong at A = round trips whose reply never
                            // came; at B = sequence gaps seen in the measured phase
  int64_t cpu_user_ns = 0;  // this peer's CPU during its measured phase
  int64_t cpu_sys_ns = 0;
  int64_t ctx_voluntary = 0;
  int64_t ctx_involuntary = 0;
  Histogram latency{3};       // pingpong at A: sampled round-trip times (ns); paced at B: one-way
                              // latency of every measured message from its intended send time
  int64_t max_lag_ns = 0;     // paced at A: the most a send started after its intended time
  uint32_t sample_every = 0;  // pingpong at A: the sampling interval used (0: none)
  uint64_t refused = 0;       // connections to the channel that were not the peer's, closed
                              // unheard (tcp at B: ipcperf/sockets.hpp, peer authentication)
};

// ---- the codec -------------------------------------------------------------------------------

std::string encode_job(const PeerJob& job);  // JSON, one line
PeerJob decode_job(std::string_view text);   // throws ProtocolError naming the bad field

std::string encode_result(const std::vector<PeerOutcome>& outcomes);  // JSON, one line
std::vector<PeerOutcome> decode_result(std::string_view text);        // throws ProtocolError

nlohmann::json histogram_to_json(const Histogram& h);
Histogram histogram_from_json(const nlohmann::json& j);  // throws ProtocolError

enum class ControlKind : uint8_t { kJob, kReady, kGo, kResult, kError, kGone };
std::string_view to_string(ControlKind k);

struct ControlMessage {
  ControlKind kind = ControlKind::kReady;
  std::string body;  // JOB / RESULT: JSON; ERROR / GONE: the reason; READY / GO: empty
  bool operator==(const ControlMessage&) const = default;
};

// "KIND[ body]\n"; a newline in the body becomes a space (one message per line).
std::string encode_control(const ControlMessage& m);
// One line without its newline. Throws ProtocolError for an unknown kind, a body where none
// belongs, or a JOB / RESULT / ERROR / GONE without one.
ControlMessage decode_control(std::string_view line);

// Splits a byte stream into control lines: feed() what was read, then take complete lines.
class LineBuffer {
 public:
  // Guards against a peer that writes without newlines (the longest line: a RESULT with two
  // full histograms is well below this).
  static constexpr size_t kMaxLine = 16 * 1024 * 1024;
  void feed(std::string_view bytes);
  // The next complete line (without '\n'), or false. Throws ProtocolError past kMaxLine.
  bool next(std::string& line);

 private:
  std::string buf_;
};

// Blocking helpers for the peer side of a control descriptor.
void send_control(int fd, const ControlMessage& m);
// Reads one line; throws ProtocolError on EOF before a newline.
ControlMessage receive_control(int fd);

}  // namespace ipcperf
