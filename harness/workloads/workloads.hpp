// The measured loops. Each is a template over the concrete channel type, so send/recv inline
// into the loop: nothing virtual sits between two messages.
//
// Timing never distorts the loop: the measured phase is timed as a whole (two clock reads), and
// pingpong times one round trip in every `sample_every` on its own (one clock_gettime pair, ~47 ns
// on the reference machine, amortised to <1 ns per round trip at 1 in 64) for the latency
// histogram. Both are CLOCK_MONOTONIC via the vDSO.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include <sys/resource.h>
#include <time.h>

#include <fmt/format.h>

#include "ipcperf/message.hpp"
#include "ipcperf/wait.hpp"
#include "workloads/job.hpp"

namespace ipcperf {

template <class C>
concept Channel = requires(C c, std::span<const std::byte> in, std::span<std::byte> out) {
  c.send(in);
  { c.recv(out) } -> std::convertible_to<size_t>;
};

// A lossy channel (udp) declares `static constexpr bool kLossy = true;`. Its recv returns 0 when
// no message arrived within its loss timeout while the peer is alive (it throws PeerGone when the
// peer is not). The workloads then count what was lost instead of failing, and still verify
// everything that arrives: sequence numbers only increase (no duplicate, no reordering), size and
// payload exact. Because the last message can itself be lost, a lossy run ends with an END
// message that is re-sent until the receiver acknowledges it.
template <class C>
concept LossyChannel = Channel<C> && requires {
  requires C::kLossy;
};

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

// The receiving side's self-check: the per-message delay, and a single stall once the measured
// phase is half over (by messages when bounded by messages, else by time).
class Injection {
 public:
  explicit Injection(const PeerJob& job)
      : delay_(job.inject_delay_ns), stall_(job.inject_stall_ns), job_(&job) {}
  // Called per measured message i, with the phase's start time (0 until known).
  void apply(uint64_t i, int64_t phase_start) noexcept {
    if (delay_ != 0) spin_for(delay_);
    if (stall_ != 0 && !stalled_ && phase_start != 0) {
      const bool half = job_->messages != 0 ? i >= job_->messages / 2
                                            : now_ns() - phase_start >= job_->duration_ns / 2;
      if (half) {
        stalled_ = true;
        spin_for(stall_);
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

// ---- paced helpers ------------------------------------------------------------------

// Intended send time of message k of a schedule that starts at t0 (integer ns: both sides
// compute the same value).
inline int64_t intended_ns(int64_t t0, uint64_t k, uint64_t rate) noexcept {
  return t0 + static_cast<int64_t>((k * 1'000'000'000ULL) / rate);
}

// The first payload word of a paced message is its intended send time. The receiver reads it
// and puts the pattern word back, so that the usual check covers every other byte.
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

// Waits until `when` (CLOCK_MONOTONIC ns): sleeps while more than 200 us are left, then spins,
// so that a send starts within a few hundred ns of its time at any rate. Returns the lateness.
inline int64_t wait_until_ns(int64_t when) noexcept {
  int64_t now = now_ns();
  if (when - now > 200'000) {
    const int64_t wake = when - 100'000;
    timespec ts{static_cast<time_t>(wake / 1'000'000'000), static_cast<long>(wake % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    now = now_ns();
  }
  while (now < when) {
    cpu_relax();
    now = now_ns();
  }
  return now - when;
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

template <Channel Ch>
PeerOutcome pingpong_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  const int64_t w0 = now_ns();
  for (uint64_t seq = 0; seq < job.warmup; ++seq) {
    fill_message(tx, seq);
    ch.send(tx);
    size_t n = ch.recv(rx);
    check({rx.data(), n}, seq, job.size);
  }
  const uint32_t every = sampling_interval(job, now_ns() - w0);
  out.sample_every = every;
  // A power of two; 0 = never (all bits set: i & mask is 0 only for i = 0, which is skipped).
  const uint64_t mask = every == 0 ? ~uint64_t{0} : every - 1;
  const bool sampling = every != 0;
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    const uint64_t seq = job.warmup + i;
    last = end.last(i);
    fill_message(tx, seq, last ? kFlagLast : 0);
    if (sampling && (i & mask) == 0) {
      const int64_t s = now_ns();
      ch.send(tx);
      size_t n = ch.recv(rx);
      out.latency.record(static_cast<uint64_t>(now_ns() - s));
      check({rx.data(), n}, seq, job.size);
    } else {
      ch.send(tx);
      size_t n = ch.recv(rx);
      check({rx.data(), n}, seq, job.size);
    }
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  out.messages = i;
  out.bytes = i * job.size;
  out.verified = job.warmup + i;
  return out;
}

template <Channel Ch>
PeerOutcome pingpong_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t t0 = 0;
  Injection inject(job);
  for (uint64_t seq = 0;; ++seq) {
    if (seq == job.warmup) {
      u0 = Usage::now();
      t0 = now_ns();
    }
    size_t n = ch.recv(rx);
    std::span<const std::byte> got{rx.data(), n};
    check(got, seq, job.size);
    if (inject.any() && seq >= job.warmup) [[unlikely]]
      inject.apply(seq - job.warmup, t0);
    ch.send(got);  // echo the verified bytes unchanged
    ++out.verified;
    if (read_header(got).flags & kFlagLast) break;
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  out.messages = out.verified - job.warmup;
  out.bytes = out.messages * job.size;
  return out;
}

template <Channel Ch>
PeerOutcome stream_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0;
  uint64_t seq = 0;
  Injection inject(job);
  for (;; ++seq) {
    size_t n = ch.recv(rx);
    std::span<const std::byte> got{rx.data(), n};
    check(got, seq, job.size);
    if (seq == job.warmup) {
      first = now_ns();
      u0 = Usage::now();
    }
    if (inject.any() && seq >= job.warmup) [[unlikely]]
      inject.apply(seq - job.warmup, first);
    if (read_header(got).flags & kFlagLast) break;
  }
  // Rate is measured from the first to the last measured message: (count - 1) intervals.
  out.elapsed_ns = now_ns() - first;
  Usage::now().store_delta(u0, out);
  out.verified = seq + 1;
  out.messages = seq + 1 - job.warmup;
  out.bytes = out.messages * job.size;
  std::vector<std::byte> ack(job.size);
  fill_message(ack, seq + 1, kFlagAck);
  ch.send(ack);
  return out;
}

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

template <Channel Ch>
PeerOutcome pingpong_a_lossy(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  // One round trip; false when the reply did not come within the loss timeout.
  auto round_trip = [&](uint64_t seq, uint32_t flags) {
    fill_message(tx, seq, flags);
    ch.send(tx);
    for (;;) {
      const size_t n = ch.recv(rx);
      if (n == 0) return false;
      std::span<const std::byte> got{rx.data(), n};
      if (n >= kMessageHeaderSize && read_header(got).seq < seq) continue;  // a late echo
      check(got, seq, job.size);
      return true;
    }
  };
  const int64_t w0 = now_ns();
  for (uint64_t seq = 0; seq < job.warmup; ++seq) round_trip(seq, 0);
  const uint32_t every = sampling_interval(job, now_ns() - w0);
  out.sample_every = every;
  const uint64_t mask = every == 0 ? ~uint64_t{0} : every - 1;
  const bool sampling = every != 0;
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0, ok = 0;
  for (bool last = false; !last; ++i) {
    const uint64_t seq = job.warmup + i;
    last = end.last(i);
    if (sampling && (i & mask) == 0) {
      const int64_t s = now_ns();
      const bool got = round_trip(seq, 0);
      if (got) out.latency.record(static_cast<uint64_t>(now_ns() - s));
      ok += got ? 1 : 0;
    } else {
      ok += round_trip(seq, 0) ? 1 : 0;
    }
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  end_lossy(ch, tx, rx, job.warmup + i, job.size);
  out.messages = ok;
  out.lost = i - ok;
  out.bytes = ok * job.size;
  out.verified = ok;
  return out;
}

// B of every workload on a lossy channel: verifies, then echoes (pingpong), counts (stream) or
// timestamps (paced) each message, until END.
enum class LossyMode { kEcho, kCount, kPaced };

template <Channel Ch>
PeerOutcome receive_lossy(Ch& ch, const PeerJob& job, LossyMode mode) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0, last_at = 0;
  uint64_t lowest_ok = 0;  // the next sequence number not yet seen
  Injection inject(job);
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

template <Channel Ch, bool kLossy>
PeerOutcome stream_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  for (uint64_t seq = 0; seq < job.warmup; ++seq) {
    fill_message(tx, seq);
    ch.send(tx);
  }
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    last = end.last(i);
    fill_message(tx, job.warmup + i, (last && !kLossy) ? kFlagLast : 0);
    ch.send(tx);
  }
  // Reliable: the acknowledgement of the last message is in A's phase (its CPU account covers
  // delivery). Lossy: END may be re-sent after loss timeouts, which are not the channel's cost.
  if constexpr (!kLossy) finish_sending<Ch, false>(ch, tx, rx, job.warmup + i, job.size);
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  if constexpr (kLossy) finish_sending<Ch, true>(ch, tx, rx, job.warmup + i, job.size);
  out.messages = i;  // sent (lossy: B reports what was delivered)
  out.bytes = i * job.size;
  out.verified = 1;
  return out;
}

// ---- paced (open loop) ------------------------------------------------------------------------

// A: sends message k at its intended time t0 + k/rate whatever happened before: a late send is
// not skipped and does not move the schedule, so a stall shows in the latency of every message
// that waited behind it (no coordinated omission).
template <Channel Ch, bool kLossy>
PeerOutcome paced_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  const uint64_t rate = job.rate;
  const int64_t w0 = now_ns() + 1'000'000;  // the schedule starts 1 ms from now
  auto send = [&](uint64_t seq, uint32_t flags) {
    const int64_t when = intended_ns(w0, seq, rate);
    const int64_t lag = wait_until_ns(when);
    fill_message(tx, seq, flags);
    stamp(tx, when);
    ch.send(tx);
    return lag;
  };
  for (uint64_t seq = 0; seq < job.warmup; ++seq) send(seq, 0);
  const int64_t t0 = intended_ns(w0, job.warmup, rate);
  wait_until_ns(t0);
  const Usage u0 = Usage::now();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  int64_t last_send = t0;
  for (bool last = false; !last; ++i) {
    last = end.last(i);
    const int64_t lag = send(job.warmup + i, (last && !kLossy) ? kFlagLast : 0);
    out.max_lag_ns = std::max(out.max_lag_ns, lag);
    last_send = intended_ns(w0, job.warmup + i, rate) + lag;
  }
  out.elapsed_ns = last_send - t0;  // first to last send: (i - 1) intervals
  Usage::now().store_delta(u0, out);
  finish_sending<Ch, kLossy>(ch, tx, rx, job.warmup + i, job.size);
  out.messages = i;
  out.bytes = i * job.size;
  out.verified = 1;
  return out;
}

// B: one-way latency of every measured message = receive time - intended send time (both from
// CLOCK_MONOTONIC, which all processes of a machine share).
template <Channel Ch>
PeerOutcome paced_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0, prev_when = INT64_MIN;
  Injection inject(job);
  uint64_t seq = 0;
  for (;; ++seq) {
    const size_t n = ch.recv(rx);
    std::span<std::byte> got{rx.data(), n};
    if (n < kPacedMinSize) check(got, seq, job.size);  // says what is wrong
    const int64_t when = unstamp(got, seq);
    check(got, seq, job.size);
    if (when <= prev_when) {
      throw VerificationError(fmt::format(
          "paced: message seq {} is stamped {} ns, not after the previous one", seq, when));
    }
    prev_when = when;
    const bool last = (read_header(got).flags & kFlagLast) != 0;
    if (seq >= job.warmup) {
      if (seq == job.warmup) {
        first = now_ns();
        u0 = Usage::now();
      }
      if (inject.any()) [[unlikely]]
        inject.apply(seq - job.warmup, first);
      out.latency.record(static_cast<uint64_t>(std::max<int64_t>(now_ns() - when, 0)));
    }
    if (last) break;
  }
  out.elapsed_ns = now_ns() - first;
  Usage::now().store_delta(u0, out);
  out.verified = seq + 1;
  out.messages = seq + 1 - job.warmup;
  out.bytes = out.messages * job.size;
  std::vector<std::byte> ack(job.size);
  fill_message(ack, seq + 1, kFlagAck);
  ch.send(ack);
  return out;
}
}  // namespace detail

// Runs the job's workload in this peer on a concrete, open channel. Calls job.ready() (the start
// barrier) before the first message.
template <Channel Ch>
PeerOutcome run_workload(Ch& ch, const PeerJob& job) {
  if (job.ready) job.ready();
  const bool a = job.role == Role::kA;
  if constexpr (LossyChannel<Ch>) {
    switch (job.workload) {
      case Workload::kPingpong:
        return a ? detail::pingpong_a_lossy(ch, job)
                 : detail::receive_lossy(ch, job, detail::LossyMode::kEcho);
      case Workload::kStream:
        return a ? detail::stream_a<Ch, true>(ch, job)
                 : detail::receive_lossy(ch, job, detail::LossyMode::kCount);
      case Workload::kPaced:
        return a ? detail::paced_a<Ch, true>(ch, job)
                 : detail::receive_lossy(ch, job, detail::LossyMode::kPaced);
    }
    throw std::logic_error("unknown workload");
  }
  switch (job.workload) {
    case Workload::kPingpong:
      return a ? detail::pingpong_a(ch, job) : detail::pingpong_b(ch, job);
    case Workload::kStream:
      return a ? detail::stream_a<Ch, false>(ch, job) : detail::stream_b(ch, job);
    case Workload::kPaced:
      return a ? detail::paced_a<Ch, false>(ch, job) : detail::paced_b(ch, job);
  }
  throw std::logic_error("unknown workload");
}

}  // namespace ipcperf
