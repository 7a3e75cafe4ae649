// What every workload loop shares: CPU accounting, verification on receipt, the end of a
// measured phase, the self-check's injected delay, and the lossy END/ACK handshake. The loops are
// templates over the concrete channel type (ipcperf/channel.hpp), so send/recv inline into them.
//
// Timing never distorts the loop: the measured phase is timed as a whole (two clock reads), and
// pingpong times one round trip in every `sample_every` on its own (one clock_gettime pair, ~47 ns
// on the reference machine, amortised to <1 ns per round trip at 1 in 64) for the latency
// histogram. Both are CLOCK_MONOTONIC via the vDSO.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include <sys/resource.h>
#include <time.h>

#include <fmt/format.h>

#include "ipcperf/channel.hpp"
#include "ipcperf/message.hpp"
#include "ipcperf/wait.hpp"
#include "protocol.hpp"

namespace ipcperf {

// A received message was wrong: lost, duplicated, reordered, truncated or corrupted.
class VerificationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// CPU time and context switches of this process, for deltas around a measured phase.
struct Usage {
  int64_t user_ns = 0, sys_ns = 0, ctx_vol = 0, ctx_invol = 0;
  static Usage now() noexcept {
    rusage ru{};
    // This thread only: in-process backends run both endpoints as threads of one process.
    ::getrusage(RUSAGE_THREAD, &ru);
    auto ns = [](const timeval& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_usec * 1000; };
    return {ns(ru.ru_utime), ns(ru.ru_stime), ru.ru_nvcsw, ru.ru_nivcsw};
  }
  void store_delta(const Usage& start, PeerOutcome& out) const noexcept {
    out.cpu_user_ns = user_ns - start.user_ns;
    out.cpu_sys_ns = sys_ns - start.sys_ns;
    out.ctx_voluntary = ctx_vol - start.ctx_vol;
    out.ctx_involuntary = ctx_invol - start.ctx_invol;
  }
};

namespace detail {

// Busy-waits `ns` (the self-check's injected delay: a spin, so it is not rounded to a timer tick;
// no pause between clock reads, so it overshoots by at most one clock read).
inline void spin_for(int64_t ns) noexcept {
  const int64_t until = now_ns() + ns;
  while (now_ns() < until) {
  }
}

// How the self-check's delays are spent: a policy with one static `spin(ns)`, so that the tests
// can record the calls instead of waiting. A template argument, not a function pointer: the
// default call inlines exactly as spin_for did.
struct SpinDelay {
  static void spin(int64_t ns) noexcept { spin_for(ns); }
};

// The receiving side's self-check: the per-message delay, and a single stall once the measured
// phase is half over (by messages when bounded by messages, else by time).
template <class Delay = SpinDelay>
class Injection {
 public:
  explicit Injection(const PeerJob& job)
      : delay_(job.inject_delay_ns), stall_(job.inject_stall_ns), job_(&job) {}
  // Called per measured message i, with the phase's start time (0 until known).
  void apply(uint64_t i, int64_t phase_start) noexcept {
    if (delay_ != 0) Delay::spin(delay_);
    if (stall_ != 0 && !stalled_ && phase_start != 0) {
      const bool half = job_->messages != 0 ? i >= job_->messages / 2
                                            : now_ns() - phase_start >= job_->duration_ns / 2;
      if (half) {
        stalled_ = true;
        Delay::spin(stall_);
      }
    }
  }
  [[nodiscard]] bool any() const noexcept { return delay_ != 0 || stall_ != 0; }

 private:
  int64_t delay_, stall_;
  const PeerJob* job_;
  bool stalled_ = false;
};

inline void check(std::span<const std::byte> got, uint64_t seq, size_t size) {
  if (got.size() != size || got.size() < kMessageHeaderSize || read_header(got).seq != seq ||
      read_header(got).size != size || !payload_ok(got, seq)) [[unlikely]] {
    auto why = verify_message(got, seq, size);
    throw VerificationError(why ? *why : "message failed verification");
  }
}

// The first payload word of a paced message is its intended send time. The receiver reads it
// and puts the pattern word back, so that the usual check covers every other byte.
// Receives one message into rx and verifies it as message `seq` of `size` bytes.
template <Channel Ch>
std::span<const std::byte> recv_checked(Ch& ch, std::vector<std::byte>& rx, uint64_t seq,
                                        size_t size) {
  const size_t n = ch.recv(rx);
  const std::span<const std::byte> got{rx.data(), n};
  check(got, seq, size);
  return got;
}

inline void stamp(std::span<std::byte> m, int64_t when) noexcept {
  std::memcpy(m.data() + kMessageHeaderSize, &when, 8);
}
inline int64_t unstamp(std::span<std::byte> m, uint64_t seq) noexcept {
  int64_t when;
  std::memcpy(&when, m.data() + kMessageHeaderSize, 8);
  const uint64_t pattern = payload_seed(seq);
  std::memcpy(m.data() + kMessageHeaderSize, &pattern, 8);
  return when;
}

// The sampling interval of a pingpong: --sample-every, or, when sampling is automatic and the
// warm-up's round trips took at least kAutoSampleNs on average, every round trip (kernel
// transports: ~50 us round trips get full histograms, and two clock reads cost < 0.1 %).
inline uint32_t sampling_interval(const PeerJob& job, int64_t warmup_ns) noexcept {
  if (job.sample_auto && job.warmup >= 100 &&
      warmup_ns / static_cast<int64_t>(job.warmup) >= kAutoSampleNs) {
    return 1;
  }
  return job.sample_every;
}

// The sampling of a pingpong's round trips: one in `every` (a power of two; 0: none) is timed on
// its own. Sets out.sample_every and allocates the histogram before the clock starts.
struct Sampler {
  uint64_t mask;
  bool on;
  Sampler(const PeerJob& job, int64_t warmup_ns, PeerOutcome& out) {
    const uint32_t every = sampling_interval(job, warmup_ns);
    out.sample_every = every;
    // 0 = never (all bits set: i & mask is 0 only for i = 0, which `on` excludes).
    mask = every == 0 ? ~uint64_t{0} : every - 1;
    on = every != 0;
    if (on) out.latency.reserve();  // its ~270 KB, before the clock starts
  }
  [[nodiscard]] bool due(uint64_t i) const noexcept { return on && (i & mask) == 0; }
};

// A sender's measured phase is over after `count` messages of `size` bytes: its time since t0,
// its CPU since u0, and the counts.
inline void close_phase(PeerOutcome& out, const Usage& u0, int64_t t0, uint64_t count,
                        size_t size) noexcept {
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  out.messages = count;
  out.bytes = count * size;
}

// A reliable one-way receiver (stream, paced) got the last message, sequence `last_seq`: the
// phase ran from the first measured message at `first`; then it acknowledges, so that the sender's
// phase covers delivery.
template <Channel Ch>
void finish_receiving(Ch& ch, PeerOutcome& out, const Usage& u0, int64_t first, uint64_t last_seq,
                      const PeerJob& job) {
  close_phase(out, u0, first, last_seq + 1 - job.warmup, job.size);
  out.verified = last_seq + 1;
  std::vector<std::byte> ack(job.size);
  fill_message(ack, last_seq + 1, kFlagAck);
  ch.send(ack);
}

// Decides when a measured phase ends: after `messages`, or once the clock passes the deadline
// (looked at every 256 messages, so the check costs nothing measurable).
class PhaseEnd {
 public:
  PhaseEnd(const PeerJob& job, int64_t start_ns)
      : messages_(job.messages),
        timed_(job.messages == 0 || job.min_time_ns > 0),
        deadline_(start_ns + (job.messages != 0 ? job.min_time_ns : job.duration_ns)) {}
  // True when message i (0-based in the measured phase) is the last one: after `messages` (and,
  // with --min-time, not before that much time has passed), or at the deadline.
  bool last(uint64_t i) noexcept {
    if (messages_ != 0) {
      if (i + 1 < messages_) return false;
      return !timed_ || now_ns() >= deadline_;
    }
    if ((i & 255) == 255) stop_ = now_ns() >= deadline_;
    return stop_;
  }

 private:
  uint64_t messages_;
  bool timed_;
  int64_t deadline_;
  bool stop_ = false;
};

// ---- lossy channels -------------------------------------------------------------------------

// How often END is re-sent before giving up (x the channel's loss timeout).
inline constexpr int kEndAttempts = 40;

// A verified message of a lossy stream: the sequence may jump forward (loss) but never back.
inline void check_lossy(std::span<const std::byte> got, uint64_t lowest_ok, size_t size) {
  if (got.size() < kMessageHeaderSize) [[unlikely]] {
    throw VerificationError(fmt::format("truncated datagram: {} bytes", got.size()));
  }
  const uint64_t seq = read_header(got).seq;
  if (seq < lowest_ok) [[unlikely]] {
    throw VerificationError(fmt::format(
        "duplicated or reordered message: seq {} received after seq {}", seq, lowest_ok - 1));
  }
  check(got, seq, size);
}

// A: sends END (seq end_seq, flag last) until B acknowledges it.
template <Channel Ch>
void end_lossy(Ch& ch, std::vector<std::byte>& tx, std::vector<std::byte>& rx, uint64_t end_seq,
               size_t size) {
  fill_message(tx, end_seq, kFlagLast);
  for (int attempt = 0; attempt < kEndAttempts; ++attempt) {
    ch.send(tx);
    for (;;) {
      const size_t n = ch.recv(rx);
      if (n == 0) break;  // nothing within the loss timeout: send END again
      std::span<const std::byte> got{rx.data(), n};
      if (n >= kMessageHeaderSize && read_header(got).seq < end_seq) continue;  // a late echo
      check(got, end_seq, size);
      if (!(read_header(got).flags & kFlagAck)) {
        throw VerificationError("lossy end: expected the acknowledgement");
      }
      return;
    }
  }
  throw VerificationError(
      fmt::format("lossy end: no acknowledgement after {} attempts", kEndAttempts));
}

// B: acknowledges END.
template <Channel Ch>
void ack_lossy(Ch& ch, uint64_t end_seq, size_t size) {
  std::vector<std::byte> ack(size);
  fill_message(ack, end_seq, kFlagAck);
  ch.send(ack);
}

// B of every workload on a lossy channel: verifies, then echoes (pingpong), counts (stream) or
// timestamps (paced) each message, until END.
enum class LossyMode { kEcho, kCount, kPaced };

template <Channel Ch, class Delay = SpinDelay>
PeerOutcome receive_lossy(Ch& ch, const PeerJob& job, LossyMode mode) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0, last_at = 0;
  uint64_t lowest_ok = 0;                                // the next sequence number not yet seen
  if (mode == LossyMode::kPaced) out.latency.reserve();  // before the first measured message
  Injection<Delay> inject(job);
  for (;;) {
    const size_t n = ch.recv(rx);
    if (n == 0) continue;  // quiet: A is alive and will send more or END again
    std::span<std::byte> got{rx.data(), n};
    int64_t when = 0;
    const bool end = n >= kMessageHeaderSize && (read_header(got).flags & kFlagLast);
    if (mode == LossyMode::kPaced && !end && n >= kPacedMinSize) {
      when = unstamp(got, read_header(got).seq);
    }
    check_lossy(got, lowest_ok, job.size);
    const MessageHeader h = read_header(got);
    if (end) {
      ack_lossy(ch, h.seq, job.size);
      break;
    }
    ++out.verified;
    if (h.seq >= job.warmup) {
      if (out.messages == 0) {
        first = now_ns();
        u0 = Usage::now();
        out.lost += h.seq - job.warmup;  // measured messages lost before the first arrived
      } else {
        out.lost += h.seq - lowest_ok;
      }
      ++out.messages;
      if (inject.any()) [[unlikely]]
        inject.apply(out.messages - 1, first);
      if (mode == LossyMode::kPaced) {
        out.latency.record(static_cast<uint64_t>(std::max<int64_t>(now_ns() - when, 0)));
      }
      if (mode != LossyMode::kEcho) last_at = now_ns();
    }
    if (mode == LossyMode::kEcho) ch.send(got);
    lowest_ok = h.seq + 1;
  }
  // Stream, paced: first to last measured message delivered; pingpong: B's phase for its CPU.
  out.elapsed_ns = (mode == LossyMode::kEcho ? now_ns() : last_at) - first;
  Usage::now().store_delta(u0, out);
  out.bytes = out.messages * job.size;
  return out;
}

// A of a one-way workload, once the last message is sent: waits for B's acknowledgement of it
// (lossy: re-sends END until acknowledged), so that A's phase covers delivery.
template <Channel Ch, bool kLossy>
void finish_sending(Ch& ch, std::vector<std::byte>& tx, std::vector<std::byte>& rx,
                    uint64_t end_seq, size_t size) {
  if constexpr (kLossy) {
    end_lossy(ch, tx, rx, end_seq, size);
  } else {
    const size_t n = ch.recv(rx);
    std::span<const std::byte> ack{rx.data(), n};
    check(ack, end_seq, size);
    if (!(read_header(ack).flags & kFlagAck))
      throw VerificationError("expected the receiver's acknowledgement");
  }
}

}  // namespace detail
}  // namespace ipcperf
