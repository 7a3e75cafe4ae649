// What a peer runs (PeerJob) and what it reports back (PeerOutcome).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ipcperf/backend.hpp"
#include "stats/histogram.hpp"

namespace ipcperf {

enum class Workload : uint8_t { kPingpong, kStream, kPaced };

// Paced messages carry their intended send time (CLOCK_MONOTONIC ns) in the first payload word,
// so they are at least this long.
inline constexpr size_t kPacedMinSize = 24;

// Round trips at least this long are all timed when sampling is automatic (see PeerJob).
inline constexpr int64_t kAutoSampleNs = 5'000;
std::string_view to_string(Workload w);
Workload parse_workload(std::string_view s);  // throws UsageError

struct PeerJob {
  Role role = Role::kA;
  std::string spec;  // the backend's Endpoints::spec
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
  // Called once the channel is open: reports READY and blocks until the supervisor says GO.
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
};

}  // namespace ipcperf
